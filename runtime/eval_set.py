"""The hand-written evaluation set: requests people really say, over one fixed home.

``tests/data/eval_home.json`` describes the home (a home document, see
:mod:`edgeward.runtime.homes`); ``tests/data/handwritten_eval.jsonl`` holds one request a line:
``{"text", "language", "area", "kind", "plan", "state"?}`` with the plan in
:meth:`~edgeward.runtime.plan.Plan.to_json` form. They were written by hand, never generated,
and are never used for training. Both load into the same :class:`Example` type as generated data.
"""

from __future__ import annotations

import json
from pathlib import Path

from edgeward.runtime.catalog import CallError, Catalog
from edgeward.runtime.homes import LANGUAGES, HomeError, home_from_json
from edgeward.runtime.requests_data import (
    KINDS,
    DataError,
    Example,
    check_plan,
    plan_from_json,
)

DATA_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
"""Where the set lives in a source checkout (it is not installed with the package)."""

EVAL_HOME = DATA_DIR / "eval_home.json"
HANDWRITTEN = DATA_DIR / "handwritten_eval.jsonl"


def load_eval_home(path: Path = EVAL_HOME) -> Catalog:
    """The fixed home of the hand-written set."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HomeError(f"{path}: cannot read the evaluation home: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise HomeError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from exc
    return home_from_json(doc, str(path))


def load_handwritten(path: Path = HANDWRITTEN, home: Catalog | None = None) -> list[Example]:
    """Every hand-written request as an :class:`Example` over the evaluation home.

    Raises :class:`DataError` naming the line of a request whose plan does not fit the home.
    """
    home = home if home is not None else load_eval_home()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the evaluation set: {exc.strerror}") from exc
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not JSON: {exc.msg}") from exc
        if not isinstance(doc, dict):
            raise DataError(f"{where}: each line must be a JSON object")
        text, language, area, kind = (doc.get(k) for k in ("text", "language", "area", "kind"))
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: text must be a non-empty string")
        if language not in LANGUAGES:
            raise DataError(f"{where}: language must be one of {LANGUAGES}, got {language!r}")
        if kind not in KINDS:
            raise DataError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if area is not None and area not in home.areas:
            raise DataError(f"{where}: area {area!r} is not an area of the evaluation home")
        plan = plan_from_json({"language": language, **doc.get("plan", {})}, f"{where}: plan")
        try:
            check_plan(plan, home)
        except CallError as exc:
            raise DataError(f"{where}: plan does not fit the evaluation home: {exc}") from exc
        state = doc.get("state", {})
        if not isinstance(state, dict) or any(e not in home.entities for e in state):
            raise DataError(f"{where}: state must map entities of the home to their values")
        out.append(Example(home, area, text, language, kind, f"handwritten:{number}", plan, state))
    return out
