"""The planner: a request, where it was said and the home's catalog in, a checked :class:`Plan` out.

The request and a compact description of the candidate entities become a chat prompt; the model
answers in a compact plan language, decoded under a grammar built from the same candidates, so
only real entities, services they offer and arguments in their announced ranges can come out::

    act <e3> turn_off ; <e7> set_temperature temperature 20 @in 10 min
    query <e4>
    ask <e1> <e2>
    no no_such_device

Entities are referred to by their position in the prompt (``<e0>`` .. ``<e63>``, one token
each). Homes small enough for the whole catalog to fit use it as a fixed prompt prefix whose KV
cache is reused across requests; bigger homes get the entities retrieval picks for the request.
The confidence is the lowest probability the model gave to a token it chose (tokens the grammar
forced do not count). The ``say`` texts are deterministic templates in en/fr/es/de.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from edgeward.runtime.catalog import STATE_TOOL, Area, ArgSpec, CallError, Catalog, Entity
from edgeward.runtime.constrained import CompiledGrammar, compile_lark
from edgeward.runtime.local_model import LocalModel, load_model
from edgeward.runtime.model_folder import BackendName
from edgeward.runtime.plan import Plan, PlanKind, PlannedCall, When
from edgeward.runtime.plan_rules import RELATIVE_STEPS
from edgeward.runtime.retrieval import Retriever

States = Mapping[str, Mapping[str, Any]]
"""Current values by entity id and argument name, as relative requests need them."""

DEFAULT_MODEL = Path(__file__).resolve().parent / "default_model"
"""The embedded planner model, trained by :mod:`edgeward.runtime.training`."""

MAX_ENTITIES = 64
"""Entity reference tokens the model knows; also the most entities one prompt describes."""

RETRIEVAL_K = 32
"""Candidates retrieval picks for a home too big to describe whole."""

ENTITY_TOKENS: tuple[str, ...] = tuple(f"<e{i}>" for i in range(MAX_ENTITIES))
REASONS: tuple[str, ...] = ("no_such_device", "out_of_domain")
KIND_WORDS: dict[str, PlanKind] = {
    "act": "act",
    "query": "query",
    "ask": "ambiguous",
    "no": "unsupported",
}
_WORD_OF_KIND = {kind: word for word, kind in KIND_WORDS.items()}
_UNIT_SECONDS = (("h", 3600), ("min", 60), ("s", 1))
_CAPABILITY_WORDS = {
    "brightness_pct": "dim",
    "color_temp_kelvin": "white",
    "color_name": "colour",
    "effect": "effect",
    "percentage": "speed",
    "preset_mode": "preset",
    "oscillating": "swing",
    "position": "position",
    "tilt": "tilt",
    "temperature": "temp",
    "hvac_mode": "mode",
    "fan_mode": "fan",
}


class PlanTextError(ValueError):
    """Model output that is not a valid plan for the entities of its prompt."""


@dataclass(frozen=True)
class PromptParts:
    """The chat messages of one request, and the entities its ``<eN>`` tokens stand for."""

    system: str
    user: str
    entities: tuple[Entity, ...]

    def index_of(self) -> dict[str, int]:
        return {e.entity_id: i for i, e in enumerate(self.entities)}


def _clean(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").split())


def entity_line(index: int, entity: Entity) -> str:
    """One entity of the home description: reference, domain, kind, names, area, capabilities."""
    parts = [ENTITY_TOKENS[index], entity.domain]
    if entity.device_class:
        parts.append(_clean(entity.device_class))
    parts.append("| " + _clean(entity.name))
    parts += ["/ " + _clean(alias) for alias in entity.aliases]
    if entity.area:
        parts.append("@ " + _clean(entity.area))
    elif entity.floor:
        parts.append("^ " + _clean(entity.floor))
    caps = sorted(
        {
            _CAPABILITY_WORDS.get(arg, _clean(arg))
            for args in entity.services.values()
            for arg in args
        }
    )
    if caps:
        parts.append("+ " + " ".join(caps))
    return " ".join(parts)


def area_line(area: Area) -> str:
    """One area of the home description: ``@ name ^ floor / alias``."""
    parts = ["@ " + _clean(area.name)]
    if area.floor:
        parts.append("^ " + _clean(area.floor))
    parts += ["/ " + _clean(alias) for alias in area.aliases]
    return " ".join(parts)


def home_text(entities: Sequence[Entity], catalog: Catalog) -> str:
    """The system message: the areas these entities are in, then one line per entity."""
    areas = sorted({e.area for e in entities if e.area})
    lines = [area_line(catalog.areas.get(name) or Area(name)) for name in areas]
    lines += [entity_line(i, e) for i, e in enumerate(entities)]
    return "\n".join(lines)


def request_text(text: str, area: str | None) -> str:
    """The user message: the speaker's area in brackets, then the request, lower-cased."""
    return f"[{_clean(area) if area else '-'}] {' '.join(text.lower().split())}"


