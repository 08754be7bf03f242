"""The hand-written evaluation set: big enough, four languages, valid, with must-not-act cases."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from edgeward.runtime.eval_set import HANDWRITTEN, load_eval_home, load_handwritten
from edgeward.runtime.requests_data import KINDS, MUST_NOT_ACT, DataError


def test_size_languages_kinds_and_share_of_must_not_act() -> None:
    examples = load_handwritten()
    assert len(examples) >= 300
    per_language = Counter(e.language for e in examples)
    assert all(per_language[lang] >= 50 for lang in ("en", "fr", "es", "de")), per_language
    assert set(Counter(e.kind for e in examples)) == set(KINDS)
    must_not_act = [e for e in examples if e.kind in MUST_NOT_ACT]
    assert len(must_not_act) >= 0.2 * len(examples)
    for example in must_not_act:
        assert not example.plan.calls
    assert len({(e.text.lower(), e.area) for e in examples}) == len(examples)


def test_every_plan_validates_against_the_eval_home() -> None:
    home = load_eval_home()
    for example in load_handwritten(home=home):
        for call in example.plan.calls:
            home.validate(call.tool, call.args)
        assert set(example.plan.candidates) <= set(home.entities)


def test_a_plan_that_does_not_fit_names_its_line(tmp_path: Path) -> None:
    lines = HANDWRITTEN.read_text(encoding="utf-8").splitlines()[:3]
    lines.append(lines[0].replace("light.kitchen_cabinet", "light.nowhere"))
    bad = tmp_path / "set.jsonl"
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataError, match=r"set.jsonl:4: plan does not fit .*light.nowhere"):
        load_handwritten(bad)
    bad.write_text(lines[0].replace('"Kitchen"', '"Attic"'), encoding="utf-8")
    with pytest.raises(DataError, match=r"set\.jsonl:1: area 'Attic' is not an area"):
        load_handwritten(bad)
