"""Redaction benchmark: edgeward's detectors against Presidio's pattern recognizers.

Run: ``.venv/bin/pytest tests/bench/test_bench_redaction.py -m bench -s``

Both systems read the same generated, labelled corpus (``tests/redaction_corpus.py``, 1000
requests in en/fr/es/de). Presidio runs offline with its predefined pattern recognizers only: an
``AnalyzerEngine`` on Presidio's ``NoOpNlpEngine`` (no spaCy model), its phone recognizer given the
same regions as edgeward (its default list has no FR or ES), and tldextract on its bundled suffix
list. A predicted span counts as a hit when it overlaps a labelled span of the same class.
Per class: precision, recall, F2 (recall weighs 4x); then requests per CPU-second, best of 5
passes taken in turn.
Goals (issue 6): recall at least Presidio's on every class both handle, and 10x its throughput
(asserted for the redactor, detection plus vault, against Presidio restricted to the six shared
entities, its fastest setting; the ratio against Presidio with every pattern recognizer, its
out-of-the-box setting, is printed too).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest

from edgeward.policies.detectors import DEFAULT_PHONE_REGIONS, Detector
from edgeward.policies.vault import Redactor, Vault
from tests.redaction_corpus import CLASSES, Corpus, generate_corpus

pytestmark = pytest.mark.bench

PRESIDIO_CLASSES = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "IP_ADDRESS": "ip_address",
    "MAC_ADDRESS": "mac_address",
    "IBAN_CODE": "iban",
    "CREDIT_CARD": "card_number",
}
CORPUS_SIZE = 1000

Prediction = tuple[str, int, int]  # class, start, end


@dataclass
class Scores:
    gold: int = 0
    gold_hit: int = 0
    predicted: int = 0
    predicted_hit: int = 0

    @property
    def precision(self) -> float:
        return self.predicted_hit / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.gold_hit / self.gold if self.gold else 0.0

    @property
    def f2(self) -> float:
        p, r = self.precision, self.recall
        return 5 * p * r / (4 * p + r) if p + r else 0.0


def score(corpus: Corpus, predictions: Sequence[Sequence[Prediction]]) -> dict[str, Scores]:
    scores = {c: Scores() for c in CLASSES}
    for item, predicted in zip(corpus.items, predictions, strict=True):
        for span in item.spans:
            s = scores[span.data_class]
            s.gold += 1
            s.gold_hit += any(
                c == span.data_class and a < span.end and span.start < b for c, a, b in predicted
            )
        for c, a, b in predicted:
            s = scores[c]
            s.predicted += 1
            s.predicted_hit += any(
                span.data_class == c and a < span.end and span.start < b for span in item.spans
            )
    return scores


def best_rates(runs: dict[str, Callable[[str], object]], texts: Sequence[str]) -> dict[str, float]:
    """Requests per CPU-second of each run, best of 5 passes taken in turn (so a busy machine
    slows every system alike; CPU time, not wall time, so other processes do not count)."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(5):
        for label, run in runs.items():
            start = time.process_time()
            for text in texts:
                run(text)
            best[label] = min(best[label], time.process_time() - start)
    return {label: len(texts) / seconds for label, seconds in best.items()}


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return generate_corpus(size=CORPUS_SIZE)