def prompt_entities(
    catalog: Catalog, text: str, area: str | None, retriever: Retriever | None = None
) -> list[Entity]:
    """The entities a prompt describes, sorted by id: the whole home when it fits, else the
    :data:`RETRIEVAL_K` candidates local retrieval picks for the request (``retriever``: an
    index of this catalog, kept across requests)."""
    entities = sorted(catalog.entities.values(), key=lambda e: e.entity_id)
    if len(entities) <= MAX_ENTITIES:
        return entities
    if retriever is None or retriever.version != catalog.version:
        retriever = Retriever(catalog)
    picked = retriever.retrieve(text, area, k=RETRIEVAL_K).entities[:MAX_ENTITIES]
    return sorted((catalog.entities[i] for i in picked), key=lambda e: e.entity_id)


def prompt_parts(
    catalog: Catalog, text: str, area: str | None, entities: Sequence[Entity]
) -> PromptParts:
    if len(entities) > MAX_ENTITIES:
        raise ValueError(f"a prompt describes at most {MAX_ENTITIES} entities, got {len(entities)}")
    return PromptParts(home_text(entities, catalog), request_text(text, area), tuple(entities))


# ---------------------------------------------------------------- the compact plan language


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value)


def _when_text(when: When) -> str:
    if when.delay_s:
        for unit, seconds in _UNIT_SECONDS:
            if when.delay_s % seconds == 0:
                return f" @in {when.delay_s // seconds} {unit}"
    if when.at:
        return f" @at {when.at}"
    if when.cron:
        return f" @cron {when.cron}"
    return ""


def _relative_word(
    entity_id: str, name: str, value: Any, state: States, spec: ArgSpec | None
) -> str:
    """``up``/``down`` when ``state`` shows ``value`` is one step from the current value."""
    current = state.get(entity_id, {}).get(name)
    if current is None or isinstance(value, bool) or not isinstance(value, int | float):
        return _value_text(value)
    if value > current or (value == current and spec is not None and value == spec.maximum):
        return "up"
    return "down"


def plan_to_text(
    plan: Plan,
    index_of: Mapping[str, int],
    state: States | None = None,
    catalog: Catalog | None = None,
) -> str:
    """The compact text of ``plan``; raises KeyError when it names an entity not in the prompt.

    A value that ``state`` holds the current value of (a relative request: "a bit warmer") is
    written as ``up`` or ``down``: one step of :data:`plan_rules.RELATIVE_STEPS` from it.
    """
    state = state or {}
    word = _WORD_OF_KIND[plan.kind]
    if plan.kind == "unsupported":
        return f"no {plan.reason or REASONS[0]}"
    if plan.kind == "ambiguous":
        return "ask " + " ".join(ENTITY_TOKENS[index_of[c]] for c in plan.candidates)
    if plan.kind == "query":
        return "query " + " ".join(ENTITY_TOKENS[index_of[c.args["entity_id"]]] for c in plan.calls)
    calls = []
    for call in plan.calls:
        entity_id = call.args["entity_id"]
        service = call.tool.split(".", 1)[1]
        items = [ENTITY_TOKENS[index_of[entity_id]], service]
        entity = catalog.entities.get(entity_id) if catalog is not None else None
        specs = entity.services.get(service, {}) if entity is not None else {}
        for name, value in call.args.items():
            if name != "entity_id":
                items += [name, _relative_word(entity_id, name, value, state, specs.get(name))]
        calls.append(" ".join(items) + (_when_text(call.when) if call.when else ""))
    return f"{word} " + " ; ".join(calls)


