"""Local tool retrieval: the entities and tools a request is likely about, picked on the box.

A big home does not fit in the planner's prompt, so the planner sees only the candidates this
module returns. Matching is lexical and fuzzy, never a cloud embedding: every entity is indexed by
the words of its name and aliases, its area and floor (with the words for the same area and floor
in English, French, Spanish and German, so "cuisine" finds a home's "Kitchen"), its domain and
device class (light/lumière/luz/Licht, ...). Request words are folded (case, accents), stripped of
filler, and matched exactly, by typo-tolerant similarity (rapidfuzz), or as parts of German
compounds ("Küchenlicht"). Words are weighted by rarity in the home; the speaker's area lifts
its own devices. The grammar still allows only real entities: retrieval only narrows the prompt.

The same matching tells the planner whether a request says a name, an area or a floor
(:func:`is_said`, :func:`place_said`), so a plan that names what was not said is not trusted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from edgeward.runtime.bounded_cache import BoundedCache
from edgeward.runtime.catalog import STATE_TOOL, Catalog, Entity
from edgeward.runtime.homes import (
    AREA_WORDS,
    DEVICE_KINDS,
    DOMAIN_SYNONYMS,
    DOMAIN_WORDS,
    FLOOR_WORDS,
    area_key,
    floor_key,
    fold,
    translations,
)

DEFAULT_K = 16

# Field weights: a word of the name says more than a word of the area, which says more than the
# kind of device.
_NAME, _TRANSLATED, _AREA, _FLOOR, _DOMAIN = 3.0, 2.0, 2.0, 1.2, 1.5
_TIE_SPAN = 2  # at most k * _TIE_SPAN candidates when scores tie at the cut
_HINT = 0.75
_PERCENT = frozenset({"%", "percent", "pour", "por", "prozent", "pct"})
_FUZZY_CUTOFF = 80.0  # rapidfuzz ratio at which two words are one with a typo
_FUZZY_SHORT = 90.0  # the same when a name's word has 5 letters or fewer: "night" is not "light"
_MIN_PART = 4  # shortest indexed word looked for inside a longer request word
_MIN_INSIDE = 6  # shortest request word looked for inside a longer word of a name
_ANY_PLACE = frozenset(
    {"floor", "level", "etage", "planta", "piso", "stock", "geschoss", "room", "salle", "cuarto"}
)
"""Words many floors' or rooms' names have: they do not say which ("room" of "living room")."""

STOPWORDS = frozenset(
    fold(w)
    for w in """
    the a an my our of in on at to and then please can could would you me it is are be for
    turn switch set make put get all every some any this that there here now off up down
    le la les l un une des du de d dans sur au aux et puis s il te plait tu peux est ce que
    mets moi en tout tous toute toutes ici
    el los las lo una unos del al y por favor puedes que en esta este todo todas todos aqui
    der die das den dem des ein eine einen und bitte mal im in am an auf aus zu ist sind
    hier alle alles
    """.split()
)
"""Words that say nothing about which device is meant (en, fr, es, de)."""

# Word stems (folded) that point at a kind of device even when no device word is said:
# stems -> (domain, device class or None for any).
HINTS: tuple[tuple[tuple[str, ...], tuple[tuple[str, str | None], ...]], ...] = (
    (("lock", "unlock", "bolt", "verrouill", "deverrouill", "bloque", "desbloque", "cerrojo",
      "abschliess", "aufschliess", "verriegel", "entriegel", "abgeschloss"), (("lock", None),)),
    (("dim", "bright", "lumin", "tamis", "brillo", "atenu", "hell", "dunkl", "dimm"),
     (("light", None),)),
    (("warm", "cool", "cold", "hot", "heat", "freez", "chaud", "froid", "frais", "chauff", "gele",
      "calor", "frio", "calient", "fresc", "helando", "kalt", "heiss", "kuhl", "heiz", "degre",
      "grad", "combien", "cuanto", "etouff", "asando", "boiling", "chilly", "frisquet"),
     (("climate", None), ("sensor", "temperature"))),
    (("open", "close", "shut", "raise", "lower", "ouvr", "ferm", "monte", "baisse", "descend",
      "abre", "abiert", "cierra", "cerrad", "sube", "baja", "offn", "offen", "schliess", "hoch",
      "runter", "zumach", "aufmach"), (("cover", None), ("valve", None))),
    (("activ", "scene", "mode", "escena", "szene", "modo"), (("scene", None),)),
    (("press", "push", "appui", "pulsa", "druck"), (("button", None),)),
    (("speed", "vitesse", "velocidad", "geschwindigkeit"), (("fan", None),)),
)  # fmt: skip


@dataclass(frozen=True)
class Candidates:
    """What the planner's prompt should hold: entity ids best first, and the tools they offer."""

    entities: tuple[str, ...]
    tools: tuple[str, ...]
    scores: tuple[float, ...]


