"""Words that say which of two opposite actions a request asks for: "on" or "open" against
"off" or "close", "unlock" against "lock", in English, French, Spanish and German.

A small model that has not seen a phrasing may read it backwards ("power on" as off, "pull down
the blinds" as open). The planner checks an action that has an opposite against the words of
the request (:func:`contradicts`): when the request says words of the opposite side only, the
action is doubtful and the model's next choice is tried. A request that says words of both sides
("turn off the light on the porch", "mach das Licht an der Veranda aus") is never contradicted,
so words that are also prepositions ("on", "an", "auf") do no harm there. Names are not words
of a side: the home's devices, areas and floors, and the words for floors ("planta baja") are
taken out of the request first. Words are compared folded (:func:`~edgeward.runtime.homes.fold`).

The same words, with commands that have no opposite ("toggle", "lance", "stell"), say whether a
part of a request names an action at all (:func:`says_an_action`): "and the floor lamp" does
not, and takes the action of the part it is said with. The words for opening and closing alone
say when "the garage" is its door (:func:`says_open_or_close`); none of these words names a
kind of device (:func:`without_on_off`); and words of degree ("a bit", "un peu", "heller") say
that a request asks for a change of level, not a switch (:func:`says_a_degree`). Words of a
way ("plus fort", "runter") and of feeling cold or hot ("mir ist heiß") say which way a change
of level goes (:func:`says_the_other_way`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from edgeward.runtime.homes import COLOR_WORDS, FLOOR_WORDS, fold

OPPOSITES: Mapping[str, tuple[str, int]] = {
    "on": ("on", 1), "off": ("on", -1), "open": ("on", 1), "close": ("on", -1),
    "unlock": ("lock", 1), "lock": ("lock", -1),
}  # fmt: skip
"""Each action that has an opposite: its pair, and its side of it. "on" and "open" are one
side, as the rules make "on" open a blind and "off" close a valve."""

_OPEN = """open raise lift up ouvre ouvrir ouvrez monte remonte leve releve abre abrir sube subir
    levanta alza offne offnen oeffne auf aufmachen hoch"""
_CLOSE = """close lower down ferme fermer fermez baisse descends abaisse cierra cerrar baja bajar
    schliess schliesse schliessen zu zumachen runter herunter"""

_WORDS: Mapping[str, Mapping[int, str]] = {
    "on": {
        1: """on allume allumer allumez rallume eclaire eclairer eclairez enciende encender
              enciendes prende prender encendido encendida encendidos encendidas an
              einschalten anschalten anmachen activate active activer activez activa activar
              aktiviere aktivieren demarre demarrer demarrez route
              """
        + _OPEN,
        -1: """off kill shut eteins eteindre eteignez eteint eteinte apaga apagar apagas apagado
               apagada apagados apagadas quita quite aus ab ausschalten ausmachen abschalten
               deactivate desactive desactiver desactivez desactiva desactivar deaktiviere
               deaktivieren stop stoppe stopper arrete arreter deten detener stopp
               """
        + _CLOSE,
    },
    "lock": {
        1: """unlock unbolt deverrouille deverrouiller desbloquea desbloquear quita quite entriegle
              entriegeln aufschliessen""",
        -1: """lock bolt verrouille verrouiller bloquea bloquear llave verriegle verriegeln ab
               abschliessen""",
    },
}
"""Per pair, the words of each side: verbs, their particles ("on", "aus", "hoch") and the
states a request may ask for ("encendido")."""

SIDES: Mapping[str, Mapping[str, int]] = {
    pair: {fold(word): side for side, words in by_side.items() for word in words.split()}
    for pair, by_side in _WORDS.items()
}
"""Per pair, each word (folded) and the side it says."""


_TOGGLE = "toggle flip bascule basculer inverse cambia alterna umschalten"
"""Words that say to toggle, and nothing else ("switch" and "schalte" also go with "on")."""

_COMMANDS = (
    _TOGGLE
    + """ switch schalte schalt
    halt para anhalten halte press push
    appuie appuyer presiona pulsa drucke druck betatige set put make mets mettre regle regler
    place pon poner ajusta deja stell stelle setze mach run start launch lance lancer ejecuta
    starte dim dimm tamise"""
)
"""Words of commands with no opposite ("toggle", "press", "set", "run"), in the four
languages. Words for stopping are words for off ("arrête la lumière"), but for "para" (also
"for") and "halt" (also "hold")."""

_ACTION_WORDS = frozenset(fold(w) for w in _COMMANDS.split()).union(*SIDES.values())
"""Every word that says an action (folded): either side of a pair, or a command."""


_OPEN_OR_CLOSE = frozenset(fold(w) for w in [*_OPEN.split(), *_CLOSE.split()])
_SWITCH_WORDS = frozenset(SIDES["on"]) - _OPEN_OR_CLOSE
"""Words for on or off that are not words for opening or closing ("allume", "aus")."""


def says_open_or_close(text: str) -> bool:
    """Whether ``text`` has a word for opening or closing ("ferme", "mach ... zu"), not only for
    turning on or off: "open the garage" is its door, "turn on the garage" is not."""
    return not _OPEN_OR_CLOSE.isdisjoint(fold(text).split())


@lru_cache(maxsize=256)
def without_on_off(text: str) -> str:
    """``text`` folded, without its words for turning on or off, opening or closing (verbs and
    particles) and the words a request opens with that change nothing: never the name of a
    kind of device ("cierra" is not "cierre", a lock; "vale" is not "valves")."""
    return " ".join(w for w in fold(text).split() if w not in SIDES["on"] and w not in _OPENERS)


def phrases(words: str) -> tuple[str, ...]:
    """Phrases separated by "|", each folded and padded with spaces, to be found in a padded,
    folded request."""
    return tuple(f" {fold(w)} " for w in words.split("|"))


_DEGREES = phrases(
    """a bit|a little|a notch|brighter|dimmer|warmer|cooler|colder|un peu|un poil|d'un cran
    |plus fort|moins fort|un poco|un pelin|un punto|mas fuerte|menos fuerte|etwas|ein bisschen
    |eine stufe|heller|dunkler|warmer|kuhler|kalter|brighten|dim|soften|boost|tamise|adoucis
    |intensifie|atenua|suaviza|aviva|intensifica|hochdimmen|runterdimmen|dimm"""
)
_HALFWAY = phrases(
    """halfway|half way|half open|à moitié|à mi-hauteur|à mi-course|a la mitad
    |a media altura|a medias|halb auf|halb offen|zur hälfte|halbe höhe"""
)
"""Words for a cover at half its height: a level too ("abre las persianas a la mitad" is not
"open them")."""
_MORE_OR_LESS = phrases(
    """more light|less light|plus de lumière|moins de lumière|más luz|menos luz|mehr licht
    |weniger licht"""
)
"""Words for more or less light: a level ("more light from the floor lamp" is not "on"). Like
the half phrases, they are not words the typo mender keeps."""


def says_a_degree(text: str) -> bool:
    """Whether ``text`` asks for more or less of something ("a bit", "un peu", "heller"): a
    change of a level, never a plain on or off ("turn the heating up a bit")."""
    padded = f" {fold(text)} "
    return any(d in padded for d in (*_DEGREES, *_HALFWAY, *_MORE_OR_LESS))


_LEVEL_VERBS = frozenset(
    fold(w)
    for w in """raise lift lower monte remonte leve releve baisse descends abaisse sube subir
    levanta alza baja bajar hoch rauf runter herunter""".split()
)
"""Words that raise or lower: a cover's height, a light's level ("up" and "down" are left out:
"power down the lights" turns them off)."""


def raises_or_lowers(text: str) -> bool:
    """Whether ``text`` raises or lowers something ("sube la lámpara", "dreh das Licht
    runter") and says no word for switching on or off: of a light, that asks for a level."""
    words = set(fold(text).split())
    return not words.isdisjoint(_LEVEL_VERBS) and words.isdisjoint(_SWITCH_WORDS)


def says_an_action(text: str) -> bool:
    """Whether ``text`` has a word of an action: either side of a pair ("off", "ouvre",
    "abschließen") or another command ("toggle", "lance", "stell"). A part of a request without
    one ("... and the floor lamp") takes the action of the part it is said with."""
    return not _ACTION_WORDS.isdisjoint(fold(text).split())


_CARRIERS = frozenset(
    fold(
        """turn switch put set make mets mettre place pon poner deja mach schalte schalt stell
        stelle setze dreh"""
    ).split()
)
"""Verbs that carry an action another word says ("turn ... off", "mets ... en route", "mach ...
an"): alone, they do not say which."""


def says_which_action(text: str) -> bool:
    """Whether ``text`` says an action (:func:`says_an_action`) by a word other than a verb
    that only carries one: "put the hallway blind" (and ... "up") does not say which."""
    return not (_ACTION_WORDS - _CARRIERS).isdisjoint(fold(text).split())


_CHECKS = frozenset(
    fold(w)
    for w in """check verify verifie verifier controle controler comprueba comprobar revisa
    revisar mira prufe pruf prufen uberprufe uberpruf kontrolliere schau read lis lee lies""".split()
)
"""Words that ask to check something ("prüf die Steckdose", "vérifie la porte")."""

COMMANDS = _ACTION_WORDS | _CHECKS
"""The words (folded) that say what to do: either side of a pair, another command, a check."""

WORDS = COMMANDS | frozenset(w for degree in _DEGREES for w in degree.split())
"""Every word (folded) of this module's lists."""


def only_checks(text: str) -> bool:
    """Whether ``text`` asks to check something and says no action: a question, whatever
    else it says ("prüf licht regal" is not "turn on the shelf light")."""
    words = fold(text).split()
    return not _CHECKS.isdisjoint(words) and _ACTION_WORDS.isdisjoint(words)


_IMPERATIVES = frozenset(
    fold(
        """turn switch put press push run open close lock unlock raise lower activate deactivate
        start stop kill shut dim brighten launch allume éteins ouvre ferme verrouille
        déverrouille lance désactive mets arrête baisse monte remonte descends coupe appuie
        démarre enciende apaga abre cierra sube baja pon activa desactiva quita bloquea
        desbloquea prende presiona pulsa ejecuta mach schalte schalt öffne schließe schließ
        aktiviere deaktiviere stell starte drück drücke sperre"""
    ).split()
)
"""Verbs that open a command ("baja las persianas", "press the doorbell"), never a question."""

_INFINITIVES = frozenset(
    fold(
        """allumer éteindre eteindre ouvrir fermer verrouiller déverrouiller baisser monter
        lancer activer désactiver encender apagar abrir cerrar subir bajar activar desactivar
        bloquear desbloquear einschalten anschalten anmachen ausschalten abschalten ausmachen
        öffnen aufmachen schließen zumachen abschließen aufschließen aktivieren deaktivieren
        starten stoppen anhalten umschalten hochfahren runterfahren herunterfahren drücken"""
    ).split()
)
"""Verbs said whole ("fermer le store", "das Licht ausschalten"): a command where they open a
request, or end one in German."""

_OPENING_VERBS = _IMPERATIVES | _INFINITIVES

_OPENERS = frozenset(
    fold(
        """hey ok okay so please um right bitte mal also na äh ähm stp euh dis bon alors oye eh
        venga vale a ver por favor"""
    ).split()
)
"""Words a request may open with that change nothing ("hey", "bitte", "a ver")."""

_QUESTIONS = frozenset(
    fold(
        """is are was were does do did what which how est qu quel quelle quels quelles combien
        está están cuál cuáles cuánto cuánta hay ist sind welche welcher welches wie gibt
        brennt läuft"""
    ).split()
)
"""Words that open a question about the home ("is the door locked?", "¿está encendida?",
"qu'est-ce qui est allumé ?")."""

_MODALS = frozenset(
    fold(
        """can could would will peux pourrais pouvez pourriez puedes podrías kannst könntest
        können"""
    ).split()
)
"""Words of asking for an action politely ("est-ce que tu peux allumer ?"): a command."""


def commands(text: str) -> bool:
    """Whether ``text`` opens with a verb of a command ("baja las persianas", "bitte aktiviere
    die Heizung", "fermer le store"), after words that change nothing, or, not asked, ends with
    one as German does ("das Gasventil schließen"): a request to act, not a question."""
    words = [w for w in fold(text).split() if w not in _OPENERS]
    return bool(words) and (
        words[0] in _OPENING_VERBS or (words[-1] in _INFINITIVES and "?" not in text)
    )


def asks(text: str) -> bool:
    """Whether ``text`` is a question about the home: it has a question mark and opens with a
    word of a question ("is the door locked?", "¿está encendida la luz?"; "es ist stickig?" is
    said, not asked), and asks for no action politely ("can you ...?", "est-ce que tu peux
    ... ?")."""
    return "?" in text and _opening(text) in _QUESTIONS and _MODALS.isdisjoint(fold(text).split())


def _opening(text: str) -> str:
    """The first word of ``text`` (folded: "¿" is no word) after words that change nothing; ""
    when none."""
    return next((w for w in fold(text).split() if w not in _OPENERS), "")


_WHAT_IS_ON = phrases(
    """what's on|what is on|whats on|anything on|anything still on|qu'est-ce qui est allumé
    |ce qui est allumé|c'est allumé|quelque chose d'allumé|qué está encendido|qué hay encendido
    |algo encendido|está todo apagado|was ist an|was ist noch an|ist noch was an"""
)


_ON_ELSEWHERE = phrases(
    """what's on my|what's on your|what's on our|what's on the calendar|what's on the agenda
    |what's on the schedule|what's on the menu|what's on the news|what's on the radio
    |what's on tv|what's on the tv|what's on the telly|what's on tonight|what's on today
    |what's on tomorrow|what's on netflix"""
)
""""What's on" of a calendar, a menu or television, not of a home's lights."""
_WHATS_ON = phrases("what's on")[0]


def asks_what_is_on(text: str) -> bool:
    """Whether ``text`` asks what is on somewhere ("what's on in the kitchen", "c'est allumé
    dans le salon", "brennt oben noch was"): a question about its lights, not about a calendar
    or television ("what's on my calendar today")."""
    padded = f" {fold(text)} "
    for spelled in (" what is on ", " whats on "):  # as _ON_ELSEWHERE spells it, folded
        padded = padded.replace(spelled, _WHATS_ON)
    if any(phrase in padded for phrase in _ON_ELSEWHERE):
        return False
    words = set(padded.split())
    return any(phrase in padded for phrase in _WHAT_IS_ON) or (
        "brennt" in words and not words.isdisjoint({"was", "etwas"})
    )


_FLOORS = tuple(fold(w) for _, by in FLOOR_WORDS.values() for ws in by.values() for w in ws)


_TOGGLES = frozenset(_TOGGLE.split())


def contradicts(action: str | None, text: str, names: Iterable[str] = ()) -> bool:
    """Whether ``text``, once ``names`` (folded) and the words for floors are taken out of it,
    says only words of the opposite of ``action`` ("power on the lights" against "off"), or
    only a word for toggling against on, off, open or close ("cambia la luz"), or one side
    only and no word for toggling against a toggle ("arrête la VMC"); False for another action
    without an opposite."""
    if action == "toggle":  # "arrête la VMC" as a toggle: the words say one side
        said, text_words = _sides_said("on", text, names)
        return len(said) == 1 and _TOGGLES.isdisjoint(text_words)
    if action is None or action not in OPPOSITES:
        return False
    pair, side = OPPOSITES[action]
    said, text_words = _sides_said(pair, text, names)
    if pair == "on" and not said and not _TOGGLES.isdisjoint(text_words):
        return True
    return said == {-side}


def _sides_said(pair: str, text: str, names: Iterable[str]) -> tuple[set[int], list[str]]:
    """The sides of ``pair`` whose words ``text`` says, once ``names`` (folded) and the words for
    floors are taken out of it, and the words left."""
    words = _without(fold(text), (*names, *_FLOORS)).split()
    return {SIDES[pair][w] for w in words if w in SIDES[pair]}, words


def said_action(domain: str, text: str, names: Iterable[str] = ()) -> str | None:
    """The action the words of ``text`` say for a device of ``domain``, once ``names`` (folded)
    and the words for floors are taken out of it, when they say one side of its pair only
    ("quita la lámpara": off; "quita el candado": unlock; "baja la persiana": close), or only a
    word for toggling a light, switch or fan ("cambia la luz"); else None."""
    said, words = _sides_said("lock" if domain == "lock" else "on", text, names)
    if not said and domain in ("light", "switch", "fan") and not _TOGGLES.isdisjoint(words):
        return "toggle"
    if len(said) != 1:
        return None
    side = said.pop()
    if domain == "lock":
        return "unlock" if side > 0 else "lock"
    if domain in ("cover", "valve"):
        return "open" if side > 0 else "close"
    if domain in ("light", "switch", "fan", "climate"):
        return "on" if side > 0 else "off"
    return None


_UP = """more light|brighter|brighten|boost|up|raise|warmer|higher|plus fort|plus lumineux
|plus de lumiere|eclaire plus|augmente|monte|intensifie|pousse|plus chaud|rechauffe|mas fuerte
|mas brillo|mas de luz|mas alto|sube|aumenta|aviva|intensifica|mas caliente|mas de calor
|calienta|heller|hoch|hochdimmen|mehr licht|erhohe|hoher|rauf"""
_DOWN = """less light|dimmer|dim|soften|down|lower|cooler|colder|moins fort|moins lumineux
|moins de lumiere|baisse|diminue|tamise|adoucis|reduis|plus frais|moins chaud|rafraichis
|descends|menos fuerte|menos brillo|menos de luz|mas bajo|baja|atenua|reduce|suaviza|mas fresco
|menos calor|refresca|dunkler|runter|runterdimmen|dimm|weniger licht|kuhler|niedriger"""
_COLD = """cold|freezing|chilly|froid|frais|gele|frisquet|caille|frio|helando|fresco|kalt
|friere|frisch"""
_HOT = """hot|boiling|stuffy|chaud|etouffe|lourd|calor|bochorno|asando|heiss|warm|stickig"""


_WAYS = {"up": phrases(_UP), "down": phrases(_DOWN)}
"""The words that say which way a relative change goes: more or less light, warmth or height
("plus fort", "un poco menos de luz", "runter")."""

_FEELINGS = {"up": phrases(_COLD), "down": phrases(_HOT)}
"""The words of a speaker who is cold or hot ("mir ist heiß", "hace fresco"), and the way each
asks the heating to go; read only when the request says no word of a way ("un poco más
fresco" is cooler, "hace fresco" is cold)."""


LEVEL_WORDS = frozenset(
    w
    for phrases_of in (_HALFWAY, _MORE_OR_LESS, *_WAYS.values(), *_FEELINGS.values())
    for phrase in phrases_of
    for w in phrase.split()
)
"""Every word (folded) of the phrases for a level: halfway, more or less light, a way, a
feeling ("halfway" is no typo of "hallway")."""


def ways_said(text: str, names: Iterable[str] = ()) -> frozenset[str]:
    """The ways (``"up"``, ``"down"``) the words of ``text`` say, once ``names`` (folded) and the
    words for floors are taken out of it ("un poco más de luz": up); when it says no word of a
    way, those its words of a feeling ask for ("mir ist heiß": down)."""
    padded = _without(fold(text), (*names, *_FLOORS))
    for table in (_WAYS, _FEELINGS):
        said = frozenset(w for w, words in table.items() if any(word in padded for word in words))
        if said:
            return said
    return frozenset()


def says_the_other_way(way: str, text: str, names: Iterable[str] = ()) -> bool:
    """Whether ``text`` says only the other way than ``way`` (``"up"`` or ``"down"``,
    :func:`ways_said`): "un poco más de luz" against down, "mir ist heiß" against up."""
    return way in _WAYS and ways_said(text, names) == set(_WAYS) - {way}


def says_colour(colour: str, text: str) -> bool:
    """Whether ``text`` says the colour ``colour`` (``"warm_white"``) in one of the four
    languages, in any of its forms ("violette", "roja", "rote"): a light is not given a colour
    the request does not say."""
    said = fold(text).split()
    return any(
        all(any(w.startswith(stem) for w in said) for stem in _colour_stems(words[colour]))
        for words in COLOR_WORDS.values()
        if colour in words
    )


@lru_cache(maxsize=64)
def _colour_stems(phrase: str) -> tuple[str, ...]:
    """The words of a colour's name as every form of them begins: "rojo" -> "roj" (roja,
    rojas), "violet" (violette), "blanc" (blanche)."""
    return tuple(w[:-1] if w.endswith("o") and len(w) > 3 else w for w in fold(phrase).split())


def _without(text: str, names: Iterable[str]) -> str:
    padded = f" {text} "
    for name in names:
        if name and f" {name} " in padded:
            padded = padded.replace(f" {name} ", " ")
    return padded