_REF = re.compile(r"<e(\d+)>")


def _entity(token: str, entities: Sequence[Entity]) -> Entity:
    match = _REF.fullmatch(token)
    if match is None or int(match.group(1)) >= len(entities):
        raise PlanTextError(f"{token!r} is not an entity of the prompt")
    return entities[int(match.group(1))]


def _parse_value(raw: str, name: str, spec: ArgSpec, current: Any) -> Any:
    if raw in ("up", "down") and spec.type in ("integer", "number"):
        if isinstance(current, bool) or not isinstance(current, int | float):
            raise PlanTextError(f"a relative change of {name} needs its current value")
        step = RELATIVE_STEPS.get(name, 1)
        value = current + (step if raw == "up" else -step)
        lo = spec.minimum if spec.minimum is not None else value
        hi = spec.maximum if spec.maximum is not None else value
        value = min(max(value, lo), hi)
        return int(value) if spec.type == "integer" else value
    if spec.type == "boolean":
        return raw == "true"
    if spec.type == "integer":
        return int(raw)
    if spec.type == "number":
        value = float(raw)
        return int(value) if value.is_integer() else value
    return raw


def _parse_when(words: list[str]) -> When:
    if len(words) == 3 and words[0] == "@in" and words[1].isdigit():
        seconds = dict(_UNIT_SECONDS).get(words[2])
        if seconds is not None:
            return When(delay_s=int(words[1]) * seconds)
    if len(words) == 2 and words[0] == "@at":
        return When(at=words[1])
    if len(words) == 6 and words[0] == "@cron":
        return When(cron=" ".join(words[1:]))
    raise PlanTextError(f"bad timing {' '.join(words)!r}")


def _parse_call(
    text: str, entities: Sequence[Entity], catalog: Catalog, state: States
) -> PlannedCall:
    words = text.split()
    if len(words) < 2:
        raise PlanTextError(f"call {text!r} needs an entity and a service")
    entity = _entity(words[0], entities)
    service = words[1]
    specs = entity.services.get(service)
    if specs is None:
        raise PlanTextError(f"{entity.entity_id} has no service {service!r}")
    rest = words[2:]
    when = None
    for i, word in enumerate(rest):
        if word.startswith("@"):
            when = _parse_when(rest[i:])
            rest = rest[:i]
            break
    args: dict[str, Any] = {"entity_id": entity.entity_id}
    i = 0
    while i < len(rest):
        name = rest[i]
        spec = specs.get(name)
        if spec is None:
            raise PlanTextError(f"{entity.entity_id} {service} has no argument {name!r}")
        j = i + 1
        while j < len(rest) and rest[j] not in specs:
            j += 1
        try:
            current = state.get(entity.entity_id, {}).get(name)
            args[name] = _parse_value(" ".join(rest[i + 1 : j]), name, spec, current)
        except PlanTextError:
            raise
        except ValueError as exc:
            raise PlanTextError(f"bad value for {name} in {text!r}") from exc
        i = j
    tool = f"{entity.domain}.{service}"
    try:
        valid = catalog.validate(tool, args)
    except CallError as exc:
        raise PlanTextError(str(exc)) from exc
    return PlannedCall(tool, dict(valid.args), when)


