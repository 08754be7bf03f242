"""Which of en/fr/es/de a request to the home is in, when the caller does not say.

Requests are short ("lampadaire 40 %", "Garage zu"), so general language identifiers, trained
on sentences, guess poorly on them, and the good ones carry models for dozens of languages (tens
of MB) that an edge box does not need. The words of home requests tell the four languages apart
well: function words and verbs of home control below, and the home vocabulary of
:mod:`edgeward.runtime.homes` (areas, floors, devices). A word counts for every language that
has it; the language with the most words wins, and a tie is no answer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache

from edgeward.runtime.homes import (
    AREA_WORDS,
    DEVICE_KINDS,
    DOMAIN_WORDS,
    FLOOR_WORDS,
    LANGUAGES,
    fold,
)

_FUNCTION_WORDS: dict[str, str] = {
    "en": "the a an to in on off of and or then please turn switch set put make open close shut "
    "lock unlock start stop is are was what whats how it its my all every everything lights "
    "light at minutes minute hours hour seconds into up down warmer colder brighter dimmer "
    "bit little too here there this room house anyone anybody someone did i me you can could "
    "would want need leave left still when check tell kill run activate press toggle",
    "fr": "le la les l un une du des dans et ou puis s il te plait stp allume allumer eteins "
    "eteindre mets mettre ferme fermer ouvre ouvrir monte baisse lance active arrete est sont "
    "quel quelle quelles tous toutes tout lumiere lumieres a au aux minutes heures secondes "
    "peu plus moins ici cette piece maison quelqu j ai je tu peux veux encore merci bien "
    "chaque soir matin semaine verrouille deverrouille regle passe fait chaud froid combien",
    "es": "el la las los un una del de en y o luego por favor enciende encender apaga apagar "
    "pon poner cierra cerrar abre abrir sube baja activa para esta estan cual que todos todas "
    "todo luz luces a al minutos horas segundos poco mas menos aqui habitacion casa "
    "alguien hay yo tu puedes quiero sigue gracias cada noche manana semana dentro hace frio "
    "calor cuanto llave bloquea desbloquea alto hasta",
    "de": "der die das den dem des ein eine einen im in und oder dann bitte schalte schalt mach "
    "mache an aus auf zu ab offen ist sind welche welcher alle alles licht lichter um "
    "minuten stunden sekunden etwas mehr weniger hier diesem zimmer haus jemand wer ich du "
    "kannst will noch danke jeden abend morgen werktags wie warm kalt viel hoch runter stell "
    "stelle schliess schliesse offne fahr starte",
}  # fmt: skip


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, frozenset[str]]:
    """Per language, the folded words that say it."""
    words: dict[str, set[str]] = {
        lang: set(fold(text).split()) for lang, text in _FUNCTION_WORDS.items()
    }
    tables: list[Mapping[str, Sequence[str]]] = [
        *(by_language for table in (AREA_WORDS, FLOOR_WORDS) for _, by_language in table.values()),
        *(kind.names for kind in DEVICE_KINDS),
        *DOMAIN_WORDS.values(),
    ]
    for by_language in tables:
        for lang, names in by_language.items():
            words[lang].update(w for n in names for w in fold(n).split())
    return {lang: frozenset(w for w in words[lang] if not w.isdigit()) for lang in LANGUAGES}


def detect_language(text: str) -> str | None:
    """The language of ``text`` among en/fr/es/de, or None when its words do not tell."""
    vocabulary = _vocabulary()
    scores: Counter[str] = Counter()
    for word in re.findall(r"[a-z]+", fold(text)):
        for lang in LANGUAGES:
            if word in vocabulary[lang]:
                scores[lang] += 1
    ranked = scores.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]
