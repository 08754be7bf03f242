"""The planner: a request, where it was said and the home's catalog in, a checked :class:`Plan` out.

The request and a compact description of the home become a chat prompt; the model answers with a
frame (:mod:`edgeward.runtime.frames`): what the request says, naming devices, areas and floors
the way it did, decoded under a grammar that allows only the home's names and kinds. Code then
resolves the frame into calls with the rules the training data was made by, so which entity a
name means, whether a sweep is safe and whether the home has the thing at all are decided
exactly, not guessed::

    act all light @ [ kitchen ] off ; act name [ hall heater ] temperature 20 @in 10 min
    query name [ garage door ]
    no out_of_domain

A request in another language than the home's names its devices in its own words, so the
description also lists each device's word in the request's language as an alias
(:func:`~edgeward.runtime.homes.with_spoken_names`); a request that does not give its language
gets the one its words show (:mod:`edgeward.runtime.language`).

Homes small enough to describe whole (:data:`MAX_ENTITIES`) use the description as a fixed prompt
prefix whose KV cache is reused across requests (kept per description, so a home spoken to in two
languages keeps both, up to the generator's prefix slots); bigger homes get the entities retrieval
picks for the request (the grammar still allows every name of the home). The confidence is the
lowest probability the model gave to a token it chose (tokens the grammar forced do not count; when
that choice was between frames that resolve to the same plan, they all count, and other choices
there that the checks below would bar count no more than what the grammar masks:
:data:`AGREEMENT_BELOW`), capped at :data:`DOUBTFUL_CONFIDENCE` when the frame names a device,
area or floor the request does not say (:func:`grounded`, with the matching of
:mod:`edgeward.runtime.retrieval`): a small model that cannot copy a name (a translation, a
paraphrase) guesses one, and a guessed device must not move. The same cap applies to a frame with
a doubtful clause (:func:`doubtful_clause`): a repeat (a small model that loses its place in a
request of several clauses writes one of them again instead of the next, and half a request must
not pass for all of it), a device or place the request does not say, an action the device lacks
or the request's words contradict, a class or kind of devices that is not there or not said.
Before that, such a frame is decoded again with the model's choice barred where it made it, and
the first retry with no doubtful clause is kept (its probabilities those of the model's other
choices where one was barred, as the grammar's mask makes them for what the home cannot do). A
request that names an area or floor the home does not have, which the model put somewhere else, is
answered ``no_such_device``, and so is one that names an appliance no device of the home is
called by ("preheat the oven"; :func:`names_something_missing`).
A plan that would ask which device is meant acts on the one the request names whole, when it
names one (:func:`said_whole`: "the glylamam Wasserkocher" written as the "Wasserkocher"). A
frame's clauses are put in the order the request says their devices (:func:`in_said_order`),
and a frame that leaves out a part of the request naming a device is capped too
(:func:`leaves_out_a_part`).
A small model loses its place in a request of several parts. So a request whose parts
(:func:`request_parts`: split at its commas and words for "and" and "then") say two commands
or more ("lock the door, then turn off the light") is planned part by part, each part alone,
and the whole request only when a part is not an action. Any other request of several parts
("bonne nuit et éteins le ventilateur") is planned whole first, and part by part too when that
plan is not an action or is more likely wrong than right (:data:`SPLIT_BELOW`); the parts'
plans replace the whole's when every part is an action surer than it. A plan made of parts is
as sure as its least sure part. A part that says no action ("... and the floor lamp"), or only
a verb that carries one ("put the hallway blind ..."), does what the part it is said with does
(:func:`~edgeward.runtime.action_words.says_which_action`). The ``say`` texts are deterministic
templates in en/fr/es/de.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from edgeward.runtime.action_words import only_checks, says_an_action, says_which_action
from edgeward.runtime.bounded_cache import BoundedCache
from edgeward.runtime.catalog import Area, Catalog, Entity
from edgeward.runtime.constrained import CompiledGrammar, compile_lark
from edgeward.runtime.doubts import (
    PLAIN_WORDS,
    Doubt,
    actions_said,
    asks_about_lights,
    can_do,
    days_said,
    doubtful_clause,
    grounded,
    in_said_order,
    kind_of_said,
    last_bracket_said,
    leaves_out_a_part,
    longer_name_said,
    made_up_name,
    made_up_repeated,
    name_said,
    named_in_sweep,
    names_something_missing,
    outdoor_reading,
    said_here,
    said_in_place,
    said_whole,
    says_a_device_word,
    says_a_kind_it_has,
    says_a_whole_name,
    says_all,
    time_said,
)
from edgeward.runtime.frames import (
    Frame,
    FrameError,
    States,
    clean,
    frame_grammar,
    frame_names,
    in_units,
    parse_frame,
    resolve,
)
from edgeward.runtime.generate import Generation
from edgeward.runtime.homes import (
    LANGUAGES,
    fold,
    with_home_places,
    with_spoken_names,
)
from edgeward.runtime.language import detect_language
from edgeward.runtime.local_model import LocalModel, load_model
from edgeward.runtime.model_folder import BackendName
from edgeward.runtime.plan import Plan, PlannedCall, When
from edgeward.runtime.plan_rules import meant_by, merge, query
from edgeward.runtime.retrieval import Retriever, place_named
from edgeward.runtime.spoken_numbers import values_said, with_digits
from edgeward.runtime.typos import home_words, mend_typos

DEFAULT_MODEL = Path(__file__).resolve().parent / "default_model"
"""The embedded planner model, trained by :mod:`edgeward.runtime.training`."""

EMBEDDED_THREADS = 1
"""Inference threads for the embedded model when none are configured. At 1.8M parameters each
operation is microseconds of work, and handing it to a second thread costs more than it saves:
on a 2-core box one thread planned the hand-written set 7-19 % faster on average (BENCHMARKS.md),
and it leaves the other core to the broker and the daemon."""

MAX_ENTITIES = 64
"""The most entities one prompt describes; bigger homes go through retrieval."""

RETRIEVAL_K = 32
"""Candidates retrieval picks for a home too big to describe whole."""

DOUBTFUL_CONFIDENCE = 0.3
"""The most confidence a plan gets when it names a device the request does not say, or asks
for the same thing twice."""

AGREEMENT_BELOW = 0.9
"""Below this confidence (the daemon's default ``min_confidence``), a plan's least certain
choice is tried the other way, to see whether both ways mean the same plan."""


SPLIT_BELOW = 0.5
"""A request of several parts (not several commands, which are planned part by part first)
whose plan is not an action, or one less sure than this (more likely wrong than right), is
planned part by part as well."""

_NUMBER_START = re.compile(r" +| *[0-9].*")
_VALUE = re.compile(r" [a-z_]+ -?(?=[0-9])")
"""An action and the space before its number, in a clause's text."""

PLAN_MARK = "<|edgeward_frames|>"
"""A token in the tokenizer of every model trained to write frames (the embedded model)."""


class Decoded(NamedTuple):
    """The frame the planner keeps for a request, the generation it came from, the tokens a
    retry barred to get it, by position (none when the first frame was kept), and whether a
    clause of it is still doubtful (:func:`doubtful_clause`: no retry settled it)."""

    generation: Generation
    frame: Frame | None
    barred: Mapping[int, Collection[int]] = {}
    doubtful: bool = False


class PromptIds(NamedTuple):
    """A request's prompt as token ids, and how many of them describe the home (``pin``: the
    prefix whose KV cache the next request on the same home reuses)."""

    ids: list[int]
    pin: int


class _Asked(NamedTuple):
    """A request as the planner reads it: its prompt, the home (with its spoken names), its
    text, the speaker's area, the devices' current values and the request's language."""

    prompt: PromptIds
    catalog: Catalog
    text: str
    area: str | None
    state: States | None
    lang: str


@dataclass(frozen=True)
class PromptParts:
    """The chat messages of one request: the home description and the request."""

    system: str
    user: str


def entity_line(entity: Entity) -> str:
    """One entity of the home description: kind, names, area (``cover:garage | garage door @
    garage``)."""
    kind = f"{entity.domain}:{entity.device_class}" if entity.device_class else entity.domain
    parts = [kind, "| " + clean(entity.name)]
    parts += ["/ " + clean(alias) for alias in entity.aliases]
    if entity.area:
        parts.append("@ " + clean(entity.area))
    elif entity.floor:
        parts.append("^ " + clean(entity.floor))
    return " ".join(parts)


def area_line(area: Area) -> str:
    """One area of the home description: ``@ name ^ floor / alias``."""
    parts = ["@ " + clean(area.name)]
    if area.floor:
        parts.append("^ " + clean(area.floor))
    parts += ["/ " + clean(alias) for alias in area.aliases]
    return " ".join(parts)


def home_text(entities: Sequence[Entity], catalog: Catalog) -> str:
    """The system message: the home's areas, then one line per entity (of ``catalog``, whose
    version with the entities' ids is the key the text is kept under for the next request)."""

    def describe() -> str:
        areas = sorted(set(catalog.areas) | {e.area for e in entities if e.area})
        lines = [area_line(catalog.areas.get(name) or Area(name)) for name in areas]
        lines += [entity_line(e) for e in entities]
        return "\n".join(lines)

    return _HOME_TEXTS.get((catalog.version, tuple(e.entity_id for e in entities)), describe)


_HOME_TEXTS: BoundedCache[tuple[str, tuple[str, ...]], str] = BoundedCache(64)


def request_text(text: str, area: str | None) -> str:
    """The user message: the speaker's area in brackets, then the request, lower-cased."""
    return f"[ {clean(area) if area else '-'} ] {' '.join(text.lower().split())}"


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
    catalog: Catalog, text: str, area: str | None, entities: Sequence[Entity], language: str
) -> PromptParts:
    """The home described by ``entities``, and the request with its numbers in digits."""
    return PromptParts(
        home_text(entities, catalog), request_text(with_digits(text, language), area)
    )


