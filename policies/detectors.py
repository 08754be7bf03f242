"""Detectors for the personal-data classes a policy protects.

A :class:`Detector` is configured once (regexes compiled, the household/contact names and the
known device ids folded into one trie-shaped regex) and then finds, in any text, the spans of the
built-in classes (:data:`BUILTIN_CLASSES`) and of custom classes given as regex patterns. Every
candidate is validated where a checksum or a parser exists (IBAN mod-97, Luhn, ``phonenumbers``,
``ipaddress``, coordinate ranges) and overlapping candidates are resolved deterministically: the
longest span wins, then the highest score, then the class order of :data:`BUILTIN_CLASSES`.

Scores are fixed per rule and say how much a rule can be trusted: 0.99 for checksum-validated
values, 0.95 for configured names and ids, down to 0.6 for capitalised names found after a cue
("tell", "Mrs", "meine Frau") whose precision is measured in ``tests/bench``.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from operator import attrgetter
from typing import NamedTuple

import phonenumbers

BUILTIN_CLASSES: tuple[str, ...] = (
    "person_name",
    "email",
    "phone",
    "street_address",
    "gps_location",
    "ip_address",
    "mac_address",
    "device_id",
    "iban",
    "card_number",
)
DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "FR", "DE", "ES")

_CLASS_NAME = re.compile(r"[a-z][a-z_]{0,39}")
_MAX_NAME_CHARS = 100


class RedactionConfigError(ValueError):
    """A detector or redactor setting is unusable; the message names the setting and value."""


class Detection(NamedTuple):
    """One span of personal data: ``text == source[start:end]``."""

    data_class: str
    start: int
    end: int
    score: float
    text: str

    def __repr__(self) -> str:  # never the value: reprs end up in logs
        return f"Detection({self.data_class}, {self.start}:{self.end}, score={self.score})"


_Add = Callable[[Detection], None]
_BY_SPAN = attrgetter("start", "end")

# --------------------------------------------------------------------------- character folding

_WORD_RE = re.compile(r"\w+")
_DIGIT_RE = re.compile(r"\d")
_NON_DIGITS = re.compile(r"\D+")
_NON_SPACE_RE = re.compile(r"\S+")
_UPPER = "".join(c for c in map(chr, range(0x41, 0x250)) if c.isupper() and c.isalpha())
_LOWER = "".join(c for c in map(chr, range(0x61, 0x250)) if c.islower() and c.isalpha())
_U = f"[{_UPPER}]"
_L = f"[{_LOWER}]"


def _fold_char(c: str) -> str:
    low = c.lower()
    if len(low) != 1:
        low = c
    base = "".join(ch for ch in unicodedata.normalize("NFKD", low) if not unicodedata.combining(ch))
    return base.lower() if len(base) == 1 else low


# Length-preserving fold (lower case, diacritics removed) so that offsets in the folded text are
# offsets in the original: "Émilie" and "EMILIE" both fold to "emilie".
_FOLD_TABLE = {
    cp: _fold_char(chr(cp)) for cp in range(0x41, 0x250) if _fold_char(chr(cp)) != chr(cp)
}


_NON_ASCII_CHAR = re.compile(r"[^\x00-\x7f]")


def _fold_match(m: re.Match[str]) -> str:
    c = m.group()
    return _FOLD_TABLE.get(ord(c), c)


def fold(text: str) -> str:
    """Lower-case ``text`` and strip Latin diacritics, keeping its length (offsets stay valid).

    ``str.lower`` keeps the length of every character but U+0130, which the table maps first.
    Only the non-ASCII characters go through the table (the same result as ``str.translate``
    over the whole text, at a fraction of its cost on text that is mostly ASCII).
    """
    if text.isascii():
        return text.lower()
    return _NON_ASCII_CHAR.sub(_fold_match, text).lower()


def _trie_regex(words: Iterable[str]) -> str:
    """One regex matching any of ``words`` (already folded); whitespace matches any run of it."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        alternatives = [
            (r"\s+" if ch == " " else re.escape(ch)) + emit(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if not alternatives:
            return ""
        optional = "" in node
        if len(alternatives) == 1 and not optional:
            return alternatives[0]
        group = "(?:" + "|".join(alternatives) + ")"
        return group + "?" if optional else group

    return emit(trie)


# --------------------------------------------------------------------------- checksums


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn check (card numbers, IMEIs)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# Lengths from the SWIFT IBAN registry.
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_valid(compact: str) -> bool:
    """True for an upper-case IBAN without spaces of the right length whose mod-97 is 1."""
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


# --------------------------------------------------------------------------- patterns

_EMAIL = re.compile(
    r"(?<![\w.+%-])[\w+%-]+(?:\.[\w+%-]+)*@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,63}(?![\w-])"
)
# The patterns scanned over every text start with a character class, which lets the regex engine
# skip straight to the characters a match can start with; the look-behind comes after it.
_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?:%[\w.]+)?(?![\w:])"
)
_MAC = re.compile(
    r"[0-9A-Fa-f](?<![\w:-][0-9A-Fa-f])[0-9A-Fa-f]([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])"
)
_MAC_DOTTED = re.compile(
    r"[0-9A-Fa-f](?<![\w.][0-9A-Fa-f])[0-9A-Fa-f]{3}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w.])"
)
# Card numbers: compact, or in the printed groups (4-4-4-x, Amex/Diners 4-6-x).
_CARD = re.compile(
    r"[2-6](?<![\d-][2-6])(?:\d{12,18}|\d{3}([ -])\d{4}\1\d{4}\1\d{1,4}"
    r"|(?<=3)\d{3}([ -])\d{6}\2\d{4,5})(?!\d)"
)
_IBAN = re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]){11,30}")
_COORD_DEC = r"[-+]?\d{1,3}[.,]\d{2,9}"
_GPS_DECIMAL = re.compile(
    rf"(?=[-+\dNS])(?<![\w.,])(?:(?P<h1>[NS])\s*)?(?P<lat>{_COORD_DEC})\s*°?\s*(?P<h2>[NS])?"
    rf"\s*(?:[,;/]\s*|\s+)(?:(?P<h3>[EWO])\s*)?(?P<lon>{_COORD_DEC})\s*°?\s*(?P<h4>[EWO])?"
    r"(?![\w]|[.,]\d)"
)
_DMS = (
    r"\d{1,3}\s*°\s*\d{1,2}(?:[.,]\d+)?\s*['\u2032\u2019]\s*"
    r"(?:\d{1,2}(?:[.,]\d+)?\s*(?:\"|\u2033|''|\u201d)\s*)?"
)
_GPS_DECIMALS = re.compile(r"[.,]\d\d")
_DECIMAL_RE = re.compile(r"\d+(?:[.,]\d+)?")
_GPS_DMS = re.compile(
    rf"(?<![\w])(?P<lat>{_DMS})(?P<ns>[NS])\s*[,;/]?\s*(?P<lon>{_DMS})(?P<ew>[EWO])(?![\w])"
)
_EXTENSION = re.compile(r"\s?(?:x|ext\.?|extension|poste|Durchwahl)\s?\d{1,5}$")
_MATCHER_BUDGET = (
    4  # PhoneNumberMatcher runs per text, for runs of digits that hold several numbers
)
_DATE_LIKE = re.compile(
    r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{1,2}:\d{2}"
)
# The first character is consumed by a class (see above); what follows depends on which it was.
_PHONE_CANDIDATE = re.compile(
    r"[+(\d](?<![\w+.,/-][+(\d])(?:(?<=\+)\d|(?<=\()\+?\d|(?<=\d))[\d\s().\-/]{4,24}\d"
    r"(?:\s?(?:x|ext\.?|extension|poste|Durchwahl)\s?\d{1,5})?(?![\w]|[.,]\d)"
)