@pytest.fixture(scope="module")
def presidio() -> Iterator[dict[str, Callable[[str], list[Prediction]]]]:
    """Presidio asked for the six shared entities only (its fastest setting, used for the
    scores), and Presidio as configured out of the box with every pattern recognizer."""
    analyzer_module = pytest.importorskip("presidio_analyzer")
    import tldextract.tldextract as tld
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    # Offline: the bundled public-suffix snapshot, never a fetch.
    saved = tld.TLD_EXTRACTOR
    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=())
    engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}])
    engine.load()
    registry = analyzer_module.RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
    registry.remove_recognizer("PhoneRecognizer")
    registry.add_recognizer(PhoneRecognizer(supported_regions=list(DEFAULT_PHONE_REGIONS)))
    analyzer = analyzer_module.AnalyzerEngine(
        nlp_engine=engine, registry=registry, supported_languages=["en"]
    )
    entities = list(PRESIDIO_CLASSES)

    def shared(text: str) -> list[Prediction]:
        return [
            (PRESIDIO_CLASSES[r.entity_type], r.start, r.end)
            for r in analyzer.analyze(text, language="en", entities=entities)
        ]

    def everything(text: str) -> list[Prediction]:
        return [
            (PRESIDIO_CLASSES[r.entity_type], r.start, r.end)
            for r in analyzer.analyze(text, language="en")
            if r.entity_type in PRESIDIO_CLASSES
        ]

    yield {"shared": shared, "all": everything}
    tld.TLD_EXTRACTOR = saved


def test_redaction_against_presidio(
    corpus: Corpus, presidio: dict[str, Callable[[str], list[Prediction]]]
) -> None:
    texts = [item.text for item in corpus.items]
    detector = Detector(names=corpus.names, device_ids=corpus.device_ids, custom=corpus.custom)
    redactor = Redactor(detector)

    def ours(d: Detector) -> list[list[Prediction]]:
        return [[(x.data_class, x.start, x.end) for x in d.detect(t)] for t in texts]

    edgeward_scores = score(corpus, ours(detector))
    presidio_scores = score(corpus, [presidio["shared"](t) for t in texts])
    context_only = score(corpus, ours(Detector(custom=corpus.custom)))["person_name"]
    list_only = score(
        corpus, ours(Detector(names=corpus.names, custom=corpus.custom, context_names=False))
    )["person_name"]

    rates = best_rates(
        {
            "edgeward detect": detector.detect,
            "edgeward redact (+vault)": lambda t: redactor.redact(t, Vault()),
            "presidio, 6 shared entities": presidio["shared"],
            "presidio, all recognizers": presidio["all"],
        },
        texts,
    )
    presidio_rate = rates["presidio, 6 shared entities"]

    print(f"\nredaction benchmark: {len(texts)} requests (en/fr/es/de), overlap match")
    print(f"{'class':<28}{'gold':>6}  {'edgeward P/R/F2':<22}{'presidio P/R/F2':<22}")
    for c in CLASSES:
        e, p = edgeward_scores[c], presidio_scores[c]
        ours_cell = f"{e.precision:.3f}/{e.recall:.3f}/{e.f2:.3f}"
        theirs = (
            f"{p.precision:.3f}/{p.recall:.3f}/{p.f2:.3f}"
            if c in PRESIDIO_CLASSES.values()
            else "n/a"
        )
        print(f"{c:<28}{e.gold:>6}  {ours_cell:<22}{theirs:<22}")
    for label, s in (
        ("person_name list only", list_only),
        ("person_name context only", context_only),
    ):
        print(f"{label:<28}{s.gold:>6}  {s.precision:.3f}/{s.recall:.3f}/{s.f2:.3f}")
    presidio_all = rates["presidio, all recognizers"]
    print(f"\n{'throughput (CPU time)':<28}{'req/s':>10}{'vs all':>10}{'vs shared 6':>13}")
    for label, rate in rates.items():
        print(f"{label:<28}{rate:>10.0f}{rate / presidio_all:>9.1f}x{rate / presidio_rate:>12.1f}x")

    shortfalls = [
        c
        for c in PRESIDIO_CLASSES.values()
        if edgeward_scores[c].recall < presidio_scores[c].recall
    ]
    assert shortfalls == [], f"recall below Presidio's on {shortfalls}"
    # The goal compares edgeward's redactor with Presidio asked for the shared entities only,
    # the stricter of the two ratios in the table.
    redact_rate = rates["edgeward redact (+vault)"]
    assert redact_rate >= 10 * presidio_rate, (
        f"redactor {redact_rate:.0f} req/s is {redact_rate / presidio_rate:.1f}x Presidio's "
        "(six shared entities)"
    )
