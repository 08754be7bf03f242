"""How things are said in English, French, Spanish and German, for the request generator.

Articles and prepositions that agree with the noun ("la cuisine", "l'entrée", "im Flur", "in der
Küche"), spoken numbers ("vingt et un", via ``unicode-rbnf``), delays ("in ten minutes"), times of
day ("at 7 pm", "à 19h") and schedules ("every weekday at 6:30"), and the speech-to-text noise
people's requests arrive with (lower case, no punctuation, typos, fillers, dropped articles).
"""

from __future__ import annotations

import random
import re

from edgeward.runtime.homes import fold
from edgeward.runtime.spoken_numbers import spoken

_FR_FEM = set(
    "lumiere lampe prise porte serrure vanne cuisine chambre salle entree terrasse cave piscine "
    "buanderie allee bibliotheque fenetre temperature humidite puissance consommation batterie "
    "luminosite climatisation clim machine bouilloire tele pompe imprimante ouverture bande "
    "liseuse applique scene arrivee vmc maison soiree fete detente lecture arrosage "
    "chaudiere television".split()
)  # fmt: skip
_ES_FEM = set(
    "luz lampara persiana cortina valvula llave cerradura puerta cocina habitacion sala terraza "
    "bodega escalera piscina biblioteca cafetera tele bomba impresora ventana temperatura humedad "
    "potencia bateria luminosidad escena tira calefaccion entrada planta oficina buhardilla "
    "cancela casa cena fiesta noche lectura despensa".split()
)  # fmt: skip
_DE_FEM = (
    "lampe leuchte kuche garage terrasse diele treppe tur jalousie markise steckdose heizung "
    "klimaanlage pumpe kaffeemaschine temperatur feuchtigkeit leistung batterie helligkeit "
    "bewegung bewasserung szene taste toilette werkstatt einfahrt veranda kammer bibliothek "
    "beleuchtung leiste wand stube sauna"
).split()  # fmt: skip
_DE_NEUT = (
    "licht zimmer bad buro fenster tor ventil schloss thermostat wc rollo geschoss gartenhaus "
    "haus erdgeschoss obergeschoss untergeschoss dachgeschoss eg og dg co2 klimagerat"
).split()  # fmt: skip


def gender(language: str, noun: str) -> str:
    """``m``, ``f`` or ``n`` (or ``p`` for a plural) for the head noun of a phrase."""
    words = fold(noun).split()
    if not words:
        return "m"
    if language == "de":
        last = words[-1]
        if any(last.endswith(s) for s in _DE_NEUT):
            return "n"
        if any(last.endswith(s) for s in _DE_FEM):
            return "f"
        return "m"
    head = words[0]
    if language == "fr":
        if head.endswith(("s", "x")) and head not in ("sous", "spots", "wc"):
            return "p"
        return "f" if head in _FR_FEM else "m"
    if language == "es":
        if head.endswith("s") and head not in ("gas", "co2"):
            return "p"
        return "f" if head in _ES_FEM else "m"
    return "m"


def the(language: str, noun: str, *, plural: bool = False, case: str = "acc") -> str:
    """``noun`` with its definite article (German: accusative or ``dat``ive)."""
    g = "p" if plural else gender(language, noun)
    if language == "en":
        return f"the {noun}"
    if language == "fr":
        if g == "p":
            return f"les {noun}"
        if fold(noun)[:1] in tuple("aeiouyh"):
            return f"l'{noun}"
        return f"{'la' if g == 'f' else 'le'} {noun}"
    if language == "es":
        art = {"m": "el", "f": "la", "p": "los", "n": "el"}[g]
        if g == "p" and fold(noun).split()[0] in _ES_FEM_PLURAL:
            art = "las"
        return f"{art} {noun}"
    if g == "p":
        return f"{'den' if case == 'dat' else 'die'} {noun}"
    if case == "dat":
        return f"{ {'m': 'dem', 'f': 'der', 'n': 'dem'}[g] } {noun}"
    return f"{ {'m': 'den', 'f': 'die', 'n': 'das'}[g] } {noun}"


