"""The deployment files: systemd/edgeward.service, systemd/edgeward.toml.example and the Dockerfile.

The unit is checked with the real ``systemd-analyze`` (``verify``, and ``security --offline=yes``
with an exposure of at most 2.0) when it is installed. ``verify`` insists that ExecStart's binary
exists, so it runs on a copy whose ``/usr/local/bin/edgeward`` (where the README installs the
command) is replaced by the ``edgeward`` script of this environment.

``MemoryDenyWriteExecute=yes`` is checked against the real model runtimes: a child process installs
the same seccomp rules systemd uses for that setting, then loads and runs a small decoder through
:func:`edgeward.runtime.local_model.load_model`. ONNX Runtime must work; OpenVINO's CPU plugin
JIT-compiles its kernels and must fail, which is why the unit tells OpenVINO users to turn the
setting off in a drop-in (that variant must still score at most 2.0).

No Docker engine runs here, so the Dockerfile is checked statically: base image, non-root user,
state volume, health check, entry point, no torch, and a build context that has what it copies.
"""

from __future__ import annotations

import ctypes
import fnmatch
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "systemd" / "edgeward.service"
EXAMPLE = REPO / "systemd" / "edgeward.toml.example"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
INSTALLED_BINARY = "/usr/local/bin/edgeward"
EDGEWARD_SCRIPT = Path(sys.executable).with_name("edgeward")
MAX_EXPOSURE = 2.0
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")

needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason="systemd-analyze is not installed (Debian: apt-get install systemd); "
    "the unit's verify and exposure checks need it",
)


# --- the unit file ----------------------------------------------------------------------------


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> keys -> every value in order (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"line {number} is not key=value in a section: {raw}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return parse_unit(UNIT.read_text(encoding="utf-8"))


def one(unit: dict[str, dict[str, list[str]]], key: str, section: str = "Service") -> str:
    values = unit[section].get(key)
    assert values is not None, f"{section}.{key} is missing from {UNIT.name}"
    assert len(values) == 1, f"{section}.{key} is set {len(values)} times: {values}"
    return values[0]


def unit_copy(tmp_path: Path, replace: dict[str, str] | None = None) -> Path:
    """The unit with ExecStart pointing at an existing binary (and optional line edits)."""
    assert EDGEWARD_SCRIPT.exists(), f"{EDGEWARD_SCRIPT} is missing: pip install -e . first"
    text = UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED_BINARY} " in text
    text = text.replace(f"ExecStart={INSTALLED_BINARY} ", f"ExecStart={EDGEWARD_SCRIPT} ")
    for old, new in (replace or {}).items():
        assert old in text, f"{old!r} is not in the unit"
        text = text.replace(old, new)
    path = tmp_path / UNIT.name
    path.write_text(text, encoding="utf-8")
    return path


