#!/usr/bin/env bash
# Set edgeward up on a fresh Debian box, then run the demo (`./bootstrap.sh demo`)
# or the whole test suite (`./bootstrap.sh test`). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
what=${1:-demo}
shift || true

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "bootstrap: edgeward needs Python 3.11 or newer (Debian 12 has it)" >&2; exit 1; }

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

case "$what" in
    demo)
        .venv/bin/pip install -q -e .
        exec .venv/bin/edgeward demo "$@"
        ;;
    test)
        .venv/bin/pip install -q -e '.[test]'
        exec .venv/bin/python -m pytest -q "$@"
        ;;
    *)
        echo "usage: ./bootstrap.sh demo|test [args...]" >&2
        exit 2
        ;;
esac
