"""The corpus of planted personal data, sent up through the real cascade rung to a real HTTP server:
the bytes the server received hold none of the values the policy protects."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from edgeward.daemon.escalation import Escalated, Escalation
from edgeward.daemon.outbox import Outbox
from edgeward.daemon.settings import UpstreamSettings
from edgeward.policies.document import policy_from_data
from edgeward.runtime.catalog import Catalog
from tests.policies.policy_builders import valid_now
from tests.redaction_corpus import generate_corpus
from tests.upstream.fake_llm import FakeLLM, text_reply

PROTECTED = (
    "person_name", "email", "phone", "street_address", "gps_location", "ip_address",
    "mac_address", "device_id", "iban", "card_number",
)  # fmt: skip


def test_no_planted_value_reaches_the_upstream(tmp_path: Path) -> None:
    corpus = generate_corpus(size=500)
    with FakeLLM() as llm:
        policy = policy_from_data(
            {
                "version": 1,
                **valid_now(),
                "gateways": ["*"],
                "upstreams": [{"name": "llm", "url": llm.base_url, "region": "local"}],
                "residency": {
                    "free_text": "allow",
                    **dict.fromkeys(PROTECTED, "redact"),
                    **{
                        # a policy names one pattern per custom class: the alternatives joined
                        name: {
                            "action": "redact",
                            "pattern": "|".join(f"(?:{p})" for p in patterns),
                        }
                        for name, patterns in corpus.custom.items()
                    },
                },
            }
        )
        llm.script(*[text_reply("done") for _ in corpus.items])
        settings = UpstreamSettings(known_names=list(corpus.names), max_retries=0)
        outbox = Outbox(tmp_path / "outbox", max_bytes=1 << 20, max_age_s=3600)
        escalation = Escalation(settings, lambda: policy, outbox)
        catalog = Catalog([])
        results: list[Escalated] = []
        finished = threading.Semaphore(0)

        def done(result: Escalated) -> None:
            results.append(result)
            finished.release()

        for n, item in enumerate(corpus.items):
            refused = escalation.start(
                catalog, item.text, f"corpus-{n}", done, device_ids=corpus.device_ids
            )
            assert refused is None, refused
        for _ in corpus.items:
            assert finished.acquire(timeout=30)
        escalation.stop()
        sent = llm.raw_bytes.decode("utf-8")
    assert all(r.error is None for r in results), [r.error for r in results if r.error][:3]
    assert len(llm.received) == len(corpus.items)
    leaked = [
        (span.data_class, span.text)
        for item in corpus.items
        for span in item.spans
        if span.data_class in PROTECTED or span.data_class in corpus.custom
        if span.text in sent or json.dumps(span.text)[1:-1] in sent  # raw or JSON-escaped
    ]
    assert not leaked, leaked[:10]