# Street addresses: US, UK, FR, DE, ES written forms, each with an optional postcode + city tail.
_WORD = rf"{_U}{_L}*(?:['\u2019-]{_U}?{_L}+)*"
_NAME_WORD = rf"{_U}(?:{_L}|{_U}(?={_L}))*(?:['\u2019-]{_U}?{_L}+)*"
_CITY_LINK = r"(?:sur|sous|en|le|la|les|lès|de|del|du|des|am|an|im|bei|vorm|ob|in|der)"
_CITY = rf"{_NAME_WORD}(?:[ -](?:{_CITY_LINK}[ -]){{0,2}}{_NAME_WORD}){{0,3}}"
_EN_SUFFIXES = (
    "Alley|Avenue|Bend|Boulevard|Branch|Bridge|Brook|Brooks|Burg|Burgs|Bypass|Camp|"
    "Canyon|Cape|Causeway|Center|Centers|Circle|Circles|Cliff|Cliffs|Close|Club|Common|"
    "Corner|Corners|Course|Court|Courts|Cove|Coves|Creek|Crescent|Crest|Crossing|Crossroad|"
    "Curve|Dale|Dam|Divide|Drive|Drives|Estate|Estates|Expressway|Extension|Extensions|"
    "Fall|Falls|Ferry|Field|Fields|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|Forks|Fort|"
    "Freeway|Garden|Gardens|Gateway|Glen|Glens|Green|Greens|Grove|Groves|Harbor|Harbors|Haven|"
    "Heights|Highway|Hill|Hills|Hollow|Inlet|Island|Islands|Isle|Junction|Junctions|Key|"
    "Keys|Knoll|Knolls|Lake|Lakes|Land|Landing|Lane|Light|Lights|Loaf|Lock|Locks|Lodge|Loop|"
    "Mall|Manor|Manors|Meadow|Meadows|Mews|Mill|Mills|Mission|Motorway|Mount|Mountain|"
    "Mountains|Neck|Orchard|Oval|Overpass|Park|Parks|Parkway|Parkways|Pass|Passage|Path|Pike|"
    "Pine|Pines|Place|Plain|Plains|Plaza|Point|Points|Port|Ports|Prairie|Radial|Ramp|Ranch|"
    "Rapid|Rapids|Rest|Ridge|Ridges|River|Road|Roads|Route|Row|Rue|Run|Shoal|Shoals|Shore|"
    "Shores|Skyway|Spring|Springs|Spur|Spurs|Square|Squares|Station|Stravenue|Stream|Street|"
    "Streets|Summit|Terrace|Throughway|Trace|Track|Trafficway|Trail|Tunnel|Turnpike|"
    "Underpass|Union|Unions|Valley|Valleys|Via|Viaduct|View|Views|Village|Villages|Ville|Vista|"
    "Walk|Walks|Wall|Way|Ways|Well|Wells|Wharf|Yard"
)
_EN_ABBREVIATIONS = "Ave|Blvd|Cir|Ct|Dr|Hwy|Ln|Pl|Rd|Sq|St"
# Room and device words that precede "Light", "Lock", "Way"... in a home but never a street.
_HOME_WORDS = (
    "Kitchen|Living|Bedroom|Bathroom|Garage|Office|Hall|Hallway|Porch|Patio|Basement|Attic|"
    "Ceiling|Desk|Floor|Lamp|Front|Back|Door|Smart|Night|Reading|Garden|Guest|Kids|Master|"
    "Dining|Laundry|Entrance|Stairs|Window|Bulb|Strip|Motion|Hue|Tv|TV|Room|All|The|My|Our"
)
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
_EN_SECONDARY = r"(?:Flat|Studio|Apartment|Apt\.?|Unit|Suite|Ste\.?|#)\s*\d{1,5}[A-Za-z]?"
_EN_STREET = (
    rf"(?:(?:{_EN_SECONDARY}),?\s+(?:\d{{1,5}}[A-Za-z]?\s+)?|\d{{1,6}}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?)"
    rf"(?:(?!(?:{_HOME_WORDS})\b){_WORD}\s+){{1,3}}"
    rf"(?i:(?:{_EN_SUFFIXES})\b|(?:{_EN_ABBREVIATIONS})\b\.?)"
    r"(?:\s+(?:[NS][EW]?|[EW])\b)?"  # post-directional: "Avenue NW"
    rf"(?:,?\s+{_EN_SECONDARY})?"
)
_EN_TAIL = (
    rf"(?:,?\s+{_CITY},?\s+(?:[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE})"
    rf"|,?\s+{_UK_POSTCODE})?"
)
_FR_PREFIXES = (
    "rue|avenue|av\\.|boulevard|bd|chemin|place|impasse|allée|allee|quai|route|cours|passage|"
    "square|voie|faubourg|sentier|villa|cité|résidence|hameau|promenade|esplanade|montée|"
    "ruelle|rond-point|parvis|lotissement"
)
_FR_STREET = (
    rf"(?:\d{{1,4}}(?:\s?(?:bis|ter|[A-C]))?,?\s+)?(?i:{_FR_PREFIXES})\s+"
    rf"(?:(?:de\s+la|de\s+l['\u2019]|du|des|de|d['\u2019])\s*)?{_NAME_WORD}"
    rf"(?:[\s-]+(?:(?:de|du|des|la|le|les|d['\u2019]|l['\u2019])\s*)?{_NAME_WORD}){{0,3}}"
)
_POSTCODE_CITY = rf"(?:,?\s+\d{{5}}\s+{_CITY})?"
_DE_SUFFIX = (
    "straße|strasse|str\\.|gasse|weg|platz|allee|ring|damm|ufer|chaussee|steig|pfad|markt|"
    "graben|kai"
)
# Words of a German street name are split on "-" or space only (one way to read "Karl-Marx-"),
# and there are at most four of them, so matching stays linear on long runs of nouns.
# Lower-case particles belong to the name too ("van der Dussenstraße", "Von-der-Tann-Straße"),
# but only name particles may start it: "an der Straße" is a place, not an address.
_DE_FIRST = rf"(?:{_U}{_L}*|von|van|de)"
_DE_NEXT = rf"(?:{_U}{_L}*|von|van|der|den|dem|de|zu|zum|zur|am|an|im|auf)"
_DE_NAME = rf"{_DE_FIRST}[-\s](?:{_DE_NEXT}[-\s]){{0,4}}"
_DE_HOUSE_NUMBER = r"\d{1,4}(?:\s?[a-zA-Z](?![\w]))?"
_DE_STREET = (
    rf"(?:(?:{_DE_NAME})?{_U}{_L}*(?:{_DE_SUFFIX})"
    rf"|{_DE_NAME}(?:{'|'.join(s.capitalize() for s in _DE_SUFFIX.split('|'))}))"
    rf"\s*{_DE_HOUSE_NUMBER}(?:\s?[-/]\s?{_DE_HOUSE_NUMBER})?(?!\d)"
)
_ES_PREFIXES = (
    "calle|c/|c\\.|avenida|avda\\.?|av\\.|paseo|plaza|pza\\.|camino|carretera|ctra\\.|ronda|"
    "vía|via|vial|travesía|callejón|cañada|pasaje|pasadizo|cuesta|rambla|glorieta|"
    "urbanización|alameda|acceso|rúa"
)
_ES_STREET = (
    rf"(?i:{_ES_PREFIXES})\s*(?:(?:de\s+(?:la\s+|los\s+|las\s+)?|del\s+))?{_NAME_WORD}"
    rf"(?:\s+(?:(?:de|del|de\s+la|y)\s+)?{_NAME_WORD}){{0,4}},?\s*(?:n[º°o]\.?\s*)?\d{{1,4}}[A-Za-z]?"
    rf"(?:,?\s*(?:Apt\.?|Piso|Puerta|Planta|Esc\.?|Bajo|\d{{1,2}}[º°ª])\s*\w*){{0,3}}"
)
_ES_TAIL = rf"(?:,?\s+(?:\d{{5}}\s+{_CITY}|{_CITY},?\s+\d{{5}}(?!\d)))?"


