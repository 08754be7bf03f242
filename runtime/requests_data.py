"""Training and test data for the planner: requests over random homes, with the expected plan.

``generate(split, n, seed)`` yields :class:`Example` s. Each has a random home (a
:class:`~edgeward.runtime.catalog.Catalog` from :mod:`edgeward.runtime.homes`), the speaker's area,
the request text, its language, a request-kind label, the template group it came from, and the
plan the rules of :mod:`edgeward.runtime.plan_rules` give. Phrasing comes from two sources: this
module's own templates, and the Apache-2.0 ``home-assistant-intents`` sentence templates expanded
with ``hassil`` (:mod:`edgeward.runtime.ha_sentences`).

Splits: the test split uses homes of its own (a separate seed space) and template groups that the
train split never uses (:func:`is_test_group`), so a test score measures language and homes the
model has not seen. Examples serialise to one JSON object each (:meth:`Example.to_json`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from edgeward.runtime import frames as fr
from edgeward.runtime import phrasing as ph
from edgeward.runtime import plan_rules as rules
from edgeward.runtime.catalog import STATE_TOOL, CallError, Catalog, Entity
from edgeward.runtime.homes import (
    AREA_WORDS,
    COLOR_WORDS,
    DEVICE_KINDS,
    DOMAIN_WORDS,
    FLOOR_WORDS,
    LANGUAGES,
    HomeError,
    area_key,
    as_spoken,
    device_word_forms,
    device_words_in,
    floor_key,
    fold,
    home_from_json,
    home_to_json,
    random_home,
    spoken_name,
    with_spoken_names,
)
from edgeward.runtime.plan import Plan, PlannedCall, When

Split = Literal["train", "test"]

KINDS: tuple[str, ...] = (
    "single", "multi", "area", "floor", "set_value", "relative", "delayed", "scheduled", "query",
    "speaker_area", "ambiguous", "security", "no_such_device", "out_of_domain",
)  # fmt: skip
"""Request-kind labels, for per-kind evaluation."""

MUST_NOT_ACT = frozenset({"ambiguous", "security", "no_such_device", "out_of_domain"})
"""Kinds whose plan never actuates."""


class DataError(ValueError):
    """A serialised example or plan that cannot be read; the message names the field."""


@dataclass(frozen=True)
class Example:
    """One request over one home, and the plan the planner should give.

    ``state`` holds the current values a relative request needs (``{"climate.x":
    {"temperature": 20.0}}``); it is empty for every other request.
    """

    home: Catalog
    area: str | None
    text: str
    language: str
    kind: str
    group: str
    plan: Plan
    state: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    frame: fr.Frame | None = None

    def to_json(self) -> dict[str, Any]:
        extra = {"frame": fr.frame_text(self.frame)} if self.frame is not None else {}
        return {
            "text": self.text,
            "language": self.language,
            "area": self.area,
            "kind": self.kind,
            "group": self.group,
            "plan": plan_to_json(self.plan),
            "state": {k: dict(v) for k, v in self.state.items()},
            "home": home_to_json(self.home),
            **extra,
        }

    @classmethod
    def from_json(cls, doc: Any, source: str = "example") -> Example:
        if not isinstance(doc, Mapping):
            raise DataError(f"{source}: an example must be a JSON object")
        for key, kinds in (("text", str), ("language", str), ("kind", str), ("group", str)):
            if not isinstance(doc.get(key), kinds):
                raise DataError(f"{source}: {key} must be a string, got {doc.get(key)!r}")
        area = doc.get("area")
        if area is not None and not isinstance(area, str):
            raise DataError(f"{source}: area must be a string or null, got {area!r}")
        state = doc.get("state", {})
        if not isinstance(state, Mapping):
            raise DataError(f"{source}: state must be an object")
        frame_text = doc.get("frame")
        if frame_text is not None and not isinstance(frame_text, str):
            raise DataError(f"{source}: frame must be a string, got {frame_text!r}")
        try:
            frame = fr.parse_frame(frame_text) if frame_text is not None else None
        except fr.FrameError as exc:
            raise DataError(f"{source}: frame: {exc}") from exc
        return cls(
            home=home_from_json(doc.get("home"), f"{source}: home"),
            area=area,
            text=doc["text"],
            language=doc["language"],
            kind=doc["kind"],
            group=doc["group"],
            plan=plan_from_json(doc.get("plan"), f"{source}: plan"),
            state={str(k): dict(v) for k, v in state.items()},
            frame=frame,
        )


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan without its confidence (data plans are certain)."""
    doc = plan.to_json()
    doc.pop("confidence")
    return doc


def plan_from_json(doc: Any, source: str = "plan") -> Plan:
    """Read a plan written by :meth:`Plan.to_json` (``confidence`` optional)."""
    if not isinstance(doc, Mapping):
        raise DataError(f"{source} must be a JSON object")
    kind = doc.get("kind")
    if kind not in ("act", "query", "ambiguous", "unsupported"):
        raise DataError(
            f"{source}: kind must be act, query, ambiguous or unsupported, got {kind!r}"
        )
    calls = []
    for i, raw in enumerate(doc.get("calls", [])):
        where = f"{source}: calls[{i}]"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("tool"), str):
            raise DataError(f"{where} needs a string 'tool'")
        args = raw.get("args", {})
        if not isinstance(args, Mapping):
            raise DataError(f"{where}: args must be an object")
        when = None
        if raw.get("when") is not None:
            w = raw["when"]
            if not isinstance(w, Mapping) or set(w) - {"delay_s", "at", "cron"} or not w:
                raise DataError(f"{where}: when must hold one of delay_s, at, cron; got {w!r}")
            when = When(delay_s=w.get("delay_s"), at=w.get("at"), cron=w.get("cron"))
        calls.append(PlannedCall(raw["tool"], dict(args), when))
    candidates = doc.get("candidates", [])
    if not isinstance(candidates, list) or not all(isinstance(c, str) for c in candidates):
        raise DataError(f"{source}: candidates must be a list of entity ids")
    reason, say = doc.get("reason"), doc.get("say")
    if kind == "unsupported" and reason not in ("no_such_device", "out_of_domain"):
        raise DataError(f"{source}: reason must be no_such_device or out_of_domain, got {reason!r}")
    language = doc.get("language", "en")
    return Plan(
        kind,
        tuple(calls),
        tuple(candidates),
        reason,
        say,
        float(doc.get("confidence", 1.0)),
        str(language),
    )


def check_plan(plan: Plan, home: Catalog) -> None:
    """Raise :class:`~edgeward.runtime.catalog.CallError` unless every call and candidate fits."""
    for call in plan.calls:
        home.validate(call.tool, call.args)
    for candidate in plan.candidates:
        if candidate not in home.entities:
            raise CallError(f"candidate {candidate!r} is not an entity of the home")
    if plan.kind in ("act", "query") and not plan.calls:
        raise CallError(f"a {plan.kind} plan needs calls")
    if plan.kind == "query" and any(c.tool != STATE_TOOL for c in plan.calls):
        raise CallError("a query plan only reads state")
    if plan.kind in ("ambiguous", "unsupported") and plan.calls:
        raise CallError(f"an {plan.kind} plan must not call anything")