def text_to_plan(
    text: str, entities: Sequence[Entity], catalog: Catalog, state: States | None = None
) -> Plan:
    """Parse model output into a plan checked against ``catalog`` (no ``say``, confidence 1).

    ``state`` holds current values (``{entity_id: {arg: value}}``) for relative changes.
    """
    word, _, rest = text.strip().partition(" ")
    kind = KIND_WORDS.get(word)
    if kind is None:
        raise PlanTextError(f"plan text starts with {word!r}, not one of {', '.join(KIND_WORDS)}")
    if kind == "unsupported":
        if rest not in REASONS:
            raise PlanTextError(f"unknown refusal reason {rest!r}")
        return Plan("unsupported", reason=rest)
    if kind == "ambiguous":
        return Plan(
            "ambiguous", candidates=tuple(_entity(t, entities).entity_id for t in rest.split())
        )
    if kind == "query":
        calls = tuple(
            PlannedCall(STATE_TOOL, {"entity_id": _entity(t, entities).entity_id})
            for t in rest.split()
        )
        return Plan("query", calls=calls)
    calls = tuple(_parse_call(part, entities, catalog, state or {}) for part in rest.split(" ; "))
    return Plan("act", calls=calls)


# ---------------------------------------------------------------- the grammar over the candidates


def _same_length_range(a: str, b: str) -> str:
    """Regex for the integers from ``a`` to ``b``, two digit strings of one length, a <= b."""
    if a == b:
        return a
    if len(a) == 1:
        return f"[{a}-{b}]"
    if a[0] == b[0]:
        return f"{a[0]}({_same_length_range(a[1:], b[1:])})"
    rest = len(a) - 1
    parts = []
    start, end = int(a[0]), int(b[0])
    if a[1:] != "0" * rest:
        parts.append(f"{a[0]}({_same_length_range(a[1:], '9' * rest)})")
        start += 1
    top = end if b[1:] == "9" * rest else end - 1
    if start <= top:
        parts.append(f"[{start}-{top}][0-9]{{{rest}}}")
    if b[1:] != "9" * rest:
        parts.append(f"{b[0]}({_same_length_range('0' * rest, b[1:])})")
    return "|".join(parts)


def int_range_regex(lo: int, hi: int) -> str:
    """A regex matching exactly the decimal integers in [lo, hi] (lo >= 0), no leading zeros."""
    if lo < 0 or hi < lo:
        raise ValueError(f"unsupported integer range {lo}..{hi}")
    parts = []
    while lo <= hi:
        top = min(hi, 10 ** len(str(lo)) - 1)
        parts.append(f"({_same_length_range(str(lo), str(top))})")
        lo = top + 1
    return "|".join(parts)


def _value_rule(spec: ArgSpec) -> str:
    """A Lark expression for the values of one argument (numbers also ``up``/``down``)."""
    if spec.type == "boolean":
        return '("true" | "false")'
    if spec.type == "string":
        if spec.enum is None:
            return "/[a-z0-9_]+/"
        return "(" + " | ".join(_lark_string(v) for v in spec.enum) + ")"
    lo = -1e9 if spec.minimum is None else spec.minimum
    hi = 1e9 if spec.maximum is None else spec.maximum
    if lo < 0:
        digits = "/-?[0-9]{1,6}/" if spec.type == "integer" else r"/-?[0-9]{1,6}(\.[0-9])?/"
        return digits
    whole = int_range_regex(math.ceil(lo), math.floor(hi))
    if spec.type == "integer":
        return f"/{whole}/"
    if math.floor(hi) - 1 < math.ceil(lo):
        return f"/{whole}/"
    below_top = int_range_regex(math.ceil(lo), math.floor(hi) - 1)
    return rf"/{whole}|({below_top})\.[0-9]/"


def _lark_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_WHEN_RULE = (
    'when: " @in " /[1-9][0-9]{0,3}/ " " ("s" | "min" | "h")\n'
    '    | " @at " /([01][0-9]|2[0-3]):[0-5][0-9]/\n'
    '    | " @cron " CRON\n'
    r"CRON: /[0-9*,\/-]+ [0-9*,\/-]+ [0-9*,\/-]+ [0-9*,\/-]+ [0-9*,\/-]+/"
)


