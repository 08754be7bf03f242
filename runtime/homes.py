"""Homes for the planner: random ones reproducible from a seed, and homes described in a file.

A home is a :class:`~edgeward.runtime.catalog.Catalog`. Random homes have 3 to 500 entities of every
domain, with the names people give them in English, French, Spanish or German: areas on floors,
entity names built from area and device words, nicknames as aliases, and device features
(dimming, colour, thermostat limits, cover position, ...) drawn like real devices announce them,
through the same :mod:`edgeward.runtime.services` builders the device adapters use.

The multilingual vocabulary here (area, floor and device words in en/fr/es/de) is shared by the
request generator, the local tool retrieval and the planner (which lists each device's word in
the request's language, :func:`with_spoken_names`), so a home named in one language can be
spoken to in another.

A home document (``home_to_json`` / ``home_from_json``, and ``tests/data/eval_home.json``) is
JSON: ``{"areas": [{"name", "floor", "aliases"}], "entities": [{"entity_id", "name", "area",
"floor", "aliases", "device_class", "features" | "services"}]}``. ``features`` are the keyword
arguments of the domain's services builder (``{"brightness": true}``) as a person would describe
a device; ``services`` spell out every argument and are what ``home_to_json`` writes.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from edgeward.runtime import services as svc
from edgeward.runtime.catalog import Area, ArgSpec, Catalog, Entity

LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "de")
MIN_ENTITIES = 3
MAX_ENTITIES = 500


class HomeError(ValueError):
    """A home document or request that cannot describe a home; the message names the field."""


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Lower case, accents removed, punctuation to spaces, single spaces: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9%]+", " ", plain).split())


# --- vocabulary ---------------------------------------------------------------------------------

# area key -> (default floor key or None for outdoors, {language: (name, *aliases)})
AREA_WORDS: dict[str, tuple[str | None, dict[str, tuple[str, ...]]]] = {
    "kitchen": ("ground", {"en": ("Kitchen",), "fr": ("Cuisine",), "es": ("Cocina",), "de": ("Küche",)}),
    "living_room": ("ground", {"en": ("Living room", "lounge"), "fr": ("Salon", "séjour"), "es": ("Salón", "sala de estar"), "de": ("Wohnzimmer", "Stube")}),  # noqa: E501
    "dining_room": ("ground", {"en": ("Dining room",), "fr": ("Salle à manger",), "es": ("Comedor",), "de": ("Esszimmer",)}),  # noqa: E501
    "bedroom": ("first", {"en": ("Bedroom", "master bedroom"), "fr": ("Chambre", "chambre parentale"), "es": ("Dormitorio", "habitación"), "de": ("Schlafzimmer",)}),  # noqa: E501
    "kids_room": ("first", {"en": ("Kids room", "children's room"), "fr": ("Chambre des enfants",), "es": ("Cuarto de los niños",), "de": ("Kinderzimmer",)}),  # noqa: E501
    "guest_room": ("first", {"en": ("Guest room",), "fr": ("Chambre d'amis",), "es": ("Cuarto de invitados",), "de": ("Gästezimmer",)}),  # noqa: E501
    "bathroom": ("first", {"en": ("Bathroom",), "fr": ("Salle de bain", "sdb"), "es": ("Baño",), "de": ("Badezimmer", "Bad")}),  # noqa: E501
    "toilet": ("ground", {"en": ("Toilet", "loo"), "fr": ("Toilettes", "WC"), "es": ("Aseo",), "de": ("Gäste-WC", "Toilette")}),  # noqa: E501
    "hallway": ("ground", {"en": ("Hallway", "hall"), "fr": ("Couloir", "entrée"), "es": ("Pasillo", "recibidor"), "de": ("Flur", "Diele")}),  # noqa: E501
    "office": ("first", {"en": ("Office", "study"), "fr": ("Bureau",), "es": ("Despacho", "oficina"), "de": ("Büro", "Arbeitszimmer")}),  # noqa: E501
    "garage": ("ground", {"en": ("Garage",), "fr": ("Garage",), "es": ("Garaje",), "de": ("Garage",)}),
    "garden": (None, {"en": ("Garden", "backyard"), "fr": ("Jardin",), "es": ("Jardín",), "de": ("Garten",)}),
    "terrace": (None, {"en": ("Terrace", "patio"), "fr": ("Terrasse",), "es": ("Terraza",), "de": ("Terrasse",)}),  # noqa: E501
    "balcony": ("first", {"en": ("Balcony",), "fr": ("Balcon",), "es": ("Balcón",), "de": ("Balkon",)}),
    "laundry": ("basement", {"en": ("Laundry room", "utility room"), "fr": ("Buanderie",), "es": ("Lavadero",), "de": ("Waschküche", "Hauswirtschaftsraum")}),  # noqa: E501
    "cellar": ("basement", {"en": ("Cellar",), "fr": ("Cave",), "es": ("Bodega",), "de": ("Keller",)}),
    "attic_room": ("attic", {"en": ("Loft",), "fr": ("Combles",), "es": ("Buhardilla",), "de": ("Dachboden",)}),  # noqa: E501
    "stairs": ("ground", {"en": ("Stairs", "staircase"), "fr": ("Escalier",), "es": ("Escalera",), "de": ("Treppe", "Treppenhaus")}),  # noqa: E501
    "nursery": ("first", {"en": ("Nursery", "baby room"), "fr": ("Chambre de bébé",), "es": ("Cuarto del bebé",), "de": ("Babyzimmer",)}),  # noqa: E501
    "gym": ("basement", {"en": ("Gym",), "fr": ("Salle de sport",), "es": ("Gimnasio",), "de": ("Fitnessraum",)}),  # noqa: E501
    "workshop": ("basement", {"en": ("Workshop",), "fr": ("Atelier",), "es": ("Taller",), "de": ("Werkstatt",)}),  # noqa: E501
    "porch": (None, {"en": ("Porch", "front porch"), "fr": ("Porche",), "es": ("Porche",), "de": ("Veranda",)}),  # noqa: E501
    "driveway": (None, {"en": ("Driveway",), "fr": ("Allée",), "es": ("Entrada de coches",), "de": ("Einfahrt",)}),  # noqa: E501
    "pantry": ("ground", {"en": ("Pantry",), "fr": ("Cellier",), "es": ("Despensa",), "de": ("Speisekammer",)}),  # noqa: E501
    "playroom": ("first", {"en": ("Playroom",), "fr": ("Salle de jeux",), "es": ("Cuarto de juegos",), "de": ("Spielzimmer",)}),  # noqa: E501
    "library": ("first", {"en": ("Library",), "fr": ("Bibliothèque",), "es": ("Biblioteca",), "de": ("Bibliothek",)}),  # noqa: E501
    "dressing": ("first", {"en": ("Walk-in closet", "closet"), "fr": ("Dressing",), "es": ("Vestidor",), "de": ("Ankleidezimmer",)}),  # noqa: E501
    "shed": (None, {"en": ("Shed",), "fr": ("Abri de jardin",), "es": ("Cobertizo",), "de": ("Gartenhaus",)}),
    "pool": (None, {"en": ("Pool",), "fr": ("Piscine",), "es": ("Piscina",), "de": ("Pool",)}),
    "sauna": ("basement", {"en": ("Sauna",), "fr": ("Sauna",), "es": ("Sauna",), "de": ("Sauna",)}),
}  # fmt: skip

SPOKEN_AREAS: dict[str, dict[str, tuple[str, ...]]] = {
    "landing": {"en": ("Landing",), "fr": ("Palier",), "es": ("Rellano",), "de": ("Treppenabsatz",)},
    "conservatory": {"en": ("Conservatory",), "fr": ("Jardin d'hiver",), "es": ("Invernadero",), "de": ("Wintergarten",)},  # noqa: E501
}  # fmt: skip
"""Areas a home may have that random homes never do, in the four languages: the model never
learnt their words in other languages than the home's, so a request's word for one is written
as the home names it before the model reads it (:func:`with_home_places`)."""


def with_home_places(text: str, areas: Iterable[str]) -> str:
    """``text`` with each word of :data:`SPOKEN_AREAS` for an area of ``areas`` written as the
    home names that area, in lower case ("la lumière du palier" -> "la lumière du landing")."""
    for area in areas:
        key = _SPOKEN_AREA_INDEX.get(fold(area))
        if key is None:
            continue
        for words in SPOKEN_AREAS[key].values():
            for word in words:
                if fold(word) != fold(area):
                    pattern = rf"(?<!\w)(?:{re.escape(word)}|{re.escape(fold(word))})(?!\w)"
                    text = re.sub(pattern, area.lower(), text, flags=re.IGNORECASE)
    return text


_SPOKEN_AREA_INDEX = {
    fold(w): key for key, by in SPOKEN_AREAS.items() for ws in by.values() for w in ws
}


# floor key -> (level, {language: (name, *aliases)})
FLOOR_WORDS: dict[str, tuple[int, dict[str, tuple[str, ...]]]] = {
    "basement": (-1, {"en": ("Basement",), "fr": ("Sous-sol",), "es": ("Sótano",), "de": ("Untergeschoss", "Keller")}),  # noqa: E501
    "ground": (0, {"en": ("Ground floor", "downstairs"), "fr": ("Rez-de-chaussée", "en bas", "RDC"), "es": ("Planta baja", "abajo"), "de": ("Erdgeschoss", "unten", "EG")}),  # noqa: E501
    "first": (1, {"en": ("First floor", "upstairs"), "fr": ("Étage", "en haut", "premier étage"), "es": ("Primera planta", "arriba"), "de": ("Obergeschoss", "oben", "OG")}),  # noqa: E501
    "attic": (2, {"en": ("Attic", "top floor"), "fr": ("Grenier",), "es": ("Ático",), "de": ("Dachgeschoss", "DG")}),  # noqa: E501
}  # fmt: skip

# domain -> {language: (singular, plural)}: how people say the kind of thing
DOMAIN_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "light": {"en": ("light", "lights"), "fr": ("lumière", "lumières"), "es": ("luz", "luces"), "de": ("Licht", "Lichter")},  # noqa: E501
    "switch": {"en": ("plug", "plugs"), "fr": ("prise", "prises"), "es": ("enchufe", "enchufes"), "de": ("Steckdose", "Steckdosen")},  # noqa: E501
    "fan": {"en": ("fan", "fans"), "fr": ("ventilateur", "ventilateurs"), "es": ("ventilador", "ventiladores"), "de": ("Ventilator", "Ventilatoren")},  # noqa: E501
    "cover": {"en": ("blind", "blinds"), "fr": ("volet", "volets"), "es": ("persiana", "persianas"), "de": ("Rollladen", "Rollläden")},  # noqa: E501
    "valve": {"en": ("valve", "valves"), "fr": ("vanne", "vannes"), "es": ("válvula", "válvulas"), "de": ("Ventil", "Ventile")},  # noqa: E501
    "lock": {"en": ("lock", "locks"), "fr": ("serrure", "serrures"), "es": ("cerradura", "cerraduras"), "de": ("Schloss", "Schlösser")},  # noqa: E501
    "climate": {"en": ("thermostat", "thermostats"), "fr": ("thermostat", "thermostats"), "es": ("termostato", "termostatos"), "de": ("Thermostat", "Thermostate")},  # noqa: E501
    "scene": {"en": ("scene", "scenes"), "fr": ("scène", "scènes"), "es": ("escena", "escenas"), "de": ("Szene", "Szenen")},  # noqa: E501
    "button": {"en": ("button", "buttons"), "fr": ("bouton", "boutons"), "es": ("botón", "botones"), "de": ("Taste", "Tasten")},  # noqa: E501
    "sensor": {"en": ("sensor", "sensors"), "fr": ("capteur", "capteurs"), "es": ("sensor", "sensores"), "de": ("Sensor", "Sensoren")},  # noqa: E501
    "binary_sensor": {"en": ("sensor", "sensors"), "fr": ("détecteur", "détecteurs"), "es": ("detector", "detectores"), "de": ("Melder", "Melder")},  # noqa: E501
}  # fmt: skip

# Other words people use for a domain's devices (all languages together), for matching only.
DOMAIN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "light": ("lamp", "lamps", "lighting", "bulb", "lampe", "lampes", "éclairage", "ampoule", "plafonnier", "lámpara", "lámparas", "bombilla", "Lampe", "Lampen", "Beleuchtung", "Leuchte", "Birne"),  # noqa: E501
    "switch": ("switch", "socket", "conmutador", "interruptores", "Stecker", "outlet", "interrupteur", "prise", "enchufe", "interruptor", "Schalter", "Zwischenstecker"),  # noqa: E501
    "fan": ("ventilation", "ventilo", "brasseur", "brasseurs d'air", "abanico", "abanicos", "Gebläse", "ventilación", "Lüfter", "Ventilation"),  # noqa: E501
    "cover": ("shutter", "shutters", "curtain", "curtains", "shade", "shades", "awning", "garage door", "gate", "store", "stores", "rideau", "rideaux", "porte de garage", "portail", "toldo", "cortina", "cortinas", "puerta del garaje", "portón", "Jalousie", "Rollo", "Vorhang", "Gardine", "Gardinen", "Rolladen", "veneciana", "venecianas", "estor", "toldos", "volet roulant", "persienne", "blinds", "Markise", "Garagentor", "Tor"),  # noqa: E501
    "valve": ("tap", "water", "robinet", "eau", "grifo", "llave de paso", "agua", "Wasserhahn", "Wasser", "Hahn"),  # noqa: E501
    "lock": ("door", "doors", "deadbolt", "bolt", "porte", "portes", "verrou", "puerta", "puertas", "pestillo", "pestillos", "cerrojo", "cierre", "Tür", "Türen", "Türschloss", "Riegel"),  # noqa: E501
    "climate": ("heating", "heat", "temperature", "AC", "air conditioning", "warmer", "colder", "chauffage", "température", "clim", "climatisation", "calefacción", "temperatura", "aire acondicionado", "Heizung", "Temperatur", "Klimaanlage", "wärmer", "kälter"),  # noqa: E501
    "scene": ("mode", "ambiance", "ambiente", "Stimmung"),
    "button": ("press", "appuie", "pulsa", "drücke"),
    "sensor": ("temperature", "humidity", "température", "humidité", "temperatura", "humedad", "Temperatur", "Feuchtigkeit"),  # noqa: E501
    "binary_sensor": ("open", "motion", "window", "door", "ouvert", "fenêtre", "mouvement", "abierta", "ventana", "movimiento", "offen", "Fenster", "Bewegung"),  # noqa: E501
}  # fmt: skip

KIND_WORDS = frozenset(
    fold(w) for by in DOMAIN_WORDS.values() for pair in by.values() for w in pair
)
"""The plain words (folded) of the kinds of device, in the four languages ("lumiere", "lichter")."""


COLOR_WORDS: dict[str, dict[str, str]] = {
    "en": {"white": "white", "warm_white": "warm white", "red": "red", "orange": "orange", "yellow": "yellow", "green": "green", "cyan": "cyan", "blue": "blue", "purple": "purple", "pink": "pink"},  # noqa: E501
    "fr": {"white": "blanc", "warm_white": "blanc chaud", "red": "rouge", "orange": "orange", "yellow": "jaune", "green": "vert", "cyan": "cyan", "blue": "bleu", "purple": "violet", "pink": "rose"},  # noqa: E501
    "es": {"white": "blanco", "warm_white": "blanco cálido", "red": "rojo", "orange": "naranja", "yellow": "amarillo", "green": "verde", "cyan": "cian", "blue": "azul", "purple": "morado", "pink": "rosa"},  # noqa: E501
    "de": {"white": "weiß", "warm_white": "warmweiß", "red": "rot", "orange": "orange", "yellow": "gelb", "green": "grün", "cyan": "cyan", "blue": "blau", "purple": "lila", "pink": "rosa"},  # noqa: E501
}  # fmt: skip
"""The words for each colour a light takes by name (``services.COLOR_NAMES``), per language."""


@dataclass(frozen=True)
class DeviceKind:
    """A kind of device a home has, how it is named, and how its features are drawn."""

    key: str
    domain: str
    device_class: str | None
    names: Mapping[str, tuple[str, ...]]
    weight: float
    features: Callable[[random.Random], dict[str, Any]]
    areas: tuple[str, ...] = ()  # area keys it likes; empty: anywhere indoors


def _light_features(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rng.random() < 0.75:
        out["brightness"] = True
        if rng.random() < 0.45:
            out["color_temp_kelvin"] = rng.choice([(2000, 6500), (2700, 6500), (2200, 4000)])
        if rng.random() < 0.35:
            out["color"] = True
            if rng.random() < 0.3:
                out["effects"] = rng.choice([("colorloop", "random"), ("candle", "fireplace")])
    return out


def _fan_features(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rng.random() < 0.6:
        out["percentage"] = True
    if rng.random() < 0.3:
        out["preset_modes"] = rng.choice([("auto", "sleep"), ("low", "medium", "high")])
    if rng.random() < 0.3:
        out["oscillate"] = True
    return out


def _blind_features(rng: random.Random) -> dict[str, Any]:
    return {"position": rng.random() < 0.75, "tilt": rng.random() < 0.25}


def _climate_features(rng: random.Random) -> dict[str, Any]:
    lo, hi = rng.choice([(7.0, 35.0), (5.0, 30.0), (10.0, 30.0), (16.0, 30.0)])
    out: dict[str, Any] = {"min_temp": lo, "max_temp": hi}
    if rng.random() < 0.7:
        out["hvac_modes"] = rng.choice(
            [("off", "heat"), ("off", "heat", "cool", "auto"), ("off", "heat", "auto"), ("heat",)]
        )
    if rng.random() < 0.25:
        out["fan_modes"] = ("auto", "low", "high")
    if rng.random() < 0.35:
        out["preset_modes"] = ("eco", "comfort", "away")
    return out


def _none(_: random.Random) -> dict[str, Any]:
    return {}


def _kind(key: str, domain: str, dc: str | None, weight: float, names: dict[str, tuple[str, ...]],
          features: Callable[[random.Random], dict[str, Any]] = _none,
          areas: tuple[str, ...] = ()) -> DeviceKind:  # fmt: skip
    return DeviceKind(key, domain, dc, names, weight, features, areas)


DEVICE_KINDS: tuple[DeviceKind, ...] = (
    _kind("ceiling_light", "light", None, 10, {"en": ("Ceiling light", "Main light", "Light"), "fr": ("Plafonnier", "Lumière", "Éclairage"), "es": ("Luz del techo", "Luz", "Lámpara de techo"), "de": ("Deckenlampe", "Licht", "Deckenlicht")}, _light_features),  # noqa: E501
    _kind("lamp", "light", None, 6, {"en": ("Lamp", "Floor lamp", "Table lamp"), "fr": ("Lampe", "Lampadaire", "Lampe de table"), "es": ("Lámpara", "Lámpara de pie", "Lámpara de mesa"), "de": ("Lampe", "Stehlampe", "Tischlampe")}, _light_features),  # noqa: E501
    _kind("spots", "light", None, 3, {"en": ("Spots", "Spotlights"), "fr": ("Spots",), "es": ("Focos",), "de": ("Spots", "Strahler")}, _light_features, ("kitchen", "bathroom", "hallway", "living_room", "stairs")),  # noqa: E501
    _kind("led_strip", "light", None, 3, {"en": ("LED strip", "Light strip"), "fr": ("Ruban LED", "Bande LED"), "es": ("Tira LED",), "de": ("LED-Streifen", "Lichtleiste")}, _light_features),  # noqa: E501
    _kind("bedside_lamp", "light", None, 3, {"en": ("Bedside lamp", "Reading lamp"), "fr": ("Lampe de chevet", "Liseuse"), "es": ("Lámpara de noche", "Lámpara de lectura"), "de": ("Nachttischlampe", "Leselampe")}, _light_features, ("bedroom", "kids_room", "guest_room", "nursery")),  # noqa: E501
    _kind("desk_lamp", "light", None, 2, {"en": ("Desk lamp",), "fr": ("Lampe de bureau",), "es": ("Flexo", "Lámpara de escritorio"), "de": ("Schreibtischlampe",)}, _light_features, ("office", "kids_room", "library")),  # noqa: E501
    _kind("outdoor_light", "light", None, 3, {"en": ("Outdoor light", "Wall light", "Path lights", "Porch light", "Pool light"), "fr": ("Éclairage extérieur", "Applique", "Lumières de l'allée", "Lumière du porche", "Éclairage piscine"), "es": ("Luz exterior", "Aplique", "Luces del camino", "Luz del porche", "Luz de la piscina"), "de": ("Außenlicht", "Wandleuchte", "Wegbeleuchtung", "Verandalicht", "Poolbeleuchtung")}, _light_features, ("garden", "terrace", "porch", "driveway", "balcony", "pool")),  # noqa: E501
    _kind("plug", "switch", "outlet", 4, {"en": ("Plug", "Smart plug", "Socket"), "fr": ("Prise", "Prise connectée"), "es": ("Enchufe", "Enchufe inteligente"), "de": ("Steckdose", "Zwischenstecker")}),  # noqa: E501
    _kind("appliance", "switch", "switch", 4, {"en": ("Coffee machine", "Kettle", "TV", "Dehumidifier", "Christmas tree", "Heater", "Pump", "Printer"), "fr": ("Machine à café", "Bouilloire", "Télé", "Déshumidificateur", "Sapin de Noël", "Radiateur", "Pompe", "Imprimante"), "es": ("Cafetera", "Hervidor", "Tele", "Deshumidificador", "Árbol de Navidad", "Estufa", "Bomba", "Impresora"), "de": ("Kaffeemaschine", "Wasserkocher", "Fernseher", "Luftentfeuchter", "Weihnachtsbaum", "Heizlüfter", "Pumpe", "Drucker")}),  # noqa: E501
    _kind("fan", "fan", None, 3, {"en": ("Fan", "Ceiling fan", "Extractor fan"), "fr": ("Ventilateur", "Ventilateur de plafond", "VMC"), "es": ("Ventilador", "Ventilador de techo", "Extractor"), "de": ("Ventilator", "Deckenventilator", "Lüfter")}, _fan_features),  # noqa: E501
    _kind("blind", "cover", "blind", 5, {"en": ("Blinds", "Blind", "Roller blind"), "fr": ("Store", "Stores"), "es": ("Persiana", "Estor"), "de": ("Jalousie", "Rollo")}, _blind_features),  # noqa: E501
    _kind("shutter", "cover", "shutter", 4, {"en": ("Shutter", "Shutters"), "fr": ("Volet", "Volets", "Volet roulant"), "es": ("Persiana", "Contraventana"), "de": ("Rollladen", "Rollläden")}, _blind_features),  # noqa: E501
    _kind("curtain", "cover", "curtain", 2, {"en": ("Curtains", "Curtain"), "fr": ("Rideaux", "Rideau"), "es": ("Cortinas", "Cortina"), "de": ("Vorhänge", "Vorhang")}, _blind_features, ("living_room", "bedroom", "kids_room", "guest_room", "dining_room")),  # noqa: E501
    _kind("awning", "cover", "awning", 1, {"en": ("Awning",), "fr": ("Store banne",), "es": ("Toldo",), "de": ("Markise",)}, _blind_features, ("terrace", "balcony", "garden")),  # noqa: E501
    _kind("garage_door", "cover", "garage", 1, {"en": ("Garage door",), "fr": ("Porte de garage",), "es": ("Puerta del garaje",), "de": ("Garagentor",)}, lambda rng: {"position": False, "stop": True}, ("garage",)),  # noqa: E501
    _kind("gate", "cover", "gate", 1, {"en": ("Gate", "Front gate"), "fr": ("Portail",), "es": ("Portón", "Cancela"), "de": ("Tor", "Hoftor")}, lambda rng: {"position": False}, ("driveway", "garden")),  # noqa: E501
    _kind("water_valve", "valve", "water", 1, {"en": ("Water valve", "Main water"), "fr": ("Vanne d'eau", "Arrivée d'eau"), "es": ("Válvula de agua", "Llave de paso"), "de": ("Wasserventil", "Hauptwasserhahn")}, lambda rng: {"position": rng.random() < 0.3}, ("laundry", "cellar", "garage", "kitchen")),  # noqa: E501
    _kind("irrigation", "valve", "water", 1, {"en": ("Irrigation", "Sprinkler"), "fr": ("Arrosage", "Arroseur"), "es": ("Riego", "Aspersor"), "de": ("Bewässerung", "Rasensprenger")}, lambda rng: {"position": rng.random() < 0.3}, ("garden",)),  # noqa: E501
    _kind("gas_valve", "valve", "gas", 0.4, {"en": ("Gas valve",), "fr": ("Vanne de gaz",), "es": ("Válvula de gas",), "de": ("Gasventil",)}, lambda rng: {}, ("kitchen", "cellar", "garage")),  # noqa: E501
    _kind("door_lock", "lock", None, 1.5, {"en": ("Front door", "Back door", "Side door", "Door lock"), "fr": ("Porte d'entrée", "Porte arrière", "Porte de service", "Serrure"), "es": ("Puerta principal", "Puerta trasera", "Puerta lateral", "Cerradura"), "de": ("Haustür", "Hintertür", "Seitentür", "Türschloss")}, lambda rng: {"can_open": rng.random() < 0.3}, ("hallway", "kitchen", "garage", "porch", "terrace")),  # noqa: E501
    _kind("thermostat", "climate", None, 2, {"en": ("Thermostat", "Heating", "Radiator"), "fr": ("Thermostat", "Chauffage", "Radiateur"), "es": ("Termostato", "Calefacción", "Radiador"), "de": ("Thermostat", "Heizung", "Heizkörper")}, _climate_features),  # noqa: E501
    _kind("air_conditioner", "climate", None, 0.7, {"en": ("Air conditioner", "AC"), "fr": ("Climatisation", "Clim"), "es": ("Aire acondicionado", "Aire"), "de": ("Klimaanlage", "Klimagerät")}, _climate_features),  # noqa: E501
    _kind("scene", "scene", None, 2.5, {"en": ("Movie night", "Good morning", "Good night", "Dinner", "Relax", "Reading", "Party", "Away"), "fr": ("Soirée cinéma", "Bonjour", "Bonne nuit", "Dîner", "Détente", "Lecture", "Fête", "Absent"), "es": ("Noche de cine", "Buenos días", "Buenas noches", "Cena", "Relax", "Lectura", "Fiesta", "Fuera de casa"), "de": ("Filmabend", "Guten Morgen", "Gute Nacht", "Abendessen", "Entspannen", "Lesen", "Party", "Abwesend")}),  # noqa: E501
    _kind("button", "button", None, 1.5, {"en": ("Doorbell chime", "Restart router", "Feed the cat", "Identify"), "fr": ("Carillon", "Redémarrer la box", "Nourrir le chat", "Identifier"), "es": ("Timbre", "Reiniciar router", "Dar de comer al gato", "Identificar"), "de": ("Türgong", "Router neu starten", "Katze füttern", "Identifizieren")}),  # noqa: E501
    _kind("temperature", "sensor", "temperature", 6, {"en": ("Temperature",), "fr": ("Température",), "es": ("Temperatura",), "de": ("Temperatur",)}),  # noqa: E501
    _kind("outdoor_temperature", "sensor", "temperature", 3, {"en": ("Outdoor temperature", "Outside temperature"), "fr": ("Température extérieure",), "es": ("Temperatura exterior",), "de": ("Außentemperatur",)}, areas=("garden", "terrace", "balcony", "porch", "driveway")),  # noqa: E501
    _kind("humidity", "sensor", "humidity", 4, {"en": ("Humidity",), "fr": ("Humidité",), "es": ("Humedad",), "de": ("Luftfeuchtigkeit",)}),  # noqa: E501
    _kind("power", "sensor", "power", 3, {"en": ("Power", "Energy use"), "fr": ("Puissance", "Consommation"), "es": ("Potencia", "Consumo"), "de": ("Leistung", "Verbrauch")}),  # noqa: E501
    _kind("battery", "sensor", "battery", 2, {"en": ("Battery",), "fr": ("Batterie",), "es": ("Batería",), "de": ("Batterie",)}),  # noqa: E501
    _kind("co2", "sensor", "carbon_dioxide", 1, {"en": ("CO2",), "fr": ("CO2",), "es": ("CO2",), "de": ("CO2",)}),  # noqa: E501
    _kind("illuminance", "sensor", "illuminance", 1, {"en": ("Light level",), "fr": ("Luminosité",), "es": ("Luminosidad",), "de": ("Helligkeit",)}),  # noqa: E501
    _kind("window_contact", "binary_sensor", "window", 4, {"en": ("Window", "Window contact"), "fr": ("Fenêtre", "Ouverture fenêtre"), "es": ("Ventana", "Sensor ventana"), "de": ("Fenster", "Fensterkontakt")}),  # noqa: E501
    _kind("door_contact", "binary_sensor", "door", 2, {"en": ("Door", "Door contact"), "fr": ("Porte", "Ouverture porte"), "es": ("Puerta", "Sensor puerta"), "de": ("Tür", "Türkontakt")}),  # noqa: E501
    _kind("motion", "binary_sensor", "motion", 4, {"en": ("Motion", "Motion sensor"), "fr": ("Mouvement", "Détecteur de mouvement"), "es": ("Movimiento", "Sensor de movimiento"), "de": ("Bewegung", "Bewegungsmelder")}),  # noqa: E501
    _kind("smoke", "binary_sensor", "smoke", 1, {"en": ("Smoke alarm", "Smoke detector"), "fr": ("Détecteur de fumée",), "es": ("Detector de humo",), "de": ("Rauchmelder",)}),  # noqa: E501
    _kind("leak", "binary_sensor", "moisture", 1, {"en": ("Leak sensor", "Water leak"), "fr": ("Détecteur de fuite",), "es": ("Sensor de fugas",), "de": ("Wassermelder",)}, areas=("kitchen", "bathroom", "laundry", "cellar")),  # noqa: E501
)  # fmt: skip

ALIASES: Mapping[str, tuple[str, ...]] = {
    "en": ("big light", "the big one", "main one", "mood light", "reading light", "the lamp",
           "night light", "the thing", "my corner"),
    "fr": ("grande lumière", "la grosse", "lampe d'ambiance", "veilleuse", "le truc", "mon coin"),
    "es": ("luz grande", "la grande", "luz ambiente", "luz de noche", "el aparato", "mi rincón"),
    "de": ("großes Licht", "die Große", "Stimmungslicht", "Nachtlicht", "das Ding", "meine Ecke"),
}  # fmt: skip

NAME_MODIFIERS: dict[str, tuple[str, ...]] = {
    "en": ("Left", "Right", "Sofa", "Corner", "Wall", "Shelf", "Mirror", "Sink"),
    "fr": ("gauche", "droite", "du canapé", "d'angle", "du mur", "de l'étagère", "du miroir",
           "de l'évier"),
    "es": ("de la izquierda", "de la derecha", "del sofá", "de la esquina", "de la pared",
           "de la estantería", "del espejo", "del fregadero"),
    "de": ("links", "rechts", "Sofa", "Ecke", "Wand", "Regal", "Spiegel", "Spüle"),
}  # fmt: skip
"""Words that tell two devices of a kind in a room apart ("Left bedside lamp", "Lampadaire du
canapé", "Stehlampe links"), in the same order in every language: English puts them before the
noun, the others after it."""

MODIFIED_SHARE = 0.2
"""How often the name of a device of a :data:`MODIFIABLE` kind has a modifier."""

MODIFIABLE = frozenset({"ceiling_light", "lamp", "spots", "led_strip", "bedside_lamp", "desk_lamp",
                        "plug", "appliance", "fan", "blind", "shutter", "curtain", "thermostat"})  # fmt: skip
"""Kinds of which a home often has two in a room."""

COMMON_WORDS: tuple[tuple[str, ...], ...] = (
    ("night light", "veilleuse", "luz de noche", "Nachtlicht"),
    ("porch", "porche", "entrada", "Veranda"),
    ("backlight", "rétroéclairage", "retroiluminación", "Hintergrundbeleuchtung", "TV-Beleuchtung"),
    ("tv", "télé", "télévision", "tele", "televisión", "Fernseher", "TV"),
    ("ceiling", "plafond", "plafonnier", "techo", "Decke", "Deckenlicht", "Deckenlampe"),
    ("bedside", "chevet", "mesita de noche", "mesilla", "Nachttisch", "Nachttischlampe"),
    ("desk", "bureau", "escritorio", "Schreibtisch"),
    ("floor lamp", "lampadaire", "lámpara de pie", "Stehlampe"),
    ("left", "gauche", "izquierda", "links"),
    ("right", "droite", "derecha", "rechts"),
    ("window", "fenêtre", "ventana", "Fenster"),
    ("front door", "porte d'entrée", "puerta principal", "puerta de entrada", "Haustür"),
    ("back door", "porte de derrière", "porte arrière", "puerta de atrás", "puerta trasera", "Hintertür"),
    ("sprinklers", "arrosage", "riego", "aspersores", "Bewässerung", "Rasensprenger"),
    ("main water", "arrivée d'eau", "llave de paso", "Hauptwasser", "Hauptwasserhahn"),
    ("extractor", "ventilation", "VMC", "extractor", "Lüfter", "Abluft"),
    ("router", "routeur", "box", "router", "Router"),
    ("restart", "redémarrer", "redémarre", "reiniciar", "reinicia", "neu starten", "Neustart"),
    ("smoke", "fumée", "humo", "Rauch", "Rauchmelder"),
    ("motion", "mouvement", "quelqu'un", "movimiento", "alguien", "Bewegung", "jemand"),
    ("humidity", "humide", "humidité", "humedad", "húmedo", "Feuchtigkeit", "feucht"),
    ("outdoor", "outside", "dehors", "extérieur", "fuera", "afuera", "exterior", "draußen", "außen"),
    ("kids", "children", "enfants", "niños", "Kinder", "Kinderzimmer"),
    ("awning", "store banne", "toldo", "Markise"),
    ("blinds", "stores", "persianas", "Jalousien", "Rollos"),
    ("shutter", "volet", "persiana", "Rollladen"),
    ("garage door", "porte du garage", "puerta del garaje", "Garagentor"),
    ("cabinet", "placard", "armario", "Schrank", "Unterschrank"),
    ("mirror", "miroir", "espejo", "Spiegel"),
    ("leak", "fuite", "fuga", "Wasserleck", "Leck"),
)  # fmt: skip
"""Words for the same thing in en/fr/es/de that device names are made of, for matching a name
said in another language than the home's."""


def _aligned_names() -> tuple[tuple[str, ...], ...]:
    groups = []
    for kind in DEVICE_KINDS:
        if kind.domain in ("switch", "scene", "button") and kind.device_class != "outlet":
            for i in range(len(kind.names["en"])):
                groups.append(tuple(kind.names[lang][i] for lang in LANGUAGES))
    return tuple(groups)


PHRASE_GROUPS: tuple[tuple[str, ...], ...] = COMMON_WORDS + _aligned_names()
"""Every set of same-meaning phrases across the four languages."""


@lru_cache(maxsize=4096)
def translations(name: str) -> tuple[str, ...]:
    """Phrases in the other languages for the parts of ``name`` ("Movie night" -> "Filmabend",
    "soirée cinéma", ...): the same meaning, for matching across languages."""
    folded = f" {fold(name)} "
    out: list[str] = []
    for group in PHRASE_GROUPS:
        if any(f" {fold(p)} " in folded for p in group):
            out.extend(group)
    return tuple(out)


@lru_cache(maxsize=4096)
def reworded(name: str) -> frozenset[str]:
    """``name`` (folded) with one of its phrases put in other words of the same meaning
    ("Outdoor temperature" -> "outside temperature", "dehors temperature", ...)."""
    folded = f" {fold(name)} "
    out: set[str] = set()
    for group in _FOLDED_GROUPS:
        for phrase in group:
            if phrase in folded:
                out |= {" ".join(folded.replace(phrase, o).split()) for o in group}
    return frozenset(out)


_FOLDED_GROUPS = tuple(tuple(f" {fold(p)} " for p in group) for group in PHRASE_GROUPS)


def as_spoken(word: str, language: str) -> str:
    """A vocabulary word the way a request writes it: lower case, except German nouns."""
    return word if language == "de" else word.lower()


GENERIC_NAMES = frozenset({"light", "main light", "lumiere", "eclairage", "luz", "licht"})
"""Folded device names too plain to stand for one kind of device in another language."""

_KIND_PHRASES: tuple[tuple[str, DeviceKind, int], ...] = tuple(
    sorted(
        (
            (fold(name), kind, i)
            for kind in DEVICE_KINDS
            for lang in LANGUAGES
            for i, name in enumerate(kind.names[lang])
            if fold(name) not in GENERIC_NAMES
        ),
        key=lambda item: -len(item[0]),
    )
)
"""Every device word (folded), its kind and its place in the kind's names, longest first: the
names of a kind are listed in the same order in every language."""


def kind_names(synonyms_left_out: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Every name of a kind of device, in the four languages: the kinds' own names ("Lámpara de
    pie"), the domains' plain words ("lumières") and their other words ("heating"), but for
    those of the domains ``synonyms_left_out``."""
    return (
        *(n for kind in DEVICE_KINDS for names in kind.names.values() for n in names),
        *(
            w
            for by_language in DOMAIN_WORDS.values()
            for pair in by_language.values()
            for w in pair
        ),
        *(w for d, words in DOMAIN_SYNONYMS.items() if d not in synonyms_left_out for w in words),
    )


@lru_cache(maxsize=4096)
def spoken_name(name: str, domain: str, language: str) -> str | None:
    """How a speaker of ``language`` calls a device named ``name`` when the name is in another
    language: the device word of the name said in ``language`` ("Floor lamp" -> "lampadaire"),
    with its modifier ("Left bedside lamp" -> "lampe de chevet gauche"), or None when the name
    has no device word of its domain or already is in ``language``."""
    folded = f" {fold(name)} "
    found = _kind_in(folded, domain, language)
    if found is None:
        return None
    phrase, said = found
    if fold(said) in GENERIC_NAMES or f" {fold(said)} " in folded:
        return None
    rest = folded.replace(f" {phrase} ", " ")
    for modifier, i in _MODIFIER_PHRASES:
        if f" {modifier} " in rest:
            said = _modified(said, NAME_MODIFIERS[language][i], language)
            rest = rest.replace(f" {modifier} ", " ")
            break
    if _own_words(rest):
        return None
    return as_spoken(said, language)


def kind_word(name: str, domain: str, language: str) -> str | None:
    """The word a speaker of ``language`` has for the kind of device named ``name`` ("Estufa
    Plyshy" -> "heater" in English, "Floor lamp" -> "lampadaire" in French), whatever else the
    name says; None when it has no device word of its domain."""
    found = _kind_in(f" {fold(name)} ", domain, language)
    return None if found is None else as_spoken(found[1], language)


def _kind_in(folded: str, domain: str, language: str) -> tuple[str, str] | None:
    """The longest device word of ``domain`` in a padded, folded name, and the same kind's word
    in ``language`` (the same one of its names, else its first); None when it has none."""
    for phrase, kind, index in _KIND_PHRASES:
        if kind.domain == domain and f" {phrase} " in folded:
            words = kind.names[language]
            return phrase, words[index] if index < len(words) else words[0]
    return None


@lru_cache(maxsize=4096)
def plain_kind_names(name: str, domain: str) -> tuple[tuple[str, ...], frozenset[str]] | None:
    """For a name that is a kind's word of ``domain`` and at most the words of places ("Garden
    sprinklers", "Main water valve"): every name of that kind in the four languages (folded),
    and the vocabulary keys of its places; None for another name ("Emma's lamp", "Desk
    lamp")."""
    folded = f" {fold(name)} "
    for phrase, kind, _ in _KIND_PHRASES:
        if kind.domain != domain:
            continue
        for said in (phrase, phrase + "s"):  # "sprinklers"
            if f" {said} " in folded:
                rest = folded.replace(f" {said} ", " ").split()
                places = frozenset(_AREA_INDEX.get(w) or _FLOOR_INDEX.get(w) for w in rest)
                if None in places:
                    return None
                names = tuple(fold(n) for by in kind.names.values() for n in by)
                return names, frozenset(p for p in places if p is not None)
    return None


def _own_words(rest: str) -> bool:
    """Whether what is left of a name besides its device word has a word no vocabulary knows
    ("Emma" in "Emma's lamp", not "kitchen" or "main"): such a name is said as it is, in any
    language."""
    return any(w not in NAME_WORDS and not w.isdigit() for w in rest.split())


_PLAIN_WORDS = KIND_WORDS | GENERIC_NAMES

_DEVICE_WORDS: dict[str, str] = {
    fold(name): name
    for kind in DEVICE_KINDS
    if kind.domain in ("light", "switch", "fan", "valve")
    for names in kind.names.values()
    for name in names
    if fold(name) not in _PLAIN_WORDS
}
"""The device words (folded) of lights, switches, fans and valves, as the vocabulary spells them,
but a domain's plain word ("Lamp", "Lampe de chevet", not "Light" or "Fan"). The plain words,
and the words of covers, locks, thermostats and sensors, mean a kind of device everywhere
("open the blinds", "lock the door", "the heating"), not part of a name."""


def _same_device_words() -> dict[str, frozenset[str]]:
    same: dict[str, frozenset[str]] = {}
    for kind in DEVICE_KINDS:
        for i in range(max(len(words) for words in kind.names.values())):
            forms = frozenset(
                fold(words[i]) for words in kind.names.values()
                if i < len(words) and fold(words[i]) in _DEVICE_WORDS
            )  # fmt: skip
            for form in forms:
                same[form] = same.get(form, frozenset()) | forms
    return same


_SAME_DEVICE_WORD = _same_device_words()
"""Each device word (folded) -> the same word in every language, as the kinds line them up."""


def device_word_forms(word: str) -> frozenset[str]:
    """``word`` and, when it is a device word, the same word in the other languages, folded:
    "Lampe" -> "lampe", "lamp", "lampara", so "allume la lampe" finds the "Floor lamp" of a
    home named in English."""
    folded = fold(word)
    return _SAME_DEVICE_WORD.get(folded, frozenset()) | {folded}


def device_words_in(name: str) -> set[str]:
    """The device words ``name`` has as whole words, spelt as the vocabulary spells them ("Left
    bedside lamp": "Bedside lamp", "Lamp")."""
    words = fold(name).split()
    found = set()
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + 4) + 1):
            spelt = _DEVICE_WORDS.get(" ".join(words[i:j]))
            if spelt is not None:
                found.add(spelt)
    return found


def _modified(noun: str, modifier: str, language: str) -> str:
    return f"{modifier} {noun.lower()}" if language == "en" else f"{noun} {modifier}"


NAME_WORDS = frozenset(
    word
    for phrases in (
        [w for table in (AREA_WORDS, FLOOR_WORDS) for _, by in table.values()
         for words in by.values() for w in words],
        [n for kind in DEVICE_KINDS for names in kind.names.values() for n in names],
        [m for modifiers in NAME_MODIFIERS.values() for m in modifiers],
        [a for aliases in ALIASES.values() for a in aliases],
        [w for group in COMMON_WORDS for w in group],
    )
    for phrase in phrases
    for word in fold(phrase).split()
)  # fmt: skip
"""Every word (folded) of the vocabulary that device, area and floor names are made of."""

_MODIFIER_PHRASES: tuple[tuple[str, int], ...] = tuple(
    sorted(
        ((fold(m), i) for lang in LANGUAGES for i, m in enumerate(NAME_MODIFIERS[lang])),
        key=lambda item: -len(item[0]),
    )
)
"""Every modifier (folded) and its place in the lists, longest first."""


def with_spoken_names(home: Catalog, language: str) -> Catalog:
    """``home`` with each device's name and aliases in ``language`` (:func:`spoken_name`) as
    more aliases, so that a request in another language than the home's names its devices
    ("Thermostat" with the alias "heating": "chauffage"); the same catalog when no name needs
    one. Applying it twice adds nothing."""
    entities = []
    changed = False
    for entity in home.entities.values():
        known = {fold(n) for n in (entity.name, *entity.aliases)}
        added: list[str] = []
        for name in (entity.name, *entity.aliases):
            said = spoken_name(name, entity.domain, language)
            if said is not None and fold(said) not in known:
                known.add(fold(said))
                added.append(said)
        if added:
            entity = replace(entity, aliases=(*entity.aliases, *added))
            changed = True
        entities.append(entity)
    return Catalog(entities, list(home.areas.values())) if changed else home


_DOMAIN_ORDER = tuple(sorted({k.domain for k in DEVICE_KINDS}))


def domains() -> tuple[str, ...]:
    """Every domain a random home can have."""
    return _DOMAIN_ORDER


@lru_cache(maxsize=4096)
def area_key(name: str) -> str | None:
    """The vocabulary key of an area name or alias in any language (``"Küche"`` -> kitchen)."""
    return _AREA_INDEX.get(fold(re.sub(r"\s+\d+$", "", name)))


def floor_key(name: str) -> str | None:
    """The vocabulary key of a floor name or alias in any language (``"en bas"`` -> ground)."""
    return _FLOOR_INDEX.get(fold(name))


def places_said(text: str, names: Iterable[str] = ()) -> list[frozenset[tuple[str, str]]]:
    """The area and floor words ``text`` says, each as its readings: ``("area", key)`` and
    ``("floor", key)`` pairs ("Keller" is a cellar and a basement). A word inside one of
    ``names`` that ``text`` says is part of that name, not a place ("porch" in "turn off the
    porch light")."""
    folded = f" {fold(text)} "
    inside = [f" {n} " for n in map(fold, names) if n and f" {n} " in folded]
    said: dict[str, set[tuple[str, str]]] = {}
    for table, index in (("area", _AREA_INDEX), ("floor", _FLOOR_INDEX)):
        for word, key in index.items():
            if f" {word} " in folded and not any(f" {word} " in n for n in inside):
                said.setdefault(word, set()).add((table, key))
    return [frozenset(readings) for readings in said.values()]


_AREA_INDEX = {
    fold(w): key for key, (_, by) in AREA_WORDS.items() for ws in by.values() for w in ws
}
_FLOOR_INDEX = {
    fold(w): key for key, (_, by) in FLOOR_WORDS.items() for ws in by.values() for w in ws
}


# --- building entities from features ------------------------------------------------------------

_BUILDERS: dict[str, Callable[..., svc.Services]] = {
    "light": svc.light_services,
    "switch": svc.switch_services,
    "fan": svc.fan_services,
    "cover": svc.cover_services,
    "valve": svc.valve_services,
    "lock": svc.lock_services,
    "climate": svc.climate_services,
    "scene": svc.scene_services,
    "button": svc.button_services,
    "sensor": svc.sensor_services,
    "binary_sensor": svc.sensor_services,
}


def services_for(domain: str, features: Mapping[str, Any], where: str = "entity") -> svc.Services:
    """The services of a device of ``domain`` with ``features`` (builder keyword arguments)."""
    builder = _BUILDERS.get(domain)
    if builder is None:
        known = ", ".join(sorted(_BUILDERS))
        raise HomeError(f"{where}: unknown domain {domain!r} (known: {known})")
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in features.items()}
    try:
        return builder(**clean)
    except TypeError as exc:
        raise HomeError(f"{where}: bad features {dict(features)!r} for {domain}: {exc}") from exc


def slug(text: str) -> str:
    return fold(text).replace(" ", "_").replace("%", "pct") or "device"


# --- random homes -------------------------------------------------------------------------------


def random_home(seed: int, size: int, language: str = "en") -> Catalog:
    """A random home of ``size`` entities named in ``language``; the same seed gives the same home.

    Homes of 30 entities or more have at least one entity of every domain.
    """
    if not MIN_ENTITIES <= size <= MAX_ENTITIES:
        raise HomeError(f"size must be {MIN_ENTITIES}..{MAX_ENTITIES}, got {size}")
    if language not in LANGUAGES:
        raise HomeError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    rng = random.Random(f"home:{seed}:{size}:{language}")
    areas = _random_areas(rng, size, language)
    kinds = _pick_kinds(rng, size)
    entities: list[Entity] = []
    used_ids: set[str] = set()
    used_names: dict[str, int] = {}
    for kind in kinds:
        if kind.key in PLACE_BOUND and not _liked(kind, areas):
            kind = rng.choice([k for k in DEVICE_KINDS if k.domain == kind.domain and
                               k.key not in PLACE_BOUND])  # fmt: skip
        area = _pick_area(rng, kind, areas)
        name = _entity_name(rng, kind, area, language, used_names)
        features = kind.features(rng)
        entity_id = f"{kind.domain}.{slug(name)}"
        n = 2
        while entity_id in used_ids:
            entity_id = f"{kind.domain}.{slug(name)}_{n}"
            n += 1
        used_ids.add(entity_id)
        aliases: tuple[str, ...] = ()
        if kind.domain in ("light", "switch", "fan") and rng.random() < 0.12:
            aliases = (rng.choice(ALIASES[language]),)
        entities.append(
            Entity(
                entity_id,
                name,
                area=area.name if area else None,
                floor=area.floor if area else None,
                aliases=aliases,
                device_class=kind.device_class,
                services=services_for(kind.domain, features),
            )
        )
    return Catalog(entities, areas)


def _random_areas(rng: random.Random, size: int, language: str) -> list[Area]:
    count = max(1, min(40, 1 + size // 8 + rng.randint(0, 2)))
    single_floor = rng.random() < 0.25
    keys = list(AREA_WORDS)
    core = ["kitchen", "living_room", "bedroom", "bathroom", "hallway"]
    rng.shuffle(core)
    rest = [k for k in keys if k not in core]
    rng.shuffle(rest)
    order = core + rest
    chosen: list[tuple[str, int]] = []
    for i in range(count):
        key = order[i % len(order)]
        chosen.append((key, i // len(order) + 1))
    areas = []
    for key, copy in chosen:
        default_floor, words = AREA_WORDS[key]
        name, *aliases = words[language]
        if copy > 1:
            name = f"{name} {copy}"
            aliases = []
        floor: str | None = None
        if default_floor is not None and not single_floor:
            floor = FLOOR_WORDS[default_floor][1][language][0]
        elif default_floor is not None and rng.random() < 0.5:
            floor = FLOOR_WORDS["ground"][1][language][0]
        areas.append(Area(name, floor, tuple(a for a in aliases if rng.random() < 0.6)))
    return areas


def _pick_kinds(rng: random.Random, size: int) -> list[DeviceKind]:
    kinds: list[DeviceKind] = []
    if size >= 30:
        for domain in _DOMAIN_ORDER:
            options = [k for k in DEVICE_KINDS if k.domain == domain]
            kinds.append(rng.choices(options, [k.weight for k in options])[0])
    weights = [k.weight for k in DEVICE_KINDS]
    locks = sum(1 for k in kinds if k.domain == "lock")
    while len(kinds) < size:
        kind = rng.choices(DEVICE_KINDS, weights)[0]
        if kind.domain == "lock":
            if locks >= 4:
                continue
            locks += 1
        kinds.append(kind)
    rng.shuffle(kinds)
    return kinds


PLACE_BOUND = frozenset({"garage_door", "gate", "awning", "irrigation", "outdoor_light"})
"""Kinds of device a home only has where it has their place (a garage door needs a garage)."""


SELF_PLACED = frozenset({"outdoor_temperature"})
"""Kinds whose names say where they are ("Outdoor temperature"): never named with their area,
and in no area when the home has none they like."""


def _liked(kind: DeviceKind, areas: Sequence[Area]) -> list[Area]:
    return [a for a in areas if area_key(a.name) in kind.areas] if kind.areas else []


def _pick_area(rng: random.Random, kind: DeviceKind, areas: Sequence[Area]) -> Area | None:
    if kind.domain in ("scene", "button") and rng.random() < 0.7:
        return None
    liked = _liked(kind, areas)
    if kind.key in PLACE_BOUND and liked:
        return rng.choice(liked)
    if liked and rng.random() < 0.85:
        return rng.choice(liked)
    if kind.key in SELF_PLACED:  # an outdoor sensor in a home without a garden: on a wall
        return None
    indoor = [a for a in areas if AREA_WORDS.get(area_key(a.name) or "", ("x", {}))[0] is not None]
    return rng.choice(indoor or list(areas))


def _entity_name(
    rng: random.Random,
    kind: DeviceKind,
    area: Area | None,
    language: str,
    used: dict[str, int],
) -> str:
    if rng.random() < INVENTED_SHARE:
        return _invented_name(rng, kind, language)
    noun = rng.choice(kind.names[language])
    if kind.key in MODIFIABLE and rng.random() < MODIFIED_SHARE:
        noun = _modified(noun, rng.choice(NAME_MODIFIERS[language]), language)
    if area is None or kind.domain in ("scene", "button") or kind.key in SELF_PLACED:
        name = noun
    elif kind.domain == "lock" and rng.random() < 0.8:
        name = noun
    else:
        style = rng.random()
        if style < 0.15:
            name = noun
        elif language in ("en", "de"):
            name = f"{area.name} {noun}" if style < 0.85 else f"{noun} {area.name}"
        else:
            name = f"{noun} {area.name.lower()}" if style < 0.85 else f"{area.name} {noun}"
    key = fold(name)
    used[key] = used.get(key, 0) + 1
    if used[key] > 1 and rng.random() < 0.6:
        name = f"{name} {used[key]}"
    return name[0].upper() + name[1:]


INVENTED_SHARE = 0.1
"""Share of devices a random home names with a word no vocabulary has, the way people name
devices after a brand, a person or a joke: the planner must copy names it has never seen, not
recall the ones it was trained on."""

PEOPLE = ("Emma", "Lucas", "Mia", "Noah", "Léa", "Hugo", "Sofia", "Mateo", "Lena", "Paul",
          "Nina", "Max", "Chloé", "Jonas", "Inés", "Oscar")  # fmt: skip

_ONSETS = ("b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st",
           "tr", "gl", "pl", "sh", "ch", "")  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou", "ei", "y")
_CODAS = ("", "", "", "n", "r", "x", "s", "l", "m", "t")


def made_up_word(rng: random.Random) -> str:
    """A word of two or three syllables that is in no vocabulary ("Vostrin", "Glaumi")."""
    syllables = rng.choice((2, 2, 3))
    word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
    return (word + rng.choice(_CODAS)).capitalize()


def _invented_name(rng: random.Random, kind: DeviceKind, language: str) -> str:
    """A made-up word alone or with the kind's word ("Vostrin", "Vostrin lamp", "Lampe
    Vostrin"), or a person's device ("Emma's lamp", "lampe de Hugo", "Leas Lampe")."""
    noun = as_spoken(rng.choice(kind.names[language]), language)
    roll = rng.random()
    if roll < 0.35 or kind.domain in ("scene", "button"):
        return made_up_word(rng)
    if roll < 0.7:
        word = made_up_word(rng)
        name = f"{word} {noun}" if language in ("en", "de") else f"{noun} {word}"
    else:
        person = rng.choice(PEOPLE)
        of = "d'" if fold(person)[0] in "aeiouy" else "de "
        name = {"en": f"{person}'s {noun}", "fr": f"{noun} {of}{person}",
                "es": f"{noun} de {person}", "de": f"{person}s {noun}"}[language]  # fmt: skip
    return name[0].upper() + name[1:]


# --- home documents -----------------------------------------------------------------------------


def _arg_to_json(spec: ArgSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"type": spec.type}
    for key in ("description", "minimum", "maximum", "unit"):
        value = getattr(spec, key)
        if value not in (None, ""):
            out[key] = value
    if spec.enum is not None:
        out["enum"] = list(spec.enum)
    if spec.required:
        out["required"] = True
    return out


def home_to_json(home: Catalog) -> dict[str, Any]:
    """A lossless JSON document of the home (entities with every service argument spelled out)."""
    return {
        "areas": [
            {"name": a.name, "floor": a.floor, "aliases": list(a.aliases)}
            for a in home.areas.values()
        ],
        "entities": [
            {
                **e.summary(),
                "services": {
                    s: {n: _arg_to_json(a) for n, a in args.items()}
                    for s, args in e.services.items()
                },
            }
            for e in home.entities.values()
        ],
    }


_ARG_KEYS = {"type", "description", "minimum", "maximum", "unit", "enum", "required"}
_ENTITY_KEYS = {"entity_id", "name", "area", "floor", "aliases", "device_class"}


def home_from_json(doc: Any, source: str = "home") -> Catalog:
    """Build a home from a document written by :func:`home_to_json` or by hand (``features``)."""
    if not isinstance(doc, Mapping):
        raise HomeError(f"{source}: a home must be a JSON object, got {type(doc).__name__}")
    areas: list[Area] = []
    for i, raw in enumerate(_list(doc, "areas", source)):
        where = f"{source}: areas[{i}]"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            raise HomeError(f"{where} needs a string 'name'")
        areas.append(Area(raw["name"], _opt_str(raw, "floor", where), _strs(raw, "aliases", where)))
    entities: list[Entity] = []
    for i, raw in enumerate(_list(doc, "entities", source)):
        where = f"{source}: entities[{i}]"
        if not isinstance(raw, Mapping):
            raise HomeError(f"{where} must be an object")
        entity_id = raw.get("entity_id")
        if not isinstance(entity_id, str) or not re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", entity_id):
            raise HomeError(f"{where}: entity_id must look like 'light.kitchen', got {entity_id!r}")
        where = f"{source}: {entity_id}"
        unknown = set(raw) - _ENTITY_KEYS - {"features", "services"}
        if unknown:
            raise HomeError(f"{where}: unknown keys {sorted(unknown)}")
        domain = entity_id.split(".", 1)[0]
        if "services" in raw:
            services = _services_from_json(raw["services"], where)
        else:
            features = raw.get("features", {})
            if not isinstance(features, Mapping):
                raise HomeError(f"{where}: features must be an object")
            services = services_for(domain, features, where)
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise HomeError(f"{where}: name must be a non-empty string")
        entities.append(
            Entity(
                entity_id,
                name,
                area=_opt_str(raw, "area", where),
                floor=_opt_str(raw, "floor", where),
                aliases=_strs(raw, "aliases", where),
                device_class=_opt_str(raw, "device_class", where),
                services=services,
            )
        )
    if not entities:
        raise HomeError(f"{source}: a home needs at least one entity")
    return Catalog(entities, areas)


def _services_from_json(raw: Any, where: str) -> svc.Services:
    if not isinstance(raw, Mapping):
        raise HomeError(f"{where}: services must be an object")
    out: svc.Services = {}
    for service, args in raw.items():
        if not isinstance(args, Mapping):
            raise HomeError(f"{where}: services.{service} must be an object")
        specs: dict[str, ArgSpec] = {}
        for name, spec in args.items():
            if not isinstance(spec, Mapping) or set(spec) - _ARG_KEYS or "type" not in spec:
                raise HomeError(f"{where}: services.{service}.{name} is not an argument spec")
            fields = dict(spec)
            if "enum" in fields:
                fields["enum"] = tuple(fields["enum"])
            specs[name] = ArgSpec(**fields)
        out[str(service)] = specs
    return out


def _list(doc: Mapping[str, Any], key: str, source: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise HomeError(f"{source}: {key} must be a list")
    return value


def _opt_str(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise HomeError(f"{where}: {key} must be a string or null, got {value!r}")
    return value


def _strs(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise HomeError(f"{where}: {key} must be a list of strings")
    return tuple(value)