_ES_FEM_PLURAL = {w + "s" for w in _ES_FEM} | {"luces", "persianas", "cortinas", "ventanas"}


def in_place(language: str, place: str) -> str:
    """``place`` after "in": in the kitchen, dans la cuisine, en la cocina, in der Küche / im Bad."""
    if language == "en":
        return f"in the {place}"
    if language == "fr":
        return f"dans {the('fr', place)}"
    if language == "es":
        return f"en {the('es', place)}"
    g = gender("de", place)
    return f"in der {place}" if g == "f" else f"im {place}"


_ES_PARTICIPLES = ("encendido", "apagado", "quieto", "abierto", "cerrado")


def agree_es(template: str, x: str) -> str:
    """A Spanish template's participles made to agree with ``x`` by its article ("quiero {x}
    encendido" with "la luz": "encendida")."""
    article = x.split(" ", 1)[0].lower()
    ending = {"la": "a", "una": "a", "las": "as", "los": "os"}.get(article)
    if ending is None:
        return template
    for word in _ES_PARTICIPLES:
        template = re.sub(rf"\b{word}\b", word[:-1] + ending, template)
    return template


def of_place(language: str, place: str) -> str:
    """``place`` as a complement: of the kitchen, de la cuisine / du salon, de la cocina / del."""
    if language == "en":
        return f"in the {place}"
    if language == "fr":
        art = the("fr", place)
        if art.startswith("le "):
            return "du " + art[3:]
        if art.startswith("les "):
            return "des " + art[4:]
        return "de " + art
    if language == "es":
        art = the("es", place)
        return "del " + art[3:] if art.startswith("el ") else "de " + art
    return in_place("de", place)


# --- numbers ------------------------------------------------------------------------------------

_HALF = {"en": "and a half", "fr": "et demi", "es": "y medio", "de": "komma fünf"}
_POINT = {"en": ".", "fr": ",", "es": ",", "de": ","}


def say_number(rng: random.Random, language: str, value: float) -> str:
    """``value`` as digits or words, halves included (20.5 -> "20,5", "twenty and a half")."""
    whole = int(value)
    half = value != whole
    if rng.random() < 0.35:
        words = spoken(language, whole)
        return f"{words} {_HALF[language]}" if half else words
    return f"{whole}{_POINT[language]}5" if half else str(whole)


# --- time ---------------------------------------------------------------------------------------

_DELAY_UNITS = {
    "en": ("second", "seconds", "minute", "minutes", "hour", "hours"),
    "fr": ("seconde", "secondes", "minute", "minutes", "heure", "heures"),
    "es": ("segundo", "segundos", "minuto", "minutos", "hora", "horas"),
    "de": ("Sekunde", "Sekunden", "Minute", "Minuten", "Stunde", "Stunden"),
}
_IN = {"en": "in", "fr": "dans", "es": "en", "de": "in"}
_HALF_HOUR = {
    "en": "in half an hour",
    "fr": "dans une demi-heure",
    "es": "dentro de media hora",
    "de": "in einer halben Stunde",
}
_ONE_HOUR = {
    "en": "in an hour",
    "fr": "dans une heure",
    "es": "en una hora",
    "de": "in einer Stunde",
}
_QUARTER_HOUR = {
    "en": "in a quarter of an hour",
    "fr": "dans un quart d'heure",
    "es": "en un cuarto de hora",
    "de": "in einer Viertelstunde",
}