def dump_jsonl(examples: Iterator[Example] | Sequence[Example], out: IO[str]) -> int:
    """Write examples as JSON lines; return how many were written."""
    count = 0
    for example in examples:
        out.write(json.dumps(example.to_json(), ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def load_jsonl(lines: IO[str], source: str = "examples") -> Iterator[Example]:
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{source}:{number}: not JSON: {exc.msg}") from exc
            yield Example.from_json(doc, f"{source}:{number}")


# --- splits -------------------------------------------------------------------------------------

TEST_SHARE = 5
"""One template group in TEST_SHARE is kept for the test split."""


def is_test_group(group: str) -> bool:
    """Whether a template group belongs to the test split (a stable hash of its id)."""
    return _stable(group) % TEST_SHARE == 0


def is_test_template(family: str, index: int) -> bool:
    """Whether phrasing ``index`` of an own-template family is kept for the test split: one in
    :data:`TEST_SHARE`, at an offset that depends on the family, so every family with at least
    that many phrasings has some in each split."""
    return (index + _stable(family)) % TEST_SHARE == 0


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


# --- the generator ------------------------------------------------------------------------------


@dataclass
class Context:
    """What one example is being made from."""

    home: Catalog
    language: str  # spoken
    home_language: str  # the names in the home
    rng: random.Random
    split: Split

    def pick(self, options: Sequence[str], prefix: str) -> tuple[str, str]:
        """A phrasing from ``options`` allowed in this split, and its group id."""
        allowed = [
            (i, o)
            for i, o in enumerate(options)
            if is_test_template(prefix, i) == (self.split == "test")
        ]
        if not allowed:
            raise NoPhrasing(prefix)
        i, option = self.rng.choice(allowed)
        return option, f"{prefix}:{i}"


class NoPhrasing(LookupError):
    """No template of this group family is in the split: try another request."""


@dataclass(frozen=True)
class Draft:
    """A request before noise: its text, plan, kind and group, and the speaker area."""

    text: str
    plan: Plan
    frame: fr.Frame
    kind: str
    group: str
    area: str | None = None
    state: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# Verb phrasings: "{x}" is the object with its article, German verbs put it inside.
VERBS: dict[str, dict[str, tuple[str, ...]]] = {
    "on": {
        "en": ("turn on {x}", "switch on {x}", "turn {x} on", "put {x} on", "{x} on", "can you turn on {x}", "i need {x} on", "start {x}", "power on {x}", "could you switch {x} on"),  # noqa: E501
        "fr": ("allume {x}", "mets {x} en marche", "active {x}", "démarre {x}", "tu peux allumer {x}", "allumer {x}", "lance {x}", "j'aimerais que tu allumes {x}", "rallume {x}", "mets en route {x}", "mets {x} en route"),  # noqa: E501
        "es": ("enciende {x}", "prende {x}", "activa {x}", "pon {x}", "puedes encender {x}", "encender {x}", "arranca {x}", "me enciendes {x}", "conecta {x}", "quiero {x} encendido", "deja {x} encendido"),  # noqa: E501
        "de": ("schalte {x} ein", "mach {x} an", "{x} an", "schalt {x} an", "kannst du {x} einschalten", "{x} einschalten", "starte {x}", "aktiviere {x}", "mach mal {x} an", "bitte {x} anmachen", "kannst du {x} anmachen"),  # noqa: E501
    },
    "off": {
        "en": ("turn off {x}", "switch off {x}", "turn {x} off", "kill {x}", "{x} off", "shut off {x}", "can you turn off {x}", "power down {x}", "stop {x}", "cut {x}"),  # noqa: E501
        "fr": ("éteins {x}", "coupe {x}", "arrête {x}", "tu peux éteindre {x}", "éteindre {x}", "désactive {x}", "ferme {x}", "stoppe {x}", "mets {x} sur off", "j'aimerais que tu éteignes {x}", "stoppe {x} stp"),  # noqa: E501
        "es": ("apaga {x}", "desconecta {x}", "para {x}", "puedes apagar {x}", "apagar {x}", "desactiva {x}", "corta {x}", "me apagas {x}", "quita {x}", "deja {x} apagado"),  # noqa: E501
        "de": ("schalte {x} aus", "mach {x} aus", "{x} aus", "schalt {x} ab", "kannst du {x} ausschalten", "{x} ausschalten", "stopp {x}", "deaktiviere {x}", "mach mal {x} aus", "bitte {x} abschalten", "kannst du {x} abschalten"),  # noqa: E501
    },
    "toggle": {
        "en": ("toggle {x}", "flip {x}", "switch {x} over", "toggle {x} please", "flick {x}"),
        "fr": ("bascule {x}", "inverse {x}", "change l'état de {x}", "bascule {x} stp", "commute {x}"),
        "es": ("alterna {x}", "cambia {x}", "conmuta {x}", "invierte {x}", "alterna el estado de {x}"),
        "de": ("schalte {x} um", "toggle {x}", "{x} umschalten", "wechsle {x}", "schalt {x} um", "kannst du {x} umschalten"),  # noqa: E501
    },
    "open": {
        "en": ("open {x}", "raise {x}", "open up {x}", "put {x} up", "can you open {x}", "{x} up", "lift {x}", "pull up {x}"),  # noqa: E501
        "fr": ("ouvre {x}", "monte {x}", "lève {x}", "tu peux ouvrir {x}", "ouvrir {x}", "remonte {x}", "relève {x}", "ouvre-moi {x}"),  # noqa: E501
        "es": ("abre {x}", "sube {x}", "levanta {x}", "puedes abrir {x}", "abrir {x}", "súbeme {x}", "ábreme {x}", "alza {x}", "levanta {x} del todo", "alza {x} del todo"),  # noqa: E501
        "de": ("öffne {x}", "mach {x} auf", "fahr {x} hoch", "{x} hoch", "{x} öffnen", "kannst du {x} öffnen", "zieh {x} hoch", "mach mal {x} auf"),  # noqa: E501
    },
    "close": {
        "en": ("close {x}", "lower {x}", "shut {x}", "put {x} down", "can you close {x}", "{x} down", "pull down {x}", "close up {x}"),  # noqa: E501
        "fr": ("ferme {x}", "baisse {x}", "descends {x}", "tu peux fermer {x}", "fermer {x}", "rabaisse {x}", "ferme-moi {x}", "redescends {x}"),  # noqa: E501
        "es": ("cierra {x}", "baja {x}", "puedes cerrar {x}", "cerrar {x}", "bájame {x}", "ciérrame {x}", "echa {x}", "baja del todo {x}"),  # noqa: E501
        "de": ("schließe {x}", "mach {x} zu", "fahr {x} runter", "{x} runter", "{x} schließen", "kannst du {x} schließen", "lass {x} herunter", "mach mal {x} zu", "schließ {x}"),  # noqa: E501
    },
    "stop": {
        "en": ("stop {x}", "halt {x}", "stop moving {x}", "hold {x} where it is", "freeze {x}", "please halt {x}"),  # noqa: E501
        "fr": ("arrête {x}", "stoppe {x}", "bloque {x}", "arrête de bouger {x}", "stop {x}"),
        "es": ("para {x}", "detén {x}", "frena {x}", "deja quieto {x}", "stop {x}", "deja {x} quieto"),
        "de": ("stopp {x}", "halte {x} an", "{x} anhalten", "stoppe {x}", "{x} stopp", "halte bitte {x} an"),
    },
    "lock": {
        "en": ("lock {x}", "lock up {x}", "can you lock {x}", "make sure {x} is locked", "bolt {x}", "secure {x}", "bolt {x} please"),  # noqa: E501
        "fr": ("verrouille {x}", "ferme {x} à clé", "tu peux verrouiller {x}", "verrouiller {x}", "boucle {x}", "ferme à clé {x}"),  # noqa: E501
        "es": ("cierra con llave {x}", "bloquea {x}", "echa el cerrojo a {x}", "puedes bloquear {x}", "asegura {x}", "cerrar con llave {x}", "bloquea {x} por favor", "bloquea {x} ya"),  # noqa: E501
        "de": ("schließ {x} ab", "verriegle {x}", "{x} abschließen", "sperr {x} ab", "kannst du {x} abschließen", "{x} verriegeln"),  # noqa: E501
    },
    "unlock": {
        "en": ("unlock {x}", "can you unlock {x}", "open the lock on {x}", "let me in through {x}", "unbolt {x}", "unlock {x} for me", "unbolt {x} please"),  # noqa: E501
        "fr": ("déverrouille {x}", "ouvre le verrou de {x}", "tu peux déverrouiller {x}", "déverrouiller {x}", "débloque {x}", "déverrouille-moi {x}"),  # noqa: E501
        "es": ("desbloquea {x}", "quita el cerrojo a {x}", "puedes desbloquear {x}", "abre la cerradura de {x}", "desbloquear {x}", "desbloquéame {x}", "desbloquea la cerradura de {x}"),  # noqa: E501
        "de": ("schließ {x} auf", "entriegle {x}", "{x} aufschließen", "sperr {x} auf", "kannst du {x} aufschließen", "{x} entriegeln"),  # noqa: E501
    },
    "activate": {
        "en": ("activate {x}", "turn on {x}", "start {x}", "run {x}", "set {x}", "{x} mode please", "switch to {x}", "{x}"),  # noqa: E501
        "fr": ("active {x}", "lance {x}", "mets {x}", "démarre {x}", "passe en mode {x}", "ambiance {x}", "scène {x}", "{x}", "lance la scène {x}"),  # noqa: E501
        "es": ("activa {x}", "pon {x}", "lanza {x}", "inicia {x}", "modo {x}", "escena {x}", "cambia a {x}", "{x}", "activa la escena {x}"),  # noqa: E501
        "de": ("aktiviere {x}", "starte {x}", "{x} aktivieren", "szene {x}", "mach {x}", "wechsle zu {x}", "stimmung {x}", "{x}", "aktiviere die Szene {x}", "Szene {x} starten"),  # noqa: E501
    },
    "press": {
        "en": ("press {x}", "push {x}", "hit {x}", "trigger {x}", "press the {x} button"),
        "fr": ("appuie sur {x}", "déclenche {x}", "presse {x}", "lance {x}", "appuie sur le bouton {x}"),
        "es": ("pulsa {x}", "aprieta {x}", "presiona {x}", "dale a {x}", "pulsa el botón {x}", "dale al botón {x}"),  # noqa: E501
        "de": ("drück {x}", "betätige {x}", "{x} drücken", "löse {x} aus", "drück auf {x}", "betätige bitte {x}"),  # noqa: E501
    },
}  # fmt: skip

# Phrasings that set a value: "{x}" object, "{n}" the number (units in the template).
SETTERS: dict[str, dict[str, tuple[str, ...]]] = {
    "brightness": {
        "en": ("set {x} to {n}%", "dim {x} to {n} percent", "{x} to {n}%", "brightness of {x} to {n}", "put {x} at {n} percent", "set {x} brightness to {n}", "turn {x} to {n}%", "can you set {x} at {n} percent"),  # noqa: E501
        "fr": ("mets {x} à {n}%", "règle {x} à {n} pour cent", "{x} à {n}%", "luminosité de {x} à {n}", "baisse {x} à {n} %", "tamise {x} à {n} pour cent", "passe {x} à {n}%", "tu peux mettre {x} à {n} pour cent"),  # noqa: E501
        "es": ("pon {x} al {n}%", "ajusta {x} al {n} por ciento", "{x} al {n}%", "brillo de {x} al {n}", "baja {x} al {n} %", "regula {x} al {n} por ciento", "sube {x} al {n}%", "puedes poner {x} al {n} por ciento", "me puedes poner {x} al {n}%"),  # noqa: E501
        "de": ("stell {x} auf {n}%", "dimm {x} auf {n} Prozent", "{x} auf {n}%", "Helligkeit von {x} auf {n}", "setz {x} auf {n} Prozent", "mach {x} auf {n}%", "regle {x} auf {n} Prozent", "kannst du {x} auf {n} Prozent stellen"),  # noqa: E501
    },
    "temperature": {
        "en": ("set {x} to {n}", "set {x} to {n} degrees", "make {x} {n} degrees", "{x} to {n}°", "turn {x} up to {n}", "put {x} on {n} degrees", "heat to {n} with {x}", "change {x} to {n} degrees"),  # noqa: E501
        "fr": ("mets {x} à {n}", "règle {x} sur {n} degrés", "{x} à {n}°", "monte {x} à {n} degrés", "passe {x} à {n}", "chauffe à {n} degrés avec {x}", "baisse {x} à {n} degrés", "change {x} à {n}", "chauffe {x} à {n} degrés"),  # noqa: E501
        "es": ("pon {x} a {n}", "ajusta {x} a {n} grados", "{x} a {n}°", "sube {x} a {n} grados", "cambia {x} a {n}", "calienta a {n} grados con {x}", "baja {x} a {n} grados", "programa {x} a {n} grados", "calienta {x} a {n} grados"),  # noqa: E501
        "de": ("stell {x} auf {n}", "stell {x} auf {n} Grad", "{x} auf {n}°", "dreh {x} auf {n} Grad", "setz {x} auf {n}", "heiz auf {n} Grad mit {x}", "regle {x} auf {n} Grad", "mach {x} auf {n} Grad"),  # noqa: E501
    },
    "position": {
        "en": ("open {x} to {n}%", "set {x} to {n} percent", "{x} to {n}%", "put {x} at {n} percent", "move {x} to {n}%", "set {x} position to {n}", "change {x} position to {n}%"),  # noqa: E501
        "fr": ("ouvre {x} à {n}%", "mets {x} à {n} pour cent", "{x} à {n}%", "règle {x} à {n}%", "positionne {x} à {n} pour cent", "place {x} à {n}", "place {x} à {n} pour cent"),  # noqa: E501
        "es": ("abre {x} al {n}%", "pon {x} al {n} por ciento", "{x} al {n}%", "ajusta {x} al {n}%", "mueve {x} al {n} por ciento", "deja {x} al {n}"),  # noqa: E501
        "de": ("öffne {x} auf {n}%", "stell {x} auf {n} Prozent", "{x} auf {n}%", "fahr {x} auf {n}%", "setz {x} auf {n} Prozent", "positioniere {x} auf {n}", "positioniere {x} auf {n} Prozent"),  # noqa: E501
    },
    "fan_speed": {
        "en": ("set {x} to {n}%", "set {x} speed to {n} percent", "{x} to {n}%", "run {x} at {n} percent", "put {x} speed at {n}", "change {x} speed to {n}%"),  # noqa: E501
        "fr": ("mets {x} à {n}%", "vitesse de {x} à {n} pour cent", "{x} à {n}%", "règle {x} à {n}%", "fais tourner {x} à {n} pour cent", "passe {x} à {n}", "règle la vitesse de {x} à {n}%", "passe la vitesse de {x} à {n}"),  # noqa: E501
        "es": ("pon {x} al {n}%", "velocidad de {x} al {n} por ciento", "{x} al {n}%", "ajusta {x} al {n}%", "haz girar {x} al {n} por ciento", "cambia {x} al {n}"),  # noqa: E501
        "de": ("stell {x} auf {n}%", "Geschwindigkeit von {x} auf {n} Prozent", "{x} auf {n}%", "lass {x} mit {n} Prozent laufen", "setz {x} auf {n}", "dreh {x} auf {n}%"),  # noqa: E501
    },
    "color": {
        "en": ("make {x} {n}", "turn {x} {n}", "set {x} to {n}", "change {x} to {n}", "{x} {n}", "color {x} {n}"),  # noqa: E501
        "fr": ("mets {x} en {n}", "passe {x} en {n}", "{x} en {n}", "change {x} en {n}", "colore {x} en {n}", "mets de la couleur {n} sur {x}", "colore {x} en {n} stp"),  # noqa: E501
        "es": ("pon {x} en {n}", "cambia {x} a {n}", "{x} en {n}", "pon {x} de color {n}", "colorea {x} de {n}", "quiero {x} en {n}"),  # noqa: E501
        "de": ("mach {x} {n}", "stell {x} auf {n}", "{x} auf {n}", "färbe {x} {n}", "ändere {x} auf {n}", "{x} in {n}"),  # noqa: E501
    },
    "color_temp": {
        "en": ("set {x} to {n} kelvin", "{x} to {n}K", "color temperature of {x} to {n}", "make {x} {n} kelvin", "change {x} to {n} K"),  # noqa: E501
        "fr": ("mets {x} à {n} kelvin", "{x} à {n}K", "température de couleur de {x} à {n}", "règle {x} sur {n} kelvins", "passe {x} à {n} K", "passe {x} à {n} kelvin", "règle {x} à {n} kelvin"),  # noqa: E501
        "es": ("pon {x} a {n} kelvin", "{x} a {n}K", "temperatura de color de {x} a {n}", "ajusta {x} a {n} kelvin", "cambia {x} a {n} K"),  # noqa: E501
        "de": ("stell {x} auf {n} Kelvin", "{x} auf {n}K", "Farbtemperatur von {x} auf {n}", "setz {x} auf {n} Kelvin", "ändere {x} auf {n} K"),  # noqa: E501
    },
}  # fmt: skip

RELATIVE: dict[str, dict[str, tuple[str, ...]]] = {
    "warmer": {
        "en": ("make it a bit warmer {p}", "it's cold {p}", "warmer {p} please", "turn up the heat {p}", "bump the temperature up {p}", "i'm freezing {p}", "it's chilly {p}", "heat it up {p}", "raise the temperature {p}", "a little warmer {p}", "nudge the heating up {p}", "it's getting cold {p}", "it's freezing {p}"),  # noqa: E501
        "fr": ("un peu plus chaud {p}", "il fait froid {p}", "monte un peu le chauffage {p}", "augmente la température {p}", "plus chaud {p} stp", "je gèle {p}", "il fait frisquet {p}", "réchauffe un peu {p}", "monte la température {p}", "un poil plus chaud {p}", "pousse le chauffage {p}", "on caille {p}", "réchauffe {p} stp", "réchauffe la pièce {p}"),  # noqa: E501
        "es": ("un poco más de calor {p}", "hace frío {p}", "sube la calefacción {p}", "sube un poco la temperatura {p}", "más caliente {p} por favor", "me estoy helando {p}", "hace fresco {p}", "calienta un poco {p}", "aumenta la temperatura {p}", "un pelín más de calor {p}", "sube un grado {p}", "tengo frío {p}"),  # noqa: E501
        "de": ("mach es {p} etwas wärmer", "mir ist kalt {p}", "dreh die Heizung {p} hoch", "Temperatur {p} etwas höher", "wärmer {p} bitte", "es ist zu kalt {p}", "es ist frisch {p}", "heiz {p} etwas mehr", "Temperatur {p} rauf", "ein bisschen wärmer {p}", "Heizung {p} höher drehen", "ich friere {p}"),  # noqa: E501
    },
    "colder": {
        "en": ("make it a bit cooler {p}", "it's too hot {p}", "cooler {p} please", "turn down the heat {p}", "bring the temperature down {p}", "i'm boiling {p}", "it's stuffy {p}", "cool it down {p}", "lower the temperature {p}", "a little cooler {p}", "nudge the heating down {p}", "it's getting hot {p}", "bring the heat down {p}"),  # noqa: E501
        "fr": ("un peu plus frais {p}", "il fait trop chaud {p}", "baisse un peu le chauffage {p}", "diminue la température {p}", "moins chaud {p} stp", "on étouffe {p}", "il fait lourd {p}", "rafraîchis un peu {p}", "descends la température {p}", "un poil plus frais {p}", "réduis le chauffage {p}", "on crève de chaud {p}", "j'étouffe {p}"),  # noqa: E501
        "es": ("un poco más fresco {p}", "hace demasiado calor {p}", "baja la calefacción {p}", "baja un poco la temperatura {p}", "menos calor {p} por favor", "me estoy asando {p}", "hace bochorno {p}", "refresca un poco {p}", "reduce la temperatura {p}", "un pelín más fresco {p}", "baja un grado {p}", "tengo calor {p}", "demasiado calor {p}", "qué bochorno {p}"),  # noqa: E501
        "de": ("mach es {p} etwas kühler", "mir ist zu warm {p}", "dreh die Heizung {p} runter", "Temperatur {p} etwas niedriger", "kühler {p} bitte", "es ist zu heiß {p}", "es ist stickig {p}", "kühl es {p} etwas ab", "Temperatur {p} runter", "ein bisschen kühler {p}", "Heizung {p} niedriger drehen", "mir ist heiß {p}", "es ist zu warm {p}", "es ist so stickig {p}"),  # noqa: E501
    },
    "brighter": {
        "en": ("make {x} brighter", "brighten {x}", "{x} a bit brighter", "turn {x} up a bit", "more light from {x}", "a bit more light on {x}", "raise {x} a little", "{x} up a notch", "boost {x}"),  # noqa: E501
        "fr": ("augmente {x}", "{x} plus fort", "monte un peu {x}", "rends {x} plus lumineux", "plus de lumière avec {x}", "éclaire plus avec {x}", "{x} un peu plus fort", "pousse {x}", "intensifie {x}"),  # noqa: E501
        "es": ("sube {x}", "{x} más fuerte", "sube un poco {x}", "más brillo en {x}", "aumenta el brillo de {x}", "un poco más de luz en {x}", "{x} un poco más alto", "aviva {x}", "intensifica {x}"),  # noqa: E501
        "de": ("mach {x} heller", "{x} etwas heller", "dreh {x} etwas hoch", "mehr Licht von {x}", "erhöhe die Helligkeit von {x}", "{x} ein bisschen heller", "{x} hochdimmen", "etwas mehr Licht bei {x}", "{x} eine Stufe heller"),  # noqa: E501
    },
    "dimmer": {
        "en": ("dim {x} a bit", "make {x} dimmer", "{x} a little lower", "turn {x} down a bit", "less light from {x}", "{x} down a notch", "lower {x} a little", "soften {x}", "a bit less light on {x}", "soften {x} a little"),  # noqa: E501
        "fr": ("baisse un peu {x}", "{x} moins fort", "tamise {x}", "rends {x} moins lumineux", "diminue {x}", "{x} un peu moins fort", "adoucis {x}", "réduis {x}", "baisse {x} d'un cran"),  # noqa: E501
        "es": ("baja un poco {x}", "{x} menos fuerte", "atenúa {x}", "menos brillo en {x}", "reduce el brillo de {x}", "{x} un poco más bajo", "suaviza {x}", "baja {x} un punto", "un poco menos de luz en {x}", "suaviza {x} un poco"),  # noqa: E501
        "de": ("dimm {x} etwas", "mach {x} dunkler", "{x} etwas dunkler", "dreh {x} etwas runter", "weniger Licht von {x}", "{x} ein bisschen dunkler", "{x} runterdimmen", "etwas weniger Licht bei {x}", "{x} eine Stufe dunkler"),  # noqa: E501
    },
}  # fmt: skip

HALFWAY: dict[str, tuple[str, ...]] = {
    "en": ("open {x} halfway", "{x} half open", "put {x} halfway", "raise {x} half way", "open {x} half way"),
    "fr": ("ouvre {x} à moitié", "{x} à mi-hauteur", "mets {x} à moitié", "remonte {x} à mi-course", "mets {x} à mi-hauteur"),  # noqa: E501
    "es": ("abre {x} a la mitad", "{x} a media altura", "deja {x} a medias", "sube {x} hasta la mitad", "abre {x} a medias"),  # noqa: E501
    "de": ("{x} halb auf", "öffne {x} halb", "fahr {x} auf halbe Höhe", "{x} zur Hälfte hoch", "{x} auf halbe Höhe"),  # noqa: E501
}  # fmt: skip
"""A cover at 50 %, said without a number."""

QUERIES: dict[str, dict[str, tuple[str, ...]]] = {
    "state": {
        "en": ("is {x} on", "is {x} off", "what's the status of {x}", "is {x} open", "check {x}", "tell me if {x} is on", "what is {x} doing", "is {x} still on"),  # noqa: E501
        "fr": ("est-ce que {x} est allumé", "{x} est éteint", "quel est l'état de {x}", "{x} est ouvert", "vérifie {x}", "dis-moi si {x} est allumé", "c'est quoi l'état de {x}", "{x} est toujours allumé", "est-ce que {x} est toujours allumé"),  # noqa: E501
        "es": ("está encendido {x}", "está apagado {x}", "cuál es el estado de {x}", "está abierto {x}", "comprueba {x}", "dime si {x} está encendido", "cómo está {x}", "sigue encendido {x}"),  # noqa: E501
        "de": ("ist {x} an", "ist {x} aus", "wie ist der Status von {x}", "ist {x} offen", "prüf {x}", "sag mir ob {x} an ist", "was macht {x}", "ist {x} noch an"),  # noqa: E501
    },
    "open_state": {
        "en": ("is {x} open", "is {x} closed", "is {x} still open", "check if {x} is open", "did i close {x}", "what's the state of {x}"),  # noqa: E501
        "fr": ("est-ce que {x} est ouvert", "{x} est fermé", "{x} est encore ouvert", "vérifie si {x} est ouvert", "j'ai fermé {x}", "quel est l'état de {x}"),  # noqa: E501
        "es": ("está abierto {x}", "está cerrado {x}", "sigue abierto {x}", "comprueba si {x} está abierto", "cerré {x}", "cuál es el estado de {x}", "sigue cerrado {x}", "quedó cerrado {x}"),  # noqa: E501
        "de": ("ist {x} offen", "ist {x} zu", "ist {x} noch offen", "prüf ob {x} offen ist", "habe ich {x} zugemacht", "wie ist der Status von {x}"),  # noqa: E501
    },
    "reading": {
        "en": ("what does {x} say", "what's {x}", "read {x}", "what's the value of {x}", "how much is {x}", "read {x} for me"),  # noqa: E501
        "fr": ("que dit {x}", "combien indique {x}", "lis {x}", "quelle est la valeur de {x}", "ça donne quoi {x}", "ça donne quoi sur {x}"),  # noqa: E501
        "es": ("qué marca {x}", "cuánto marca {x}", "lee {x}", "cuál es el valor de {x}", "qué dice {x}", "dime el valor de {x}"),  # noqa: E501
        "de": ("was zeigt {x}", "wie viel zeigt {x} an", "lies {x} vor", "was ist der Wert von {x}", "was sagt {x}", "sag mir den Wert von {x}"),  # noqa: E501
    },
    "lock_state": {
        "en": ("is {x} locked", "did i lock {x}", "is {x} unlocked", "check if {x} is locked", "is {x} secure"),  # noqa: E501
        "fr": ("est-ce que {x} est verrouillée", "j'ai fermé {x} à clé", "{x} est déverrouillée", "vérifie si {x} est verrouillée", "{x} est bien fermée"),  # noqa: E501
        "es": ("está cerrada con llave {x}", "cerré {x}", "está desbloqueada {x}", "comprueba si {x} está bloqueada", "está segura {x}", "está bloqueada {x}"),  # noqa: E501
        "de": ("ist {x} abgeschlossen", "habe ich {x} abgeschlossen", "ist {x} offen", "prüf ob {x} verriegelt ist", "ist {x} zu"),  # noqa: E501
    },
    "area": {
        "en": ("are the {d} on {p}", "are any {d} on {p}", "which {d} are on {p}", "is anything on {p}", "what's on {p}"),  # noqa: E501
        "fr": ("les {d} sont allumées {p}", "il y a des {d} allumées {p}", "quelles {d} sont allumées {p}", "est-ce que les {d} sont allumées {p}", "c'est allumé {p}", "quelles {d} restent allumées {p}"),  # noqa: E501
        "es": ("están encendidas las {d} {p}", "hay {d} encendidas {p}", "qué {d} están encendidas {p}", "quedan {d} encendidas {p}", "está todo apagado {p}", "cuántas {d} quedan encendidas {p}"),  # noqa: E501
        "de": ("sind die {d} {p} an", "ist {p} noch Licht an", "welche {d} sind {p} an", "brennt {p} noch was", "sind {p} alle {d} aus", "sind {p} alle {d} an"),  # noqa: E501
    },
    "temperature": {
        "en": ("what's the temperature {p}", "how warm is it {p}", "how cold is it {p}", "temperature {p}", "what's it like {p} temperature wise", "temperature wise how is it {p}", "what is the temperature like {p}"),  # noqa: E501
        "fr": ("quelle température fait-il {p}", "il fait combien {p}", "quelle est la température {p}", "température {p}", "il fait chaud {p}"),  # noqa: E501
        "es": ("qué temperatura hace {p}", "cuántos grados hay {p}", "cuál es la temperatura {p}", "temperatura {p}", "hace frío {p}"),  # noqa: E501
        "de": ("wie warm ist es {p}", "welche Temperatur ist {p}", "wie kalt ist es {p}", "Temperatur {p}", "wie viel Grad hat es {p}"),  # noqa: E501
    },
    "humidity": {
        "en": ("how humid is it {p}", "what's the humidity {p}", "humidity {p}", "is it damp {p}", "how much humidity is there {p}"),  # noqa: E501
        "fr": ("quelle est l'humidité {p}", "il fait humide {p}", "humidité {p}", "quel est le taux d'humidité {p}", "c'est humide {p}"),  # noqa: E501
        "es": ("qué humedad hay {p}", "cuál es la humedad {p}", "humedad {p}", "hay mucha humedad {p}", "está húmedo {p}", "hace mucha humedad {p}"),  # noqa: E501
        "de": ("wie feucht ist es {p}", "wie hoch ist die Luftfeuchtigkeit {p}", "Luftfeuchtigkeit {p}", "ist es feucht {p}", "welche Luftfeuchtigkeit ist {p}"),  # noqa: E501
    },
    "presence": {
        "en": ("is anyone {p}", "is there anybody {p}", "is someone {p}", "any movement {p}", "is there motion {p}", "is there any movement {p}"),  # noqa: E501
        "fr": ("il y a quelqu'un {p}", "est-ce que quelqu'un est {p}", "ça bouge {p}", "y a du monde {p}", "du mouvement {p}", "est-ce que ça bouge {p}"),  # noqa: E501
        "es": ("hay alguien {p}", "hay movimiento {p}", "está alguien {p}", "se mueve algo {p}", "queda alguien {p}", "algo se mueve {p}"),  # noqa: E501
        "de": ("ist jemand {p}", "ist da wer {p}", "gibt es Bewegung {p}", "bewegt sich was {p}", "ist noch jemand {p}", "ist wer {p}", "ist da jemand {p}", "ist da noch jemand {p}"),  # noqa: E501
    },
    "windows": {
        "en": ("is a window open {p}", "are the windows closed {p}", "are any windows open {p}", "did i leave a window open {p}", "windows {p}"),  # noqa: E501
        "fr": ("une fenêtre est ouverte {p}", "les fenêtres sont fermées {p}", "il y a une fenêtre ouverte {p}", "j'ai laissé une fenêtre ouverte {p}", "fenêtres {p}"),  # noqa: E501
        "es": ("hay alguna ventana abierta {p}", "están cerradas las ventanas {p}", "queda una ventana abierta {p}", "dejé una ventana abierta {p}", "ventanas {p}", "dejé alguna ventana abierta {p}"),  # noqa: E501
        "de": ("ist ein Fenster offen {p}", "sind die Fenster zu {p}", "steht ein Fenster offen {p}", "hab ich ein Fenster offen gelassen {p}", "Fenster {p}"),  # noqa: E501
    },
}  # fmt: skip


def own_phrasings() -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """Every family of the project's own phrasings of an action or a question: its group prefix
    (as the builders give it to :meth:`Context.pick`), its language and its phrasings."""
    for table, mark in ((VERBS, ""), (SETTERS, ""), (RELATIVE, ""), (QUERIES, "q")):
        for family, by_language in table.items():
            for language, options in by_language.items():
                yield f"own:{language}:{mark}{family}", language, options
    for language, options in HALFWAY.items():
        yield f"own:{language}:half", language, options


AREA_READINGS: dict[str, tuple[str, str]] = {
    "temperature": ("sensor", "temperature"),
    "humidity": ("sensor", "humidity"),
    "presence": ("binary_sensor", "motion"),
    "windows": ("binary_sensor", "window"),
}
"""Questions about an area answered by its sensors of one class: the QUERIES family, and the
domain and device class."""

WHOLE_HOME = {
    "en": ("everywhere", "in the whole house", "in the house", "all over the house"),
    "fr": ("partout", "dans toute la maison", "dans la maison"),
    "es": ("en toda la casa", "en la casa", "por toda la casa"),
    "de": ("überall", "im ganzen Haus", "im Haus"),
}
ALL = {"en": "all the", "fr": "tous les", "es": "todos los", "de": "alle"}
OUTSIDE = {
    "en": ("outside", "outdoors", "out there"),
    "fr": ("dehors", "à l'extérieur", "en extérieur"),
    "es": ("fuera", "afuera", "en la calle"),
    "de": ("draußen", "im Freien", "außen"),
}
"""How a request says "outdoors" of a reading ("how cold is it outside")."""
HERE = {
    "en": ("in here", "here", "in this room"),
    "fr": ("ici", "dans cette pièce", "dans la pièce"),
    "es": ("aquí", "en esta habitación", "aquí dentro"),
    "de": ("hier", "in diesem Raum", "hier drin"),
}
AND = {"en": (" and ", ", and ", " then "), "fr": (" et ", ", et ", " puis "),
       "es": (" y ", ", y ", " luego "), "de": (" und ", ", und ", " dann ")}  # fmt: skip
DOOR = {"en": ("the door", "the doors"), "fr": ("la porte", "les portes"),
        "es": ("la puerta", "las puertas"), "de": ("die Tür", "die Türen")}  # fmt: skip
LOCKS_ALL = {
    "en": ("all the doors", "every door", "all the locks", "the whole house", "everything"),
    "fr": ("toutes les portes", "toutes les serrures", "toute la maison", "tout"),
    "es": ("todas las puertas", "todas las cerraduras", "toda la casa", "todo"),
    "de": ("alle Türen", "alle Schlösser", "das ganze Haus", "alles"),
}

MISSING_DEVICES: dict[str, tuple[str, ...]] = {
    "en": ("start the vacuum", "turn on the dishwasher", "preheat the oven to 180", "play some jazz on the speaker", "turn up the volume on the tv", "start the washing machine", "mow the lawn", "open the fridge", "turn on the hot tub", "start the robot mower", "show the doorbell camera", "turn on the sauna heater"),  # noqa: E501
    "fr": ("lance l'aspirateur", "démarre le lave-vaisselle", "préchauffe le four à 180", "mets de la musique sur l'enceinte", "monte le son de la télé", "lance une machine", "tonds la pelouse", "allume le jacuzzi", "lance la tondeuse", "montre la caméra de la sonnette", "lance le robot"),  # noqa: E501
    "es": ("pon la aspiradora", "enciende el lavavajillas", "precalienta el horno a 180", "pon música en el altavoz", "sube el volumen de la tele", "pon la lavadora", "corta el césped", "enciende el jacuzzi", "arranca el cortacésped", "muestra la cámara del timbre", "pon el robot"),  # noqa: E501
    "de": ("starte den Staubsauger", "schalte die Spülmaschine ein", "heiz den Ofen auf 180 vor", "spiel Musik auf dem Lautsprecher", "mach den Fernseher lauter", "starte die Waschmaschine", "mäh den Rasen", "schalte den Whirlpool ein", "starte den Mähroboter", "zeig die Türklingelkamera", "starte den Saugroboter"),  # noqa: E501
}  # fmt: skip

OUT_OF_DOMAIN: dict[str, tuple[str, ...]] = {
    "en": ("what's the weather tomorrow", "tell me a joke", "what time is it", "set a timer for ten minutes", "add milk to the shopping list", "who won the game last night", "how many grams in a pound", "call mom", "order a pizza", "what's the capital of australia", "remind me to call the dentist", "translate good morning into italian", "how do i make pancakes", "what's on my calendar today", "write an email to my boss", "how far is the moon", "sing me a song", "what's two plus two"),  # noqa: E501
    "fr": ("quel temps fera-t-il demain", "raconte-moi une blague", "quelle heure est-il", "mets un minuteur de dix minutes", "ajoute du lait à la liste de courses", "qui a gagné le match hier soir", "appelle maman", "commande une pizza", "quelle est la capitale de l'australie", "rappelle-moi d'appeler le dentiste", "comment on fait des crêpes", "qu'est-ce que j'ai dans mon agenda aujourd'hui", "écris un mail à mon patron", "chante-moi une chanson", "combien font deux plus deux", "traduis bonjour en italien"),  # noqa: E501
    "es": ("qué tiempo hará mañana", "cuéntame un chiste", "qué hora es", "pon un temporizador de diez minutos", "añade leche a la lista de la compra", "quién ganó el partido anoche", "llama a mamá", "pide una pizza", "cuál es la capital de australia", "recuérdame llamar al dentista", "cómo se hacen las tortitas", "qué tengo hoy en el calendario", "escribe un correo a mi jefe", "cántame una canción", "cuánto es dos más dos", "traduce buenos días al italiano"),  # noqa: E501
    "de": ("wie wird das Wetter morgen", "erzähl mir einen Witz", "wie spät ist es", "stell einen Timer auf zehn Minuten", "setz Milch auf die Einkaufsliste", "wer hat gestern das Spiel gewonnen", "ruf Mama an", "bestell eine Pizza", "was ist die Hauptstadt von Australien", "erinnere mich daran den Zahnarzt anzurufen", "wie macht man Pfannkuchen", "was steht heute in meinem Kalender", "schreib eine Mail an meinen Chef", "sing mir ein Lied", "was ist zwei plus zwei", "übersetze guten Morgen ins Italienische"),  # noqa: E501
}  # fmt: skip

ACTIONABLE = ("light", "switch", "fan", "cover", "valve", "lock", "climate", "scene", "button")
_SWEEPABLE = ("light", "fan", "switch", "cover")


# --- words for things in the spoken language ----------------------------------------------------


def area_phrase(ctx: Context, area: str) -> str:
    """How the speaker names ``area``: its own name (or alias) in the home's language, else the
    area's word in the spoken language."""
    entry = ctx.home.areas.get(area)
    if ctx.language == ctx.home_language:
        if entry is not None and entry.aliases and ctx.rng.random() < 0.3:
            return ctx.rng.choice(entry.aliases)
        return area if ctx.rng.random() < 0.5 else area.lower()
    key = area_key(area)
    if key is None:
        return area
    words = AREA_WORDS[key][1][ctx.language]
    suffix = area.rsplit(" ", 1)[1] if area.rsplit(" ", 1)[-1].isdigit() else ""
    word = words[0] if ctx.rng.random() < 0.7 else ctx.rng.choice(words)
    return f"{as_spoken(word, ctx.language)} {suffix}".strip()


def floor_phrase(ctx: Context, floor: str) -> str:
    """How the speaker names ``floor``, preferring everyday words ("upstairs", "en bas")."""
    key = floor_key(floor)
    if key is None:
        return floor
    words = FLOOR_WORDS[key][1][ctx.language]
    if ctx.language == ctx.home_language and ctx.rng.random() < 0.4:
        return as_spoken(floor, ctx.language)
    return ctx.rng.choice(words)


def floor_place(ctx: Context, floor: str) -> str:
    """ "upstairs" or "on the first floor" / "en haut" / "arriba" / "oben", "im Erdgeschoss"."""
    word = floor_phrase(ctx, floor)
    adverbs = {"upstairs", "downstairs", "en haut", "en bas", "arriba", "abajo", "oben", "unten"}
    if word.lower() in adverbs:
        return word
    if ctx.language == "en":
        return f"on the {word}"
    if ctx.language == "fr":
        return f"à {ph.the('fr', word)}".replace("à le ", "au ")
    if ctx.language == "es":
        return f"en {ph.the('es', word)}"
    return ph.in_place("de", word)


def pick_name(ctx: Context, entity: Entity, *, aliases: bool = True) -> tuple[str, str]:
    """How the speaker names ``entity`` (lower-cased or not), and the name or alias that is.

    Names stay as configured, except that a speaker of another language than the home's often
    says the device in their own words, the alias the planner adds for that language
    (:func:`~edgeward.runtime.homes.with_spoken_names`): "le lampadaire" for "Floor lamp"."""
    name = entity.name
    spoken = spoken_name(entity.name, entity.domain, ctx.language)
    if (aliases and ctx.language != ctx.home_language and spoken in entity.aliases
            and ctx.rng.random() < SPOKEN_NAME_SHARE):  # fmt: skip
        name = spoken
    elif aliases and entity.aliases and ctx.rng.random() < 0.4:
        name = ctx.rng.choice(entity.aliases)
    return (name.lower() if ctx.rng.random() < 0.5 else name), name


@dataclass(frozen=True)
class Ref:
    """How a request names one device: the words, the frame's target, the devices it names."""

    said: str
    target: fr.Target
    options: list[Entity]


def entity_ref(ctx: Context, entity: Entity, *, exact: bool = False) -> Ref:
    """The entity as :func:`pick_name` names it, with an article. A name several devices share
    often comes with the entity's area when that singles it out ("le plafonnier de la
    cuisine"), and the target then carries the area. ``exact``: by its configured name alone."""
    said, name = pick_name(ctx, entity, aliases=not exact)
    if ctx.rng.random() >= 0.2 and entity.domain != "scene":
        said = ph.the(ctx.language, said)
    options = rules.named(ctx.home, name)
    here = [e for e in options if e.area == entity.area]
    if not exact and len(options) > 1 and entity.area and len(here) == 1 and ctx.rng.random() < 0.7:
        place = ph.of_place(ctx.language, area_phrase(ctx, entity.area))
        return Ref(f"{said} {place}", fr.named(name, area=entity.area), here)
    return Ref(said, fr.named(name), options)


def domain_word(ctx: Context, domain: str, *, plural: bool, device_class: str | None = None) -> str:
    if device_class is not None:
        for kind in DEVICE_KINDS:
            if kind.domain == domain and kind.device_class == device_class:
                return as_spoken(kind.names[ctx.language][0], ctx.language)
    singular, many = DOMAIN_WORDS[domain][ctx.language]
    return many if plural else singular


def group_phrase(ctx: Context, domain: str, place: str | None, *, dc: str | None = None) -> str:
    """ "the kitchen lights", "toutes les lumières du salon", "das Licht im Flur" ..."""
    lang = ctx.language
    plural = dc is None and ctx.rng.random() < 0.7  # device-class words are singular nouns
    noun = domain_word(ctx, domain, plural=plural, device_class=dc)
    everything = ctx.rng.random() < 0.3
    if everything and plural:
        head = f"{ALL[lang]} {noun}" if lang != "en" else f"all the {noun}"
        if lang == "fr" and ph.gender("fr", noun.rstrip("s")) == "f":
            head = f"toutes les {noun}"
        if lang == "es" and noun.split()[0] in ph._ES_FEM_PLURAL:
            head = f"todas las {noun}"
    else:
        head = ph.the(lang, noun, plural=plural)
    if place is None:
        return head
    if lang == "en" and ctx.rng.random() < 0.5 and not head.startswith("all"):
        return f"the {place} {noun}"
    return f"{head} {ph.of_place(lang, place)}"


# --- request builders, one per kind -------------------------------------------------------------


def _verb(ctx: Context, action: str, x: str, *, agree: str | None = None) -> tuple[str, str]:
    """The request ``action`` on ``x``; Spanish participles agree with ``agree`` (default
    ``x``: its article)."""
    template, group = ctx.pick(VERBS[action][ctx.language], f"own:{ctx.language}:{action}")
    if ctx.language == "es":
        template = ph.agree_es(template, agree or x)
    return template.format(x=x), group


def _actions_for(entity: Entity) -> list[str]:
    return [a for a in ("on", "off", "toggle", "open", "close", "stop", "lock", "unlock",
                        "activate", "press") if a in VERBS and rules.service_of(entity, a)
            and not (a == "on" and entity.domain in ("cover", "valve", "scene"))
            and not (a == "off" and entity.domain in ("cover", "valve"))
            and not (a == "open" and entity.domain == "lock")]  # fmt: skip


def _actionable(ctx: Context) -> list[Entity]:
    return [e for e in ctx.home.entities.values() if e.domain in ACTIONABLE]


def build_single(ctx: Context) -> Draft | None:
    entities = _actionable(ctx)
    if not entities:
        return None
    entity = ctx.rng.choice(entities)
    actions = _actions_for(entity)
    if not actions:
        return None
    action = ctx.rng.choice(actions)
    ref = entity_ref(ctx, entity)
    text, group = _verb(ctx, action, ref.said)
    options = [e for e in ref.options if rules.service_of(e, action)]
    plan = rules.one_or_ambiguous(options, action, ctx.language)
    if plan is None:
        return None
    kind = "ambiguous" if plan.kind == "ambiguous" else "single"
    frame = fr.act(ref.target, action)
    return Draft(text, plan, frame, kind, group, _bystander_area(ctx))


def build_garage(ctx: Context) -> Draft | None:
    """ "open the garage", "ferme la porte du garage", "mach die Garage zu": the home's garage
    door, named by its place or its word, else ask which."""
    doors = rules.select(ctx.home, domain="cover", device_class="garage")
    if not doors:
        return None
    action = ctx.rng.choice(("open", "close"))
    word = domain_word(ctx, "cover", plural=False, device_class="garage")
    if ctx.rng.random() < 0.7:
        word = as_spoken(AREA_WORDS["garage"][1][ctx.language][0], ctx.language)
    text, group = _verb(ctx, action, ph.the(ctx.language, word))
    options = rules.select(ctx.home, domain="cover", device_class="garage", action=action)
    plan = rules.one_or_ambiguous(options, action, ctx.language)
    if plan is None or plan.kind == "unsupported":
        return None
    frame = fr.act(fr.Target("one", domain="cover", device_class="garage"), action)
    kind = "ambiguous" if plan.kind == "ambiguous" else "single"
    return Draft(text, plan, frame, kind, group + ":garage", None)


def _bystander_area(ctx: Context) -> str | None:
    """A speaker area that must not change the plan of a request that names its target."""
    if ctx.rng.random() < 0.4 and ctx.home.areas:
        return ctx.rng.choice(sorted(ctx.home.areas))
    return None


def _told_apart(ctx: Context, classes: set[str | None]) -> list[str]:
    """The cover classes among ``classes`` whose word in the spoken language no other of them
    shares (Spanish says "persiana" for a blind and a shutter: where both are, it names neither)."""
    words = {dc: fold(domain_word(ctx, "cover", plural=False, device_class=dc))
             for dc in classes if dc}  # fmt: skip
    counts = Counter(words.values())
    return sorted(dc for dc, word in words.items() if counts[word] == 1)


def _sweep_targets(ctx: Context, where: Mapping[str, Any]) -> tuple[str, str | None, str] | None:
    """A (domain, device_class, action) with at least one target ``where``."""
    options: list[tuple[str, str | None, str]] = []
    for domain in _SWEEPABLE:
        for action in ("open", "close") if domain == "cover" else ("on", "off"):
            if domain == "cover":
                classes = {e.device_class for e in rules.select(ctx.home, domain=domain, **where)}
                options += [(domain, dc, action) for dc in _told_apart(ctx, classes)]
            elif domain == "switch":
                if rules.select(ctx.home, domain=domain, device_class="outlet", **where):
                    options.append((domain, "outlet", action))
            elif rules.select(ctx.home, domain=domain, action=action, **where):
                options.append((domain, None, action))
    return ctx.rng.choice(options) if options else None


def build_area(ctx: Context) -> Draft | None:
    if not ctx.home.areas:
        return None
    area = ctx.rng.choice(sorted(ctx.home.areas))
    picked = _sweep_targets(ctx, {"area": area})
    if picked is None:
        return None
    domain, dc, action = picked
    targets = rules.select(ctx.home, domain=domain, area=area, device_class=dc, action=action)
    x = group_phrase(ctx, domain, area_phrase(ctx, area), dc=dc)
    text, group = _verb(ctx, action, x)
    plan = rules.act(targets, action, language=ctx.language, sweep=True)
    if plan is None:
        return None
    kind = "security" if plan.kind == "ambiguous" else "area"
    frame = fr.act(fr.every(domain, dc, area=area), action)
    return Draft(text, plan, frame, kind, group + ":area", _bystander_area(ctx))


def build_floor(ctx: Context) -> Draft | None:
    floors = sorted({a.floor for a in ctx.home.areas.values() if a.floor})
    whole = not floors or ctx.rng.random() < 0.35
    where: dict[str, Any] = {} if whole else {"floor": ctx.rng.choice(floors)}
    picked = _sweep_targets(ctx, where)
    if picked is None:
        return None
    domain, dc, action = picked
    targets = rules.select(ctx.home, domain=domain, device_class=dc, action=action, **where)
    x = group_phrase(ctx, domain, None, dc=dc)
    place = ctx.rng.choice(WHOLE_HOME[ctx.language]) if whole else floor_place(ctx, where["floor"])
    text, group = _verb(ctx, action, x)
    text = f"{text} {place}"
    plan = rules.act(targets, action, language=ctx.language, sweep=True)
    if plan is None:
        return None
    kind = "security" if plan.kind == "ambiguous" else "floor"
    frame = fr.act(fr.every(domain, dc, floor=where.get("floor")), action)
    return Draft(text, plan, frame, kind, group + ":floor", _bystander_area(ctx))


_SETTABLE = {"brightness": "light", "color": "light", "color_temp": "light",
             "temperature": "climate", "position": "cover", "fan_speed": "fan"}  # fmt: skip


def _value_for(ctx: Context, action: str, entity: Entity) -> tuple[Any, str]:
    """A value for ``action`` on ``entity`` and how it is said."""
    service = rules.ACTIONS[action][entity.domain]
    spec = entity.services[service][rules.ACTION_ARG[action]]
    value: Any
    if action == "color":
        value = ctx.rng.choice(spec.enum or ("red",))
        return value, COLOR_WORDS[ctx.language][value]
    if action == "color_temp":
        lo, hi = int(spec.minimum or 2000), int(spec.maximum or 6500)
        value = ctx.rng.randrange(lo // 100, hi // 100 + 1) * 100
        return value, str(value)
    if action == "temperature":
        low, high = float(max(spec.minimum or 7, 15)), float(min(spec.maximum or 35, 26))
        steps = int((high - low) * 2)
        value = low + ctx.rng.randint(0, steps) / 2
        if ctx.rng.random() < 0.7:
            value = float(round(value))
        return value, ph.say_number(ctx.rng, ctx.language, value)
    values = [0, 5, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100, 15, 35, 45, 65]
    if action == "position":
        values += [50, 50]  # a cover half open is common
    value = ctx.rng.choice(values)
    return value, ph.say_number(ctx.rng, ctx.language, value)


def build_set_value(ctx: Context) -> Draft | None:
    action = ctx.rng.choice(list(_SETTABLE))
    candidates = rules.select(ctx.home, domain=_SETTABLE[action], action=action)
    if not candidates:
        return None
    entity = ctx.rng.choice(candidates)
    value, said = _value_for(ctx, action, entity)
    by_area = action in ("brightness", "color") and entity.area and ctx.rng.random() < 0.3
    if by_area:
        assert entity.area is not None
        x = group_phrase(ctx, "light", area_phrase(ctx, entity.area))
        targets = rules.select(ctx.home, domain="light", area=entity.area, action=action)
        plan = rules.act(targets, action, value=value, language=ctx.language, sweep=True)
        frame = fr.act(fr.every("light", area=entity.area), action, value)
        suffix = ":area"
    else:
        ref = entity_ref(ctx, entity)
        x = ref.said
        options = [e for e in ref.options if rules.service_of(e, action)]
        plan = rules.one_or_ambiguous(options, action, ctx.language, value=value)
        frame = fr.act(ref.target, action, value)
        suffix = ""
    if action == "position" and value == 50 and ctx.rng.random() < 0.5:
        template, group = ctx.pick(HALFWAY[ctx.language], f"own:{ctx.language}:half")
    else:
        template, group = ctx.pick(SETTERS[action][ctx.language], f"own:{ctx.language}:{action}")
    if plan is None:
        return None
    kind = "ambiguous" if plan.kind == "ambiguous" else "set_value"
    text = template.format(x=x, n=said)
    return Draft(text, plan, frame, kind, group + suffix, _bystander_area(ctx))


def build_relative(ctx: Context) -> Draft | None:
    direction = ctx.rng.choice(["warmer", "colder", "brighter", "dimmer"])
    if direction in ("warmer", "colder"):
        climates = rules.select(ctx.home, domain="climate")
        if not climates:
            return None
        entity = ctx.rng.choice(climates)
        here = entity.area if entity.area and ctx.rng.random() < 0.5 else None
        speaker = here or (entity.area if ctx.rng.random() < 0.5 else None)
        targets = rules.climate_for(ctx.home, speaker)
        if len(targets) != 1:
            return None
        entity = targets[0]
        place = ph.in_place(ctx.language, area_phrase(ctx, here)) if here else ""
        if not here and speaker and ctx.rng.random() < 0.5:
            place = ctx.rng.choice(HERE[ctx.language])
        template, group = ctx.pick(
            RELATIVE[direction][ctx.language], f"own:{ctx.language}:{direction}"
        )
        text = " ".join(template.format(p=place).split())
        current = float(ctx.rng.randint(17, 24))
        step = rules.RELATIVE_STEPS["temperature"] * (1 if direction == "warmer" else -1)
        value = rules.clamp(current + step, entity, "set_temperature", "temperature")
        state = {entity.entity_id: {"temperature": current}}
        action = "temperature"
        target = fr.Target("thermostat", area=here)
    else:
        lights = rules.select(ctx.home, domain="light", action="brightness")
        if not lights:
            return None
        entity = ctx.rng.choice(lights)
        ref = entity_ref(ctx, entity)
        if len(ref.options) != 1:
            return None
        template, group = ctx.pick(
            RELATIVE[direction][ctx.language], f"own:{ctx.language}:{direction}"
        )
        text = template.format(x=ref.said)
        target = ref.target
        current = float(ctx.rng.choice([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]))
        step = rules.RELATIVE_STEPS["brightness_pct"] * (1 if direction == "brighter" else -1)
        value = rules.clamp(current + step, entity, "turn_on", "brightness_pct")
        state = {entity.entity_id: {"brightness_pct": int(current)}}
        action, speaker = "brightness", _bystander_area(ctx)
        value = int(value)
    plan = rules.act([entity], action, value=value, language=ctx.language)
    if plan is None:
        return None
    frame = fr.act(target, action, "up" if direction in ("warmer", "brighter") else "down")
    return Draft(text, plan, frame, "relative", group, speaker, state)


def _timed(ctx: Context, when_kind: str) -> Draft | None:
    """One device, one value or one area's devices ("the kitchen lights in ten minutes"), later."""
    base = ctx.rng.choices([build_single, build_set_value, build_area], [5, 3, 2])[0](ctx)
    if base is None or base.plan.kind != "act":
        return None
    if when_kind == "delay":
        said, seconds = ph.say_delay(ctx.rng, ctx.language)
        when = When(delay_s=seconds)
    elif when_kind == "at":
        said, hhmm = ph.say_at(ctx.rng, ctx.language)
        when = When(at=hhmm)
    else:
        said, cron = ph.say_schedule(ctx.rng, ctx.language)
        when = When(cron=cron)
    text = f"{base.text} {said}" if ctx.rng.random() < 0.75 else f"{said} {base.text}"
    calls = tuple(PlannedCall(c.tool, c.args, when) for c in base.plan.calls)
    plan = Plan("act", calls, language=ctx.language)
    kind = "delayed" if when_kind == "delay" else "scheduled"
    frame = fr.timed(base.frame, when)
    return Draft(text, plan, frame, kind, f"{base.group}:{when_kind}", base.area)


def build_delayed(ctx: Context) -> Draft | None:
    return _timed(ctx, "delay")


def build_scheduled(ctx: Context) -> Draft | None:
    return _timed(ctx, ctx.rng.choice(["at", "cron"]))


def build_query(ctx: Context) -> Draft | None:
    roll = ctx.rng.random()
    lang = ctx.language
    if roll < 0.45:
        options = [e for e in ctx.home.entities.values() if e.domain not in ("scene", "button")]
        if not options:
            return None
        entity = ctx.rng.choice(options)
        family = {"lock": "lock_state", "cover": "open_state", "valve": "open_state",
                  "binary_sensor": "open_state", "sensor": "reading"}.get(entity.domain, "state")  # fmt: skip
        template, group = ctx.pick(QUERIES[family][lang], f"own:{lang}:q{family}")
        ref = entity_ref(ctx, entity)
        same = ref.options
        plan = rules.query(same, lang) if len(same) == 1 else rules.ambiguous(same, lang)
        frame = fr.query(ref.target)
        if lang == "es":
            template = ph.agree_es(template, ref.said)
        text = template.format(x=ref.said)
        area = _bystander_area(ctx)
    elif roll < 0.75:
        areas = sorted({e.area for e in rules.select(ctx.home, domain="light") if e.area})
        if not areas:
            return None
        area = ctx.rng.choice(areas)
        template, group = ctx.pick(QUERIES["area"][lang], f"own:{lang}:qarea")
        here = ctx.rng.random() < 0.3
        place = ctx.rng.choice(HERE[lang]) if here else ph.in_place(lang, area_phrase(ctx, area))
        noun = DOMAIN_WORDS["light"][lang][1]
        text = " ".join(template.format(d=noun, p=place).split())
        plan = rules.query(rules.select(ctx.home, domain="light", area=area), lang)
        frame = fr.query(fr.every("light", area=None if here else area, here=here))
        area = area if here else _bystander_area(ctx)
    elif roll < 0.9 and (outdoor := _outdoor_temperature(ctx)) is not None:
        template, group = ctx.pick(QUERIES["temperature"][lang], f"own:{lang}:qtemperature")
        text = template.format(p=ctx.rng.choice(OUTSIDE[lang]))
        plan = rules.query([outdoor], lang)
        frame = fr.query(fr.named(outdoor.name))
        area = _bystander_area(ctx)
    else:
        family = "temperature" if ctx.rng.random() < 0.5 else ctx.rng.choice(list(AREA_READINGS))
        domain, dc = AREA_READINGS[family]
        sensors = [e for e in rules.select(ctx.home, domain=domain, device_class=dc) if e.area]
        if not sensors:
            return None
        area = ctx.rng.choice(sensors).area
        assert area is not None
        template, group = ctx.pick(QUERIES[family][lang], f"own:{lang}:q{family}")
        here = ctx.rng.random() < 0.3
        place = ctx.rng.choice(HERE[lang]) if here else ph.in_place(lang, area_phrase(ctx, area))
        text = template.format(p=place)
        plan = rules.query(rules.select(ctx.home, domain=domain, device_class=dc, area=area), lang)
        frame = fr.query(fr.every(domain, dc, area=None if here else area, here=here))
        area = area if here else _bystander_area(ctx)
    if plan is None:
        return None
    kind = plan.kind if plan.kind == "ambiguous" else "query"
    return Draft(text, plan, frame, kind, group, area)


def _outdoor_temperature(ctx: Context) -> Entity | None:
    """The home's one temperature sensor named for the outdoors ("Outside temperature"), if it
    has exactly one and no other device shares its name."""
    outdoor = {fold(n) for k in DEVICE_KINDS if k.key == "outdoor_temperature"
               for names in k.names.values() for n in names}  # fmt: skip
    found = [
        e for e in rules.select(ctx.home, domain="sensor", device_class="temperature")
        if fold(e.name) in outdoor
    ]  # fmt: skip
    if len(found) != 1 or len(rules.named(ctx.home, found[0].name)) != 1:
        return None
    return found[0]


def build_speaker_area(ctx: Context) -> Draft | None:
    areas = sorted({e.area for e in _actionable(ctx) if e.area})
    if not areas:
        return None
    area = ctx.rng.choice(areas)
    lang = ctx.language
    roll = ctx.rng.random()
    if roll < 0.25 and rules.climate_for(ctx.home, area):
        targets = rules.climate_for(ctx.home, area)
        entity = targets[0]
        value, said = _value_for(ctx, "temperature", entity)
        template, group = ctx.pick(SETTERS["temperature"][lang], f"own:{lang}:temperature")
        x = ph.the(lang, DOMAIN_WORDS["climate"][lang][0])
        text = template.format(x=x, n=said)
        plan = rules.one_or_ambiguous(targets, "temperature", lang, value=value)
        frame = fr.act(fr.Target("thermostat"), "temperature", value)
        group += ":here"
    else:
        picked = _sweep_targets(ctx, {"area": area})
        if picked is None:
            return None
        domain, dc, action = picked
        targets = rules.select(ctx.home, domain=domain, area=area, device_class=dc, action=action)
        plural = dc is None and ctx.rng.random() < 0.4
        x = ph.the(lang, domain_word(ctx, domain, plural=plural, device_class=dc), plural=plural)
        text, group = _verb(ctx, action, x)
        if ctx.rng.random() < 0.3:
            text = f"{text} {ctx.rng.choice(HERE[lang])}"
        plan = rules.act(targets, action, language=lang, sweep=True)
        frame = fr.act(fr.every(domain, dc, here=True), action)
        group += ":here"
    if plan is None:
        return None
    kind = {"act": "speaker_area", "ambiguous": "security"}.get(plan.kind, "ambiguous")
    return Draft(text, plan, frame, kind, group, area)


def build_ambiguous(ctx: Context) -> Draft | None:
    lang = ctx.language
    locks = rules.select(ctx.home, domain="lock")
    roll = ctx.rng.random()
    if len(locks) >= 2 and roll < 0.5:
        action = ctx.rng.choice(["lock", "unlock"])
        text, group = _verb(ctx, action, DOOR[lang][0])
        frame = fr.act(fr.Target("one", domain="lock"), action)
        return Draft(text, rules.ambiguous(locks, lang) or _never(), frame, "ambiguous",
                     group + ":door", _bystander_area(ctx))  # fmt: skip
    climates = rules.select(ctx.home, domain="climate")
    if len(climates) >= 2 and roll < 0.75:
        area = ctx.rng.choice(sorted({a for a in ctx.home.areas} - {c.area for c in climates})
                              or [None])  # fmt: skip
        if area is None or len(climates) > rules.MAX_CALLS:
            return None
        value = float(ctx.rng.randint(18, 23))
        template, group = ctx.pick(SETTERS["temperature"][lang], f"own:{lang}:temperature")
        x = ph.the(lang, DOMAIN_WORDS["climate"][lang][0])
        text = template.format(x=x, n=ph.say_number(ctx.rng, lang, value))
        # of several, the one named "Thermostat" is "the thermostat" (rules.climate_for)
        plan = rules.one_or_ambiguous(
            rules.climate_for(ctx.home, area), "temperature", lang, value=value
        )
        frame = fr.act(fr.Target("thermostat"), "temperature", value)
        if plan is None:
            return None
        kind = "ambiguous" if plan.kind == "ambiguous" else "set_value"
        return Draft(text, plan, frame, kind, group + ":amb", area)
    # a name several entities share, no area given
    by_name: dict[str, list[Entity]] = {}
    for entity in _actionable(ctx):
        by_name.setdefault(entity.name.lower(), []).append(entity)
    shared = [v for v in by_name.values() if len(v) > 1]
    if not shared:
        return None
    entities = ctx.rng.choice(shared)
    actions = set(_actions_for(entities[0])).intersection(*(_actions_for(e) for e in entities))
    if not actions:
        return None
    action = ctx.rng.choice(sorted(actions))
    ref = entity_ref(ctx, entities[0], exact=True)
    text, group = _verb(ctx, action, ref.said)
    plan = rules.ambiguous(entities, lang)
    frame = fr.act(ref.target, action)
    return None if plan is None else Draft(text, plan, frame, "ambiguous", group, None)


def build_the_one(ctx: Context) -> Draft | None:
    """ "turn on the fan" said from no particular area: the home's only one, else ask which."""
    kinds = sorted({(e.domain, e.device_class if e.domain == "cover" else None)
                    for e in _actionable(ctx) if e.domain in ("fan", "cover", "light", "valve")})  # fmt: skip
    if not kinds:
        return None
    domain, dc = ctx.rng.choice(kinds)
    if domain == "cover" and dc not in _told_apart(ctx, {k[1] for k in kinds}):
        return None
    pool = rules.select(ctx.home, domain=domain, device_class=dc)
    actions = sorted({a for e in pool for a in _actions_for(e)})
    if not actions:
        return None
    action = ctx.rng.choice(actions)
    word = domain_word(ctx, domain, plural=False, device_class=dc)
    text, group = _verb(ctx, action, ph.the(ctx.language, word))
    options = rules.select(ctx.home, domain=domain, device_class=dc, action=action)
    plan = rules.one_or_ambiguous(options, action, ctx.language)
    if plan is None or plan.kind == "unsupported":
        return None
    frame = fr.act(fr.Target("one", domain=domain, device_class=dc), action)
    kind = "ambiguous" if plan.kind == "ambiguous" else "single"
    return Draft(text, plan, frame, kind, group + ":one", None)


def build_partial(ctx: Context) -> Draft | None:
    """ "turn on the lamp", "allume la lampe de chevet": a device word that is part of the names
    of devices but no device's whole name; the one device, else ask which."""
    names = {fold(n) for e in ctx.home.entities.values() for n in (e.name, *e.aliases)}
    spoken = {fold(n): n for kind in DEVICE_KINDS for n in kind.names[ctx.language]}
    # the word as the names spell it, and as the speaker says it ("Lamp" of "Floor lamp",
    # said "lampe" in French)
    pairs = sorted(
        {(w, spoken[form]) for e in _actionable(ctx) for n in (e.name, *e.aliases)
         for w in device_words_in(n) if fold(w) not in names
         for form in device_word_forms(w) if form in spoken and form not in names}
    )  # fmt: skip
    if not pairs:
        return None
    word, said = ctx.rng.choice(pairs)
    options = rules.containing(ctx.home, word)
    actions = sorted({a for e in options for a in _actions_for(e)})
    if not actions:
        return None
    action = ctx.rng.choice(actions)
    text, group = _verb(ctx, action, ph.the(ctx.language, as_spoken(said, ctx.language)))
    plan = rules.one_or_ambiguous(
        [e for e in options if rules.service_of(e, action)], action, ctx.language
    )
    if plan is None:
        return None
    kind = "ambiguous" if plan.kind == "ambiguous" else "single"
    frame = fr.act(fr.named(word), action)
    return Draft(text, plan, frame, kind, group + ":partial", _bystander_area(ctx))


def _never() -> Plan:
    raise AssertionError("two or more locks always make an ambiguous plan")


def build_lock_all(ctx: Context) -> Draft | None:
    """ "lock all the doors": locking every lock opens nothing, so it is done."""
    locks = rules.select(ctx.home, domain="lock")
    if not locks:
        return None
    text, group = _verb(ctx, "lock", ctx.rng.choice(LOCKS_ALL[ctx.language]))
    plan = rules.act(locks, "lock", language=ctx.language, sweep=True)
    if plan is None:
        return None
    return Draft(text, plan, fr.act(fr.every("lock"), "lock"), "floor", group + ":all",
                 _bystander_area(ctx))  # fmt: skip


def build_security(ctx: Context) -> Draft | None:
    lang = ctx.language
    locks = rules.select(ctx.home, domain="lock")
    gates = [e for e in rules.select(ctx.home, domain="cover") if e.device_class in
             rules.SECURITY_CLASSES]  # fmt: skip
    if len(locks) >= 2 and (len(gates) < 2 or ctx.rng.random() < 0.7):
        text, group = _verb(ctx, "unlock", ctx.rng.choice(LOCKS_ALL[lang]))
        if ctx.rng.random() < 0.3:
            text, group = _verb(ctx, "unlock", DOOR[lang][1])
        plan = rules.ambiguous(locks, lang)
        frame = fr.act(fr.every("lock"), "unlock")
    elif len(gates) >= 2:
        dc = ctx.rng.choice(sorted({g.device_class or "" for g in gates}))
        same = [g for g in gates if g.device_class == dc]
        if len(same) < 2:
            return None
        text, group = _verb(ctx, "open", group_phrase(ctx, "cover", None, dc=dc))
        plan = rules.act(same, "open", language=lang, sweep=True)
        frame = fr.act(fr.every("cover", dc), "open")
    else:
        return None
    if plan is None or plan.kind != "ambiguous":
        return None
    return Draft(text, plan, frame, "security", group + ":sweep", _bystander_area(ctx))


def build_no_such_device(ctx: Context) -> Draft | None:
    lang = ctx.language
    roll = ctx.rng.random()
    missing = [d for d in (*_SWEEPABLE, "lock", "climate") if not rules.select(ctx.home, domain=d)]
    if roll < 0.35 and missing:
        domain = ctx.rng.choice(missing)
        action = {"cover": "open", "lock": "lock", "climate": "on"}.get(domain, "on")
        plural = ctx.rng.random() < 0.5
        x = ph.the(lang, domain_word(ctx, domain, plural=plural), plural=plural)
        text, group = _verb(ctx, action, x)
        group += ":missing"
    elif roll < 0.65 and (key := _missing_area(ctx)) is not None:
        word = as_spoken(AREA_WORDS[key][1][lang][0], lang)
        action = ctx.rng.choice(["on", "off"])
        lights = ph.the(lang, DOMAIN_WORDS["light"][lang][1], plural=True)
        text, group = _verb(ctx, action, f"{lights} {ph.of_place(lang, word)}")
        group += ":noarea"
    else:
        text, group = ctx.pick(MISSING_DEVICES[lang], f"own:{lang}:nodevice")
    return Draft(text, rules.unsupported("no_such_device", lang), fr.refuse("no_such_device"),
                 "no_such_device", group, _bystander_area(ctx))  # fmt: skip


def _missing_area(ctx: Context) -> str | None:
    """An area the home lacks, named as often as homes have it (the odds of having it against
    lacking it), so that no area's name alone says that it is missing; else None. Picked evenly
    among the missing, "the garage" (in one home in twenty) was named more often missing than
    present, and a model learnt to refuse it in a home that has one."""
    key = ctx.rng.choice(list(AREA_WORDS))
    odds = area_odds()
    present = {area_key(a) for a in ctx.home.areas}
    if key in present or ctx.rng.random() > odds[key] / max(odds.values()):
        return None
    # "the porch lights" may mean the "Porch light" of a home without a porch
    words = {fold(w) for ws in AREA_WORDS[key][1].values() for w in ws}
    if any(w in fold(n).split() for e in ctx.home.entities.values()
           for n in (e.name, *e.aliases) for w in words):  # fmt: skip
        return None
    return key


def build_out_of_domain(ctx: Context) -> Draft | None:
    text, group = ctx.pick(OUT_OF_DOMAIN[ctx.language], f"own:{ctx.language}:ood")
    return Draft(text, rules.unsupported("out_of_domain", ctx.language),
                 fr.refuse("out_of_domain"), "out_of_domain", group, _bystander_area(ctx))  # fmt: skip


def _listed(items: Sequence[str], language: str) -> str:
    """Items as a spoken list: "a, b and c"."""
    return ", ".join(items[:-1]) + AND[language][0] + items[-1]


def build_several(ctx: Context) -> Draft | None:
    """One verb for two or three devices: "turn off the tv backlight and the floor lamp"."""
    entities = _actionable(ctx)
    actions = _actions_for(ctx.rng.choice(entities)) if entities else []
    if not actions:
        return None
    action = ctx.rng.choice(actions)
    others = [e for e in entities if action in _actions_for(e)]
    ctx.rng.shuffle(others)
    refs: list[Ref] = []
    for entity in others[: ctx.rng.choice([2, 2, 3])]:
        ref = entity_ref(ctx, entity)
        if [e.entity_id for e in ref.options] != [entity.entity_id]:
            return None  # a name that needs asking back: not in a list
        refs.append(ref)
    ids = [r.options[0].entity_id for r in refs]
    if len(set(ids)) != len(ids) or len(refs) < 2:
        return None
    lang = ctx.language
    listed = _listed([r.said for r in refs], lang)
    feminine = all(r.said.split(" ", 1)[0].lower() in ("la", "las") for r in refs)
    text, group = _verb(ctx, action, listed, agree="las" if feminine else "los")
    plan = rules.merge([rules.act(r.options, action, language=lang) for r in refs], lang)
    if plan is None:
        return None
    frame = fr.joined(fr.act(r.target, action) for r in refs)
    return Draft(text, plan, frame, "multi", f"{group}:several", _bystander_area(ctx))


def build_multi(ctx: Context) -> Draft | None:
    """Two or three clauses in one breath, one of them now and then later."""
    if ctx.rng.random() < 0.3:
        return build_several(ctx)
    parts: list[Draft] = []
    used: set[str] = set()
    for _ in range(ctx.rng.choice([2, 2, 3])):
        builder = ctx.rng.choice(
            [build_single, build_single, build_set_value, build_area, build_delayed,
             build_scheduled, build_garage, build_the_one, build_partial]
        )  # fmt: skip
        draft = builder(ctx) or build_single(ctx)  # a home without a garage: something else
        if draft is None or draft.plan.kind != "act":
            return None
        ids = {c.args["entity_id"] for c in draft.plan.calls}
        if ids & used:
            return None
        used |= ids
        parts.append(draft)
    plan = rules.merge([p.plan for p in parts], ctx.language)
    if plan is None:
        return None
    if len(parts) == 3 and ctx.rng.random() < 0.5:
        # three things listed as people list them: "lock the door, close the garage and ..."
        text = _listed([p.text for p in parts], ctx.language)
    else:
        text = ctx.rng.choice(AND[ctx.language]).join(p.text for p in parts)
    group = "+".join(p.group for p in parts)
    frame = fr.joined(p.frame for p in parts)
    return Draft(text, plan, frame, "multi", group, None)


BUILDERS: dict[str, tuple[float, Callable[[Context], Draft | None]]] = {
    "single": (14, build_single),
    "multi": (16, build_multi),
    "area": (9, build_area),
    "floor": (5, build_floor),
    "set_value": (12, build_set_value),
    "relative": (6, build_relative),
    "delayed": (5, build_delayed),
    "scheduled": (5, build_scheduled),
    "query": (8, build_query),
    "speaker_area": (7, build_speaker_area),
    "ambiguous": (8, build_ambiguous),
    "the_one": (4, build_the_one),
    "garage": (4, build_garage),
    "partial": (4, build_partial),
    "security": (4, build_security),
    "lock_all": (1, build_lock_all),
    "no_such_device": (5, build_no_such_device),
    "out_of_domain": (4, build_out_of_domain),
}
"""Own-template builders, with the share of requests each makes."""

HA_SHARE = 0.3
"""Share of requests phrased from the home-assistant-intents templates."""

SPOKEN_NAME_SHARE = 0.6
"""How often a speaker of another language than the home's names a device in their own words,
where the vocabulary has them."""

EXAMPLES_PER_HOME = 8

ANY_LANGUAGE = 0.25
"""The share of a test home's requests said in a random one of the four languages."""

FOREIGN_SHARE = ANY_LANGUAGE * (len(LANGUAGES) - 1) / len(LANGUAGES)
"""The share of requests said in another language than the home's."""


def home_size(rng: random.Random) -> int:
    """A home size: mostly 5-60 entities, some up to 500."""
    roll = rng.random()
    if roll < 0.15:
        return rng.randint(3, 8)
    if roll < 0.8:
        return rng.randint(9, 60)
    if roll < 0.95:
        return rng.randint(61, 200)
    return rng.randint(201, 500)


@functools.cache
def area_odds() -> dict[str, float]:
    """Each area's odds of being in a generated home, from 400 homes of a fixed seed."""
    rng = random.Random(0)
    have: Counter[str | None] = Counter()
    for _ in range(400):
        have.update({area_key(a) for a in random_home(rng.randrange(2**31), home_size(rng)).areas})
    share = {k: (have[k] + 1) / 402 for k in AREA_WORDS}
    return {k: f / (1 - f) for k, f in share.items()}


def generate(
    split: Split,
    n: int,
    seed: int = 0,
    *,
    sizes: Sequence[int] | None = None,
    per_home: int | None = None,
) -> Iterator[Example]:
    """``n`` examples of ``split``; the same arguments always give the same examples.

    ``sizes`` fixes the home sizes to draw from (default: mostly 5-60 entities, some to 500);
    ``per_home`` is how many requests each home gets (default :data:`EXAMPLES_PER_HOME`).
    """
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    if n < 0:
        raise DataError(f"n must be 0 or more, got {n}")
    if sizes is not None and not sizes:
        raise DataError("sizes must name at least one home size")
    if per_home is not None and per_home < 1:
        raise DataError(f"per_home must be at least 1, got {per_home}")
    from edgeward.runtime import ha_sentences

    rng = random.Random(f"requests:{split}:{seed}")
    made = 0
    home_index = 0
    kinds = list(BUILDERS)
    weights = [BUILDERS[k][0] for k in kinds]
    while made < n:
        home_language = rng.choice(LANGUAGES)
        size = rng.choice(sizes) if sizes else home_size(rng)
        try:
            home = random_home(_home_seed(split, seed, home_index), size, home_language)
        except HomeError as exc:
            raise DataError(f"sizes: {exc}") from exc
        home_index += 1
        # Spoken to in another language, the home lists its devices' names in that language too.
        spoken = {lang: home if lang == home_language else with_spoken_names(home, lang)
                  for lang in LANGUAGES}  # fmt: skip
        tries = 0
        made_here: list[Example] = []
        wanted = per_home or EXAMPLES_PER_HOME
        # A training home is spoken to in one other language besides its own, as often as the
        # test split's homes are in all three: its requests then share two home descriptions
        # rather than four, and training runs each description for more requests.
        other = rng.choice([x for x in LANGUAGES if x != home_language]) if split == "train" else ""
        while len(made_here) < wanted and made < n and tries < 6 * wanted:
            tries += 1
            if other:
                language = other if rng.random() < FOREIGN_SHARE else home_language
            else:
                language = (
                    home_language if rng.random() < 1 - ANY_LANGUAGE else rng.choice(LANGUAGES)
                )
            ctx = Context(
                spoken[language], language, home_language, random.Random(rng.random()), split
            )
            try:
                if rng.random() < HA_SHARE:
                    draft = ha_sentences.draft(ctx)
                else:
                    draft = BUILDERS[rng.choices(kinds, weights)[0]][1](ctx)
            except NoPhrasing:
                continue
            if draft is None:
                continue
            text = ph.noisy(ctx.rng, language, draft.text)
            made_here.append(Example(ctx.home, draft.area, text, language, draft.kind,
                                     draft.group, draft.plan, draft.state, draft.frame))  # fmt: skip
            made += 1
        # Requests with the same home description next to each other: one training group each.
        yield from sorted(made_here, key=lambda e: (e.language != home_language, e.language))


def _home_seed(split: str, seed: int, index: int) -> int:
    """Train and test homes come from disjoint seed spaces (even and odd)."""
    base = int.from_bytes(hashlib.sha256(f"{seed}:{index}".encode()).digest()[:6], "big")
    return base * 2 + (1 if split == "test" else 0)
