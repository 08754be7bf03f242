"""Local tool retrieval: recall on generated and hand-written requests, cross-language, typos.

Thresholds sit a little under what was measured (see the bench for the figures), so a real
regression fails while seed noise does not.
"""

from __future__ import annotations

import pytest

from edgeward.runtime.eval_set import load_eval_home, load_handwritten
from edgeward.runtime.requests_data import Example, generate
from edgeward.runtime.retrieval import Retriever, retrieve, tools_of


def gold(example: Example) -> set[str]:
    return {c.args["entity_id"] for c in example.plan.calls} | set(example.plan.candidates)


def recall(examples: list[Example], k: int) -> float:
    retrievers: dict[str, Retriever] = {}
    hits = total = 0
    for example in examples:
        wanted = gold(example)
        if not wanted:
            continue
        home = example.home
        retriever = retrievers.setdefault(home.version, Retriever(home))
        got = set(retriever.retrieve(example.text, example.area, k).entities)
        hits += wanted <= got
        total += 1
    return hits / total


@pytest.mark.parametrize(("size", "k", "threshold"), [(50, 16, 0.98), (500, 24, 0.93)])
def test_recall_on_generated_test_homes(size: int, k: int, threshold: float) -> None:
    examples = list(generate("test", 240, seed=21, sizes=[size], per_home=12))
    assert recall(examples, k) >= threshold


def test_recall_on_the_hand_written_set() -> None:
    assert recall(load_handwritten(), 16) >= 0.98


def test_cross_language_typos_and_speaker_area() -> None:
    home = load_eval_home()
    retriever = Retriever(home)
    kitchen = retriever.retrieve("éteins la cuisine", None, 5).entities
    assert {"light.kitchen_cabinet", "light.kitchen_ceiling"} <= set(kitchen)
    assert all(home.entities[e].area == "Kitchen" for e in kitchen)
    assert retriever.retrieve("turn on the flor lampp", None, 3).entities[0] == "light.floor_lamp"
    assert retriever.retrieve("Weihnachtsbaum an", None, 3).entities[0] == "switch.christmas_tree"
    assert retriever.retrieve("SCHLIEß DIE HAUSTÜR AB", None, 3).entities[0] == "lock.front_door"
    here = retriever.retrieve("turn off the light", "Bathroom", 2).entities
    assert set(here) == {"light.bathroom_ceiling", "light.bathroom_mirror"}
    climate = retriever.retrieve("make it 21 in here", "Bedroom", 16).entities
    assert "climate.thermostat" in climate


def test_tools_follow_the_entities() -> None:
    home = load_eval_home()
    found = retrieve("lock the front door", None, home, k=1)
    assert found.entities == ("lock.front_door",)
    assert found.tools == ("lock.lock", "lock.unlock", "state.get")
    assert tools_of(home, []) == ("state.get",)
    assert len(found.scores) == 1 and found.scores[0] > 0
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        retrieve("x", None, home, k=0)


def test_text_with_no_words_gives_no_error() -> None:
    from edgeward.runtime.homes import random_home
    from edgeward.runtime.retrieval import Retriever

    home = random_home(3, 120, "en")
    assert Retriever(home).retrieve("🙂 🙂", None, k=8).entities is not None