def plan_grammar(entities: Sequence[Entity], ref_ids: Mapping[str, int] | None = None) -> str:
    """The Lark grammar (llguidance dialect) of every valid plan over ``entities``.

    ``ref_ids`` maps ``<eN>`` to its token id in tokenizers that have one token per reference
    (llguidance sees added tokens as special: they are named by id, ``<[563]>``).
    """
    ref_ids = ref_ids or {}

    def ref(index: int) -> str:
        token = ENTITY_TOKENS[index]
        return f"<[{ref_ids[token]}]>" if token in ref_ids else _lark_string(token)

    signatures: dict[str, list[int]] = {}
    for index, entity in enumerate(entities):
        if not entity.services:
            continue
        services = []
        for service, specs in sorted(entity.services.items()):
            items = [_lark_string(service)]
            for name, spec in specs.items():
                values = _value_rule(spec)
                if spec.type in ("integer", "number"):
                    values = f'({values} | "up" | "down")'
                piece = f'" {name} " {values}'
                items.append(piece if spec.required else f"({piece})?")
            services.append(" ".join(items))
        signatures.setdefault(" | ".join(f"({s})" for s in services), []).append(index)
    refs = " | ".join(ref(i) for i in range(len(entities)))
    lines = [
        'start: "act " call (" ; " call)* | "query " ref (" " ref)* | "ask " ref (" " ref)+'
        ' | "no " (' + " | ".join(_lark_string(r) for r in REASONS) + ")",
        f"ref: {refs}",
    ]
    if signatures:
        groups = []
        for n, (body, members) in enumerate(signatures.items()):
            who = " | ".join(ref(i) for i in members)
            lines.append(f"s{n}: {body}")
            groups.append(f'({who}) " " s{n}')
        lines.append("call: (" + " | ".join(f"({g})" for g in groups) + ") when?")
    else:  # a home with only sensors: nothing to act on
        lines[0] = lines[0].replace('"act " call (" ; " call)* | ', "")
    lines.append(_WHEN_RULE)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- what the gateway says

LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "de")

_VERBS: dict[str, dict[str, str]] = {
    "en": {"turn_on": "Turning on", "turn_off": "Turning off", "toggle": "Toggling",
           "open": "Opening", "close": "Closing", "stop": "Stopping", "lock": "Locking",
           "unlock": "Unlocking", "press": "Pressing", "set_temperature": "Setting",
           "set_position": "Setting", "set_tilt": "Tilting", "set_percentage": "Setting",
           "set_hvac_mode": "Switching", "set_fan_mode": "Switching",
           "set_preset_mode": "Switching", "oscillate": "Adjusting", "*": "Adjusting"},
    "fr": {"turn_on": "J'allume", "turn_off": "J'éteins", "toggle": "J'inverse",
           "open": "J'ouvre", "close": "Je ferme", "stop": "J'arrête", "lock": "Je verrouille",
           "unlock": "Je déverrouille", "press": "J'appuie sur", "*": "Je règle"},
    "es": {"turn_on": "Enciendo", "turn_off": "Apago", "toggle": "Cambio", "open": "Abro",
           "close": "Cierro", "stop": "Detengo", "lock": "Cierro con llave",
           "unlock": "Abro la cerradura de", "press": "Pulso", "*": "Ajusto"},
    "de": {"turn_on": "Ich schalte ein:", "turn_off": "Ich schalte aus:",
           "toggle": "Ich schalte um:", "open": "Ich öffne", "close": "Ich schließe",
           "stop": "Ich stoppe", "lock": "Ich verriegle", "unlock": "Ich entriegle",
           "press": "Ich drücke", "*": "Ich stelle ein:"},
}  # fmt: skip
_AND = {"en": "and", "fr": "et", "es": "y", "de": "und"}
_OR = {"en": "or", "fr": "ou", "es": "o", "de": "oder"}
_LATER = {
    "en": ("in {n} {unit}", "at {at}", "on schedule",
           {"s": "seconds", "min": "minutes", "h": "hours"}),
    "fr": ("dans {n} {unit}", "à {at}", "selon le programme",
           {"s": "secondes", "min": "minutes", "h": "heures"}),
    "es": ("en {n} {unit}", "a las {at}", "según el horario",
           {"s": "segundos", "min": "minutos", "h": "horas"}),
    "de": ("in {n} {unit}", "um {at}", "nach Zeitplan",
           {"s": "Sekunden", "min": "Minuten", "h": "Stunden"}),
}  # fmt: skip
_WHICH = {"en": "Which one: {options}?", "fr": "Lequel : {options} ?",
          "es": "¿Cuál: {options}?", "de": "Welches: {options}?"}  # fmt: skip
