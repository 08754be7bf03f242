"""The ``edgeward`` command line: run, demo, call, ask, confirm, doctor, policy, audit, model, eval.

Errors a user can act on print as one line on stderr and exit non-zero, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgeward.daemon.version import VERSION

log = logging.getLogger("edgeward")

EXIT_USAGE = 2
EXIT_FAILED = 1


class CliError(Exception):
    """A failure to report as one line and a non-zero exit."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def _count(text: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _settings(args: argparse.Namespace) -> Any:
    from edgeward.daemon.settings import SettingsError, load_settings

    try:
        return load_settings(getattr(args, "config", None))
    except SettingsError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


# -- run --------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from edgeward.daemon.bus import BusError
    from edgeward.daemon.logs import setup_logging
    from edgeward.daemon.outbox import OutboxError
    from edgeward.daemon.runner import run_service
    from edgeward.daemon.scheduler import ScheduleError
    from edgeward.daemon.store import StoreError
    from edgeward.policies.audit import AuditLogError
    from edgeward.policies.signing import PolicyRejected

    settings = _settings(args)
    setup_logging(settings.log_level, settings.log_format)
    try:
        return run_service(settings)
    except (BusError, ScheduleError, PolicyRejected, FileNotFoundError) as exc:
        raise CliError(str(exc), EXIT_USAGE) from None  # the configuration: restarting won't help
    except (StoreError, AuditLogError, OutboxError) as exc:
        raise CliError(str(exc)) from None


# -- requests over MQTT -----------------------------------------------------------------------


def _client(args: argparse.Namespace) -> Any:
    from edgeward.daemon.client import ClientError, GatewayClient

    settings = _settings(args)
    try:
        return GatewayClient(
            args.host or settings.mqtt.host,
            args.port or settings.mqtt.port,
            args.gateway or settings.gateway_id,
            settings=settings,
            client_name="edgeward-cli",
            timeout=args.timeout,
        )
    except ClientError as exc:
        raise CliError(str(exc)) from None


def parse_call_words(words: Sequence[str]) -> dict[str, Any]:
    """``light.turn_on light.kitchen brightness_pct=40`` -> one call (values parsed as JSON)."""
    if len(words) < 2:
        raise CliError("a call needs a tool and an entity: TOOL ENTITY_ID [key=value ...]", 2)
    args: dict[str, Any] = {"entity_id": words[1]}
    for word in words[2:]:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise CliError(f"argument {word!r} is not key=value", EXIT_USAGE)
        try:
            args[key] = json.loads(value)
        except ValueError:
            args[key] = value
    return {"tool": words[0], "args": args}