def say_delay(rng: random.Random, language: str) -> tuple[str, int]:
    """A spoken delay and its length in seconds."""
    roll = rng.random()
    if roll < 0.1:
        return _HALF_HOUR[language], 1800
    if roll < 0.18:
        return _ONE_HOUR[language], 3600
    if roll < 0.23:
        return _QUARTER_HOUR[language], 900
    units = _DELAY_UNITS[language]
    if roll < 0.3:
        n = rng.choice([10, 20, 30, 45, 90])
        unit, mult = units[1], 1
    elif roll < 0.9:
        n = rng.choice([1, 2, 3, 5, 10, 15, 20, 25, 30, 40, 45])
        unit, mult = (units[2] if n == 1 else units[3]), 60
    else:
        n = rng.choice([2, 3, 4])
        unit, mult = units[5], 3600
    amount = spoken(language, n) if rng.random() < 0.5 else str(n)
    if language == "de" and n == 1:
        amount = "einer"
    elif n == 1 and language in ("fr", "es"):
        amount = "une" if language == "fr" else "un"
    return f"{_IN[language]} {amount} {unit}", n * mult


def say_clock(rng: random.Random, language: str, hour: int, minute: int) -> str:
    """A time of day (24 h ``hour``) the way it is said: 7 pm, 19h30, las 7 de la tarde, 19 Uhr."""
    style = rng.random()
    if language == "en":
        if style < 0.6:
            h12 = hour % 12 or 12
            mm = f":{minute:02d}" if minute else ""
            return f"{h12}{mm} {'am' if hour < 12 else 'pm'}"
        return f"{hour:02d}:{minute:02d}" if style < 0.85 else f"{hour}:{minute:02d}"
    if language == "fr":
        if style < 0.6:
            return f"{hour}h{minute:02d}" if minute else f"{hour}h"
        return f"{hour} heures {minute}" if minute else f"{hour} heures"
    if language == "es":
        if style < 0.5 and 1 <= hour <= 23:
            h12 = hour % 12 or 12
            part = "de la mañana" if hour < 12 else "de la tarde" if hour < 20 else "de la noche"
            mm = " y media" if minute == 30 else f":{minute:02d}" if minute else ""
            return f"{h12}{mm} {part}"
        return f"{hour}:{minute:02d}"
    if style < 0.5:
        return f"{hour} Uhr {minute}" if minute else f"{hour} Uhr"
    return f"{hour}:{minute:02d}"


_AT = {"en": "at", "fr": "à", "es": "a las", "de": "um"}


def say_at(rng: random.Random, language: str) -> tuple[str, str]:
    """A spoken "at <time>" and the ``HH:MM`` it means."""
    hour = rng.choice([6, 7, 8, 9, 12, 13, 17, 18, 19, 20, 21, 22, 23])
    minute = rng.choice([0, 0, 0, 15, 30, 45])
    clock = say_clock(rng, language, hour, minute)
    at = _AT[language]
    if language == "es" and clock.startswith(("1:", "1 ")):
        at = "a la"
    return f"{at} {clock}", f"{hour:02d}:{minute:02d}"


_DAYS: dict[str, list[tuple[str, str]]] = {
    "en": [("every day", "*"), ("every weekday", "1-5"), ("on weekends", "0,6"),
           ("every monday", "1"), ("every sunday", "0"), ("every friday", "5")],
    "fr": [("tous les jours", "*"), ("en semaine", "1-5"), ("le week-end", "0,6"),
           ("tous les lundis", "1"), ("tous les dimanches", "0"), ("chaque vendredi", "5")],
    "es": [("todos los días", "*"), ("entre semana", "1-5"), ("los fines de semana", "0,6"),
           ("cada lunes", "1"), ("todos los domingos", "0"), ("los viernes", "5")],
    "de": [("jeden Tag", "*"), ("werktags", "1-5"), ("am Wochenende", "0,6"),
           ("jeden Montag", "1"), ("sonntags", "0"), ("jeden Freitag", "5")],
}  # fmt: skip