_REFUSALS = {
    "no_such_device": {"en": "I can't find that device in this home.",
                       "fr": "Je ne trouve pas cet appareil dans la maison.",
                       "es": "No encuentro ese dispositivo en la casa.",
                       "de": "Dieses Gerät gibt es hier nicht."},
    "out_of_domain": {"en": "Sorry, I can only control the devices in this home.",
                      "fr": "Désolé, je ne peux piloter que les appareils de la maison.",
                      "es": "Lo siento, solo puedo controlar los dispositivos de la casa.",
                      "de": "Tut mir leid, ich kann nur die Geräte im Haus steuern."},
    "not_understood": {"en": "Sorry, I did not understand that.",
                       "fr": "Désolé, je n'ai pas compris.",
                       "es": "Lo siento, no lo he entendido.",
                       "de": "Entschuldigung, das habe ich nicht verstanden."},
}  # fmt: skip
_STATE_WORDS: dict[str, dict[str, str]] = {
    "en": {"on": "on", "off": "off", "open": "open", "closed": "closed", "opening": "opening",
           "closing": "closing", "locked": "locked", "unlocked": "unlocked", "jammed": "jammed",
           "heat": "heating", "cool": "cooling", "auto": "on auto", "unavailable": "unavailable",
           "unknown": "unknown"},
    "fr": {"on": "allumé", "off": "éteint", "open": "ouvert", "closed": "fermé",
           "opening": "en ouverture", "closing": "en fermeture", "locked": "verrouillé",
           "unlocked": "déverrouillé", "jammed": "bloqué", "heat": "en chauffe",
           "cool": "en refroidissement", "auto": "en automatique",
           "unavailable": "indisponible", "unknown": "inconnu"},
    "es": {"on": "encendido", "off": "apagado", "open": "abierto", "closed": "cerrado",
           "opening": "abriéndose", "closing": "cerrándose", "locked": "cerrado con llave",
           "unlocked": "sin llave", "jammed": "atascado", "heat": "calentando",
           "cool": "enfriando", "auto": "en automático", "unavailable": "no disponible",
           "unknown": "desconocido"},
    "de": {"on": "an", "off": "aus", "open": "offen", "closed": "geschlossen",
           "opening": "öffnet", "closing": "schließt", "locked": "verriegelt",
           "unlocked": "entriegelt", "jammed": "blockiert", "heat": "heizt", "cool": "kühlt",
           "auto": "auf Automatik", "unavailable": "nicht erreichbar", "unknown": "unbekannt"},
}  # fmt: skip
_IS = {"en": "{name} is {state}.", "fr": "{name} : {state}.", "es": "{name}: {state}.",
       "de": "{name}: {state}."}  # fmt: skip


def language_code(language: str | None) -> str:
    return language if language in LANGUAGES else "en"


