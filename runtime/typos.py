"""Typos in the words of a home's names, mended before the embedded model reads a request.

The model writes a device, area or floor by copying its words from the request, and the grammar
lets it write only the home's own names: a typo ("deckenlciht", "pasilvo") leaves it nothing to
copy, and it writes another name or none. So a request word that no vocabulary of the project
knows, and that the model's tokenizer does not hold whole (nor a number said in words), becomes
a word of the home's names, aliases, areas and floors when it is one edit away from exactly one
of them and from no other word the project knows (or from names of one place in two
languages: "garae" is the "Garage", or "garaje"): a letter dropped, doubled, struck for
another, or swapped with the next. The first letter must be the same, and the last too or the
last two swapped: typos rarely touch a word's first letter, and an ending is how languages
inflect ("lights" is not a typo of "light", nor "lampen" of "lampe"). Words of three letters
or fewer are left as they are.

In a request that says no word of an action, a typo may also become one
(:data:`~edgeward.runtime.action_words.COMMANDS`: "ouvirr le store" -> "ouvrir"): that request
lost its command to the typo, while in one that says an action a word one edit from a command
is more likely a word of its own ("is the light still on" is not "stell"), unless that command
has six letters or more ("toigle" beside "set the fan to 75%", "fermr le store ... on s'en va").

Words are compared folded (:func:`~edgeward.runtime.homes.fold`); a mended word is written as
the home writes it, in lower case.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from edgeward.runtime.action_words import COMMANDS, LEVEL_WORDS
from edgeward.runtime.action_words import WORDS as ACTION_WORDS
from edgeward.runtime.catalog import Catalog
from edgeward.runtime.homes import COLOR_WORDS, NAME_WORDS, area_key, floor_key, fold, kind_names
from edgeward.runtime.retrieval import STOPWORDS, place_names
from edgeward.runtime.spoken_numbers import number_words

MIN_LETTERS = 4
"""The shortest word that is mended, and the shortest word of a name it may become."""

KNOWN_WORDS = (
    NAME_WORDS
    | STOPWORDS
    | ACTION_WORDS
    | LEVEL_WORDS
    | frozenset(fold(w) for by in COLOR_WORDS.values() for w in by.values())
)
"""Words of the project's vocabularies: words of a language, never mended."""

_WORD = re.compile(r"[^\W\d_]+")

_NOT_KINDS = frozenset({"lock", "valve", "scene", "button"})

_KINDS = {
    fold(w): w.lower()
    for w in kind_names(_NOT_KINDS)
    if _WORD.fullmatch(w) and len(fold(w)) >= MIN_LETTERS
}
"""The one-word names of kinds of device, in the four languages ("luces", "Fenster",
"calefacción"): a typo of one is mended, as the device it asks about is in it. Not the words of
longer names ("main" of "Main light" would take "matin"), nor the other words for locks, valves,
scenes and buttons, many of them words of their own ("cierre" would take "cerré")."""

_LEVELS = {w: w for w in (ACTION_WORDS | LEVEL_WORDS) - COMMANDS if len(w) >= MIN_LETTERS}
"""The words for a level or a degree that are no command ("etwas", "warmer", "halfway"): a
typo of one is mended ("dreh das Licht etwwas runter"), as the change it asks for is in it;
only a typo of at least :data:`_LONG_TYPO_LETTERS` letters, as a shorter word is often a word
of its own ("habe" is no "halbe")."""
_LONG_TYPO_LETTERS = 6
"""The fewest letters of a typo mended into a word that is often one edit from a word of its
own: a word for a level, or a command where the request says another ("toigle", not "still"
for "stell")."""


def home_words(catalog: Catalog) -> dict[str, str]:
    """The words a request may mean: each word (folded) of the home's names, aliases, areas and
    floors, and of its areas' and floors' names in the four languages ("downstairs" of a
    "Rez-de-chaussée"), as the home writes it in lower case."""
    names = [n for e in catalog.entities.values() for n in (e.name, *e.aliases, e.floor or "")]
    names += [n for a in catalog.areas.values() for n in (a.name, *a.aliases, a.floor or "")]
    names += [
        n for a in catalog.areas.values() for n in place_names(a.name, area_key(a.name), "area")
    ]
    names += [
        n
        for a in catalog.areas.values()
        if a.floor
        for n in place_names(a.floor, floor_key(a.floor), "floor")
    ]
    words: dict[str, str] = {}
    for written in _WORD.findall(" ".join(names).lower()):
        folded = fold(written)
        if len(folded) >= MIN_LETTERS and folded.isalpha():
            words.setdefault(folded, written)
    return words


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, str]:
    """The words of the project's vocabularies a typo is mended into in every request: the words
    of numbers said in words ("cincuinta" is "cincuenta", as the number it says is in it), of
    kinds of device (:data:`_KINDS`) and of levels (:data:`_LEVELS`); made once."""
    numbers = {w: w for w in number_words() if len(w) >= MIN_LETTERS and w.isalpha()}
    return {**numbers, **_KINDS, **_LEVELS}


def mend_typos(text: str, words: Mapping[str, str], known: Callable[[str], bool]) -> str:
    """``text`` with each word that is a typo of exactly one of ``words`` (:func:`home_words`),
    of a kind of device's name, of a word for a level or a degree, or of a word of an action
    when it says none, replaced by it; a word ``known`` says is a word of the model's, or of
    :data:`KNOWN_WORDS`, is kept."""
    home = words
    words = {**_vocabulary(), **words}
    if COMMANDS.isdisjoint(fold(text).split()):  # not the "d" of "d'un cran", nor "a bit"
        words = {**{w: w for w in COMMANDS}, **words}
    else:  # a long command's typo is no word of its own: "toigle" beside "set ... to 75%"
        words = {**{w: w for w in COMMANDS if len(w) >= _LONG_TYPO_LETTERS}, **words}
    keys = [*words, *(w for w in KNOWN_WORDS if w not in words)]

    def mend(match: re.Match[str]) -> str:
        said = match.group()
        folded = fold(said)
        if (
            len(folded) < MIN_LETTERS
            or folded in words
            or folded in KNOWN_WORDS
            or not folded.isalpha()
            or known(said.lower())
        ):
            return said
        near = [
            word
            for word, _, _ in process.extract(
                folded, keys, scorer=OSA.distance, score_cutoff=1, limit=None
            )
            if word[0] == folded[0] and (word[-1] == folded[-1] or word[-2:] == folded[:-3:-1])
        ]
        if len(near) > 1 and len({area_key(w) or w for w in near}) == 1:
            near = near[:1]  # one place in two languages: "garae" is "garage", or "garaje"
        if len(near) != 1 or near[0] not in words:
            return said
        if near[0] in _LEVELS and near[0] not in home and len(folded) < _LONG_TYPO_LETTERS:
            return said  # "habe" is no "halbe"
        return words[near[0]]

    return _WORD.sub(mend, text)