def _initials(prefixes: str) -> str:
    """The first letters of an alternation of words, both cases: a look-ahead on them lets the
    engine leave a position at once instead of trying every word there."""
    return "".join(sorted({c for p in prefixes.split("|") for c in (p[0].lower(), p[0].upper())}))


_EN_ADDRESS = re.compile(rf"(?<![\w]){_EN_STREET}{_EN_TAIL}")
_FR_ADDRESS = re.compile(rf"(?<![\w])(?=[\d{_initials(_FR_PREFIXES)}]){_FR_STREET}{_POSTCODE_CITY}")
_DE_ADDRESS = re.compile(rf"(?<![\w]){_DE_STREET}{_POSTCODE_CITY}")
_ES_ADDRESS = re.compile(rf"(?<![\w])(?=[{_initials(_ES_PREFIXES)}]){_ES_STREET}{_ES_TAIL}")
# Words (lower case, folded) without which an address regex cannot match.
_EN_TRIGGERS = frozenset(
    f"{_EN_SUFFIXES}|{_EN_ABBREVIATIONS}|flat|studio|apartment|apt|unit|suite|ste".lower().split(
        "|"
    )
)
_FR_TRIGGERS = frozenset(fold(w).split("\\")[0].split("-")[0] for w in _FR_PREFIXES.split("|"))
# A German street suffix followed by a number, in the lower-cased text: as a trie, whose
# alternatives all start with a literal, so the engine skips to their first letters.
_DE_TRIGGER = re.compile(
    _trie_regex(sorted(s.replace("\\", "") for s in _DE_SUFFIX.split("|"))) + r"\s*\d"
)