def _print_reply(reply: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print(json.dumps(reply, indent=2, ensure_ascii=False))
    else:
        from edgeward.daemon.console import print_reply

        print_reply(reply)
    return 0 if reply.get("status") in {"done", "needs_confirmation", "ambiguous"} else EXIT_FAILED


def _request(args: argparse.Namespace, send: Any) -> int:
    """Send one request with a fresh client and print its reply."""
    from edgeward.daemon.client import ClientError

    with _client(args) as client:
        try:
            reply = send(client, args.id or uuid.uuid4().hex[:16])
        except ClientError as exc:
            raise CliError(str(exc)) from None
    return _print_reply(reply, args.output_json)


def cmd_call(args: argparse.Namespace) -> int:
    if args.json:
        try:
            body = json.loads(args.json)
        except ValueError as exc:
            raise CliError(f"--json is not valid JSON: {exc}", EXIT_USAGE) from None
        calls = body if isinstance(body, list) else [body]
    else:
        calls = [parse_call_words(args.words)]
    return _request(args, lambda client, rid: client.call(rid, calls))


def cmd_ask(args: argparse.Namespace) -> int:
    text = " ".join(args.text)
    return _request(
        args, lambda client, rid: client.ask(rid, text, area=args.area, language=args.language)
    )


def cmd_confirm(args: argparse.Namespace) -> int:
    return _request(
        args, lambda client, rid: client.confirm(args.confirmation_id, not args.decline)
    )


# -- doctor -----------------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace) -> int:
    from edgeward.daemon.doctor import run_checks

    settings = _settings(args)
    return run_checks(settings, quick=args.quick)


# -- demo -------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from edgeward.daemon.demo import run_demo

    return run_demo(port=args.port, script=args.script, state_dir=args.state_dir)


# -- policy and audit -------------------------------------------------------------------------


def _emit(result: Any) -> int:
    stream = sys.stdout if result.code == 0 else sys.stderr
    if result.text:
        print(result.text, file=stream)
    return int(result.code)


def cmd_policy(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from edgeward.policies import cli_policy

    if args.action == "keygen":
        return _emit(cli_policy.keygen(args.prefix))
    if args.action == "sign":
        return _emit(cli_policy.sign(args.document, args.key, args.out, args.kind))
    if args.action == "verify":
        return _emit(cli_policy.verify(args.envelope, args.root, args.gateway, datetime.now(UTC)))
    if args.action == "show":
        return _emit(cli_policy.show(args.document))
    return _emit(cli_policy.diff(args.old, args.new))


def _audit_path(args: argparse.Namespace) -> Path:
    if args.file is not None:
        return Path(args.file)
    return Path(_settings(args).state_dir) / "audit.jsonl"


def cmd_audit(args: argparse.Namespace) -> int:
    from edgeward.policies import cli_policy

    path = _audit_path(args)
    if args.action == "verify":
        return _emit(cli_policy.audit_verify(path))
    return _emit(cli_policy.audit_tail(path, args.n))


def _add_policy_parser(sub: Any) -> None:
    policy = sub.add_parser("policy", help="write, sign and check signed policies")
    actions = policy.add_subparsers(dest="action", metavar="ACTION", required=True)
    keygen = actions.add_parser("keygen", help="make an Ed25519 key pair: PREFIX.key (0600), .pub")
    keygen.add_argument("prefix", type=Path, help="path prefix of the two files")
    sign = actions.add_parser("sign", help="sign a TOML policy or root (or co-sign an envelope)")
    sign.add_argument("document", type=Path, help="policy.toml, root.toml or an envelope")
    sign.add_argument("--key", type=Path, action="append", required=True, help="private key")
    sign.add_argument("--out", type=Path, required=True, help="where to write the envelope")
    sign.add_argument("--kind", choices=["policy", "root"], help="default: from the content")
    verify = actions.add_parser("verify", help="verify an envelope against a trust root")
    verify.add_argument("envelope", type=Path, help="the signed envelope")
    verify.add_argument("--root", type=Path, required=True, help="the trust root")
    verify.add_argument("--gateway", help="also check that it targets this gateway")
    show = actions.add_parser("show", help="summarise a policy (TOML or envelope)")
    show.add_argument("document", type=Path)
    diff = actions.add_parser("diff", help="what changes from one policy to another")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    policy.set_defaults(func=cmd_policy)

    audit = sub.add_parser("audit", help="check and read the tamper-evident audit log")
    audit_actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("verify", "detect edited, inserted or deleted records"),
        ("tail", "recent decisions"),
    ):
        action = audit_actions.add_parser(name, help=text)
        action.add_argument("--config", help="config file (to find state_dir)")
        action.add_argument("--file", help="the audit log (default: state_dir/audit.jsonl)")
        if name == "tail":
            action.add_argument("-n", type=int, default=20, help="how many records")
    audit.set_defaults(func=cmd_audit)


# -- model and eval ---------------------------------------------------------------------------


def cmd_model(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from edgeward.runtime.errors import ModelError
    from edgeward.runtime.model_tools import inspect_model, quantize_model

    try:
        if args.action == "inspect":
            info = asdict(inspect_model(args.path, args.backend))
            if args.output_json:
                print(json.dumps(info, indent=2, default=str))
                return 0
            for key, value in info.items():
                if key == "inputs":
                    value = ", ".join(f"{i[0]} {i[1]} {i[2]}" for i in value)
                print(f"{key:<22} {value}")
            return 0
        out = quantize_model(args.path, args.out, method=args.method, backend=args.backend)
        print(f"quantized ({args.method}) model written to {out}")
        return 0
    except (ModelError, OSError) as exc:
        raise CliError(str(exc)) from None


def cmd_eval(args: argparse.Namespace) -> int:
    from edgeward.runtime.errors import ModelError
    from edgeward.runtime.evaluation import evaluate_standard_sets, format_report
    from edgeward.runtime.local_model import load_model
    from edgeward.runtime.planner import Planner

    try:
        planner = (
            Planner(load_model(args.model, args.backend))
            if args.model
            else Planner.default(args.backend)
        )
    except ModelError as exc:
        raise CliError(str(exc)) from None
    reports = evaluate_standard_sets(
        planner,
        test_requests=args.requests,
        seed=args.seed,
        handwritten=args.handwritten,
        keep_failures=args.misses,
    )
    for title, report in reports.items():
        print(format_report(report, title, misses=args.misses))
        print()
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmarks of a source checkout (they need its tests/ folder and test extras)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    bench = root / "tests" / "bench"
    if not bench.is_dir():
        raise CliError(
            "the benchmarks live in a source checkout (tests/bench); clone it to run them"
        )
    targets = [str(bench / f"test_bench_{name}.py") for name in args.names] or [str(bench)]
    command = [sys.executable, "-m", "pytest", *targets, "-m", "bench", "-s", "-q"]
    return subprocess.call(command, cwd=root)


def _add_model_parsers(sub: Any) -> None:
    model = sub.add_parser("model", help="inspect or quantize a model folder")
    actions = model.add_subparsers(dest="action", metavar="ACTION", required=True)
    inspect = actions.add_parser("inspect", help="format, architecture, size, inputs, vocabulary")
    inspect.add_argument("path", type=Path, help="an Optimum ONNX or OpenVINO export folder")
    inspect.add_argument("--backend", choices=["auto", "onnx", "openvino"], default="auto")
    inspect.add_argument("--json", dest="output_json", action="store_true", help="raw JSON")
    quantize = actions.add_parser(
        "quantize", help="int8 (ONNX Runtime dynamic) or int8/int4 weights (OpenVINO, NNCF)"
    )
    quantize.add_argument("path", type=Path, help="the model folder to quantize")
    quantize.add_argument("out", type=Path, help="a new folder for the quantized copy")
    quantize.add_argument("--method", choices=["int8", "int4"], default="int8")
    quantize.add_argument("--backend", choices=["auto", "onnx", "openvino"], default="auto")
    model.set_defaults(func=cmd_model)

    ev = sub.add_parser("eval", help="evaluate the planner on the test split and hand-written set")
    ev.add_argument("--model", type=Path, help="a model folder (default: the embedded model)")
    ev.add_argument("--backend", choices=["auto", "onnx", "openvino"], default="auto")
    ev.add_argument("--requests", type=_count, default=1000, help="generated test requests")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--handwritten", type=Path, help="hand-written set (default: tests/data/)")
    ev.add_argument(
        "--misses", type=_count, default=0, help="list this many missed requests of each set"
    )
    ev.set_defaults(func=cmd_eval)

    bench = sub.add_parser("bench", help="run benchmarks (source checkout): tables with baselines")
    bench.add_argument(
        "names",
        nargs="*",
        help="calls, gate, runtime, planner, retrieval, redaction (default: all)",
    )
    bench.set_defaults(func=cmd_bench)


# -- parser -----------------------------------------------------------------------------------


def _add_request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="config file (default /etc/edgeward/edgeward.toml)")
    parser.add_argument("--host", help="broker host (default: from the config)")
    parser.add_argument("--port", type=int, help="broker port (default: from the config)")
    parser.add_argument("--gateway", help="gateway id (default: from the config)")
    parser.add_argument("--id", help="request id (default: a random one)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a reply")
    parser.add_argument("--json-output", dest="output_json", action="store_true", help="raw JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgeward",
        description="Privacy-first IoT gateway: local planning, signed policies, redacted egress.",
    )
    parser.add_argument("--version", action="version", version=f"edgeward {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the gateway in the foreground (what systemd runs)")
    run.add_argument("--config", help="config file (default /etc/edgeward/edgeward.toml)")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="a simulated home on a local broker, with a prompt")
    demo.add_argument("--port", type=int, default=None, help="broker port (default: a free one)")
    demo.add_argument("--state-dir", type=Path, default=None, help="keep state here (default tmp)")
    demo.add_argument("--script", type=Path, help="read requests from this file, not a prompt")
    demo.set_defaults(func=cmd_demo)

    call = sub.add_parser(
        "call",
        help="send explicit tool calls and print the reply",
        description="Examples: edgeward call light.turn_on light.kitchen brightness_pct=40\n"
        '  edgeward call --json \'[{"tool": "lock.lock", "args": '
        '{"entity_id": "lock.front_door"}}]\'',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_request_options(call)
    call.add_argument("--json", help="the calls as JSON: one {tool, args} or a list of them")
    call.add_argument("words", nargs="*", help="TOOL ENTITY_ID [key=value ...]")
    call.set_defaults(func=cmd_call)

    ask = sub.add_parser("ask", help="send a request in plain words and print the reply")
    _add_request_options(ask)
    ask.add_argument("--area", help="where the speaker is (resolves 'the light', 'in here')")
    ask.add_argument("--language", help="en, fr, es or de (default: detected)")
    ask.add_argument("text", nargs="+", help="what to do, e.g. turn off the kitchen lights")
    ask.set_defaults(func=cmd_ask)

    confirm = sub.add_parser("confirm", help="approve (or --decline) a needs_confirmation reply")
    _add_request_options(confirm)
    confirm.add_argument("confirmation_id", help="the confirmation id from the reply")
    confirm.add_argument("--decline", action="store_true", help="decline instead of approving")
    confirm.set_defaults(func=cmd_confirm)

    doctor = sub.add_parser("doctor", help="check config, broker, model and policy")
    doctor.add_argument("--config", help="config file (default /etc/edgeward/edgeward.toml)")
    doctor.add_argument("--quick", action="store_true", help="config and broker only (healthcheck)")
    doctor.set_defaults(func=cmd_doctor)

    _add_policy_parser(sub)
    _add_model_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"edgeward: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