# ---------------------------------------------------------------- what the gateway says


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


def language_code(language: str | None, text: str = "") -> str:
    """``language`` when it is one of en/fr/es/de, else the language ``text`` is in
    (:func:`~edgeward.runtime.language.detect_language`), else English."""
    if language in LANGUAGES:
        return language
    return detect_language(text) or "en"


def _join(items: Sequence[str], word: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _later(when: When | None, language: str) -> str:
    if when is None:
        return ""
    delay, at, cron, units = _LATER[language]
    if when.delay_s:
        n, unit = in_units(when.delay_s)
        return " " + delay.format(n=n, unit=units[unit])
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
    """A spoken answer to a state question: ``"Garage door is open."``, ``"Salon : 21.5 °C."``;
    a thermostat's adds the temperature it reads and the one it is set to, since "what's the
    temperature in the bedroom" of a room with only a radiator asks for those, not its mode."""
    lang = language_code(language)
    attributes = attributes or {}
    word = _STATE_WORDS[lang].get(state.lower())
    if word is None:
        unit = attributes.get("unit_of_measurement")
        word = f"{state} {unit}" if unit else state
    if entity.domain == "climate":
        for key, template in (("current_temperature", "reads"), ("temperature", "set")):
            value = attributes.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                word += _CLIMATE[lang][template].format(_number(value, lang))
    return _IS[lang].format(name=entity.name, state=word)


_CLIMATE = {
    "en": {"reads": ", {}° now", "set": ", set to {}°"},
    "fr": {"reads": ", {}° en ce moment", "set": ", réglé sur {}°"},
    "es": {"reads": ", {}° ahora", "set": ", ajustado a {}°"},
    "de": {"reads": ", jetzt {}°", "set": ", eingestellt auf {}°"},
}


def _number(value: float, language: str) -> str:
    """``value`` as a reading is said: no trailing ``.0``, a decimal comma outside English."""
    text = f"{value:.1f}".removesuffix(".0")
    return text if language == "en" else text.replace(".", ",")


# ---------------------------------------------------------------- the planner


_PREFIX_KEY = "edgeward-planner"
_MAX_NEW_TOKENS = 128
_RETRIEVER_SLOTS = 4
_PREPARED_SLOTS = 64
_NAME_END = " ]"
_CHAINED = ("action", "value", "time", "days", "class")
_TARGETS = ("repeat", "unsaid", "place")
_REFUSALS_RETRIED = ("no_such_device", "out_of_domain")
"""Refusals a request that says a whole name of the home, the plain word of a kind of device it
has, or the word for the kind of one of its devices, cannot mean: it is retried with its "no"
barred (:func:`~edgeward.runtime.doubts.says_a_whole_name`, :func:`~edgeward.runtime.doubts.
says_a_kind_it_has`, :func:`~edgeward.runtime.doubts.says_a_device_word`)."""
_CHAINED_TRIES = 3
_REPAIRS = 4
"""How many doubts one decode mends, one after the other: a retry that mends one may show
another ("quita las luces" read as unlocking, retried as turning the lights on)."""
_OTHER_FRAMES = 3
"""How many other frames the agreement check reads at one choice of a plan."""
_CHOICES_READ = 2
"""At how many of a plan's least certain choices the agreement check reads other frames."""


class Planner:
    """Turns requests into plans with a loaded model (the embedded default or one like it)."""

    def __init__(self, model: LocalModel, *, max_new_tokens: int = _MAX_NEW_TOKENS) -> None:
        self.model = model
        self.max_new_tokens = max_new_tokens
        self._retrievers: BoundedCache[str, Retriever] = BoundedCache(_RETRIEVER_SLOTS)
        self._grammars: BoundedCache[str, CompiledGrammar] = BoundedCache(_PREPARED_SLOTS)
        self._head_ids: BoundedCache[str, list[int]] = BoundedCache(_PREPARED_SLOTS)
        self._spoken: BoundedCache[tuple[str, str], Catalog] = BoundedCache(_PREPARED_SLOTS)
        self._words: BoundedCache[str, dict[str, str]] = BoundedCache(_PREPARED_SLOTS)
        self._vocabulary = frozenset(range(model.tokenizer.get_vocab_size()))
        self._spaces = {i for i in self._vocabulary if not model.tokenizer.decode([i]).strip()}
        self._pieces: dict[str, list[int]] = {}  # token ids by the text they decode to
        for i in self._vocabulary:
            self._pieces.setdefault(model.tokenizer.decode([i]), []).append(i)
        # the marks of a place: an area's "@" and a floor's "^"
        self._places = set(self._pieces.get(" @", [])) | set(self._pieces.get(" ^", []))
        # what may begin a number in a frame: a digit, or the space before one
        self._numbers = {
            i for p, ids in self._pieces.items() if _NUMBER_START.fullmatch(p) for i in ids
        }

    @classmethod
    def default(cls, backend: BackendName = "auto", threads: int | None = None) -> Planner:
        """The planner on the model shipped in the package (``runtime/default_model``), on
        :data:`EMBEDDED_THREADS` threads unless told otherwise."""
        return cls(load_model(DEFAULT_MODEL, backend=backend, threads=threads or EMBEDDED_THREADS))

    def spoken_catalog(self, catalog: Catalog, language: str) -> Catalog:
        """``catalog`` with its devices' names in ``language`` as aliases
        (:func:`~edgeward.runtime.homes.with_spoken_names`), made once per catalog version."""
        return self._spoken.get(
            (catalog.version, language), lambda: with_spoken_names(catalog, language)
        )

    def mended(self, catalog: Catalog, text: str, language: str) -> str:
        """``text`` with its typos mended (:mod:`~edgeward.runtime.typos`; a word the tokenizer
        holds whole is a word of the model's, and a number said in words is one), and its words
        for an area random homes never have written as the home names it
        (:func:`~edgeward.runtime.homes.with_home_places`: "palier" for a "Landing")."""
        words = self._words.get(catalog.version, lambda: home_words(catalog))
        mended = mend_typos(
            text,
            words,
            lambda word: (
                len(self.model.encode(" " + word)) == 1 or with_digits(word, language) != word
            ),
        )
        return with_home_places(mended, catalog.areas)

    def _retriever(self, catalog: Catalog) -> Retriever | None:
        """The retrieval index of a big home, built once per catalog version."""
        if len(catalog) <= MAX_ENTITIES:
            return None
        return self._retrievers.get(catalog.version, lambda: Retriever(catalog))

    def prompt_ids(self, parts: PromptParts) -> PromptIds:
        """The chat prompt's token ids, and how many of them describe the home (the prefix whose
        KV cache the next request on the home reuses); the home description's ids are cached.

        The text is cut right after the system message, where the chat template puts a special
        token, so encoding the two pieces gives the same ids as encoding the whole.
        """
        text = self.model.render_chat(
            [{"role": "system", "content": parts.system}, {"role": "user", "content": parts.user}]
        )
        cut = text.find(parts.system) + len(parts.system) if parts.system else 0
        head = text[:cut]
        ids = self._head_ids.get(head, lambda: self.model.encode(head))
        return PromptIds(ids + self.model.encode(text[cut:]), len(ids))

    def grammar(self, catalog: Catalog) -> CompiledGrammar:
        """The frame grammar of ``catalog``, compiled once per catalog version."""
        return self._grammars.get(
            catalog.version,
            lambda: compile_lark(
                self.model.tokenizer_info, frame_grammar(catalog), key=f"planner:{catalog.version}"
            ),
        )

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
        A request of several commands is planned part by part (:func:`request_parts`), and
        whole only when a part is not an action; another request of several parts is planned
        part by part too when its plan is not an action or is less sure than
        :data:`SPLIT_BELOW`, and the parts' plans replace it when each is an action surer
        than it.
        """
        lang = language_code(language, text)
        if not text.strip():
            return _not_understood(catalog, lang)
        # A request in another language than the home's may name a device in its own words.
        catalog = self.spoken_catalog(catalog, lang)
        text = self.mended(catalog, text, lang)
        parts = request_parts(with_digits(text, lang))
        commands = len(parts) >= 2 and sum(map(says_an_action, parts)) >= 2
        if commands:  # several commands in one breath: each alone, if each is an action
            together = self._plan_parts(catalog, parts, area, lang, state)
            if together is not None:
                return together
        whole = self._plan_whole(catalog, text, area, lang, state)
        if commands or len(parts) < 2 or (whole.kind == "act" and whole.confidence >= SPLIT_BELOW):
            return whole
        return self._plan_parts(catalog, parts, area, lang, state, whole.confidence) or whole

    def _plan_parts(
        self,
        catalog: Catalog,
        parts: Sequence[str],
        area: str | None,
        lang: str,
        state: States | None,
        above: float = -1.0,
    ) -> Plan | None:
        """The plans of a request's parts, each planned alone, as one plan as sure as the least
        sure of them; None unless every part is an action surer than ``above``."""
        planned = []
        for part in parts:
            alone = self._plan_whole(catalog, part, area, lang, state)
            if alone.kind != "act" or alone.confidence <= above:
                return None
            planned.append(alone)
        merged = merge(_shared_actions(planned, parts, catalog), lang)
        if merged is None:
            return None
        sure = min(p.confidence for p in planned)
        if repeats_a_call(merged):
            sure = min(sure, DOUBTFUL_CONFIDENCE)
        return finish_plan(replace(merged, confidence=sure), catalog, lang)

    def _plan_whole(
        self, catalog: Catalog, text: str, area: str | None, lang: str, state: States | None
    ) -> Plan:
        """The plan of ``text`` taken as one request, on a catalog with its spoken names."""
        entities = prompt_entities(catalog, text, area, self._retriever(catalog))
        while True:
            parts = prompt_parts(catalog, text, area, entities, lang)
            prompt = self.prompt_ids(parts)
            if (
                len(prompt.ids) + self.max_new_tokens <= self.model.max_context
                or len(entities) <= 1
            ):
                break
            # Too long for the model's context: describe only the best half of the candidates.
            retriever = self._retriever(catalog) or Retriever(catalog)
            keep = retriever.retrieve(text, area, k=max(1, len(entities) // 2)).entities
            entities = sorted(
                (catalog.entities[i] for i in keep[: len(entities) // 2]), key=lambda e: e.entity_id
            )
        decoded = self._decode(prompt, catalog, text, area, lang)
        generation, frame = decoded.generation, decoded.frame
        if frame is None:
            return _not_understood(catalog, lang)
        frame = in_said_order(frame, catalog, text)
        try:
            plan = resolve(frame, catalog, area, state, lang)
            if plan.kind == "ambiguous":  # perhaps the request says which device, whole
                frame = (
                    said_whole(frame, catalog, text, area, state, lang)
                    or said_in_place(frame, catalog, text, area, state, lang)
                    or said_here(frame, catalog, text, area, state, lang)
                    or frame
                )
                plan = resolve(frame, catalog, area, state, lang)
            elif plan.kind in ("act", "query"):  # a sweep of a place that one device's name says
                named = named_in_sweep(frame, catalog, text, area, state, lang)
                if named is not None:
                    frame, plan = named, resolve(named, catalog, area, state, lang)
        except FrameError:
            return _not_understood(catalog, lang)
        if names_something_missing(frame, catalog, text, lang):
            plan = Plan("unsupported", reason="no_such_device")
            sure = confidence(generation.logprobs)
        else:
            asked = _Asked(prompt, catalog, text, area, state, lang)
            sure = self._agreeing_confidence(asked, decoded, plan)
        if plan.kind == "act" and only_checks(text):
            # "prüf die Stehlampe" asks about the lamp: the devices the plan would move are read
            ids = dict.fromkeys(c.args["entity_id"] for c in plan.calls)
            plan = query([catalog.entities[i] for i in ids], lang) or plan
        if (
            decoded.doubtful
            or not grounded(frame, catalog, text)
            or repeats_a_call(plan)
            or leaves_out_a_part(frame, catalog, request_parts(text))
            or (plan.kind == "act" and only_checks(text))  # too many devices to read
        ):
            sure = min(sure, DOUBTFUL_CONFIDENCE)
        if repeats_a_call(plan) and len(request_parts(text)) < 2:
            plan = _once_each(plan)  # one request, one device: "pon la escena de cena" twice
        return finish_plan(replace(plan, confidence=sure), catalog, lang)

    def _agreeing_confidence(self, asked: _Asked, decoded: Decoded, plan: Plan) -> float:
        """:func:`confidence`, except that when the model's least certain choice was between
        frames that mean the same plan ("name [ kitchen ceiling light ]" and "all light @ [
        kitchen ]" in a kitchen with one light), they all count for it.

        Below :data:`AGREEMENT_BELOW`, a plan that would act or answer has its frame decoded
        again with that choice barred, and again with the next one barred too, up to
        :data:`_OTHER_FRAMES` others while the plan is below :data:`AGREEMENT_BELOW` and its
        other choices are not, and while each other frame either resolves to the same plan
        (its probability there adds to the choice's, and its later choices count like the
        first frame's) or is barred by the checks of :func:`doubtful_clause` at that very
        choice ("turn off all the lights" swept over a floor the request does not say: it
        counts no more than a choice the grammar masks, and the choice's probability is taken
        among the rest). The first other frame that is neither ends the reading, and its share
        counts against the plan. A choice a retry barred there stays barred. (A refusal or a
        question back is never acted on, so its confidence is left as it is.)"""
        generation = decoded.generation
        sure = confidence(generation.logprobs)
        if sure >= AGREEMENT_BELOW or plan.kind not in ("act", "query"):
            return sure
        read = list(generation.logprobs)  # each choice's log-probability, as the others make it
        later: list[float] = []  # the later choices of other frames that agree
        done: set[int] = set()
        for _ in range(_CHOICES_READ):
            k = min(range(len(read)), key=read.__getitem__)
            rest = [*read[:k], *read[k + 1 :], *later]
            if k in done or math.exp(read[k]) >= AGREEMENT_BELOW:
                break
            if done and confidence(rest) < AGREEMENT_BELOW:
                break  # a second choice is read only when that may lift the plan to 0.9
            done.add(k)
            lifted = self._others_at(asked, decoded, plan, k, rest)
            if lifted is None:
                break
            read[k] = math.log(lifted[0])
            later += lifted[1]
        return max(sure, confidence([*read, *later]))

    def _others_at(
        self, asked: _Asked, decoded: Decoded, plan: Plan, k: int, rest: list[float]
    ) -> tuple[float, list[float]] | None:
        """The probability of the choice at token ``k`` with the other frames there that agree
        with ``plan`` added and those the checks bar taken out, and the later choices of those
        that agree; None when no other frame read there agrees or is barred. ``rest``: the
        log-probabilities of the plan's other choices."""
        prompt, catalog, text, area, state, lang = asked
        generation = decoded.generation
        # a choice a retry already barred there stays barred: its share is not counted twice
        barred = {generation.token_ids[k], *decoded.barred.get(k, ())}
        chosen = math.exp(generation.logprobs[k])
        agree, ruled_out, left = chosen, 0.0, 1.0 - chosen
        later: list[float] = []
        for n in range(_OTHER_FRAMES):
            if n and (
                agree / (1.0 - ruled_out) >= AGREEMENT_BELOW
                or confidence([*rest, *later]) < AGREEMENT_BELOW
            ):
                break  # read another only while it may lift the plan to AGREEMENT_BELOW
            other = self._generate(prompt, catalog, {k: set(barred)}, generation.token_ids[:k])
            frame = _parsed(other.text)
            if frame is None or len(other.logprobs) <= k:
                break
            try:
                again = resolve(frame, catalog, area, state, lang)
            except FrameError:
                break
            # the other's probability at k is among the choices left once those read were barred
            share = math.exp(other.logprobs[k]) * left
            if again == plan:  # both straight from resolve: no say, confidence 1, one language
                agree += share
                later += other.logprobs[k + 1 :]
            elif self._ruled_out(other, frame, catalog, text, area, k):
                # the checks bar this choice, as the grammar masks what the home cannot do
                ruled_out += share
            else:
                break
            left -= share
            barred.add(other.token_ids[k])
        if agree == chosen and ruled_out == 0.0:
            return None
        return agree / (1.0 - ruled_out), later

    def _ruled_out(
        self,
        generation: Generation,
        frame: Frame,
        catalog: Catalog,
        text: str,
        area: str | None,
        k: int,
    ) -> bool:
        """Whether ``frame`` cannot be carried out (it asks a device for an action it lacks), or
        the checks find a clause of it doubtful for what the model chose at token ``k`` (where
        a retry would bar a choice: :func:`_choices`), not for a later choice: "quita las luces"
        swept as lights turned on is a real other reading, whose action alone is wrong."""
        if not all(can_do(clause, catalog) for clause in frame.clauses):
            return True
        doubt = doubtful_clause(frame, catalog, text, area)
        if doubt is None:
            return False
        # k was a choice even if the model gave it all that was left there (log-probability 0)
        logprobs = list(generation.logprobs)
        logprobs[k] = min(logprobs[k], -1e-9)
        chosen = _choices(
            self.model, replace(generation, logprobs=tuple(logprobs)), doubt, says_all(text), text
        )
        return any(j == k for j, _ in chosen)

    def _decode(
        self, prompt: PromptIds, catalog: Catalog, text: str, area: str | None, lang: str
    ) -> Decoded:
        """The model's frame for a prompt, and when a clause of it is doubtful
        (:func:`doubtful_clause`), the first retry that leaves no clause doubtful (with the
        tokens it barred).

        The first doubtful clause is decoded again with the model's choice barred where it made it
        (:func:`_choices`): a question where the request commands, or an action where it asks, at
        its "query" or "act"; a name the request does not say or a repeated target at its first,
        then its last, chosen token; a place the request does not say at the place, then, when the
        request says "all" or is said from an area (which it need not name), where the place begins
        (no place), then at the target's "all" or "name"; an action the device lacks or the
        request's words contradict at the action (with all but the action the words say barred,
        when they say one: :func:`actions_said`), a relative change against the request's words at
        its "up" or "down" (and at a number too, when the request says none: the words say the way,
        not a level), a number the request does not say at its first digit, a time of day it does
        not say begun again as the one time it says (:func:`time_said`), else at each digit of it
        in turn, a doubtful class at the class, then its kind, then the
        target's "all" or "one" (a doubtful kind with no class at "all" or "one", then the kind),
        and a doubtful sweep at its "all", each at the next choice too while it does no better (up
        to :data:`_CHAINED_TRIES`); a retried sweep must be of a kind the request says. The retry's
        probabilities at a barred place are those of the rest of the model's choices, as the
        grammar's mask makes them for what the home cannot do: the barred choice was ruled out by a
        check, as the masked ones by the grammar. A request that names a place the home lacks is
        not retried: that place is not to be looked for elsewhere.

        A sweep that leaves out the one made-up name the request says (:func:`made_up_name`) is
        begun again with that name where its target begins, and a name shorter than the one the
        request says in other words (:func:`longer_name_said`: "afuera") with that one. A retry
        (or a name so begun: "suaviza la Luz Loupul" as the Loupul pressed) that mends the doubt
        but shows another is mended in turn (:meth:`_repair`, up to
        :data:`_REPAIRS` doubts one after the other). A refusal of a request that says a whole name
        of the home, the plain word of a kind it has, or in its language the word for the kind of
        a device named in another (no such device, out of domain) is decoded again with its "no"
        barred, and the retry is kept when no clause of it is doubtful, or when its first doubt is
        mended (a name the model cannot copy, written as another device). A question about how
        warm it is outside that the model reads otherwise is begun again as one about the home's
        outdoor temperature sensor (:func:`outdoor_reading`)."""
        generation = self._generate(prompt, catalog)
        frame = _parsed(generation.text)
        if frame is None:
            return Decoded(generation, frame)
        asked = _Asked(prompt, catalog, text, area, None, lang)
        if frame.reason in _REFUSALS_RETRIED and (
            says_a_whole_name(catalog, text)
            or says_a_kind_it_has(catalog, text)
            or says_a_device_word(catalog, text, lang)
        ):
            veto = {0: {generation.token_ids[0]}}
            unrefused = self._generate(prompt, catalog, veto)
            acts = _parsed(unrefused.text)
            if acts is not None and acts.clauses:
                still = doubtful_clause(acts, catalog, text, area)
                if still is None:
                    return Decoded(unrefused, acts, veto)
                # the name it then writes, say, is not one the request says: mend that once
                mended = self._repair(asked, unrefused, still, veto, _REPAIRS - 1)
                if mended is not None:
                    return mended
        if asks_about_lights(frame, catalog, text):
            # "what's on in the bathroom" asks about its lights: the model's question, begun so
            lights = self._generate(prompt, catalog, begun=self.model.encode(_LIGHTS_ASKED))
            about = _parsed(lights.text)
            if about is not None and _answers(about, catalog, text, area, lang):
                return Decoded(lights, about)
        if (outdoor := outdoor_reading(frame, catalog, text)) is not None:
            # "wie warm ist es draußen" asks the outdoor temperature sensor: begun so
            begun = self.model.encode(f"query name [ {clean(outdoor)} ]")
            reading = self._generate(prompt, catalog, begun=begun)
            read = _parsed(reading.text)
            if read is not None and len(read.clauses) == 1:
                return Decoded(reading, read)
        doubt = doubtful_clause(frame, catalog, text, area)
        if doubt is None or names_something_missing(frame, catalog, text, lang):
            return Decoded(generation, frame, doubtful=doubt is not None)
        repaired = self._repair(asked, generation, doubt, {}, 0)
        if repaired is None and doubt[1] == "repeat":
            # retried in vain: the made-up name the model could not copy, a guess kept doubtful
            frame = made_up_repeated(frame, catalog, text) or frame
        return repaired or Decoded(generation, frame, doubtful=True)

    def _repair(
        self,
        asked: _Asked,
        generation: Generation,
        doubt: Doubt,
        barred: Mapping[int, set[int]],
        depth: int,
        of_a_kind_said: bool = False,
    ) -> Decoded | None:
        """The first retry of ``generation`` that leaves no clause doubtful (see :meth:`_decode`),
        with every token barred on the way to it; None when there is none. A retry that leaves
        another doubt than ``doubt`` is repaired in turn, up to :data:`_REPAIRS` deep; once a
        class was doubtful, every retry down the line must sweep a kind the request says
        (``of_a_kind_said``: "desbloquéalo todo" is not the awning opened)."""
        prompt, catalog, text, area, _, lang = asked
        index, part = doubt
        frame = _parsed(generation.text)
        said = (
            ()
            if frame is None or part != "action"
            else actions_said(frame.clauses[index], catalog, text)
        )
        # a name to begin the target with: the one made-up name the request says, which a
        # sweep leaves out, or the longer name it says in other words ("afuera")
        name = None
        if frame is not None and part == "sweep":
            name = made_up_name(frame, catalog, text)
        elif frame is not None and part == "unsaid":
            name = longer_name_said(frame, index, catalog, text)
        anywhere = says_all(text) or area is not None
        choices = _choices(self.model, generation, doubt, anywhere, text)
        # a name the request does not say, retried in vain: then its "name" ("la lumière de la
        # chambre" is its lights); a sweep so found is a guess at what it meant, kept as doubtful
        how = (
            _how_chosen(self.model, generation, _clause_start(generation.text, index))
            if part == "unsaid"
            else []
        )
        kinds = of_a_kind_said or part == "class"  # a kind said, down the line
        if part == "time" and (timed := self._time_written(asked, generation, index)):
            return timed._replace(barred=barred)
        for k, token in choices + how:
            if name is not None and (begun := self._target_begun(generation, k, name)):
                named = self._generate(prompt, catalog, begun=begun)
                kept = _parsed(named.text)
                if kept is not None:
                    whole = replace(named, logprobs=generation.logprobs[:k] + named.logprobs[k:])
                    still = doubtful_clause(kept, catalog, text, area)
                    if still is None:
                        return Decoded(whole, kept, barred)
                    if still != doubt and depth + 1 < _REPAIRS:
                        # the name written, and its action, say, is not the request's: mend that
                        nested = self._repair(asked, whole, still, barred, depth + 1, kinds)
                        if nested is not None:
                            return nested
            banned = set(self.model.eos_token_ids) if token in self.model.eos_token_ids else {token}
            at_verb = self.model.tokenizer.decode([token]).strip() in ("act", "query")
            if at_verb:  # a command asked, a check acted on: no refusal either
                banned |= self._starts(["no"])
            if part == "way" and not any(c.isdigit() for c in with_digits(text, lang)):
                banned |= self._numbers  # the way the words say, not a level they do not say
            if said and not at_verb:  # the action the words say ("quita"), or one it can do
                banned |= self._vocabulary - self._starts(" " + a for a in said)
            if part == "place" and token in self._places and not self._names_a_place(asked):
                banned |= self._places  # said from an area and naming none: "here", or nowhere
            for _ in range(_CHAINED_TRIES if part in _CHAINED else 1):
                retry = self._retry(prompt, catalog, text, generation, {k: banned}, part)
                again = None if retry is None else _parsed(retry.text)
                if retry is None or again is None:
                    break
                still = doubtful_clause(again, catalog, text, area)
                whole = _resumed(retry, generation, k)
                if still is None and (not kinds or kind_of_said(again, index, catalog, text)):
                    guessed = (k, token) in how
                    return Decoded(whole, again, {**barred, k: banned}, doubtful=guessed)
                if still is not None and still != doubt and depth + 1 < _REPAIRS:
                    # the retry mends this doubt and shows another: mend that one too
                    nested = self._repair(
                        asked, whole, still, {**barred, k: banned}, depth + 1, kinds
                    )
                    if nested is not None:
                        return nested._replace(doubtful=nested.doubtful or (k, token) in how)
                if still != doubt or k >= len(retry.token_ids):
                    break
                # another action the device lacks, another class that is not there: bar it too
                banned.add(retry.token_ids[k])
        return None

    def _time_written(self, asked: _Asked, generation: Generation, index: int) -> Decoded | None:
        """``generation`` begun again with clause ``index``'s time of day (its ``@at``, or its
        schedule's minute and hour) written as the one the request says (:func:`time_said`:
        "at 7 pm" written as 07:00), when that leaves no clause doubtful; else None."""
        prompt, catalog, text, area, *_ = asked
        said = time_said(text)
        start = _clause_start(generation.text, index)
        end = generation.text.find(" ; ", start)
        clause = generation.text[start : None if end < 0 else end]
        key = next((k for k in (" @at", " @cron") if k in clause), None)
        if said is None or key is None:
            return None
        upto = start + clause.index(key) + len(key)
        begins = _begins(self.model, generation)
        if upto not in begins:
            return None  # no token begins right after the "@at": the time cannot be begun there
        k = begins.index(upto)
        hour, minute = said
        time = f" {hour:02d}:{minute:02d}" if key == " @at" else f" {minute} {hour}"
        begun = [*generation.token_ids[:k], *self.model.encode(time)]
        timed = self._generate(prompt, catalog, begun=begun)
        frame = _parsed(timed.text)
        if frame is None or doubtful_clause(frame, catalog, text, area) is not None:
            return None
        return Decoded(replace(timed, logprobs=generation.logprobs[:k] + timed.logprobs[k:]), frame)

    def _names_a_place(self, asked: _Asked) -> bool:
        """Whether the request names an area or a floor whole (:func:`place_named`)."""
        _, catalog, text, *_ = asked
        return bool(self._said_in(catalog, text, "@") or self._said_in(catalog, text, "^"))

    def _target_begun(self, generation: Generation, k: int, name: str) -> list[int] | None:
        """``generation``'s tokens before ``k`` and then ``name`` written as a target's name,
        when ``k`` is where the target ("name" or "all") or the name inside its brackets
        begins; else None."""
        before = self.model.tokenizer.decode(list(generation.token_ids[:k]))
        if before.endswith("["):
            return [*generation.token_ids[:k], *self.model.encode(f" {name} ]")]
        if before.endswith(("act", "query")):
            return [*generation.token_ids[:k], *self.model.encode(f" name [ {name} ]")]
        return None

    def _not_starting(self, names: Iterable[str]) -> set[int]:
        """Every token that cannot begin one of ``names`` written in a frame's brackets, and the
        bare space, which begins every name: after it the model may write any."""
        return set(self._vocabulary - self._starts(" " + n for n in names)) | self._spaces

    def _said_in(
        self, catalog: Catalog, text: str, bracket: str, used: Collection[str] = ()
    ) -> list[str]:
        """The names (``bracket`` "name") the request says, of those a frame may write for
        ``catalog`` (every word of, when it says one whole that is not a plain name of a kind:
        "lámpara" is in many names), but for those of devices named by the earlier clauses
        (``used``: a name written again is not the next device), or the areas ("@") or floors
        ("^") it names whole (:func:`place_named`)."""
        if bracket == "name":
            taken = {e.entity_id for n in used for e in meant_by(catalog, n)}
            said = [
                n
                for n in frame_names(catalog)
                if name_said(n, catalog, text)
                and not {e.entity_id for e in meant_by(catalog, n)} & taken
            ]
            return _names_said_whole(said, text) or said
        table = "area" if bracket == "@" else "floor"
        places = {
            clean(a.name if table == "area" else a.floor or "") for a in catalog.areas.values()
        }
        return [p for p in places if p and place_named(catalog, p, table, text)]

    def _starts(self, texts: Iterable[str]) -> set[int]:
        """Every token that can begin one of ``texts`` (a prefix of it)."""
        return {
            i for t in texts for end in range(1, len(t) + 1) for i in self._pieces.get(t[:end], ())
        }

    def _retry(
        self,
        prompt: PromptIds,
        catalog: Catalog,
        text: str,
        first: Generation,
        veto: Mapping[int, Collection[int]],
        part: str,
    ) -> Generation | None:
        """``first`` decoded again from the barred position on, its tokens before it fed as
        they were. A target is retried up to the end of the first name or place it then
        writes; when the request does not say that one either, once more: the one name the
        request says whole, or the one place, written as it is (a made-up name the model cannot
        copy, "bascule staisil"; "flur 2" rather than "flur", which is in it), when it says
        exactly one; else a name (a place) with its first token barred
        and every name the request does not say (every place it does not name whole), when it
        says one, else a place with the last token the model chose in it barred; and no further
        (None) if that one is not said either."""
        (k,) = veto
        stop = (_NAME_END,) if part in _TARGETS else ()
        retry = self._generate(prompt, catalog, veto, first.token_ids[:k], stop)
        if retry.stop_reason != "stop":
            return retry
        used = _named_before(retry.text)
        if not last_bracket_said(retry.text, catalog, text) or _named_last(retry.text) in used:
            inside = _chosen_in(self.model, retry, retry.text.rindex("["), len(retry.text) + 1)
            bracket = retry.text.rpartition("[")[0].split()[-1]  # "name", "@" or "^"
            said = self._said_in(catalog, text, bracket, used) if inside else []
            # the one name said whole, or the one place (all of them are named whole)
            whole = _longest(_names_said_whole(said, text) if bracket == "name" else said)
            j = inside[0][0] if inside else k
            begun = self._target_begun(retry, j, whole[0]) if len(whole) == 1 else None
            if begun is not None:
                # the one name (place) the request says whole, where it begins: written so
                rest = self._generate(prompt, catalog, begun=begun)
                return replace(rest, logprobs=retry.logprobs[:j] + rest.logprobs[j:])
            if said:
                # once more among the names, or the places, the request says
                j, token = inside[0]
                bar = {token, *self._not_starting(said), *veto.get(j, ())}
            elif not inside or inside[-1][0] <= k:
                return None
            else:
                j, token = inside[-1]
                bar = {token}
            again = self._generate(prompt, catalog, {j: bar}, retry.token_ids[:j], stop)
            if again.stop_reason == "stop" and not last_bracket_said(again.text, catalog, text):
                return None
            retry = replace(again, logprobs=retry.logprobs[:j] + again.logprobs[j:])
            if again.stop_reason != "stop":
                return retry
        rest = self._generate(prompt, catalog, begun=retry.token_ids)
        done = len(retry.token_ids)
        return replace(rest, logprobs=retry.logprobs[:done] + rest.logprobs[done:])

    def _generate(
        self,
        prompt: PromptIds,
        catalog: Catalog,
        veto: Mapping[int, Collection[int]] | None = None,
        begun: Sequence[int] = (),
        stop: Sequence[str] = (),
    ) -> Generation:
        return self.model.generate(
            prompt.ids,
            max_new_tokens=self.max_new_tokens,
            grammar=self.grammar(catalog),
            prefix_cache_key=f"{_PREFIX_KEY}:{catalog.version}",
            veto=veto,
            begun=begun,
            stop=stop,
            pin=prompt.pin,
        )


def _shared_actions(plans: list[Plan], parts: Sequence[str], catalog: Catalog) -> list[Plan]:
    """``plans`` of a request's ``parts``, where a part that says no action ("turn off the tv
    backlight and the floor lamp"), or only a verb that carries one ("put the hallway blind and
    the living room blind up"), does what the nearest part before it (else after it) that says
    which does, when that is one plain service ("turn_off") its devices have."""
    said = [says_which_action(part) for part in parts]
    out = []
    for i, plan in enumerate(plans):
        order = [*range(i - 1, -1, -1), *range(i + 1, len(plans))]
        source = next((plans[j] for j in order if said[j]), None)
        services = {c.tool.split(".", 1)[1] for c in source.calls} if source else set()
        plain = source is not None and all(set(c.args) == {"entity_id"} for c in source.calls)
        if said[i] or len(services) != 1 or not plain:
            out.append(plan)
            continue
        (service,) = services
        calls = []
        for call in plan.calls:
            entity = catalog.entities.get(call.args["entity_id"])
            if (
                entity is not None
                and service in entity.services
                and set(call.args) == {"entity_id"}
            ):
                call = replace(call, tool=f"{entity.domain}.{service}")
            calls.append(call)
        out.append(replace(plan, calls=tuple(calls)))
    return out


_PARTS = re.compile(
    r",?\s+(?:and then|and|then|et puis|puis|et|y luego|luego|y|und dann|dann|und)\s+"
    r"(?!(?:a half|half|demie?|media|medio|halb)\b)|,\s+",
    re.IGNORECASE,
)


def request_parts(text: str) -> list[str]:
    """The parts of a request said in one breath ("turn off the tv, then lock the door"): the
    text split at commas and at the words for "and" and "then" in the four languages, except
    before a half ("18 y medio")."""
    return [part for part in _PARTS.split(text) if part.strip()]


def _parsed(text: str) -> Frame | None:
    try:
        return parse_frame(text)
    except FrameError:
        return None


def _choices(
    model: LocalModel,
    generation: Generation,
    doubt: Doubt,
    whole: bool = False,
    request: str | None = None,
) -> list[tuple[int, int]]:
    """Where the model chose what is doubtful in a clause, as (token index, token): for its target,
    the first and the last token chosen between the target's first brackets; for a place it puts
    the target in, the first chosen between the place's brackets, then (``whole``: the request says
    "all"; or the target is a name, which needs no place) the place's ``@``/``^``, then the
    first chosen of the target ("all" against "name"); for
    its action, the first token chosen after the target, then its "act" when the ``request``
    only asks to check something ("cehck Workshop Radiator" toggled, a refusal barred there
    too); for its way, the "up" or "down"; for its
    value, the number's first digit, or, given the ``request``, the first digit where the number
    stops being the beginning of one the request says (:func:`values_said`: "24.5" for 24, the
    point), or where it ended, when it ended too soon ("15" for 15.5), and, when it says none,
    then the action ("brightness 21" for "à 21h": on at 21:00); for its time, every digit chosen
    in the time, delay or schedule, then its "@" (a time where the request says none: "sur 40
    pourcent" as 40 o'clock), or, when the clause has none, where it ended ("à 13h" left out:
    the end, or its " ;"); for its days, where it chose a time of day or a schedule, then the
    schedule's days (the days first when the request says some, :func:`days_said`); for the
    class of a sweep, the first chosen after the colon of ``cover:blind``, then the first chosen
    of its kind ("cover"), then the first chosen of the target; for a kind with no class ("all
    lock"), the first chosen of the target, then of the kind; for a sweep, the first chosen of
    the target (tokens the grammar forced were no choice); for its verb, its "act" or "query".
    Empty when there is no such token ("one lock" has no brackets)."""
    index, part = doubt
    text = generation.text
    start = _clause_start(text, index)
    end = text.find(" ; ", start)
    end = len(text) if end < 0 else end
    if part == "verb":  # "act" or "query", where the clause begins
        return _chosen_in(model, generation, start - 1, start + 1)[:1]
    if part == "action":  # and its "act", when the request only asks to check something
        action = _chosen_in(model, generation, _target_end(text, start, end), end)[:1]
        checks = request is not None and only_checks(request) and text.startswith("act", start)
        return action + (_chosen_in(model, generation, start - 1, start + 1)[:1] if checks else [])
    if part == "way":  # "up" or "down", after the target and its action
        at = max(text.rfind(" up", start, end), text.rfind(" down", start, end))
        return _chosen_in(model, generation, at - 1, at + 1)[:1]
    if part == "time":  # every digit chosen in the time, or in the schedule
        for key in (" @at ", " @cron ", " @in "):
            at = text.rfind(key, start, end)
            if at >= 0:  # its digits, then its " @": a time where none is said
                digits = _chosen_in(model, generation, at + len(key) - 1, end)
                return digits + _chosen_in(model, generation, at - 1, at + 1)[:1]
        return _ended(model, generation, end)  # a clause with no time: where it ended
    if part == "days":  # "at" or "cron", then the schedule's days
        at = text.rfind(" @", start, end)
        kind = _chosen_in(model, generation, at, at + 3)[:1]
        days = _chosen_in(model, generation, text.rfind(" ", start, end), end)
        return days + kind if days_said(request or "") - {"*"} else kind + days
    if part == "value":  # a digit of the number after the target and its action, the action
        target_end = _target_end(text, start, end)
        value = _VALUE.search(text, target_end + 1, end)
        if value is None:
            return []
        digits = _chosen_in(model, generation, value.end() - 1, value.end() + 1)[:1]
        values = None if request is None else values_said(request)
        if values:
            said = [f"{v:g}" for v in values]
            number_end = text.find(" ", value.end(), end)
            number_end = end if number_end < 0 else number_end
            for k, token in _chosen_in(model, generation, value.end() - 1, number_end):
                written = model.tokenizer.decode(list(generation.token_ids[: k + 1]))
                if not any(s.startswith(written[value.end() :].strip()) for s in said):
                    return [(k, token)]
            number = text[value.end() : number_end]
            if number not in said and any(s.startswith(number) for s in said):
                # it ended too soon ("15" for 15.5): where it ended
                return _ended(model, generation, number_end)
        if values is not None and not values:
            return digits + _chosen_in(model, generation, target_end, end)[:1]
        return digits
    if part in ("repeat", "unsaid"):
        opened = text.find("[", start, end)
        if opened < 0:
            return []
        chosen = _chosen_in(model, generation, opened, text.index("]", opened))
        return chosen[:1] + chosen[-1:] if len(chosen) > 1 else chosen
    how_at = text.index(" ", start)  # "all", "one", "name" or "thermostat"
    how = _how_chosen(model, generation, start)
    if part == "sweep":
        return how
    if part == "class":
        kind_at = text.index(" ", how_at + 1)  # the space before the kind: "cover:blind", "lock"
        kind_end = text.find(" ", kind_at + 1, end)
        kind_end = end if kind_end < 0 else kind_end
        colon = text.find(":", kind_at, kind_end)
        kind = _chosen_in(model, generation, kind_at - 1, kind_end if colon < 0 else colon)[:1]
        if colon < 0:  # "all" or "one" (a name, perhaps, instead of a sweep), then the kind
            return how + kind
        # the class, then the kind ("sensor" for "binary_sensor"), then "all" or "one"
        return _chosen_in(model, generation, colon, kind_end)[:1] + kind + how
    # a place; a request that says "all" may mean no place at all: "turn off all the lights"
    marker = max(text.find(" @ [", start, end), text.find(" ^ [", start, end))
    place = marker + 3
    # a name needs no place: "el toldo" put in the office is the awning, wherever it is
    named = text.startswith(("act name", "query name"), start)
    dropped = _chosen_in(model, generation, marker - 1, marker + 2)[:1] if whole or named else []
    return _chosen_in(model, generation, place, text.index("]", place))[:1] + dropped + how


def _clause_start(text: str, index: int) -> int:
    """Where clause ``index`` of a frame's text begins."""
    start = 0
    for _ in range(index):
        start = text.index(" ; ", start) + 3
    return start


def _how_chosen(model: LocalModel, generation: Generation, start: int) -> list[tuple[int, int]]:
    """The target's "all", "one", "name" or "thermostat" of the clause that begins at character
    ``start`` of the generation's text, when the model chose it."""
    text = generation.text
    how_at = text.index(" ", start)
    return _chosen_in(model, generation, how_at - 1, text.index(" ", how_at + 1))[:1]


def _ended(model: LocalModel, generation: Generation, at: int) -> list[tuple[int, int]]:
    """The choice that ended what comes before character ``at`` of the generation's text: the
    token chosen there, or the end of the frame when ``at`` is its end."""
    if at < len(generation.text):
        return _chosen_in(model, generation, at - 1, at + 1)[:1]
    return [(len(generation.token_ids), model.eos_token_ids[0])]


def _target_end(text: str, start: int, end: int) -> int:
    """The last character of the target of the clause at ``text[start:end]``: its last
    bracket, else the end of ``thermostat``, of the kind of ``all``/``one``, or of ``here``."""
    bracket = text.rfind("]", start, end)
    if bracket >= 0:
        return bracket
    words = text[start:end].split(" ")  # verb, how, then the kind and "here" of a sweep
    count = 2 if words[1] == "thermostat" else 3 + (words[3:4] == ["here"])
    return start + len(" ".join(words[:count])) - 1


def _chosen_in(
    model: LocalModel, generation: Generation, lo: int, hi: int
) -> list[tuple[int, int]]:
    """The tokens the model chose (not the grammar) that begin strictly between characters
    ``lo`` and ``hi`` of the generation's text, as (index, token)."""
    ids, logprobs = generation.token_ids, generation.logprobs
    return [
        (k, ids[k])
        for k, begins in enumerate(_begins(model, generation))
        if lo < begins < hi and logprobs[k] != 0.0
    ]


def _begins(model: LocalModel, generation: Generation) -> list[int]:
    """The character of the generation's text each of its tokens begins at."""
    ids = generation.token_ids
    return [
        len(model.tokenizer.decode(list(ids[:k]), skip_special_tokens=True))
        for k in range(len(ids))
    ]


_LIGHTS_ASKED = "query all light"
"""How a question about what is on somewhere begins: a question about its lights."""


def _answers(frame: Frame, catalog: Catalog, text: str, area: str | None, lang: str) -> bool:
    """Whether ``frame`` has no doubtful clause and reads at least one device."""
    if doubtful_clause(frame, catalog, text, area) is not None:
        return False
    try:
        plan = resolve(frame, catalog, area, None, lang)
    except FrameError:
        return False
    return plan.kind == "query" and bool(plan.calls)


_NAMED = re.compile(r"name \[ (.*?) \]")


def _named_before(text: str) -> frozenset[str]:
    """The names the clauses of a frame's ``text`` write before its last bracket."""
    return frozenset(_NAMED.findall(text[: text.rindex("[")])) if "[" in text else frozenset()


def _named_last(text: str) -> str | None:
    """The name in the last bracket of a frame's ``text``, if that bracket is a name's."""
    before, _, inside = text.rpartition("[")
    return inside.strip(" ]") if before.endswith("name ") else None


def _names_said_whole(names: Iterable[str], text: str) -> list[str]:
    """Those of ``names`` the request says every word of, but for plain names of a kind."""
    words = set(fold(text).split())
    return [n for n in names if (mine := set(fold(n).split())) <= words and not mine <= PLAIN_WORDS]


def _longest(names: Sequence[str]) -> list[str]:
    """``names`` but for those whose words are all words of a longer one ("flur" of "flur 2")."""
    words = [set(fold(n).split()) for n in names]
    return [n for n, mine in zip(names, words, strict=True) if not any(mine < w for w in words)]


def _resumed(retry: Generation, first: Generation, k: int) -> Generation:
    """``retry``, begun with ``first``'s tokens before index ``k``, with their
    log-probabilities as ``first`` had them (begun tokens come back as 0)."""
    return replace(retry, logprobs=first.logprobs[:k] + retry.logprobs[k:])


def repeats_a_call(plan: Plan) -> bool:
    """Whether ``plan`` makes the same call twice (the same tool, arguments and time). No
    request asks that: the model wrote one device for two ("toggle the bedside lamp and the
    Citysun" as the lamp twice), under two names that mean it, so one part of the request is
    left out."""
    seen = [_call_key(c) for c in plan.calls]
    return any(call in seen[:i] for i, call in enumerate(seen))


def _call_key(call: PlannedCall) -> tuple[object, ...]:
    """What makes two calls the same call: the tool, its arguments and its time."""
    return (call.tool, sorted(call.args.items()), call.when)


def _once_each(plan: Plan) -> Plan:
    """``plan`` with each call made once (the first time it is written), in its order."""
    seen: list[tuple[object, ...]] = []
    calls = []
    for call in plan.calls:
        key = _call_key(call)
        if key not in seen:
            seen.append(key)
            calls.append(call)
    return replace(plan, calls=tuple(calls))


def _not_understood(catalog: Catalog, language: str) -> Plan:
    plan = Plan("unsupported", reason="not_understood", confidence=0.0)
    return finish_plan(plan, catalog, language)


def speaks_plan_language(model: LocalModel) -> bool:
    """Whether ``model`` was trained to write frames (the embedded model is)."""
    return model.tokenizer.token_to_id(PLAN_MARK) is not None


def confidence(logprobs: Iterable[float]) -> float:
    """The probability of the least certain token the model chose (forced tokens count as 1)."""
    lowest = min(logprobs, default=0.0)
    return min(1.0, max(0.0, math.exp(lowest)))


def finish_plan(plan: Plan, catalog: Catalog, language: str) -> Plan:
    plan = replace(plan, language=language)
    return replace(plan, say=say_for(plan, catalog, language))