class Retriever:
    """An index of one home; build once per catalog version, query per request."""

    def __init__(self, home: Catalog) -> None:
        self.home = home
        self.version = home.version
        self._ids: list[str] = sorted(home.entities)
        self._index: dict[str, dict[int, float]] = {}
        self._areas: dict[str, list[int]] = {}
        for i, entity_id in enumerate(self._ids):
            entity = home.entities[entity_id]
            if entity.area is not None:
                self._areas.setdefault(entity.area, []).append(i)
            for word, weight in _entity_words(home, entity):
                slot = self._index.setdefault(word, {})
                slot[i] = max(slot.get(i, 0.0), weight)
        n = max(1, len(self._ids))
        self._idf = {w: 1.0 + math.log(n / len(ents)) for w, ents in self._index.items()}
        self._vocab = list(self._index)
        self._parts = [w for w in self._vocab if len(w) >= _MIN_PART]
        self._climate = [i for i, e in enumerate(self._ids) if e.startswith("climate.")]
        self._hinted: list[tuple[tuple[str, ...], list[int]]] = []
        for stems, kinds in HINTS:
            members = [
                i
                for i, entity_id in enumerate(self._ids)
                if any(
                    home.entities[entity_id].domain == domain
                    and dc in (None, home.entities[entity_id].device_class)
                    for domain, dc in kinds
                )
            ]
            if members:
                self._hinted.append((stems, members))

    def retrieve(self, text: str, area: str | None = None, k: int = DEFAULT_K) -> Candidates:
        """The ``k`` entities ``text`` (said in ``area``) most likely means, and their tools.

        Entities tied with the ``k``-th are kept too, up to ``2 * k`` in all.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        scores: dict[int, float] = {}
        folded = fold(text).split()
        words = [w for w in folded if w not in STOPWORDS]
        if self._climate and any(
            w.isdigit() and 5 <= int(w) <= 35 and (nxt not in _PERCENT)
            for w, nxt in zip(folded, [*folded[1:], ""], strict=False)  # "" ends the last pair
        ):
            for i in self._climate:
                scores[i] = scores.get(i, 0.0) + _HINT
        for word in words:
            for match, quality in self._matches(word):
                idf = self._idf[match]
                for i, weight in self._index[match].items():
                    scores[i] = scores.get(i, 0.0) + quality * weight * idf
            for stems, members in self._hinted:
                if word.startswith(stems):
                    for i in members:
                        scores[i] = scores.get(i, 0.0) + _HINT
        here = self._areas.get(area, []) if area is not None else []
        if here:
            bonus = _AREA * (1.0 + math.log(len(self._ids) / len(here)))
            for i in here:
                scores[i] = scores.get(i, 0.0) + bonus
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self._ids[item[0]]))
        if len(ranked) > k:
            # keep whoever ties with the last one kept: a group said as one ("the lights
            # upstairs") scores alike, and a cut through it would drop part of the group
            cut = ranked[k - 1][1]
            end = k
            while end < min(len(ranked), k * _TIE_SPAN) and ranked[end][1] >= cut - 1e-9:
                end += 1
            ranked = ranked[:end]
        entities = tuple(self._ids[i] for i, _ in ranked)
        return Candidates(entities, tools_of(self.home, entities), tuple(s for _, s in ranked))

    def _matches(self, word: str) -> Iterable[tuple[str, float]]:
        """Index words ``word`` stands for, with how well it matches each (1.0 exact)."""
        if word in self._index:
            yield word, 1.0
            return
        if word.isdigit():
            return
        found = False
        if len(word) >= 4:
            for match, score, _ in process.extract(
                word, self._vocab, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=2
            ):
                found = True
                yield match, score / 100.0 * 0.9
        if not found and len(word) >= _MIN_PART + 2:
            for part in self._parts:
                if part in word:
                    yield part, 0.8


# --- is a name said? (the planner's check that a plan names what the request said) ----------


def is_said(name: str, text: str) -> bool:
    """Whether ``text`` says ``name``: more than half of the name's words (filler aside) are in
    it, exactly, with a typo, or inside a longer word ("Küchenlicht")."""
    wanted = _name_words(name)
    words = _text_words(text)
    found = sum(_word_said(w, words) for w in wanted)
    return bool(wanted) and found * 2 > len(wanted)


@lru_cache(maxsize=4096)
def _name_words(name: str) -> tuple[str, ...]:
    return tuple(w for w in fold(name).split() if w not in STOPWORDS) or tuple(fold(name).split())


@lru_cache(maxsize=256)
def _text_words(text: str) -> tuple[str, ...]:
    return tuple(fold(text).split())


@lru_cache(maxsize=65536)
def _word_said(word: str, words: tuple[str, ...]) -> bool:
    """Whether one of ``words`` is ``word``, exactly, with a typo, with it inside, or inside it
    ("Ventilator" of a "Deckenventilator")."""
    return any(
        word == r
        or fuzz.ratio(word, r) >= (_FUZZY_SHORT if len(word) <= 5 else _FUZZY_CUTOFF)
        or (len(word) >= _MIN_PART and word in r)
        or (len(r) >= _MIN_INSIDE and r in word)
        for r in words
    )


def place_said(catalog: Catalog, said: str, table: str, text: str) -> bool:
    """Whether ``text`` names the area (``table`` "area") or floor a frame wrote as ``said``: by
    one of its words, an alias, or the word for it in any of the four languages."""
    key = area_key(said) if table == "area" else floor_key(said)
    words = {w for name in place_names(said, key, table) for w in _telling(name)}
    for area in catalog.areas.values():
        if table == "area" and fold(area.name) == fold(said):
            words |= {w for a in area.aliases for w in _telling(a)}
    return any(is_said(w, text) for w in words)


def place_named(
    catalog: Catalog, said: str, table: str, text: str, *, exactly: bool = False
) -> bool:
    """Whether ``text`` says every word of a name of the area (``table`` "area") or floor a
    frame wrote as ``said``: its own, an alias, or its name in one of the four languages ("la
    salle de sport" names the gym, not the bathroom, a "salle de bain"); with a typo or inside a
    longer word (:func:`is_said`), or, ``exactly``, as they are ("ding" is no typo of "dining"
    then)."""
    key = area_key(said) if table == "area" else floor_key(said)
    names = [*place_names(said, key, table)]
    names += [n for a in catalog.areas.values() if fold(a.name) == fold(said) for n in a.aliases]
    words_said = set(_text_words(text))

    def says(word: str) -> bool:
        return word in words_said if exactly else is_said(word, text)

    return any((words := _telling(name)) and all(says(w) for w in words) for name in names)


def _telling(name: str) -> set[str]:
    """The words of a place's name that tell it from others: all but those many have ("first"
    of "first floor", "dining" of "dining room"), unless it has no other ("Étage", French for
    upstairs)."""
    words = _words(name)
    return words - _ANY_PLACE or words


def tools_of(home: Catalog, entity_ids: Iterable[str]) -> tuple[str, ...]:
    """The tools the entities offer, in the order of the entities, then ``state.get``."""
    seen: dict[str, None] = {}
    for entity_id in entity_ids:
        entity = home.entities[entity_id]
        for service in entity.services:
            seen.setdefault(f"{entity.domain}.{service}", None)
    if home.entities:
        seen.setdefault(STATE_TOOL, None)
    return tuple(seen)


def retrieve(text: str, area: str | None, home: Catalog, k: int = DEFAULT_K) -> Candidates:
    """Retrieval with the index of the last few catalog versions kept (a catalog's version is
    a hash of its content, so an index never outlives what it indexed)."""
    return _RECENT.get(home.version, lambda: Retriever(home)).retrieve(text, area, k)


_RECENT: BoundedCache[str, Retriever] = BoundedCache(4)


def _words(*texts: str) -> set[str]:
    out: set[str] = set()
    for text in texts:
        out.update(w for w in fold(text).split() if w not in STOPWORDS)
    return out


def _entity_words(home: Catalog, entity: Entity) -> Iterable[tuple[str, float]]:
    names = (entity.name, *entity.aliases, entity.entity_id.split(".", 1)[1].replace("_", " "))
    for word in _words(*names):
        yield word, _NAME
    for word in _words(*(t for n in names for t in translations(n))):
        yield word, _TRANSLATED
    if entity.area:
        known = home.areas.get(entity.area)
        aliases = _words(*known.aliases) if known else set()
        for word in _place_words(entity.area, area_key(entity.area), "area") | aliases:
            yield word, _AREA
    if entity.floor:
        for word in _place_words(entity.floor, floor_key(entity.floor), "floor"):
            yield word, _FLOOR
    for word in _kind_words(entity.domain, entity.device_class):
        yield word, _DOMAIN


@lru_cache(maxsize=256)
def _kind_words(domain: str, device_class: str | None) -> frozenset[str]:
    """Words for a kind of device in every language: its domain's, and its device class's."""
    texts = [w for ws in DOMAIN_WORDS.get(domain, {}).values() for w in ws]
    texts += DOMAIN_SYNONYMS.get(domain, ())
    if device_class is not None:
        for kind in DEVICE_KINDS:
            if kind.domain == domain and kind.device_class == device_class:
                texts += [w for ws in kind.names.values() for w in ws]
    return frozenset(_words(*texts))


@lru_cache(maxsize=4096)
def _place_words(place: str, key: str | None, table: str) -> frozenset[str]:
    """Words for an area or floor: its own name and the words for it in every language."""
    return frozenset(_words(*place_names(place, key, table)))


def place_names(place: str, key: str | None, table: str) -> tuple[str, ...]:
    """An area's or floor's own name and its names in every language, by its vocabulary key
    (:func:`~edgeward.runtime.homes.area_key`, :func:`~edgeward.runtime.homes.floor_key`)."""
    if key is None:
        return (place,)
    words = AREA_WORDS if table == "area" else FLOOR_WORDS
    return (place, *(w for ws in words[key][1].values() for w in ws))