_ES_TRIGGERS = frozenset(
    fold(w).replace("\\.", "").replace("?", "").replace("/", "") for w in _ES_PREFIXES.split("|")
)
_ZIP_TRIGGER = re.compile(r",\s+[A-Z]{2}\s+\d{5}")
_US_CITY_STATE_ZIP = re.compile(rf"(?<![\w]){_CITY},\s+[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?(?!\d)")

_DEVICE_PATTERNS = re.compile(
    r"[0-9A-Fa-f](?<![\w-][0-9A-Fa-f])(?:(?<=0)x[0-9A-Fa-f]{16}"
    r"|[0-9A-Fa-f]{7}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})(?![\w-])"
)
_DEVICE_CUE_WORDS = frozenset("serial sn imei device serie seriennummer gerate id".split())
_DEVICE_CUE = re.compile(
    r"(?<![\w])(?i:serial(?:\s+(?:number|no\.?|#))?|s/n|imei|device[\s-]id|"
    r"num[ée]ro\s+de\s+s[ée]rie|n°\s*de\s+s[ée]rie|n[úu]mero\s+de\s+serie|n[º°]\s*de\s+serie|"
    r"seriennummer|ger[äa]te-?id|id\s+de\s+l['\u2019]appareil|id\s+del\s+dispositivo)"
    r"\s*[:#]?\s*(?P<value>(?=[A-Za-z0-9-]*\d)[A-Za-z0-9](?:[A-Za-z0-9-]{2,40}[A-Za-z0-9]))(?![\w-])"
)

# Capitalised names after a cue: cues are matched in the lower-cased (or folded) text, the name
# after it must be capitalised in the original.
_TITLE_CUES = (
    "mr mrs ms miss mx dr prof sir madam mme mlle m. monsieur madame mademoiselle sr sra srta "
    "don doña señor señora señorita herr herrn frau fräulein"
).split()
_RELATIONS = {
    "my": "wife husband son daughter mother father mom mum dad brother sister friend neighbour "
    "neighbor partner boss aunt uncle cousin grandma grandpa nanny babysitter girlfriend "
    "boyfriend colleague",
    "mon ma": "fils fille femme mari frère sœur soeur mère père ami amie voisin voisine copain "
    "copine cousin cousine oncle tante collègue compagnon compagne",
    "mi": "hermana hermano esposa esposo marido mujer hijo hija madre padre amigo amiga vecino "
    "vecina novio novia primo prima tío tía abuela abuelo jefe jefa",
    "mein meine meinem meiner meinen": "frau mann sohn tochter mutter vater bruder schwester "
    "freund freundin nachbar nachbarin chef chefin oma opa onkel tante kollege kollegin "
    "partner partnerin",
}
_VERB_CUES = (
    "tell|call|text|message|remind|ask|phone|email|invite|ping|notify|"
    "dis à|dites à|appelle|appelez|préviens|rappelle à|écris à|envoie à|demande à|"
    "dile a|llama a|avisa a|escribe a|recuérdale a|pregunta a|manda a|"
    "sag|sage|ruf|rufe|schreib|schreibe|erinnere|frag|benachrichtige|informiere"
).split("|")
_CUES = (
    *_TITLE_CUES,
    *(
        f"{o} {r}"
        for owners, rels in _RELATIONS.items()
        for o in owners.split()
        for r in rels.split()
    ),
    *_VERB_CUES,
)
# Cues match with and without diacritics ("préviens", "previens").
_NAME_CUES = _trie_regex(sorted({fold(c) for c in _CUES} | {c.lower() for c in _CUES}))
_CUE_FIRST_WORDS = frozenset(
    form.split()[0].rstrip(".") for c in _CUES for form in (c.lower(), fold(c))
)
_NAME_PARTICLES = frozenset(
    "de del della la le les van von der den du da di dos das y e zu ten ter el los las des".split()
)
_PARTICLES = (
    r"(?:de|del|de\s+la|van|von|der|den|du|da|di|dos|das|le|la|zu|ten|ter|d['\u2019]|l['\u2019])"
)
_CUE = re.compile(rf"(?<![\w])(?:{_NAME_CUES})(?![\w])")  # on the lower-cased text
_WHOLE_NAME_WORD = rf"{_NAME_WORD}(?![\w])"
_TITLE_FORMS = frozenset(form for c in _TITLE_CUES for form in (fold(c), c.lower()))
# A title may be written with a full stop ("Dr. Lefèvre"); after any other cue a full stop ends
# the sentence ("... le réseau invité. Mets la Lampe"), so the dot is skipped for titles only.
_NAME_AFTER_CUE = re.compile(
    rf",?\s+(?P<name>{_WHOLE_NAME_WORD}"
    rf"(?:[ \t]+(?:{_PARTICLES}[ \t]*){{0,3}}{_WHOLE_NAME_WORD}){{0,2}}(?:[ \t]+van(?![\w]))?)"
)
# Words that make a name after a cue a business when they are in it or right after it ("Call
# Hunt and Sons", "Appelle Morel SARL", "Call Brewer Ltd"): legal forms and business nouns.
_COMPANY_WORDS = frozenset(
    "GmbH AG KG OHG GbR KGaA SARL SAS SA SL SLU Ltd LLC LLP Inc Corp PLC Co Group Groupe Gruppe "
    "Sons Söhne Hermanos asociados Asociados Associates Partners Brothers Frères Fils Hotel Hôtel "
    "Restaurant Restaurante Pharmacy Pharmacie Farmacia Apotheke Supermarket Supermercado "
    "Supermercados Supermarché Services Servicios Industries Industrias Transportes Talleres "
    "Construcciones Distribuciones Comercial Despacho Stadtwerke".split()
)
# Legal forms written with dots: S.A., S.L., S.Coop., S.Com., S.C.P., e.V., & Co.
_COMPANY_ABBREVIATIONS = ("S.L", "S.A", "S.C", "e.V", "e.K", "& Co")
_COMPANY_LOOKAHEAD = 30
# First words of place names ("Lake Michaelton", "Santa Cruz de Tenerife", "Las Palmas"), which
# start a person's name only in rare cases; they reject a name of two words or more.
_PLACE_FIRST_WORDS = frozenset(
    fold(w)
    for w in (
        "North South East West New Port Lake Mount Fort Saint Sainte San Santa Sankt Bad Las Los "
        "Nord Sud Süd Ost Nueva Nuevo Neu Neue Villa Puerto"
    ).split()
)
# A lower-case particle between hyphens makes a French place name ("Vallée-sur-Mer",
# "Marchand-les-Bains", "Saint-Martin-en-Haut"); French names join capitalised parts only.
_PLACE_HYPHENATED = re.compile(r"-(?:sur|sous|lès|les|en|aux|au|la|le)-")
# Words right after a name that make it a place ("Ask Springfield council").
_PLACE_NEXT_WORDS = frozenset(
    "council city town county municipality borough rathaus stadtverwaltung gemeinde mairie "
    "ayuntamiento".split()
)
# Capitalised words that follow a cue but are not names (assistants, rooms, family words,
# sentence starters, German nouns after "sag"/"ruf"), and calendar words, which stop a name only
# where it would start ("Tell Monday" but "Dile a Darío Mayo").
_NOT_NAMES_ANYWHERE = frozenset(
    fold(w)
    for w in (
        "Alexa Siri Google Cortana Bixby Assistant Home Kitchen Garage Garden Office "
        "Bedroom Living Mom Mum Dad Mommy Daddy Mama Papa Maman Mamie Papi Mami Mutti "
        "Vati Oma Opa Grandma Grandpa Everyone Everybody Anyone Someone Me Him Her Them "
        "Us You It I The A An My Our Your This That Please Emergency Police Doctor "
        "Ambulance Security Support Help Bescheid Hallo Hello Hi Today Tomorrow Tonight "
        "Morgen Heute Demain Mañana Hoy Aujourd'hui Christmas Noël Navidad Weihnachten "
        "Bitte Danke Merci Gracias Thanks Thank Ok Okay Yes No Oui Non Sí Ja Nein Uber "
        "Netflix Spotify Amazon Apple Samsung Philips Ikea Zigbee Bluetooth Wifi WiFi Tv "
        "TV "
    ).split()
)
_CALENDAR_WORDS = frozenset(
    fold(w)
    for w in (
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday Lundi Mardi Mercredi "
        "Jeudi Vendredi Samedi Dimanche Lunes Martes Miércoles Jueves Viernes Sábado "
        "Domingo Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag January "
        "February March April May June July August September October November December "
        "Janvier Février Mars Avril Mai Juin Juillet Août Septembre Octobre Novembre "
        "Décembre Enero Febrero Marzo Abril Mayo Junio Julio Agosto Septiembre Octubre "
        "Noviembre Diciembre Januar Februar März Juni Juli Oktober Dezember "
    ).split()
)
_NOT_NAMES = _NOT_NAMES_ANYWHERE | _CALENDAR_WORDS
# Given names that are also common lower-case words: matched from the configured list only when
# capitalised in the text.
_AMBIGUOUS_NAMES = frozenset(
    "may will mark rose june april august bill grace hope joy summer sunny art rich guy pat sue "
    "ray dawn faith max ben don eve iris ivy lily olive pearl ruby amber autumn holly brook chase "
    "cliff drew frank gene jack jean pierre claire blanche france rosa luz paz sol alba mar angel "
    "cruz mercedes dolores pilar ernst hans lamp sky rain river storm".split()
)


