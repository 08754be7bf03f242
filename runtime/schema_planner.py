"""Planning with a bring-your-own chat model (Qwen2.5, Llama 3.2, Phi-3.5, SmolLM exports).

Such a model knows JSON, not the embedded model's compact plan language. It is asked, in its own
chat template, for one JSON object, and decoding is constrained by a JSON schema built from the
live catalog: only tools that exist, only entities that exist, arguments in range. The answer
becomes the same :class:`~edgeward.runtime.plan.Plan` the embedded planner gives, with a
confidence from the token log-probabilities.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from edgeward.runtime.bounded_cache import BoundedCache
from edgeward.runtime.catalog import STATE_TOOL, CallError, Catalog, Entity
from edgeward.runtime.constrained import CompiledGrammar
from edgeward.runtime.errors import ContextOverflowError
from edgeward.runtime.generate import common_prefix
from edgeward.runtime.local_model import LocalModel
from edgeward.runtime.plan import Plan, PlannedCall
from edgeward.runtime.planner import confidence, finish_plan, language_code, prompt_entities
from edgeward.runtime.retrieval import Retriever

MAX_CALLS = 8

INSTRUCTIONS = """You control a smart home. Reply with one JSON object and nothing else:
{"calls": [...], "ask_which": [...], "unsupported": false}
- calls: the tool calls that do what the user asks, with entity ids exactly as listed.
  Questions about a device's state use the tool state.get.
- ask_which: when the request could mean several devices and acting on all of them would be
  wrong (which lock? which door?), the entity ids it could mean, and no calls.
- unsupported: true when nothing in this home can do what is asked.
The home (entity id | name | area | tools):"""


def _entity_line(entity: Entity) -> str:
    tools = ", ".join(f"{entity.domain}.{service}" for service in entity.services) or "state.get"
    return f"{entity.entity_id} | {entity.name} | {entity.area or '-'} | {tools}"


def answer_schema(catalog: Catalog) -> dict[str, Any]:
    """The JSON schema of an answer over ``catalog``: every call fits a tool of the catalog."""
    calls = [
        {
            "type": "object",
            "properties": {
                "tool": {"type": "string", "enum": [tool.name]},
                "args": tool.parameters,
            },
            "required": ["tool", "args"],
            "additionalProperties": False,
        }
        for tool in sorted(catalog.tools.values(), key=lambda t: t.name)
    ]
    return {
        "type": "object",
        "properties": {
            "calls": {"type": "array", "items": {"anyOf": calls}, "maxItems": MAX_CALLS},
            "ask_which": {
                "type": "array",
                "items": {"type": "string", "enum": sorted(catalog.entities)},
                "maxItems": MAX_CALLS,
            },
            "unsupported": {"type": "boolean"},
        },
        "required": ["calls", "ask_which", "unsupported"],
        "additionalProperties": False,
    }


class SchemaPlanner:
    """Turns requests into plans with a general chat model, under a JSON schema of the catalog."""

    def __init__(self, model: LocalModel, *, max_new_tokens: int = 256) -> None:
        self.model = model
        self.max_new_tokens = max_new_tokens
        self._grammars: BoundedCache[str, CompiledGrammar] = BoundedCache(16)
        self._retriever: Retriever | None = None

    def plan(
        self,
        catalog: Catalog,
        text: str,
        area: str | None = None,
        language: str | None = None,
        state: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Plan:
        """The plan for one request; never actuates anything itself. ``state`` is not needed:
        the model states absolute values."""
        lang = language_code(language, text)
        if not text.strip():
            return finish_plan(
                Plan("unsupported", reason="not_understood", confidence=0.0), catalog, lang
            )
        if self._retriever is None or self._retriever.version != catalog.version:
            self._retriever = Retriever(catalog) if len(catalog) > 64 else None
        entities = prompt_entities(catalog, text, area, self._retriever)
        user = f"(I am in: {area})\n{text}" if area else text
        while True:
            home = (
                catalog
                if len(entities) == len(catalog)
                else Catalog(entities, catalog.areas.values())
            )
            system = "\n".join([INSTRUCTIONS, *(_entity_line(e) for e in entities)])
            chat = self.model.render_chat(
                [{"role": "system", "content": system}, {"role": "user", "content": user}]
            )
            ids = self.model.encode(chat)
            if len(ids) + self.max_new_tokens <= self.model.max_context or len(entities) <= 1:
                break
            # Too long for the model's context: describe only the best half of the candidates.
            keep = (self._retriever or Retriever(catalog)).retrieve(
                text, area, k=len(entities) // 2
            )
            entities = sorted(
                (catalog.entities[i] for i in keep.entities[: len(entities) // 2]),
                key=lambda e: e.entity_id,
            )
        try:
            generation = self.model.generate(
                ids,
                max_new_tokens=self.max_new_tokens,
                grammar=self._grammar(home),
                prefix_cache_key="edgeward-schema-planner",
                pin=_pin(self.model, ids, chat[: chat.find(system) + len(system)]),
            )
        except ContextOverflowError:  # even the instructions alone do not fit this model
            failed = Plan("unsupported", reason="not_understood", confidence=0.0)
            return finish_plan(failed, catalog, lang)
        plan = _to_plan(generation.text, catalog)
        return finish_plan(replace(plan, confidence=confidence(generation.logprobs)), catalog, lang)

    def _grammar(self, home: Catalog) -> CompiledGrammar:
        return self._grammars.get(
            home.version,
            lambda: self.model.compile_json_schema(
                answer_schema(home), key=f"schema-planner:{home.version}"
            ),
        )


def _to_plan(text: str, catalog: Catalog) -> Plan:
    """The plan an answer says; anything that does not fit is ``not_understood``."""
    try:
        answer = json.loads(text)
        calls = tuple(
            PlannedCall(c["tool"], dict(catalog.validate(c["tool"], c["args"]).args))
            for c in answer["calls"]
        )
        which = tuple(answer["ask_which"])
    except (ValueError, KeyError, TypeError, CallError):
        return Plan("unsupported", reason="not_understood")
    if calls:
        if all(c.tool == STATE_TOOL for c in calls):
            return Plan("query", calls)
        return Plan("act", calls)
    if len(which) > 1:
        return Plan("ambiguous", candidates=which)
    reason = "out_of_domain" if answer["unsupported"] else "not_understood"
    return Plan("unsupported", reason=reason)


def _pin(model: LocalModel, ids: Sequence[int], head: str) -> int | None:
    """How many of a prompt's ``ids`` are the chat's ``head`` (up to the end of the system
    message) however the request after it is tokenized: the ids ``head`` alone encodes to,
    but for the last (a tokenizer may merge it with what follows). None when too few."""
    pin = common_prefix(ids, model.encode(head)) - 1
    return pin if 0 < pin < len(ids) else None