_DAILY_AT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (("every morning",), ("every evening", "every night")),
    "fr": (("tous les matins", "chaque matin"), ("tous les soirs", "chaque soir")),
    "es": (("todas las mañanas", "cada mañana"), ("todas las noches", "cada tarde")),
    "de": (("jeden Morgen", "morgens"), ("jeden Abend", "abends")),
}  # fmt: skip
"""Every day, said by the part of the day: (before noon, from 17:00)."""
_WEEKDAYS = {"en": "from monday to friday", "fr": "du lundi au vendredi",
             "es": "de lunes a viernes", "de": "von Montag bis Freitag"}  # fmt: skip


def say_schedule(rng: random.Random, language: str) -> tuple[str, str]:
    """A spoken repeating schedule and its five-field cron expression."""
    at, hhmm = say_at(rng, language)
    hour, minute = (int(x) for x in hhmm.split(":"))
    options = [*_DAYS[language], (_WEEKDAYS[language], "1-5")]
    morning, evening = _DAILY_AT[language]
    if hour < 12 or hour >= 17:
        options += [(d, "*") for d in (morning if hour < 12 else evening)]
    days, dow = rng.choice(options)
    text = f"{days} {at}" if rng.random() < 0.7 else f"{at} {days}"
    return text, f"{minute} {hour} * * {dow}"


# --- noise --------------------------------------------------------------------------------------

_FILLERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (("please", "hey", "um", "ok so", "hey home", "so", "right,"),
           ("please", "thanks", "thank you", "for me", "now", "right now", "i'm leaving", "we're going out")),
    "fr": (("euh", "dis", "bon", "alors", "s'il te plaît,", "ok"),
           ("s'il te plaît", "stp", "merci", "maintenant", "tout de suite", "je pars", "on s'en va")),
    "es": (("oye", "eh", "venga", "a ver", "por favor,", "vale"),
           ("por favor", "gracias", "ya", "ahora", "que me voy", "que nos vamos")),
    "de": (("hey", "äh", "ok", "also", "bitte", "na"),
           ("bitte", "danke", "jetzt", "sofort", "mal", "ich gehe jetzt", "wir gehen")),
}  # fmt: skip
"""Words around a request that change nothing (prefixes fit before any sentence), among them
why the speaker asks ("i'm leaving")."""
_ARTICLES = {
    "en": {"the", "my", "a"},
    "fr": {"le", "la", "les", "l"},
    "es": {"el", "la", "los", "las"},
    "de": {"der", "die", "das", "den", "dem"},
}
_KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def noisy(rng: random.Random, language: str, text: str) -> str:
    """``text`` as it might arrive: fillers, dropped articles, typos, speech-to-text lower case."""
    if rng.random() < 0.25:
        before, after = _FILLERS[language]
        if rng.random() < 0.5:
            text = f"{rng.choice(before)} {text}"
        else:
            text = f"{text} {rng.choice(after)}"
    words = text.split(" ")
    if rng.random() < 0.15:
        words = [w for w in words if w.lower() not in _ARTICLES[language]] or words
    if rng.random() < 0.2:
        long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        if long_words:
            i = rng.choice(long_words)
            words[i] = _typo(rng, words[i])
    text = " ".join(words)
    roll = rng.random()
    if roll < 0.45:
        text = text.lower()
    elif roll < 0.75:
        text = text[:1].upper() + text[1:]
        if rng.random() < 0.5:
            text += "?" if _is_question(text) else rng.choice([".", "!"])
    return text


def _is_question(text: str) -> bool:
    first = fold(text).split()[:1]
    return bool(first) and first[0] in {
        "is", "are", "what", "whats", "how", "est", "quelle", "quel", "es", "esta", "estan",
        "cual", "cuanto", "ist", "sind", "wie", "was", "hay", "gibt",
    }  # fmt: skip


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    roll = rng.random()
    if roll < 0.35:
        return word[:i] + word[i + 1 :]
    if roll < 0.7:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if roll < 0.85:
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(_KEYBOARD) + word[i + 1 :]