# --------------------------------------------------------------------------- the detector


@dataclass(frozen=True, slots=True)
class _Region:
    code: str
    country_code: int
    national_prefix: str
    trunk_required: bool
    """National numbers of this region are written with their trunk prefix ("0" in GB/FR/DE)."""
    possible: re.Pattern[str]


class _WordList:
    """A configured list (names, device ids) as one trie regex plus its first words."""

    def __init__(self, entries: set[str], boundary: str) -> None:
        self.regex = re.compile(rf"(?<!{boundary}){_trie_regex(sorted(entries))}(?!{boundary})")
        self.first_words = frozenset(_WORD_RE.findall(e)[0] for e in entries)


class Detector:
    """Finds personal data in text. Build once per policy, then call :meth:`detect` per text.

    ``names``: household members and contacts (full names; each capitalised word of two letters or
    more is also matched on its own). ``device_ids``: known serials and ids from the catalog.
    ``custom``: extra classes, ``{class_name: [regex, ...]}``; a named group ``value`` narrows
    the span. ``phone_regions``: ISO 3166 regions whose national formats are recognised.
    ``context_names``: whether to run the capitalised-names-after-a-cue detector.

    Every rule runs only when a cheap trigger (a word from its vocabulary, an ``@``, enough
    colons) is in the text, which is what makes a detector pass cost tens of microseconds.
    """

    def __init__(
        self,
        *,
        names: Iterable[str] = (),
        device_ids: Iterable[str] = (),
        custom: Mapping[str, Sequence[str]] | None = None,
        phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS,
        context_names: bool = True,
    ) -> None:
        for setting, value in (
            ("names", names),
            ("device_ids", device_ids),
            ("phone_regions", phone_regions),
        ):
            if isinstance(value, str):
                raise RedactionConfigError(f"{setting}: expected a list of strings, got {value!r}")
        self._regions = self._check_regions(phone_regions)
        self._names = self._compile_names(names)
        self._device_ids = self._compile_device_ids(device_ids)
        self._custom = self._compile_custom(custom or {})
        self._context_names = context_names
        self.classes: tuple[str, ...] = BUILTIN_CLASSES + tuple(c for c, _ in self._custom)
        self._rank = {c: i for i, c in enumerate(self.classes)}

    # ---- configuration

    @staticmethod
    def _check_regions(regions: Sequence[str]) -> tuple[_Region, ...]:
        checked = []
        for region in regions:
            metadata = (
                phonenumbers.PhoneMetadata.metadata_for_region(region)
                if region in phonenumbers.SUPPORTED_REGIONS
                else None
            )
            if metadata is None or metadata.country_code is None:
                raise RedactionConfigError(
                    f"phone_regions: {region!r} is not an ISO 3166 region known to phonenumbers "
                    "(use e.g. 'US', 'GB', 'FR', 'DE', 'ES')"
                )
            general = metadata.general_desc
            pattern = general.national_number_pattern if general is not None else None
            prefix = metadata.national_prefix or ""
            checked.append(
                _Region(
                    code=region,
                    country_code=metadata.country_code,
                    national_prefix=prefix,
                    trunk_required=prefix == "0",
                    possible=re.compile(pattern or r"\d+"),
                )
            )
        return tuple(checked)

    @staticmethod
    def _compile_names(names: Iterable[str]) -> _WordList | None:
        entries: set[str] = set()
        for name in names:
            if not isinstance(name, str) or not name.strip():
                raise RedactionConfigError(f"names: {name!r} is not a non-empty string")
            if len(name) > _MAX_NAME_CHARS:
                raise RedactionConfigError(
                    f"names: {name[:20]!r}... is longer than {_MAX_NAME_CHARS} characters"
                )
            parts = name.split()
            entries.add(fold(" ".join(parts)))
            if len(parts) > 1:
                # Each capitalised part on its own ("Émilie", "Durand"), not particles ("de").
                entries.update(
                    fold(p)
                    for p in parts
                    if len(p) >= 2 and p[0].isupper() and fold(p) not in _NAME_PARTICLES
                )
        return _WordList(entries, r"[\w]") if entries else None

    @staticmethod
    def _compile_device_ids(ids: Iterable[str]) -> _WordList | None:
        entries: set[str] = set()
        for device_id in ids:
            if (
                not isinstance(device_id, str)
                or len(device_id.strip()) < 3
                or not _WORD_RE.match(device_id.strip())
            ):
                raise RedactionConfigError(
                    f"device_ids: {device_id!r} must be a string of at least 3 characters "
                    "starting with a letter or digit"
                )
            entries.add(fold(device_id.strip()))
        return _WordList(entries, r"[\w-]") if entries else None

    @staticmethod
    def _compile_custom(
        custom: Mapping[str, Sequence[str]],
    ) -> tuple[tuple[str, re.Pattern[str]], ...]:
        compiled: list[tuple[str, re.Pattern[str]]] = []
        for data_class, patterns in custom.items():
            if not isinstance(data_class, str) or not _CLASS_NAME.fullmatch(data_class):
                raise RedactionConfigError(
                    f"custom class name {data_class!r} must match [a-z][a-z_]* (no digits: "
                    "placeholders end in a number), "
                    "at most 40 characters"
                )
            if data_class in BUILTIN_CLASSES:
                raise RedactionConfigError(
                    f"custom class {data_class!r} clashes with a built-in class"
                )
            if isinstance(patterns, str) or not patterns:
                raise RedactionConfigError(
                    f"custom class {data_class!r}: patterns must be a non-empty list of regexes"
                )
            regexes = []
            for pattern in patterns:
                try:
                    regex = re.compile(pattern)
                except (re.error, TypeError) as exc:
                    raise RedactionConfigError(
                        f"custom class {data_class!r}: pattern {pattern!r} is not a valid "
                        f"regex: {exc}"
                    ) from exc
                if regex.match(""):
                    raise RedactionConfigError(
                        f"custom class {data_class!r}: pattern {pattern!r} matches empty text"
                    )
                regexes.append(regex)
            compiled.extend((data_class, regex) for regex in _merge(regexes))
        return tuple(compiled)

    # ---- detection

    def detect(self, text: str) -> list[Detection]:
        """All non-overlapping detections in ``text``, sorted by start offset."""
        if not isinstance(text, str):
            raise TypeError(f"detect() takes text as str, got {type(text).__name__}")
        found: list[Detection] = []
        add = found.append
        lower = text.lower()
        if len(lower) != len(text):  # "İ" lower-cases to two characters; fold keeps offsets
            lower = fold(text)
        # Every rule's vocabulary is folded, so the words are taken from the folded text.
        folded = lower if lower.isascii() else fold(text)
        words = set(_WORD_RE.findall(folded))
        # Deleting ASCII digits from bytes is quickest; \d also knows non-ASCII digits.
        digits = (
            len(text) - len(text.encode().translate(None, b"0123456789"))
            if text.isascii()
            else len(_DIGIT_RE.findall(text))
        )
        dots = text.count(".")
        # Each rule below runs only when the text has the characters its pattern needs.

        if "@" in text:
            for m in _EMAIL.finditer(text):
                add(Detection("email", m.start(), m.end(), 0.95, m.group()))
        if digits >= 4 and dots >= 3:
            for m in _IPV4.finditer(text):
                if _valid_ipv4(m.group()):
                    add(Detection("ip_address", m.start(), m.end(), 0.9, m.group()))
        colons = text.count(":")
        if colons >= 2:
            for m in _IPV6.finditer(text):
                if _valid_ipv6(m.group()):
                    add(Detection("ip_address", m.start(), m.end(), 0.9, m.group()))
        if colons >= 5 or text.count("-") >= 5:
            for m in _MAC.finditer(text):
                add(Detection("mac_address", m.start(), m.end(), 0.9, m.group()))
        if dots >= 2:
            for m in _MAC_DOTTED.finditer(text):
                add(Detection("mac_address", m.start(), m.end(), 0.9, m.group()))
        if digits >= 4 and (dots + text.count(",") >= 2 or "°" in text):
            self._detect_gps(text, add)
        if digits >= 13:
            for m in _CARD.finditer(text):
                if luhn_valid(m.group().replace(" ", "").replace("-", "")):
                    add(Detection("card_number", m.start(), m.end(), 0.99, m.group()))
        if digits >= 10:  # every IBAN has at least 10 digits
            for m in _IBAN.finditer(text):
                self._add_iban(m, add)
        self._detect_addresses(text, lower, words, digits > 0, add)
        self._detect_devices(text, lower, folded, words, add)
        self._detect_names(text, folded, words, add)
        for data_class, regex in self._custom:
            narrowed = "value" in regex.groupindex
            for m in regex.finditer(text):
                start, end = m.span("value") if narrowed and m.start("value") >= 0 else m.span()
                if end > start:
                    add(Detection(data_class, start, end, 0.9, text[start:end]))
        if digits >= 7:
            self._detect_phones(text, found)
        return self._resolve(found)

    def _detect_gps(self, text: str, add: _Add) -> None:
        # Latitude and longitude each have a separator and two decimals at least.
        decimals = _GPS_DECIMALS.findall(text) if "." in text or "," in text else ()
        for m in _GPS_DECIMAL.finditer(text) if len(decimals) >= 2 else ():
            lat_text = m.group("lat").replace(",", ".")
            lon_text = m.group("lon").replace(",", ".")
            hinted = any(m.group(g) for g in ("h1", "h2", "h3", "h4"))
            precise = min(len(lat_text.split(".")[1]), len(lon_text.split(".")[1])) >= 3
            in_range = abs(float(lat_text)) <= 90 and abs(float(lon_text)) <= 180
            if (hinted or precise) and in_range:
                add(Detection("gps_location", m.start(), m.end(), 0.85, m.group()))
        if "°" in text:
            for m in _GPS_DMS.finditer(text):
                if _dms_degrees(m.group("lat")) <= 90 and _dms_degrees(m.group("lon")) <= 180:
                    add(Detection("gps_location", m.start(), m.end(), 0.9, m.group()))

    @staticmethod
    def _add_iban(m: re.Match[str], add: _Add) -> None:
        raw = m.group()
        expected = _IBAN_LENGTHS.get(raw[:2])
        if expected is None:
            return
        # The pattern may run into a following word: cut at the country's IBAN length.
        seen = 0
        for end, ch in enumerate(raw, start=1):
            if ch != " ":
                seen += 1
                if seen == expected:
                    candidate = raw[:end]
                    if iban_valid(candidate.replace(" ", "")):
                        add(Detection("iban", m.start(), m.start() + end, 0.99, candidate))
                    return

    @staticmethod
    def _detect_addresses(
        text: str, lower: str, words: set[str], has_digits: bool, add: _Add
    ) -> None:
        # US, UK, DE and ES forms always carry a number (house, flat or postcode); FR may not.
        for regex, triggered in (
            (_EN_ADDRESS, has_digits and not words.isdisjoint(_EN_TRIGGERS)),
            (_FR_ADDRESS, not words.isdisjoint(_FR_TRIGGERS)),
            (_DE_ADDRESS, has_digits and _DE_TRIGGER.search(lower) is not None),
            (_ES_ADDRESS, has_digits and not words.isdisjoint(_ES_TRIGGERS)),
        ):
            if triggered:
                for m in regex.finditer(text):
                    add(Detection("street_address", m.start(), m.end(), 0.8, m.group()))
        if _ZIP_TRIGGER.search(text):
            for m in _US_CITY_STATE_ZIP.finditer(text):
                add(Detection("street_address", m.start(), m.end(), 0.7, m.group()))

    def _detect_devices(
        self, text: str, lower: str, folded: str, words: set[str], add: _Add
    ) -> None:
        if "0x" in text or text.count("-") >= 4:
            for m in _DEVICE_PATTERNS.finditer(text):
                add(Detection("device_id", m.start(), m.end(), 0.9, m.group()))
        if not words.isdisjoint(_DEVICE_CUE_WORDS) or "s/n" in lower:
            for m in _DEVICE_CUE.finditer(text):
                start, end = m.span("value")
                add(Detection("device_id", start, end, 0.9, m.group("value")))
        if self._device_ids is not None and not words.isdisjoint(self._device_ids.first_words):
            for start, end in _list_matches(self._device_ids, folded):
                add(Detection("device_id", start, end, 0.95, text[start:end]))

    def _detect_names(self, text: str, folded: str, words: set[str], add: _Add) -> None:
        if self._names is not None and not words.isdisjoint(self._names.first_words):
            for start, end in _list_matches(self._names, folded):
                if folded[start:end] in _AMBIGUOUS_NAMES and not text[start].isupper():
                    continue
                add(Detection("person_name", start, end, 0.95, text[start:end]))
        cue_words = words.intersection(_CUE_FIRST_WORDS) if self._context_names else ()
        for cue_end, title in _cue_ends(folded, cue_words):
            if title and text.startswith(".", cue_end):
                cue_end += 1
            m = _NAME_AFTER_CUE.match(text, cue_end)
            span = _context_name_span(text, m) if m is not None else None
            if span is not None:
                start, end = span
                add(Detection("person_name", start, end, 0.6, text[start:end]))

    def _detect_phones(self, text: str, found: list[Detection]) -> None:
        taken = [(d.start, d.end) for d in found]
        matcher_budget = _MATCHER_BUDGET
        for m in _PHONE_CANDIDATE.finditer(text):
            start, end = m.span()
            if any(s < end and start < e for s, e in taken):
                continue
            candidate = m.group()
            digits = _NON_DIGITS.sub("", candidate)
            if len(digits) < 7 or _DATE_LIKE.fullmatch(candidate.strip()):
                continue
            if len(digits) <= 17 and self._valid_phone(candidate, digits):
                score = 0.85 if candidate.startswith(("+", "00", "(+")) else 0.75
                found.append(Detection("phone", start, end, score, candidate))
            elif len(digits) >= 12 and matcher_budget > 0:
                matcher_budget -= 1
                # Possibly several numbers written next to each other: let the matcher split.
                for region in self._regions:
                    matches = list(phonenumbers.PhoneNumberMatcher(candidate, region.code))
                    for pm in matches:
                        found.append(
                            Detection("phone", start + pm.start, start + pm.end, 0.7, pm.raw_string)
                        )
                    if matches:
                        break

    def _valid_phone(self, candidate: str, digits: str) -> bool:
        """phonenumbers' validity for the written number, without its slower text parser."""
        extension = _EXTENSION.search(candidate)
        if extension is not None:
            digits = _NON_DIGITS.sub("", candidate[: extension.start()])
        international = candidate.lstrip("(")
        if international.startswith("+") or digits.startswith("00"):
            return _valid_international(digits[2:] if not international.startswith("+") else digits)
        for region in self._regions:
            prefix = region.national_prefix
            if prefix and digits.startswith(prefix):
                national = digits[len(prefix) :]
            elif region.trunk_required:
                continue
            else:
                national = digits
            # Valid anywhere in the region's country code: +1 covers the US, Canada, Guam...
            if region.possible.fullmatch(national) and phonenumbers.is_valid_number(
                phonenumbers.PhoneNumber(
                    country_code=region.country_code, national_number=int(national)
                )
            ):
                return True
        return False

    def _resolve(self, found: list[Detection]) -> list[Detection]:
        """Keep the longest, then highest-scoring, then earliest-class detection of overlaps."""
        found.sort(key=_BY_SPAN)
        if all(a.end <= b.start for a, b in pairwise(found)):
            return found  # nothing overlaps, the common case
        rank = self._rank
        found.sort(key=lambda d: (d.start - d.end, -d.score, rank[d.data_class], d.start))
        kept: list[Detection] = []
        for d in found:
            if all(d.end <= k.start or k.end <= d.start for k in kept):
                kept.append(d)
        kept.sort(key=lambda d: d.start)
        return kept