def systemd_analyze(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE is not None
    return subprocess.run(
        [SYSTEMD_ANALYZE, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "SYSTEMD_COLORS": "0"},
    )


@needs_systemd_analyze
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    path = unit_copy(tmp_path)
    result = systemd_analyze("verify", path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # verify exits 0 on "Invalid syntax, ignoring" and unknown keys; those lines name the file.
    complaints = [line for line in output.splitlines() if UNIT.name in line]
    assert not complaints, "\n".join(complaints)


@needs_systemd_analyze
@pytest.mark.parametrize(
    "variant",
    [
        pytest.param({}, id="as-shipped"),
        pytest.param(
            {"MemoryDenyWriteExecute=yes": "MemoryDenyWriteExecute=no"}, id="openvino-drop-in"
        ),
    ],
)
def test_unit_exposure_is_at_most_2(tmp_path: Path, variant: dict[str, str]) -> None:
    path = unit_copy(tmp_path, variant)
    # --threshold is on the 0-100 scale: exit status is non-zero above 2.0 as well.
    result = systemd_analyze(
        "security", "--offline=yes", f"--threshold={int(MAX_EXPOSURE * 10)}", path
    )
    output = result.stdout + result.stderr
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", output)
    assert found, f"no exposure level in the output:\n{output}"
    exposure = float(found.group(1))
    assert exposure <= MAX_EXPOSURE, f"exposure {exposure} > {MAX_EXPOSURE}:\n{output}"
    assert result.returncode == 0, output


def test_unit_lifecycle_and_identity(unit: dict[str, dict[str, list[str]]]) -> None:
    assert one(unit, "Type") == "notify"
    assert one(unit, "NotifyAccess") == "main"
    assert one(unit, "WatchdogSec") == "30"
    assert one(unit, "Restart") == "on-failure"
    assert one(unit, "DynamicUser") == "yes"
    assert one(unit, "StateDirectory") == "edgeward"
    assert one(unit, "ConfigurationDirectory") == "edgeward"
    assert one(unit, "UMask") == "0077"
    # Settings errors exit with the CLI's usage status; restarting cannot fix a bad config.
    from edgeward.daemon.cli import EXIT_USAGE

    assert one(unit, "RestartPreventExitStatus") == str(EXIT_USAGE)
    assert "multi-user.target" in one(unit, "WantedBy", "Install")
    environment = dict(v.split("=", 1) for v in unit["Service"]["Environment"])
    assert environment["EDGEWARD_STATE_DIR"] == "%S/edgeward"
    assert environment["EDGEWARD_CONFIG"] == "/etc/edgeward/edgeward.toml"
    exec_start = one(unit, "ExecStart").split()
    assert exec_start == [INSTALLED_BINARY, "run", "--config", "${EDGEWARD_CONFIG}"]


def test_unit_hardening(unit: dict[str, dict[str, list[str]]]) -> None:
    expected = {
        "CapabilityBoundingSet": "",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "ProtectClock": "yes",
        "ProtectHostname": "yes",
        "RestrictNamespaces": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "RestrictRealtime": "yes",
        "RestrictSUIDSGID": "yes",
        "SystemCallArchitectures": "native",
    }
    wrong = {
        k: unit["Service"].get(k) for k, v in expected.items() if unit["Service"].get(k) != [v]
    }
    assert not wrong, f"hardening settings differ from {expected}: {wrong}"
    assert one(unit, "RestrictAddressFamilies").split() == ["AF_UNIX", "AF_INET", "AF_INET6"]
    assert unit["Service"]["SystemCallFilter"] == ["@system-service", "~@privileged @resources"]
    assert re.fullmatch(r"\d+[KMG]", one(unit, "MemoryMax")), "MemoryMax must be a size"
    # The broker and the upstream may be anywhere: no IP allow/deny lists.
    assert not {"IPAddressDeny", "IPAddressAllow"} & unit["Service"].keys()


def test_unit_credentials_are_the_ones_the_daemon_reads(
    unit: dict[str, dict[str, list[str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edgeward.adapters.upstream import CREDENTIAL_NAME, load_api_key
    from edgeward.daemon.settings import read_credential

    loaded = dict(v.split(":", 1) for v in unit["Service"]["LoadCredential"])
    assert set(loaded) == {"mqtt_password", CREDENTIAL_NAME}
    assert all(path.startswith("/etc/credstore/edgeward.") for path in loaded.values())
    # A missing credential file must not stop the service: each has a SetCredential= default,
    # and that default must read as "no secret" in the daemon.
    defaults = dict(v.split(":", 1) for v in unit["Service"]["SetCredential"])
    assert set(defaults) == set(loaded)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    for name, escaped in defaults.items():
        (tmp_path / name).write_text(escaped.encode().decode("unicode_escape"))
    assert read_credential("mqtt_password") is None
    assert load_api_key() is None
    monkeypatch.setenv("EDGEWARD_TEST_KEY", "sk-from-env")
    key = load_api_key(env_var="EDGEWARD_TEST_KEY")
    assert key is not None and key.get_secret_value() == "sk-from-env"
    (tmp_path / "mqtt_password").write_text("s3cret\n")
    assert read_credential("mqtt_password") == "s3cret"
    (tmp_path / CREDENTIAL_NAME).write_text("sk-test\n")
    key = load_api_key()
    assert key is not None and key.get_secret_value() == "sk-test"


# --- the example config -----------------------------------------------------------------------


def uncommented_example() -> str:
    """The example with every commented-out setting and section header switched on."""
    return re.sub(r"(?m)^#(?=[\[A-Za-z_])", "", EXAMPLE.read_text(encoding="utf-8"))


def setting_paths(model: type, prefix: str = "") -> set[str]:
    from pydantic import BaseModel

    paths = set()
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        inner = field.annotation
        args = getattr(inner, "__args__", ())
        if getattr(inner, "__origin__", None) is list and args:
            inner = args[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            paths |= setting_paths(inner, f"{prefix}{name}.")
        else:
            paths.add(prefix + name)
    return paths


def toml_paths(data: object, prefix: str = "") -> set[str]:
    if isinstance(data, list) and data and all(isinstance(d, dict) for d in data):
        return set().union(*(toml_paths(d, prefix) for d in data))
    if isinstance(data, dict):
        return set().union(*(toml_paths(v, f"{prefix}{k}.") for k, v in data.items()))
    return {prefix.rstrip(".")}


def test_example_config_is_all_commented_out() -> None:
    assert tomllib.loads(EXAMPLE.read_text(encoding="utf-8")) == {}


def test_example_config_lists_every_setting_and_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edgeward.daemon.settings import Settings, load_settings

    text = uncommented_example()
    data = tomllib.loads(text)
    missing = setting_paths(Settings) - toml_paths(data)
    assert not missing, f"settings not shown in {EXAMPLE.name}: {sorted(missing)}"
    config = tmp_path / "edgeward.toml"
    config.write_text(text, encoding="utf-8")
    for name in [n for n in os.environ if n.startswith("EDGEWARD_")]:
        monkeypatch.delenv(name)
    # The environment systemd gives the daemon, as the unit sets it (%S is /var/lib).
    monkeypatch.setenv("EDGEWARD_STATE_DIR", "/var/lib/edgeward")
    monkeypatch.setenv("EDGEWARD_CONFIG", str(config))
    settings = load_settings()
    assert settings.state_dir == Path("/var/lib/edgeward")
    assert [a.name for a in settings.areas] == ["Kitchen", "Garage"]
    assert settings.entities[0].entity_id == "light.kitchen_ceiling"


# --- the unit's sandbox against the real model runtimes ------------------------------------------


class Syscalls(NamedTuple):
    audit_arch: int
    mmap: int
    mprotect: int
    pkey_mprotect: int
    shmat: int
    resources: tuple[int, ...]
    """@resources: ioprio_set mbind migrate_pages move_pages sched_setaffinity sched_setattr
    sched_setparam sched_setscheduler set_mempolicy set_mempolicy_home_node setpriority setrlimit"""


_SYSCALLS = {
    "x86_64": Syscalls(
        0xC000003E, 9, 10, 329, 30, (251, 237, 256, 279, 203, 314, 142, 144, 238, 450, 141, 160)
    ),
    "aarch64": Syscalls(
        0xC00000B7, 222, 226, 288, 196, (30, 235, 238, 239, 122, 274, 118, 119, 237, 450, 140, 164)
    ),
}


def apply_unit_sandbox(write_execute: bool, resources: bool) -> None:
    """Install on this process the seccomp rules the unit's settings make systemd install.

    ``write_execute`` (MemoryDenyWriteExecute=yes): mmap with PROT_WRITE|PROT_EXEC,
    mprotect/pkey_mprotect with PROT_EXEC and shmat with SHM_EXEC fail. ``resources``
    (SystemCallFilter=~@resources): those system calls fail. Failures are EPERM, as
    SystemCallErrorNumber=EPERM says. Needs no privileges (no_new_privs is set first).
    """
    calls = _SYSCALLS[platform.machine()]
    ld, jeq, and_, ret = 0x20, 0x15, 0x54, 0x06  # BPF_LD|W|ABS, JMP|JEQ|K, ALU|AND|K, RET|K
    prot_write, prot_exec, shm_exec = 0x2, 0x4, 0o100000
    arg2 = 32  # offsetof(struct seccomp_data, args[2]), low 32 bits on little-endian
    # label, code, k, jump-if-true label, jump-if-false label (None: the next instruction)
    program: list[tuple[str, int, int, str | None, str | None]] = [
        ("", ld, 4, None, None),
        ("", jeq, calls.audit_arch, None, "allow"),
        ("", ld, 0, None, None),
    ]
    if resources:
        program += [("", jeq, number, "deny", None) for number in calls.resources]
    if write_execute:
        program += [
            ("", jeq, calls.mmap, None, "mprotect"),
            ("", ld, arg2, None, None),
            ("", and_, prot_write | prot_exec, None, None),
            ("", jeq, prot_write | prot_exec, "deny", "allow"),
            ("mprotect", jeq, calls.mprotect, "exec", None),
            ("", jeq, calls.pkey_mprotect, "exec", None),
            ("", jeq, calls.shmat, "shmat", "allow"),
            ("exec", ld, arg2, None, None),
            ("", and_, prot_exec, None, None),
            ("", jeq, prot_exec, "deny", "allow"),
            ("shmat", ld, arg2, None, None),
            ("", and_, shm_exec, None, None),
            ("", jeq, shm_exec, "deny", "allow"),
        ]
    program += [
        ("allow", ret, 0x7FFF0000, None, None),  # SECCOMP_RET_ALLOW
        ("deny", ret, 0x00050000 | 1, None, None),  # SECCOMP_RET_ERRNO | EPERM
    ]
    where = {label: i for i, (label, *_rest) in enumerate(program) if label}
    raw = b"".join(
        struct.pack(
            "=HBBI",
            code,
            where[jt] - i - 1 if jt else 0,
            where[jf] - i - 1 if jf else 0,
            k,
        )
        for i, (_label, code, k, jt, jf) in enumerate(program)
    )
    buffer = ctypes.create_string_buffer(raw)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.addressof(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


_CHILD = """
import json, mmap, os, sys
from tests.test_systemd_unit import apply_unit_sandbox
apply_unit_sandbox(write_execute=sys.argv[3] == "1", resources=sys.argv[4] == "1")
checks = {}
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    checks["write_execute"] = "allowed"
except PermissionError:
    checks["write_execute"] = "denied"
try:
    os.sched_setaffinity(0, os.sched_getaffinity(0))
    checks["resources"] = "allowed"
except PermissionError:
    checks["resources"] = "denied"
try:
    from edgeward.runtime.local_model import load_model
    # threads=2: OpenVINO 2026.4 dies of SIGFPE compiling with INFERENCE_NUM_THREADS=1.
    model = load_model(sys.argv[1], backend=sys.argv[2], threads=2)
    tokens = len(model.generate("turn on the light", max_new_tokens=4).token_ids)
    print(json.dumps({"checks": checks, "tokens": tokens}))
except Exception as exc:
    print(json.dumps({"checks": checks, "error": f"{type(exc).__name__}: {exc}"}))
"""

needs_seccomp = pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() not in _SYSCALLS,
    reason=f"the seccomp rules are written for Linux on {sorted(_SYSCALLS)}",
)


@pytest.fixture(scope="module")
def model_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from edgeward.runtime.random_model import (
        DecoderShape,
        write_onnx_model,
        write_openvino_model,
    )

    root = tmp_path_factory.mktemp("sandbox-models")
    onnx = write_onnx_model(root / "onnx", DecoderShape())
    openvino = write_openvino_model(onnx, root / "openvino", stateful=True)
    return {"onnx": onnx, "openvino": openvino}


def generate_in_sandbox(
    folder: Path, backend: str, *, write_execute: bool, resources: bool
) -> dict[str, object]:
    flags = [str(int(write_execute)), str(int(resources))]
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder), backend, *flags],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {
        "write_execute": "denied" if write_execute else "allowed",
        "resources": "denied" if resources else "allowed",
    }
    assert report["checks"] == expected, "the seccomp rules did not take effect as asked"
    return report


@needs_seccomp
def test_onnx_runtime_runs_in_the_unit_sandbox(model_folders: dict[str, Path]) -> None:
    report = generate_in_sandbox(model_folders["onnx"], "onnx", write_execute=True, resources=True)
    assert report.get("tokens") == 4, report


@needs_seccomp
def test_openvino_runs_in_the_sandbox_of_the_drop_in(model_folders: dict[str, Path]) -> None:
    report = generate_in_sandbox(
        model_folders["openvino"], "openvino", write_execute=False, resources=True
    )
    assert report.get("tokens") == 4, report


@needs_seccomp
def test_openvino_cpu_needs_writable_executable_memory(model_folders: dict[str, Path]) -> None:
    """Why the unit tells OpenVINO users to set MemoryDenyWriteExecute=no in a drop-in.

    If OpenVINO ever generates tokens here, its CPU plugin stopped JIT-compiling and the advice in
    systemd/edgeward.service can go.
    """
    report = generate_in_sandbox(
        model_folders["openvino"], "openvino", write_execute=True, resources=False
    )
    assert "tokens" not in report, "OpenVINO ran under MemoryDenyWriteExecute; update the unit"
    assert "protect" in str(report["error"]), report


# --- the Dockerfile ---------------------------------------------------------------------------


def dockerfile_stages(text: str) -> list[list[tuple[str, str]]]:
    """Instructions (upper-cased keyword, arguments) per build stage; ARGs before FROM first."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a line continuation"
    stages: list[list[tuple[str, str]]] = [[]]
    for line in logical:
        keyword, _, args = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), " ".join(args.split())))
    return stages


@pytest.fixture(scope="module")
def docker() -> list[list[tuple[str, str]]]:
    return dockerfile_stages(DOCKERFILE.read_text(encoding="utf-8"))


def arguments(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for kw, args in stage if kw == keyword]


def test_dockerfile_base_image_is_slim_python_311(docker: list[list[tuple[str, str]]]) -> None:
    defaults = dict(a.split("=", 1) for a in arguments(docker[0], "ARG") if "=" in a)
    images = [stage[0][1].split()[0] for stage in docker[1:]]
    assert images, "no FROM"
    for image in images:
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], image)
        assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", resolved), resolved


def test_dockerfile_runtime_stage(docker: list[list[tuple[str, str]]]) -> None:
    final = docker[-1]
    keywords = [kw for kw, _ in final]
    users = arguments(final, "USER")
    assert users, "the final stage has no USER: it would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, users[-1]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    assert json.loads(arguments(final, "ENTRYPOINT")[-1]) == ["edgeward", "run"]
    volumes = [v for a in arguments(final, "VOLUME") for v in json.loads(a)]
    assert "/var/lib/edgeward" in volumes
    env = " ".join(arguments(final, "ENV"))
    assert "EDGEWARD_STATE_DIR=/var/lib/edgeward" in env.split()
    [healthcheck] = arguments(final, "HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD ")
    assert json.loads(command)[:2] == ["edgeward", "doctor"], healthcheck
    assert "--interval=" in options and "--start-period=" in options


def test_dockerfile_installs_the_package_without_torch(
    docker: list[list[tuple[str, str]]],
) -> None:
    runs = " ".join(a for stage in docker for a in arguments(stage, "RUN"))
    assert "torch" not in runs.lower()
    assert re.search(r"pip install \.(\s|$)", runs), "the package must be installed with pip"
    assert not re.search(r"pip install[^&;]*\[", runs), "no extras: [tools] is model tooling"
    # What `pip install .` brings in, from the installed metadata of this environment.
    seen: set[str] = set()
    todo = ["edgeward"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.requires(name) or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name.lower().replace("_", "-"))
    assert "torch" not in seen, "a run-time dependency pulls in torch"
    assert {"onnxruntime", "openvino", "paho-mqtt"} <= seen


def dockerignored(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    tails = ["/".join(parts[i:]) for i in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatchcase(t, pattern[3:]) for t in tails):
                return True
        elif any(fnmatch.fnmatchcase(p, pattern.strip("/")) for p in prefixes):
            return True
    return False


def test_dockerfile_build_context_has_what_it_copies(
    docker: list[list[tuple[str, str]]],
) -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not [p for p in patterns if p.startswith("!")], "keep .dockerignore free of exceptions"
    assert {".git", ".venv", "tests"} <= set(patterns)
    sources = [
        source
        for stage in docker
        for copy in arguments(stage, "COPY")
        if not copy.startswith("--from=")
        for source in copy.split()[:-1]
    ]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: not in the repository"
        assert not dockerignored(source.rstrip("/"), patterns), f"COPY {source}: .dockerignored"
    for package in ("daemon", "runtime", "adapters", "policies"):
        assert f"{package}/" in sources, f"the image lacks {package}/"


def test_dockerfile_healthcheck_flags_exist(docker: list[list[tuple[str, str]]]) -> None:
    [healthcheck] = arguments(docker[-1], "HEALTHCHECK")
    command = json.loads(healthcheck.partition("CMD ")[2])
    result = subprocess.run(
        [str(EDGEWARD_SCRIPT), *command[1:2], "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for flag in [part.split("=")[0] for part in command[2:] if part.startswith("--")]:
        assert flag in result.stdout, f"`edgeward {command[1]} --help` does not offer {flag}"


def test_dockerfile_environment_is_valid_settings(
    docker: list[list[tuple[str, str]]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from edgeward.daemon.settings import load_settings

    env = dict(pair.split("=", 1) for args in arguments(docker[-1], "ENV") for pair in args.split())
    for name in [n for n in os.environ if n.startswith("EDGEWARD_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("EDGEWARD_"):
            monkeypatch.setenv(name, value)
    empty_config = tmp_path / "edgeward.toml"
    empty_config.write_text("")
    settings = load_settings(empty_config)
    assert settings.state_dir == Path(env["EDGEWARD_STATE_DIR"])
    # The daemon reads Docker secrets (/run/secrets) the way it reads systemd credentials.
    assert env["CREDENTIALS_DIRECTORY"] == "/run/secrets"