def _join(items: Sequence[str], word: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _later(when: When | None, language: str) -> str:
    if when is None:
        return ""
    delay, at, cron, units = _LATER[language]
    if when.delay_s:
        for unit, seconds in _UNIT_SECONDS:
            if when.delay_s % seconds == 0:
                return " " + delay.format(n=when.delay_s // seconds, unit=units[unit])
    if when.at:
        return " " + at.format(at=when.at)
    return " " + cron if when.cron else ""


def _name(catalog: Catalog, entity_id: str) -> str:
    entity = catalog.entities.get(entity_id)
    return entity.name if entity is not None else entity_id


def say_for(plan: Plan, catalog: Catalog, language: str | None = None) -> str | None:
    """The sentence a voice satellite speaks for ``plan`` (``None`` for a query: see
    :func:`describe_state`, which needs the tracked state)."""
    lang = language_code(language)
    if plan.kind == "unsupported":
        return _REFUSALS.get(plan.reason or "", _REFUSALS["no_such_device"])[lang]
    if plan.kind == "ambiguous":
        names = [_name(catalog, c) for c in plan.candidates]
        return _WHICH[lang].format(options=_join(names, _OR[lang]))
    if plan.kind == "query" or not plan.calls:
        return None
    verbs = _VERBS[lang]
    sentences: list[str] = []
    groups: dict[tuple[str, str], list[str]] = {}
    for call in plan.calls:
        service = call.tool.split(".", 1)[1]
        settings = [
            f"{v}{'%' if k.endswith(('pct', 'percentage', 'position', 'tilt')) else ''}"
            for k, v in call.args.items()
            if k != "entity_id" and not isinstance(v, bool)
        ]
        tail = (" → " + ", ".join(map(str, settings)) if settings else "") + _later(call.when, lang)
        groups.setdefault((verbs.get(service, verbs["*"]), tail), []).append(
            _name(catalog, call.args["entity_id"])
        )
    for (verb, tail), names in groups.items():
        sentences.append(f"{verb} {_join(names, _AND[lang])}{tail}.")
    return " ".join(sentences)


def describe_state(
    entity: Entity, state: str, attributes: Mapping[str, Any] | None = None, language: str = "en"
) -> str:
    """A spoken answer to a state question: ``"Garage door is open."``, ``"Salon : 21.5 °C."``"""
    lang = language_code(language)
    attributes = attributes or {}
    word = _STATE_WORDS[lang].get(state.lower())
    if word is None:
        unit = attributes.get("unit_of_measurement")
        word = f"{state} {unit}" if unit else state
    return _IS[lang].format(name=entity.name, state=word)


# ---------------------------------------------------------------- the planner


_PREFIX_KEY = "edgeward-planner"
_MAX_NEW_TOKENS = 200
_RETRIEVER_SLOTS = 4
_PREPARED_SLOTS = 64


class Planner:
    """Turns requests into plans with a loaded model (the embedded default or one like it)."""

    def __init__(self, model: LocalModel, *, max_new_tokens: int = _MAX_NEW_TOKENS) -> None:
        self.model = model
        self.max_new_tokens = max_new_tokens
        self.ref_ids = reference_token_ids(model)
        self._retrievers: dict[str, Retriever] = {}
        self._prepared: dict[tuple[str, tuple[str, ...]], tuple[str, CompiledGrammar]] = {}
        self._head_ids: dict[str, list[int]] = {}

    @classmethod
    def default(cls, backend: BackendName = "auto", threads: int | None = None) -> Planner:
        """The planner on the model shipped in the package (``runtime/default_model``)."""
        return cls(load_model(DEFAULT_MODEL, backend=backend, threads=threads))

    def _retriever(self, catalog: Catalog) -> Retriever | None:
        """The retrieval index of a big home, built once per catalog version."""
        if len(catalog) <= MAX_ENTITIES:
            return None
        retriever = self._retrievers.get(catalog.version)
        if retriever is None:
            if len(self._retrievers) >= _RETRIEVER_SLOTS:
                self._retrievers.pop(next(iter(self._retrievers)))
            retriever = self._retrievers[catalog.version] = Retriever(catalog)
        return retriever

    def prompt_ids(self, parts: PromptParts) -> list[int]:
        """The chat prompt's token ids; the home description's ids are cached.

        The text is cut right after the system message, where the chat template puts a special
        token, so encoding the two pieces gives the same ids as encoding the whole.
        """
        text = self.model.render_chat(
            [{"role": "system", "content": parts.system}, {"role": "user", "content": parts.user}]
        )
        cut = text.find(parts.system) + len(parts.system) if parts.system else 0
        head = text[:cut]
        ids = self._head_ids.get(head)
        if ids is None:
            ids = self.model.encode(head)
            if len(self._head_ids) >= _PREPARED_SLOTS:
                self._head_ids.pop(next(iter(self._head_ids)))
            self._head_ids[head] = ids
        return ids + self.model.encode(text[cut:])

    def prepared(self, catalog: Catalog, entities: Sequence[Entity]) -> tuple[str, CompiledGrammar]:
        """The home description and compiled grammar for these candidates, made once per
        catalog version and candidate set (a small home: once per catalog version)."""
        key = (catalog.version, tuple(e.entity_id for e in entities))
        cached = self._prepared.get(key)
        if cached is None:
            digest = hashlib.sha256(",".join(key[1]).encode()).hexdigest()[:16]
            grammar = compile_lark(
                self.model.tokenizer_info,
                plan_grammar(entities, self.ref_ids),
                key=f"planner:{catalog.version}:{digest}",
            )
            cached = (home_text(entities, catalog), grammar)
            if len(self._prepared) >= _PREPARED_SLOTS:
                self._prepared.pop(next(iter(self._prepared)))
            self._prepared[key] = cached
        return cached

    def plan(
        self,
        catalog: Catalog,
        text: str,
        area: str | None = None,
        language: str | None = None,
        state: States | None = None,
    ) -> Plan:
        """The plan for one request; never actuates anything itself.

        ``state`` gives current values for relative requests ("a bit warmer"); without it such
        a request comes back ``unsupported`` with reason ``not_understood`` and confidence 0.
        """
        lang = language_code(language)
        if not text.strip():
            return finish_plan(
                Plan("unsupported", reason="not_understood", confidence=0.0), catalog, lang
            )
        entities = prompt_entities(catalog, text, area, self._retriever(catalog))
        while True:
            system, grammar = self.prepared(catalog, entities)
            parts = PromptParts(system, request_text(text, area), tuple(entities))
            ids = self.prompt_ids(parts)
            if len(ids) + self.max_new_tokens <= self.model.max_context or len(entities) <= 1:
                break
            # Too long for the model's context: describe only the best half of the candidates.
            retriever = self._retriever(catalog) or Retriever(catalog)
            keep = retriever.retrieve(text, area, k=max(1, len(entities) // 2)).entities
            entities = sorted(
                (catalog.entities[i] for i in keep[: len(entities) // 2]), key=lambda e: e.entity_id
            )
        generation = self.model.generate(
            ids,
            max_new_tokens=self.max_new_tokens,
            grammar=grammar,
            prefix_cache_key=_PREFIX_KEY,
        )
        try:
            plan = text_to_plan(generation.text, parts.entities, catalog, state)
        except PlanTextError:
            plan = Plan("unsupported", reason="not_understood")
            return finish_plan(replace(plan, confidence=0.0), catalog, lang)
        return finish_plan(replace(plan, confidence=confidence(generation.logprobs)), catalog, lang)


def speaks_plan_language(model: LocalModel) -> bool:
    """Whether ``model`` was trained for this planner's plan language (the embedded model is)."""
    return bool(reference_token_ids(model))


def reference_token_ids(model: LocalModel) -> dict[str, int]:
    """The token id of each ``<eN>`` the model's tokenizer has as one token."""
    ids = {token: model.tokenizer.token_to_id(token) for token in ENTITY_TOKENS}
    return {token: i for token, i in ids.items() if i is not None}


def confidence(logprobs: Iterable[float]) -> float:
    """The probability of the least certain token the model chose (forced tokens count as 1)."""
    lowest = min(logprobs, default=0.0)
    return min(1.0, max(0.0, math.exp(lowest)))


def finish_plan(plan: Plan, catalog: Catalog, language: str) -> Plan:
    plan = replace(plan, language=language)
    return replace(plan, say=say_for(plan, catalog, language))