def _merge(regexes: list[re.Pattern[str]]) -> list[re.Pattern[str]]:
    """One alternation for a class's patterns (one scan of the text), when they combine."""
    if len(regexes) < 2 or sum("value" in r.groupindex for r in regexes) > 1:
        return regexes
    try:
        return [re.compile("|".join(f"(?:{r.pattern})" for r in regexes))]
    except re.error:  # e.g. inline global flags, which only work at the start of a pattern
        return regexes


def _cue_ends(folded: str, cue_words: Iterable[str]) -> Iterator[tuple[int, bool]]:
    """Where each cue ("tell", "mon fils") ends and whether it is a title ("Mr", "Frau"), looked
    for only at its first word's places."""
    for word in cue_words:
        start = folded.find(word)
        while start >= 0:
            m = _CUE.match(folded, start)
            if m is not None:
                yield m.end(), m.group() in _TITLE_FORMS
            start = folded.find(word, start + 1)


def _list_matches(words: _WordList, folded: str) -> Iterator[tuple[int, int]]:
    """Spans of configured entries in folded text."""
    for m in words.regex.finditer(folded):
        yield m.span()


def _context_name_span(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    start = m.start("name")
    words = list(_NON_SPACE_RE.finditer(m.group("name")))
    # A month or assistant word starts a name only when a real name follows it
    # ("Tell April Wade"), never alone ("Tell Alexa", "Sag Bescheid").
    if fold(words[0].group()) in _NOT_NAMES and (
        len(words) == 1 or fold(words[1].group()) in _NOT_NAMES
    ):
        return None
    end = start + words[0].end()
    for w in words[1:]:
        if fold(w.group()) in _NOT_NAMES_ANYWHERE:
            break
        end = start + w.end()
    if (
        len(words) > 1
        and end > start + words[0].end()
        and fold(words[0].group()) in (_PLACE_FIRST_WORDS)
    ):
        return None  # a place: "Lake Michaelton", "Las Palmas"
    if _PLACE_HYPHENATED.search(text, start, end):
        return None
    # The name and what follows it: a legal form or business word in either makes a business.
    around = text[start : end + _COMPANY_LOOKAHEAD]
    following = _WORD_RE.findall(around)
    if not _COMPANY_WORDS.isdisjoint(following) or any(a in around for a in _COMPANY_ABBREVIATIONS):
        return None  # a business, not a person
    next_word = _WORD_RE.search(text, end, end + _COMPANY_LOOKAHEAD)
    if next_word is not None and next_word.group().lower() in _PLACE_NEXT_WORDS:
        return None  # "Ask Springfield council"
    return start, end


def _valid_international(digits: str) -> bool:
    """Validity of a number written with its country code (digits after "+" or "00")."""
    for length in (1, 2, 3):
        country_code = int(digits[:length])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[length:]
            if national.startswith("0") and country_code != 39:
                national = national[1:]  # a trunk zero written as "+49 (0) 30 ..."
            return bool(national) and phonenumbers.is_valid_number(
                phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
            )
    return False


def _valid_ipv4(value: str) -> bool:
    """Four octets of at most 255, without leading zeros (as ``ipaddress`` requires)."""
    return all(int(o) <= 255 and (o == "0" or o[0] != "0") for o in value.split("."))


def _valid_ipv6(value: str) -> bool:
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _dms_degrees(value: str) -> float:
    parts = [float(p.replace(",", ".")) for p in _DECIMAL_RE.findall(value)]
    degrees = (
        parts[0]
        + (parts[1] / 60 if len(parts) > 1 else 0)
        + (parts[2] / 3600 if len(parts) > 2 else 0)
    )
    return degrees
