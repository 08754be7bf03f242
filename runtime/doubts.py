"""What in a frame the request does not bear out: the planner's checks of the embedded model's
frames against the request's words and the home.

A small model guesses where it cannot copy: a device the request does not say, a place it put the
target in, a class of devices, an action, whether to act or answer. :func:`doubtful_clause` finds
the first clause whose verb, target, place, action, class or sweep the request does not bear out,
so the planner decodes it again with the model's choice barred (:mod:`edgeward.runtime.planner`); a
kept frame with such a clause, or one that names a device or place the request does not say
(:func:`grounded`), has its confidence capped, and :func:`names_a_missing_place` says when the
request asks for a place the home does not have. Words are matched as
:mod:`edgeward.runtime.retrieval` matches them; the words of opposite actions are in
:mod:`edgeward.runtime.action_words`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal

from edgeward.runtime.action_words import (
    SIDES,
    asks,
    asks_what_is_on,
    commands,
    contradicts,
    phrases,
    raises_or_lowers,
    said_action,
    says_a_degree,
    says_an_action,
    says_colour,
    says_open_or_close,
    says_the_other_way,
    ways_said,
    without_on_off,
)
from edgeward.runtime.bounded_cache import BoundedCache
from edgeward.runtime.catalog import Catalog
from edgeward.runtime.frames import (
    Clause,
    Frame,
    FrameError,
    States,
    Target,
    clean,
    resolve,
)
from edgeward.runtime.homes import (
    AREA_WORDS,
    DEVICE_KINDS,
    DOMAIN_SYNONYMS,
    DOMAIN_WORDS,
    KIND_WORDS,
    NAME_WORDS,
    area_key,
    floor_key,
    fold,
    kind_names,
    kind_word,
    places_said,
    plain_kind_names,
    reworded,
)
from edgeward.runtime.plan import Plan, When
from edgeward.runtime.plan_rules import ACTION_ARG, ACTIONS, meant_by, named, service_of
from edgeward.runtime.retrieval import STOPWORDS, is_said, place_named, place_said
from edgeward.runtime.services import SENSOR_DOMAINS
from edgeward.runtime.spoken_numbers import (
    lengths_said,
    numbers_said,
    says_a_delay,
    says_a_time,
    times_said,
    values_said,
)

Doubt = tuple[
    int,
    Literal[
        "verb",
        "repeat",
        "unsaid",
        "place",
        "action",
        "way",
        "value",
        "time",
        "days",
        "class",
        "sweep",
    ],
]
"""A clause of a frame (its index) and what in it is doubtful (:func:`doubtful_clause`): it asks
where the request commands or acts where it asks (its verb), repeats an earlier clause or names a
device the request does not say (its target), puts its target in a place the request does not say,
asks for an action the device lacks or the request's words contradict, changes a level the other
way than they say (its way), sets a number they do not say (its value), runs at a time of day they
do not say (its time) or on days they do not say (its days), has a class of devices that is not
there or not said, or sweeps a kind of device the request does not say."""


_ALL_WORDS = frozenset(
    """all every everything each tout tous toute toutes chaque todo todos toda todas cada alle
    alles allen aller jede jeder jedes jeden""".split()
)


def says_all(text: str) -> bool:
    """Whether the request says "all" or "every" in one of the four languages."""
    return not _ALL_WORDS.isdisjoint(fold(text).split())


_HOME_WORDS = frozenset(
    fold("everywhere house home partout maison domicile casa hogar partes überall haus").split()
)


def _says_everywhere(text: str) -> bool:
    """Whether the request says "all", or the whole home ("everywhere", "dans la maison",
    "im ganzen Haus"): what an action over every device of a kind in the home needs."""
    return says_all(text) or not _HOME_WORDS.isdisjoint(fold(text).split())


def grounded(frame: Frame, catalog: Catalog, text: str) -> bool:
    """Whether every device, area and floor the frame names is said in the request: a device by
    the name the frame used or another name or alias of it, a place by its name, an alias or
    its word in another language; a name may be said in other words of the same meaning
    ("outside" for "Outdoor temperature")."""
    if _names_an_unsaid_place(frame, catalog, text):
        return False
    return all(
        name_said(c.target.name, catalog, text)
        for c in frame.clauses
        if c.target.how == "name" and c.target.name
    )


def name_said(name: str, catalog: Catalog, text: str) -> bool:
    """Whether the request says a device the frame named ``name``: by that name, another name
    or an alias of the device, or in other words of the same meaning, or, when the name is only
    a kind's word and places, by a word of that kind in any language and those places
    ("l'arrosage du jardin" of the "Garden sprinklers")."""
    devices = named(catalog, name)
    names = {name} | {n for e in devices for n in (e.name, *e.aliases)}
    names |= {r for n in names for r in reworded(n)}
    if any(is_said(n, text) for n in names):
        return True
    ids = {e.entity_id for e in devices}
    return any(_said_as_its_kind(e.name, e.domain, text) for e in devices) and not any(
        is_said(n, text)
        for e in catalog.entities.values()
        if e.entity_id not in ids and e.domain in {d.domain for d in devices}
        for n in (e.name, *e.aliases)
    )  # "heizung küche" is the "Heizung Küche", not the "Küche Heizkörper"


def _said_as_its_kind(name: str, domain: str, text: str) -> bool:
    """Whether the request says a name that is only a kind's word and places by a word of that
    kind in any language and each of those places, in any language (:func:`plain_kind_names`)."""
    plain = plain_kind_names(name, domain)
    if plain is None:
        return False
    kinds, places = plain
    if not places:
        return False  # "Floor lamp": a kind's plain word names no one device
    padded = f" {fold(text)} "
    if not any(f" {k} " in padded or f" {k}s " in padded for k in kinds):
        return False
    return places <= {key for readings in places_said(text) for _, key in readings}


def _said_as_another(name: str, catalog: Catalog, text: str) -> bool:
    """Whether the request says a device the frame named ``name`` only in other words, which
    are as they are the name of another device ("deckenlampe 2" written as the "Deckenlicht
    2", while the home has a "Deckenlampe 2")."""
    devices = named(catalog, name)
    own = {name} | {n for e in devices for n in (e.name, *e.aliases)}
    if any(is_said(n, text) for n in own):
        return False
    others = {fold(r) for n in own for r in reworded(n)}
    ids = {e.entity_id for e in devices}
    return any(
        fold(n) in others and is_said(n, text)
        for e in catalog.entities.values()
        if e.entity_id not in ids
        for n in (e.name, *e.aliases)
    )


def says_a_whole_name(catalog: Catalog, text: str) -> bool:
    """Whether the request says every word of a device's name or alias (or its name in the
    request's language), exactly: such a request is about a device the home has, not one it
    lacks, nor outside what the gateway does. A device word alone is not a name ("the tv" is
    not the "TV backlight")."""
    said = set(fold(text).split())
    return any(words <= said for _, _, words in _name_words(catalog))


PLAIN_WORDS = frozenset(w for phrase in kind_names() for w in fold(phrase).split())
"""The words of the plain names of kinds of devices ("Blinds", "Door lock", "Lámpara de pie"):
a device called only so is not told from others of its kind by its name."""


def _mended(
    frame: Frame,
    catalog: Catalog,
    area: str | None,
    state: States | None,
    language: str,
    hows: tuple[str, ...],
    mend: Callable[[int, Clause, Plan], Clause | None],
) -> Frame | None:
    """``frame`` with each clause whose target is one of ``hows`` replaced by what ``mend``
    makes of it (its index, itself, and its plan alone, said from ``area``), when ``mend``
    makes anything; None when no clause is so mended."""
    clauses = list(frame.clauses)
    mended = False
    for i, clause in enumerate(clauses):
        if clause.target.how not in hows:
            continue
        try:
            alone = resolve(Frame((clause,)), catalog, area, state, language)
        except FrameError:
            continue
        if (better := mend(i, clause, alone)) is not None:
            clauses[i] = better
            mended = True
    return replace(frame, clauses=tuple(clauses)) if mended else None


def _named(clause: Clause, entity_id: str, catalog: Catalog) -> Clause:
    """``clause`` with its target the device ``entity_id``, by its name."""
    return replace(clause, target=Target("name", name=clean(catalog.entities[entity_id].name)))


def said_whole(
    frame: Frame,
    catalog: Catalog,
    text: str,
    area: str | None = None,
    state: States | None = None,
    language: str = "en",
) -> Frame | None:
    """``frame`` with the target of each clause that would ask which device (a name two devices
    have words of, "the one lock" of a home with two) named instead as the one device among
    those it asks between whose whole name or alias the request says, unless that name is one
    plain word of a kind ("tu peux allumer la lampe de chevet 2" written as the "lampe de
    chevet"; "unlock the door lock" of a home with a "Door lock" and a "Hallway door lock" is
    the "Door lock"; but "put the blinds up" asks which, in a home with "Blinds" and "Living
    room Blind"); None when no clause is so mended."""
    said = set(fold(text).split())

    def mend(i: int, clause: Clause, alone: Plan) -> Clause | None:
        if alone.kind != "ambiguous":
            return None
        # the words another clause's name holds are that clause's: "el enchufe cocina y la
        # tira led kyeix" does not say the "Tira LED cocina"
        others = {
            w
            for j, other in enumerate(frame.clauses)
            if j != i and other.target.name
            for w in fold(other.target.name).split()
        }
        whole = {
            entity_id
            for entity_id, _, words in _name_words(catalog)
            if entity_id in alone.candidates
            and words <= said - others
            and not (len(words) == 1 and words <= PLAIN_WORDS)
        }
        return _named(clause, whole.pop(), catalog) if len(whole) == 1 else None

    return _mended(frame, catalog, area, state, language, ("name", "one"), mend)


def said_in_place(
    frame: Frame,
    catalog: Catalog,
    text: str,
    area: str | None = None,
    state: States | None = None,
    language: str = "en",
) -> Frame | None:
    """``frame`` with the target of each clause that would ask which device put in the one
    area, of those the devices it asks between are in, that the request names whole and as it
    is written ("la Lámpara de techo del sofá del salón" of two lamps so called, one in the
    salón); None when no clause is so mended."""

    def mend(i: int, clause: Clause, alone: Plan) -> Clause | None:
        if alone.kind != "ambiguous" or clause.target.area or clause.target.floor:
            return None
        places = {catalog.entities[c].area for c in alone.candidates} - {None}
        named = [p for p in places if place_named(catalog, clean(p), "area", text, exactly=True)]
        if len(named) != 1:
            return None
        return replace(clause, target=replace(clause.target, area=clean(named[0])))

    return _mended(frame, catalog, area, state, language, ("name",), mend)


def said_here(
    frame: Frame,
    catalog: Catalog,
    text: str,
    area: str | None,
    state: States | None = None,
    language: str = "en",
) -> Frame | None:
    """``frame`` with the target of each clause that would ask which light, fan or plug (the
    one of the home, or a name two devices have words of that is the kind's plain word) swept
    over the speaker's ``area`` instead, when the request says that word and names no place,
    and devices of that kind there can do the clause's action ("quita el ventilador" said in
    the hallway: its fans, as "turn off the light" is its lights); None when no clause is so
    mended or there is no area."""
    if area is None or any(
        place_named(catalog, clean(name), table, text)
        for a in catalog.areas.values()
        for name, table in ((a.name, "area"), (a.floor or "", "floor"))
        if name
    ):
        return None
    words = set(fold(text).split())

    def mend(i: int, clause: Clause, alone: Plan) -> Clause | None:
        domains = {catalog.entities[c].domain for c in alone.candidates}
        if alone.kind != "ambiguous" or len(domains) != 1:
            return None
        domain = domains.pop()
        plain = {fold(w) for pair in DOMAIN_WORDS.get(domain, {}).values() for w in pair}
        here = replace(clause, target=Target("all", domain=domain, here=True))
        named = clause.target.name
        if (
            domain in _SWEPT_HERE
            and plain & words
            and (named is None or fold(named) in plain)  # "the fan", not "la vanne de gaz"
            and not _sweeps_nothing(here, catalog, area)
        ):
            return here
        return None

    return _mended(frame, catalog, area, state, language, ("name", "one"), mend)


def named_in_sweep(
    frame: Frame,
    catalog: Catalog,
    text: str,
    area: str | None = None,
    state: States | None = None,
    language: str = "en",
) -> Frame | None:
    """``frame`` with each clause that sweeps a place while the request says the whole name of
    exactly one device of the sweep as it is written, a name of more than one word and more than
    the words of its kind and its place, and does not say "all", naming that device instead
    ("shut off the gym lamp" swept as the gym's lights: the "Gym lamp"; but "la lumière du
    couloir" stays the hallway's lights, and a sensor's name says what it reads, "the hallway
    temperature"); None when no clause is so mended."""
    if says_all(text):
        return None
    padded = f" {fold(text)} "

    def mend(i: int, clause: Clause, swept: Plan) -> Clause | None:
        target = clause.target
        if not (target.area or target.floor or target.here):
            return None
        ids = {c.args["entity_id"] for c in swept.calls}
        named = {
            entity_id
            for entity_id, name, words in _name_words(catalog)
            if entity_id in ids
            and entity_id.split(".")[0] not in SENSOR_DOMAINS
            and len(words) > 1
            and f" {name} " in padded
            and words - KIND_WORDS - _area_words(catalog.entities[entity_id].area)
        }
        return _named(clause, named.pop(), catalog) if len(named) == 1 else None

    return _mended(frame, catalog, area, state, language, ("all",), mend)


def _area_words(area: str | None) -> set[str]:
    """The words (folded) of an area's name."""
    return set(fold(area).split()) if area else set()


_SWEPT_HERE = frozenset({"light", "fan", "switch"})
"""The kinds of device a request said in a room sweeps there by their plain word; a cover's
word may name another class, and a valve or a lock is never guessed."""


_BEFORE = frozenset(fold("before avant antes vorher bevor zuvor").split())


def in_said_order(frame: Frame, catalog: Catalog, text: str) -> Frame:
    """``frame`` with its clauses in the order the request says their devices or places, when
    it says each of them whole ("the floor lamp, the desk lamp and the ceiling light"), and no
    word for "before" (which may say them in another order than they are to be done); else
    ``frame`` as it is."""
    if len(frame.clauses) < 2 or not _BEFORE.isdisjoint(fold(text).split()):
        return frame
    padded = f" {fold(text)} "
    taken: list[tuple[int, int]] = []
    at: dict[int, int] = {}
    spoken = [(i, _spoken_names(c.target, catalog)) for i, c in enumerate(frame.clauses)]
    # the longest names first: "flexo dormitorio" before "flexo", which is inside it
    for i, names in sorted(spoken, key=lambda item: -max(map(len, item[1]), default=0)):
        spans = [
            (start, start + len(name))
            for name in names
            for start in _occurrences(padded, f" {name} ")
            if not any(a < start + len(name) and start < b for a, b in taken)
        ]
        if not spans:
            return frame
        taken.append(min(spans))
        at[i] = min(spans)[0]
    order = sorted(range(len(frame.clauses)), key=lambda i: at[i])
    return replace(frame, clauses=tuple(frame.clauses[i] for i in order))


def leaves_out_a_part(frame: Frame, catalog: Catalog, parts: Sequence[str]) -> bool:
    """Whether a part of the request (:func:`~edgeward.runtime.planner.request_parts`) says
    every word of a device's name while no clause of the frame is said in it: "... a las 9:00
    y quiero la lámpara de mesa encendida" planned without the lamp."""
    if len(parts) < 2 or not frame.clauses:
        return False
    names = [n for c in frame.clauses for n in _spoken_names(c.target, catalog)]
    return any(
        says_a_whole_name(catalog, part) and not any(f" {n} " in f" {fold(part)} " for n in names)
        for part in parts
    )


def _spoken_names(target: Target, catalog: Catalog) -> list[str]:
    """The names (folded) a request may say a target by: a device's names and aliases, or the
    name of the place a sweep is of; none for a sweep of the whole home or of "here"."""
    if target.how == "name" and target.name:
        entities = meant_by(catalog, target.name)
        return sorted(
            {fold(n) for e in entities for n in (e.name, *e.aliases)} | {fold(target.name)}
        )
    place = target.area or target.floor
    if place is None:
        return []
    return [fold(place)] + [
        fold(n) for a in catalog.areas.values() if fold(a.name) == fold(place) for n in a.aliases
    ]


def _occurrences(text: str, part: str) -> list[int]:
    """Where ``part`` begins in ``text``, every time."""
    found, start = [], text.find(part)
    while start >= 0:
        found.append(start)
        start = text.find(part, start + 1)
    return found


def says_a_kind_it_has(catalog: Catalog, text: str) -> bool:
    """Whether the request says the plain word of a kind of device the home has ("kannst du
    das Ventilator einschalten", "put the heater on"): it is not about a device the home
    lacks."""
    words = set(fold(text).split())
    domains = {e.domain for e in catalog.entities.values()}
    return any(
        fold(w) in words
        for domain in domains
        for pair in DOMAIN_WORDS.get(domain, {}).values()
        for w in (*pair, *DOMAIN_SYNONYMS.get(domain, ()))
        if " " not in w
    )


def says_a_device_word(catalog: Catalog, text: str, language: str) -> bool:
    """Whether the request says, in its language, the word for the kind of one of the home's
    devices whose name is in another ("put the heater on" of the "Estufa Plyshy"): it is not
    about a device the home lacks. (A word the name itself has is left to the model: "la télé"
    of a home with a "Télé couloir" is labelled both ways by the training data.)"""
    padded = f" {fold(text)} "
    return any(
        f" {fold(w)} " in padded and fold(w) not in fold(e.name)
        for e in catalog.entities.values()
        if (w := kind_word(e.name, e.domain, language)) is not None
    )


_NameWords = tuple[tuple[str, str, frozenset[str]], ...]


def _name_words(catalog: Catalog) -> _NameWords:
    """Each device's names and aliases: the device's id, the name folded, and the set of its
    words, kept per catalog version."""

    def split() -> _NameWords:
        return tuple(
            (e.entity_id, fold(n), frozenset(fold(n).split()))
            for e in catalog.entities.values()
            for n in (e.name, *e.aliases)
        )

    return _NAME_WORDS.get(catalog.version, split)


_NAME_WORDS: BoundedCache[str, _NameWords] = BoundedCache(8)


def _says_another_domain(frame: Frame, catalog: Catalog, text: str) -> bool:
    """Whether a frame of one clause that names a device, or sweeps or asks for the one device
    of a kind, leaves out what the request calls by the plain word of another kind of device
    ("blinds", "Licht", "ventilador"), saying no word of its own kind: "the living room blinds"
    do not say the "Living room lamp", nor "quita el ventilador" the garage door. (In a frame
    of several clauses that word may belong to another clause, or to one the model left
    out.)"""
    if len(frame.clauses) != 1:
        return False
    mine = _domains(frame.clauses[0].target, catalog)
    text = without_on_off(text)  # a verb is no kind's name: "cerrar" is not "cierre", a lock
    said = {d for d, words in _PLAIN_WORDS.items() if any(is_said(w, text) for w in words)}
    return (
        bool(said - mine)
        and not said & mine
        and not any(is_said(w, text) for d in mine for w in DOMAIN_SYNONYMS.get(d, ()))
    )


def longer_name_said(frame: Frame, index: int, catalog: Catalog, text: str) -> str | None:
    """The name (as a frame writes it) of the one device :func:`_longer_names_said` finds for
    clause ``index``: "qué temperatura hace afuera" written as the "Temperatura" says the
    "Temperatura exterior"; else None (none, or more than one)."""
    longer = _longer_names_said(frame, index, catalog, text)
    return clean(catalog.entities[longer.pop()].name) if len(longer) == 1 else None


def _longer_names_said(frame: Frame, index: int, catalog: Catalog, text: str) -> set[str]:
    """The devices whose name holds every word of the name clause ``index`` writes and more
    than the words of the place it writes, every word of which the request says, if some in
    other words of the same meaning, and which no clause names: "Fermer le pishyn
    wasserventil" written as the "Wasserventil", "qué temperatura hace afuera" as the
    "Temperatura" ("lamp across library off" written as the library's "Lamp" does not say the
    "Library lamp")."""
    target = frame.clauses[index].target
    if target.how != "name" or not target.name:
        return set()
    written = set(fold(target.name).split())
    places = {w for place in (target.area, target.floor) if place for w in fold(place).split()}
    named = _named_devices(frame, catalog)
    said = set(fold(text).split())
    return {
        e.entity_id
        for e in catalog.entities.values()
        if e.entity_id not in named
        for n in (e.name, *e.aliases)
        if written < set(fold(n).split())
        and not set(fold(n).split()) <= written | places
        and any(set(r.split()) <= said for r in {fold(n), *reworded(n)})
    }


def _domains(target: Target, catalog: Catalog) -> set[str]:
    """The kinds of device (domains) a target is about."""
    if target.how == "name" and target.name:
        return {e.domain for e in meant_by(catalog, target.name)}
    if target.how == "thermostat":
        return {"climate"}
    return {target.domain} if target.domain else set()


_PLAIN_WORDS = {
    domain: tuple(w for pair in by_language.values() for w in pair)
    for domain, by_language in DOMAIN_WORDS.items()
    if domain not in ("sensor", "binary_sensor")  # "sensor" is said of both
}


def doubtful_clause(
    frame: Frame, catalog: Catalog, text: str, area: str | None = None
) -> Doubt | None:
    """The first clause of a frame that only asks while the request opens with a command ("baja las
    persianas" as a question) or only acts while the request is a question ("¿está encendida la
    luz?" as on: its verb is doubtful), else the first clause that repeats an earlier one or names
    a device the request does not say, or one whose whole name is part of a longer name the request
    says ("pishyn wasserventil" as the "Wasserventil"), or, alone in its frame, one of another kind
    than the request's plain word says ("the living room blinds" as the living room lamp: its
    target is doubtful), puts its target in an area or on a floor the request does not say (the
    place is doubtful), asks a named device for an action it lacks ("brightness" of a fan) or for
    the opposite of what the request's words say ("power on" as off,
    :mod:`~edgeward.runtime.action_words`; "cambia la luz", a toggle, as on), or for a colour it
    does not say, or for a plain switch when the request asks for more or less of something ("turn
    the heating up a bit" as on), or switches a light on or off that the request raises or lowers
    ("sube la lámpara": its action is doubtful), or changes a level the other way than the
    request's words say ("un peu plus fort" as down, "mir ist heiß" as warmer: its way is
    doubtful), or sets a number the request does not say ("al 20%" as 50: its value is doubtful),
    or runs at a time of day the request does not say ("at 5 pm" as 15:00), or now when the request
    says a time and the frame none ("à 21h" dropped: its time is doubtful), or on days it does not
    say ("at 7 pm" as every weekday: its days are doubtful), or sweeps or asks for
    the one device of a class that, said from ``area``, is not where it sweeps ("the blinds" of a
    room with shutters), or sweeps or asks for the one device of a kind that the request does not
    say while it says a class of another, or the plain word of another kind ("close the blinds" as
    the garage door, "close the garage" as the locks, "quita el ventilador" as the garage door: its
    class, or kind, is doubtful), or unlocks every lock or the one lock while the request says no
    lock or door (its kind is doubtful), or sweeps a kind of device the request does not say while
    it names a device of another kind ("bewässerung im garten an" as the garden's lights), or acts
    on every device of a kind in the whole home (but for locking the locks it says) while the
    request says neither "all" nor the home ("enciende la luz del desván": the sweep is doubtful),
    or sweeps a place where no device of its kind can do its action ("die Lichter im Flur auf rosa"
    in a Flur without coloured lights, when the request also names "Flur 2": the place is
    doubtful); None when no clause does."""
    verbs = [c.verb for c in frame.clauses]
    if verbs and "act" not in verbs and commands(text):
        return 0, "verb"
    if verbs and "query" not in verbs and asks(text):
        return 0, "verb"
    for i, clause in enumerate(frame.clauses):
        target = clause.target
        if _repeats_earlier(frame, i, catalog):
            return i, "repeat"
        if (
            target.how == "name"
            and target.name
            and (
                not name_said(target.name, catalog, text)
                or _said_as_another(target.name, catalog, text)
                or _says_another_domain(frame, catalog, text)
                or _longer_names_said(frame, i, catalog, text)
            )
        ):
            return i, "unsaid"
        if _unsaid_place(clause, catalog, text):
            return i, "place"
        if not (target.how in _SWEEPS or can_do(clause, catalog)) or (
            clause.verb == "act"
            and (
                contradicts(clause.action, text, _names_of(catalog))
                or (clause.action in _SWITCHES and says_a_degree(text))
                or (
                    clause.action in ("on", "off")
                    and _domains(target, catalog) == {"light"}
                    and raises_or_lowers(text)
                )
                or (clause.action == "color" and not says_colour(str(clause.value), text))
            )
        ):
            return i, "action"
        if clause.verb == "act" and says_the_other_way(str(clause.value), text, _names_of(catalog)):
            return i, "way"
        if clause.verb == "act" and _unsaid_number(clause.value, text):
            return i, "value"
        if clause.when is not None and _unsaid_time(clause.when, text):
            return i, "time"
        if clause.when is not None and _unsaid_days(clause.when, text):
            return i, "days"
        if (
            clause.verb == "act"
            and not any(c.when for c in frame.clauses)
            and (says_a_time(text) or says_a_delay(text))
        ):
            return i, "time"  # a time or delay the request says, and the frame none: acts now
        if (
            (target.device_class and target.how == "all" and _sweeps_nothing(clause, catalog, area))
            or (target.how == "thermostat" and _says_another_class(clause, catalog, text))
            or (
                target.how in ("all", "one")
                and (
                    _says_another_class(clause, catalog, text)
                    or _unsaid_lock(clause, catalog, text)
                    or _says_another_domain(frame, catalog, text)
                )
            )
        ):
            return i, "class"
        if target.how == "all" and (
            _names_another_kind(clause, catalog, text)
            or (
                clause.verb == "act"
                and _sweeps_home(clause)
                and not _says_everywhere(text)
                # locking up needs no word for the home: "cierra la cerradura", "lock up"
                and not (clause.action == "lock" and _says_locking(text))
            )
        ):
            return i, "sweep"
        if (
            target.how in ("all", "one", "thermostat")
            and not says_all(text)
            and made_up_name(frame, catalog, text) is not None
        ):
            return i, "sweep"  # "Dreh Touglota etwas runter" as the thermostat, too
        if (
            target.how == "all"
            and (target.area or target.floor)
            and not target.device_class
            and _sweeps_nothing(clause, catalog, area)
        ):
            return i, "place"  # no device of its kind there can do it: another place said?
        if target.how == "all" and target.here and _sweeps_nothing(clause, catalog, area):
            return i, "sweep"  # none here can: "the Light" to 6400 K is no light of this room
        if target.how in _SWEEPS and not can_do(clause, catalog):
            return i, "action"  # of a kind said, once its kind and place are not in doubt
    return None


_SWEEPS = ("all", "one")


def made_up_name(frame: Frame, catalog: Catalog, text: str) -> str | None:
    """The name (as a frame writes it) of the one device whose every name word the request
    says, one of them a word of no vocabulary (a made-up name, "seisteis"), that no clause of
    the frame names; None when there is no such device, or more than one: "kannst du den
    seisteis einschalten" read as every light here leaves out the Seisteis."""
    said = set(fold(text).split())
    named = _named_devices(frame, catalog)
    left = {
        entity_id
        for entity_id, _, words in _name_words(catalog)
        if words <= said
        and entity_id not in named
        and not all(w.isdigit() or w in NAME_WORDS or w in STOPWORDS for w in words)
    }
    return clean(catalog.entities[left.pop()].name) if len(left) == 1 else None


def made_up_repeated(frame: Frame, catalog: Catalog, text: str) -> Frame | None:
    """``frame`` with the one clause that repeats an earlier one naming instead the one made-up
    name the request says that no clause names (:func:`made_up_name`), when that device can
    do the clause's action: "apagar el ventilador, el bretrom y la lámpara de noche" written as
    the night lamp twice; else None."""
    repeats = [i for i in range(len(frame.clauses)) if _repeats_earlier(frame, i, catalog)]
    name = made_up_name(frame, catalog, text)
    if len(repeats) != 1 or name is None:
        return None
    clauses = list(frame.clauses)
    clauses[repeats[0]] = replace(clauses[repeats[0]], target=Target("name", name=name))
    return Frame(tuple(clauses)) if can_do(clauses[repeats[0]], catalog) else None


_LEVELS = {"light": "brightness", "climate": "temperature"}
"""The level a request that says only a way ("more light", "un peu plus chaud") changes."""


def actions_said(clause: Clause, catalog: Catalog, text: str) -> tuple[str, ...]:
    """The actions a retry of a clause whose action is doubtful may write: the one the
    request's words say for its devices, when it is another and the clause sets no level, or
    a way the words do not say (:func:`~edgeward.runtime.action_words.said_action`: "quita la
    lámpara" written as unlocking it, as on, or as dimmer, is off; "cambia la lámpara" written
    as yellow is a toggle); else, when the words say one way only, the level of a light or a
    climate device ("more light from the lamp" written as cyan is brighter); else, when the
    named devices cannot do the clause's action and it
    takes no value, those they can do that take none either (a button written as on is
    pressed); else none (the model's next choice is free: a level the device lacks may be
    another level it has)."""
    domains = _domains(clause.target, catalog)
    valued = clause.value is not None and clause.action != "color"
    ways = ways_said(text, _names_of(catalog))
    if len(domains) == 1 and (not valued or (clause.value in ("up", "down") and not ways)):
        said = said_action(next(iter(domains)), text, _names_of(catalog))
        if said is not None and said != clause.action:
            return (said,)
    level = _LEVELS.get(next(iter(domains))) if len(domains) == 1 else None
    if len(ways) == 1 and level is not None and clause.action != level:
        return (level,)  # "more light from the lamp" written as cyan: brighter
    if can_do(clause, catalog) or clause.target.name is None or clause.value is not None:
        return ()
    devices = meant_by(catalog, clause.target.name)
    return tuple(
        a
        for a in ACTIONS
        if a not in ACTION_ARG and any(service_of(e, a) for e in devices) and a != clause.action
    )


def asks_about_lights(frame: Frame, catalog: Catalog, text: str) -> bool:
    """Whether a frame of one question asks about devices other than lights while the request
    asks what is on ("what's on in the bathroom" read as its radiator), in a home with
    lights."""
    if len(frame.clauses) != 1 or frame.clauses[0].verb != "query":
        return False
    return (
        "light" not in _domains(frame.clauses[0].target, catalog)
        and asks_what_is_on(text)
        and any(e.domain == "light" for e in catalog.entities.values())
    )


_OUTSIDE = phrases(
    """outside|outdoors|out there|dehors|a l exterieur|en exterieur|fuera|afuera|en la calle
    |draussen|im freien|aussen"""
)
_WARMTH = phrases(
    """temperature|warm|cold|hot|chilly|degrees|il fait|fait il|chaud|froid|frais|degres
    |temperatura|hace|calor|frio|grados|fresco|kalt|heiss|grad|temperatur|kuhl"""
)
"""Words of a question about how warm it is ("il fait combien dehors")."""
_OUTDOOR_NAMES = frozenset(
    fold(n)
    for kind in DEVICE_KINDS
    if kind.key == "outdoor_temperature"
    for names in kind.names.values()
    for n in names
)


def outdoor_reading(frame: Frame, catalog: Catalog, text: str) -> str | None:
    """The name of the home's one outdoor temperature sensor ("Außentemperatur") when the
    request asks how warm it is outside ("wie warm ist es draußen") and the frame asks about
    other devices, or refuses, or acts while the request says no action; else None."""
    if any(c.verb != "query" for c in frame.clauses) and says_an_action(text):
        return None  # "it's cold outside, turn the heating up" is no question
    padded = f" {fold(text)} "
    if not any(w in padded for w in _OUTSIDE) or not any(w in padded for w in _WARMTH):
        return None
    outdoor = [
        e
        for e in catalog.entities.values()
        if e.domain == "sensor"
        and e.device_class == "temperature"
        and {fold(n) for n in (e.name, *e.aliases)} & _OUTDOOR_NAMES
    ]
    if len(outdoor) != 1 or (
        all(c.verb == "query" for c in frame.clauses)
        and _named_devices(frame, catalog) == {outdoor[0].entity_id}
    ):
        return None  # no such sensor, or the frame already reads it ("activate" it does not)
    return outdoor[0].name


def _named_devices(frame: Frame, catalog: Catalog) -> set[str]:
    """The devices the clauses of ``frame`` name (their entity ids)."""
    return {
        e.entity_id
        for c in frame.clauses
        if c.target.how == "name" and c.target.name
        for e in meant_by(catalog, c.target.name)
    }


def _repeats_earlier(frame: Frame, i: int, catalog: Catalog) -> bool:
    """Whether clause ``i`` of ``frame`` says what an earlier clause says (:func:`_same`)."""
    return any(_same(frame.clauses[i], earlier, catalog) for earlier in frame.clauses[:i])


def _same(clause: Clause, earlier: Clause, catalog: Catalog) -> bool:
    """Whether ``clause`` says what ``earlier`` says: the same clause, or the same action on the
    same devices by another of their names ("küche deckenventilator" and "deckenventilator")."""
    if clause == earlier:
        return True
    a, b = clause.target, earlier.target
    if (clause.verb, clause.action, clause.value, clause.when) != (
        earlier.verb,
        earlier.action,
        earlier.value,
        earlier.when,
    ) or not (a.how == b.how == "name" and a.name and b.name):
        return False
    if (a.area, a.floor) != (b.area, b.floor):
        return False
    mine = {e.entity_id for e in meant_by(catalog, a.name)}
    return bool(mine) and mine == {e.entity_id for e in meant_by(catalog, b.name)}


_SWITCHES = frozenset({"on", "off", "open", "close", "toggle"})
"""Actions with no level: a request that asks for more or less of something ("turn the heating
up a bit") does not ask for one of them."""


def _names_another_kind(clause: Clause, catalog: Catalog, text: str) -> bool:
    """Whether the request names a device of another kind than the one a sweep is of, and says
    no word of that kind ("bewässerung im garten an" read as the garden's lights)."""
    target = clause.target
    if _kind_said((target.domain, target.device_class), catalog, text):
        return False
    return any(
        e.domain != target.domain and name_said(e.name, catalog, text)
        for e in catalog.entities.values()
    )


def _unsaid_number(value: object, text: str) -> bool:
    """Whether a clause's value is a number the request does not say (:func:`values_said`:
    in digits or words, or a half, but not as a time of day): "al 20%" written as 50, "a las
    12:15 cortina al 5%" as 15."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and float(value) not in values_said(text)
    )


_AFTERNOON = phrases(
    """pm|afternoon|evening|night|tonight|tarde|noche|soir|soirée|après-midi|abends|abend
    |nachmittags|nachts"""
)
_QUARTER = phrases("quarter|quart|cuarto|viertel")


_LENGTH_WORD = re.compile(
    r"\b(?:minut|quart|cuarto|viertel|half|demi|media|halb|hour|heure|hora|stund)"
)
"""How a length of time begins in a folded request: "minute", "quart d'heure", "media hora",
"halbe Stunde", "an hour"."""


_VALUE_WITH_UNIT = re.compile(
    r"\d+(?:\s*[.,]\s*\d+)?\s*(?:°|%|degr|grad|percent|pourcent|por ?ciento|prozent)", re.IGNORECASE
)
"""A temperature or a share said in digits ("19,5 degrés", "40 %"): no hour of the day."""


def _unsaid_time(when: When, text: str) -> bool:
    """Whether a time of day the clause runs at (or its schedule's) is not one the request
    says: its hour, or the hour twelve before it, and its minutes (a half or a quarter said in
    words count; none when the request says other minutes of that hour), on the side of noon
    the request's words say, an hour after noon only when it says the afternoon or that very
    hour ("at 5 pm" written as 15:00, "à 19h45" as 18:45, "at 6:15 pm" as 18:00, "a las 8:15"
    as 20:15); a schedule at no time of day ("0 40 * * *"); or a delay of a length the request
    does not say ("2 am arbeitszimmer" in 20 minutes)."""
    if when.delay_s:
        counts = {when.delay_s, when.delay_s / 60, when.delay_s / 3600}
        # a minute, a quarter, half an hour and an hour may be said in words ("dans une
        # heure"), but some word of a length must be said
        in_words = when.delay_s in (60, 900, 1800, 3600) and _LENGTH_WORD.search(fold(text))
        return not counts & lengths_said(text) and not in_words
    if when.at:
        hour, minute = map(int, when.at.split(":"))
    elif when.cron:
        if not all(f.isdigit() for f in when.cron.split()[:2]):
            return True  # "020 * * * *": no time of day
        minute, hour = map(int, when.cron.split()[:2])
    else:
        return False
    if hour > 23 or minute > 59:
        return True  # "0 40 * * *" for "sur 40 pourcent"
    said = numbers_said(_VALUE_WITH_UNIT.sub(" ", text))  # "à 19,5 degrés" says no 19:00
    padded = f" {fold(text.replace('.', ''))} "  # "p.m." is "pm"
    afternoon = any(w in padded for w in _AFTERNOON)
    if hour < 12 and hour != 0 and afternoon:
        return True
    if hour > 12 and float(hour) not in said and not afternoon:
        return True  # "a las 8:15" written as 20:15: the afternoon is not said
    hours = {float(hour), float(hour - 12)} if hour > 12 else {float(hour or 12)}
    if not hours & said:
        return True
    minutes = {m for h, m in times_said(text) if h in hours}
    if minutes and minute not in minutes:
        return True  # "at 6:15 pm" written as 18:00
    halves = {h + 0.5 for h in hours}
    return not (
        minute == 0
        or float(minute) in said
        or (minute == 30 and halves & said)
        or (minute in (15, 45) and any(w in padded for w in _QUARTER))
    )


def time_said(text: str) -> tuple[int, int] | None:
    """The one time of day (hour, minute) the request says, as :func:`_unsaid_time` reads it
    ("at 7 pm": 19:00, "à 19h45", "um 6 Uhr 30"); None when it says none, or when more than one
    would do ("set it to 20 at 7 pm": 19:00 or 20:00; "a las 8 y media": 8:00 or 8:30)."""
    if not says_a_time(text):
        return None  # "in 10 minutes" is no time of day
    said = numbers_said(text)
    minutes = {0, 15, 30, 45} | {m for _, m in times_said(text)}
    fits = [
        (hour, minute)
        for hour in range(24)
        if float(hour) in said or float(hour - 12) in said or (hour == 0 and 12.0 in said)
        for minute in sorted(minutes)
        if not _unsaid_time(When(at=f"{hour:02d}:{minute:02d}"), text)
    ]
    return fits[0] if len(fits) == 1 else None


_DAYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "1-5",
        phrases(
            """weekday|weekdays|workday|workdays|work days|week days|monday to friday|to friday
            |through friday|en semaine|la semaine|lundi au vendredi|au vendredi|jours ouvrables
            |entre semana|lunes a viernes|a viernes|dias laborables|laborables|werktags|werktag
            |werktage|wochentags|montag bis freitag|bis freitag|unter der woche"""
        ),
    ),
    (
        "0,6",
        phrases(
            "weekend|weekends|week end|week ends|fin de semana|fines de semana|wochenende|wochenenden"
        ),
    ),
    ("1", phrases("monday|mondays|lundi|lundis|lunes|montag|montags")),
    ("2", phrases("tuesday|tuesdays|mardi|mardis|martes|dienstag|dienstags")),
    ("3", phrases("wednesday|wednesdays|mercredi|mercredis|miercoles|mittwoch|mittwochs")),
    ("4", phrases("thursday|thursdays|jeudi|jeudis|jueves|donnerstag|donnerstags")),
    ("5", phrases("friday|fridays|vendredi|vendredis|viernes|freitag|freitags")),
    ("6", phrases("saturday|saturdays|samedi|samedis|sabado|sabados|samstag|samstags")),
    ("0", phrases("sunday|sundays|dimanche|dimanches|domingo|domingos|sonntag|sonntags")),
)
"""The days of a weekly schedule, as a cron day-of-week field, and the words that say them;
a week's part is said before its days ("de lunes a viernes" is the week, not Monday)."""
_EVERY = phrases(
    """every|each|daily|nightly|tous|toutes|chaque|quotidien|todos|todas|cada|diario|diariamente
    |jeden|jede|jedes|taglich|morgens|abends|nachts"""
)
"""Words that say a schedule repeats, every day among others."""


def days_said(text: str) -> frozenset[str]:
    """The cron day-of-week fields of the days ``text`` says ("every weekday" 1-5, "los
    viernes" 5, "am Wochenende" 0,6); "*" for every day when it says that something repeats
    and says no day."""
    padded = f" {fold(text)} "
    said = set()
    for field, words in _DAYS:
        for word in words:
            if word in padded:
                said.add(field)
                padded = padded.replace(word, " ")
    if not said and any(w in padded for w in _EVERY):
        said.add("*")
    return frozenset(said)


def _unsaid_days(when: When, text: str) -> bool:
    """Whether a clause runs on other days than the request says: a schedule on days it does
    not say, or every day when it says none ("at 7 pm" as every weekday at 19:00), or once when
    it says days ("los viernes a las 20:00" at 20:00 this once)."""
    said = days_said(text)
    if when.cron:
        return when.cron.split()[-1] not in said
    return when.at is not None and bool(said - {"*"})


def _names_of(catalog: Catalog) -> tuple[str, ...]:
    """The home's names of devices, areas and floors, with their aliases, folded, longest
    first, kept per catalog version."""

    def folded() -> tuple[str, ...]:
        names = {n for e in catalog.entities.values() for n in (e.name, *e.aliases)}
        names |= {n for a in catalog.areas.values() for n in (a.name, *a.aliases)}
        names |= {a.floor for a in catalog.areas.values() if a.floor}
        return tuple(sorted({fold(n) for n in names}, key=len, reverse=True))

    return _NAMES.get(catalog.version, folded)


_NAMES: BoundedCache[str, tuple[str, ...]] = BoundedCache(8)


def can_do(clause: Clause, catalog: Catalog) -> bool:
    """Whether a device the clause names, if it names one, offers the clause's action; or, when
    it sweeps or asks for the one of a kind, whether any device of that kind the home has does
    ("act one fan unlock" for "quita el ventilador" is no fan's action)."""
    target = clause.target
    if clause.action is None:
        return True
    if target.how in _SWEEPS and target.domain:
        kind = [
            e
            for e in catalog.entities.values()
            if e.domain == target.domain and target.device_class in (None, e.device_class)
        ]
        return not kind or any(service_of(e, clause.action) for e in kind)
    if target.how != "name" or target.name is None:
        return True
    devices = meant_by(catalog, target.name)
    return not devices or any(service_of(e, clause.action) for e in devices)


def _sweeps_nothing(clause: Clause, catalog: Catalog, area: str | None) -> bool:
    """Whether the clause, said from ``area``, finds nothing to act on or ask about."""
    try:
        plan = resolve(Frame((clause,)), catalog, area)
    except FrameError:
        return False
    return plan.kind == "unsupported"


def _says_another_class(clause: Clause, catalog: Catalog, text: str) -> bool:
    """Whether the request says a class of devices other than the kind the clause sweeps or asks
    for the one of, by a name of that class in one of the four languages, and does not say the
    clause's kind ("close the blinds" read as the garage door, ``one cover:garage``; "close the
    garage" as the locks, ``all lock``)."""
    target = clause.target
    # a thermostat is of its own kind: "bewässerung im garten" is no thermostat of the garden
    mine = ("climate", None) if target.how == "thermostat" else (target.domain, target.device_class)
    if _kind_said(mine, catalog, text):
        return False
    return any(
        _said_of(kind, names, text)
        for kind, names in _KIND_NAMES.items()
        if kind[1] and kind != mine
    )


def _unsaid_lock(clause: Clause, catalog: Catalog, text: str) -> bool:
    """Whether the clause unlocks every lock or the one lock while the request says no lock,
    door or lock's name: a door is not unlocked unless it is said ("quita las luces", turn off
    the lights, read as unlocking the hallway's door). Locking needs no such word ("sperr alles
    ab")."""
    return (
        clause.target.domain == "lock"
        and clause.action == "unlock"
        and not _kind_said(("lock", None), catalog, text)
    )


def _names_by_kind() -> dict[tuple[str | None, str | None], tuple[str, ...]]:
    names: dict[tuple[str | None, str | None], tuple[str, ...]] = {}
    for k in DEVICE_KINDS:
        said = tuple(n for in_language in k.names.values() for n in in_language)
        names[k.domain, k.device_class] = names.get((k.domain, k.device_class), ()) + said
    return names


_KIND_NAMES = _names_by_kind()
"""The names of each kind of device (domain, class) in the four languages, made once."""


_GARAGE = ("cover", "garage")
_GARAGE_WORDS = tuple(w for words in AREA_WORDS["garage"][1].values() for w in words)
_GARAGE_FOLDED = frozenset(fold(w) for w in _GARAGE_WORDS)


def _said_of(kind: tuple[str | None, str | None], names: Sequence[str], text: str) -> bool:
    """Whether the request says one of ``names`` of a kind of device. A garage door is said by
    its place's word when the request says to open or close ("ferme le garage"), as the training
    data says it; without such a word that place's word is the garage, not its door ("mach die
    Garage an" does not say "Garagentor"). Words for turning on or off, opening or closing are
    no kind's name ("cierra" is not "cierre", a lock)."""
    if kind == _GARAGE:
        if says_open_or_close(text):
            names = [*names, *_GARAGE_WORDS]
        else:
            text = " ".join(w for w in fold(text).split() if w not in _GARAGE_FOLDED)
    text = without_on_off(text)
    return any(is_said(n, text) for n in names)


def kind_of_said(frame: Frame, index: int, catalog: Catalog, text: str) -> bool:
    """Whether the request says the kind of devices clause ``index`` sweeps or asks for the one
    of (:func:`_kind_said`); true of a clause that names its device."""
    target = frame.clauses[index].target
    return target.how == "name" or _kind_said((target.domain, target.device_class), catalog, text)


def _kind_said(kind: tuple[str | None, str | None], catalog: Catalog, text: str) -> bool:
    """Whether the request says a kind of device (domain, class): a name of that kind in one of
    the four languages ("persiana", "store banne"), or the name of a device of it in the home."""
    domain, device_class = kind
    names = list(_KIND_NAMES.get(kind, ()))
    if device_class is None and domain is not None:
        names += [n for words in DOMAIN_WORDS.get(domain, {}).values() for n in words]
        names += DOMAIN_SYNONYMS.get(domain, ())
    names += [
        n
        for e in catalog.entities.values()
        if (e.domain, e.device_class) == kind
        for n in (e.name, *e.aliases)
    ]
    return _said_of(kind, names, text)


def last_bracket_said(frame_text: str, catalog: Catalog, text: str) -> bool:
    """Whether the request says what the last brackets of a frame's text begin: a device's
    name after ``name``, an area after ``@``, a floor after ``^``."""
    head, _, said = frame_text.rpartition("[")
    said = said.strip()
    if head.rstrip().endswith("@"):
        return place_said(catalog, said, "area", text)
    if head.rstrip().endswith("^"):
        return place_said(catalog, said, "floor", text)
    return name_said(said, catalog, text)


def names_a_missing_place(frame: Frame, catalog: Catalog, text: str) -> bool:
    """Whether the request names an area or floor the home does not have ("the lights in the
    attic" in a home without one) while the frame puts its target in a place the request does
    not say, or sweeps the whole home: the model put the missing place somewhere, or nowhere,
    and the home has no such thing."""
    if not (_names_an_unsaid_place(frame, catalog, text) or any(map(_sweeps_home, frame.clauses))):
        return False
    have = {("area", area_key(a)) for a in catalog.areas}
    have |= {("floor", floor_key(a.floor)) for a in catalog.areas.values() if a.floor}
    names = (n for e in catalog.entities.values() for n in (e.name, *e.aliases))
    return not all(readings & have for readings in places_said(text, names))


_LOCKING = frozenset(
    [fold(w) for pair in DOMAIN_WORDS["lock"].values() for w in pair]
    + [w for w, side in SIDES["lock"].items() if side < 0]
)


def _says_locking(text: str) -> bool:
    """Whether the request says a lock or locking ("lock up", "cierra la cerradura"), not only a
    door ("cerrar puerta del garaje" is no lock)."""
    return not _LOCKING.isdisjoint(fold(text).split())


def _sweeps_home(clause: Clause) -> bool:
    """Whether the clause is about every device of a kind in the whole home."""
    target = clause.target
    return target.how == "all" and not (target.area or target.floor or target.here)


_APPLIANCES: dict[str, str] = {
    "en": """oven|stove|cooktop|hob|microwave|dishwasher|washing machine|washer|dryer|fridge
        |refrigerator|freezer|vacuum|hoover|robot|mower|lawnmower|hot tub|jacuzzi|sauna|tv
        |television|telly|speaker|stereo|radio|camera|doorbell|coffee machine|coffee maker
        |kettle|toaster|printer|computer""",
    "fr": """four|cuisinière|plaque|micro-ondes|lave-vaisselle|lave-linge|machine à laver
        |sèche-linge|frigo|réfrigérateur|congélateur|aspirateur|robot|tondeuse|jacuzzi|sauna
        |télé|télévision|enceinte|radio|caméra|sonnette|cafetière|machine à café|bouilloire
        |grille-pain|imprimante|ordinateur""",
    "es": """horno|vitrocerámica|microondas|lavavajillas|lavadora|secadora|nevera|frigorífico
        |congelador|aspiradora|robot|cortacésped|jacuzzi|sauna|tele|televisión|televisor
        |altavoz|radio|cámara|timbre|cafetera|hervidor|tostadora|impresora|ordenador""",
    "de": """ofen|backofen|herd|mikrowelle|spülmaschine|geschirrspüler|waschmaschine|trockner
        |kühlschrank|gefrierschrank|staubsauger|saugroboter|roboter|rasenmäher|mähroboter
        |whirlpool|sauna|fernseher|tv|lautsprecher|radio|kamera|türklingel|klingel
        |kaffeemaschine|wasserkocher|toaster|drucker|computer""",
}
"""Per language, appliances a home has that are seldom its gateway's devices (an oven, a
television, a robot vacuum), by the words people call them."""

_APPLIANCE_WORDS = {language: phrases(words) for language, words in _APPLIANCES.items()}


def names_something_missing(frame: Frame, catalog: Catalog, text: str, language: str) -> bool:
    """Whether the request names a place (:func:`names_a_missing_place`) or an appliance
    (:func:`names_a_missing_device`) the home lacks, which the frame put elsewhere: the
    answer is "no such device", and no retry looks for it elsewhere."""
    return names_a_missing_place(frame, catalog, text) or names_a_missing_device(
        frame, catalog, text, language
    )


def names_a_missing_device(frame: Frame, catalog: Catalog, text: str, language: str) -> bool:
    """Whether the request names an appliance ("preheat the oven", "allume le jacuzzi") that no
    device or area of the home is called by, not even inside a longer word ("Backofenlicht"),
    while the frame does not name a device the request says: the model put the missing device
    somewhere, and the home has no such thing."""
    padded = f" {fold(text)} "
    said = [w.strip() for w in _APPLIANCE_WORDS.get(language, ()) if w in padded]
    if not said:
        return False
    names = [n for e in catalog.entities.values() for n in (e.name, *e.aliases)]
    names += [n for a in catalog.areas.values() for n in (a.name, *a.aliases)]
    folded = " ".join(fold(n) for n in names)
    if all(w in folded for w in said):
        return False
    named = [c.target.name for c in frame.clauses if c.target.how == "name" and c.target.name]
    return not (named and all(name_said(n, catalog, text) for n in named))


def _names_an_unsaid_place(frame: Frame, catalog: Catalog, text: str) -> bool:
    """Whether the frame puts a target in an area or on a floor the request does not say."""
    return any(_unsaid_place(clause, catalog, text) for clause in frame.clauses)


def _unsaid_place(clause: Clause, catalog: Catalog, text: str) -> bool:
    """Whether the clause puts its target in an area or on a floor the request does not say."""
    area, floor = clause.target.area, clause.target.floor
    return (area is not None and not place_said(catalog, area, "area", text)) or (
        floor is not None and not place_said(catalog, floor, "floor", text)
    )
