"""A labelled corpus of requests with planted personal data, made reproducibly from a seed.

Each item is a request in en/fr/es/de, as a person would type or say it to a home gateway, with
personal data of every class planted by Faker (locales en_US, en_GB, fr_FR, es_ES, de_DE) and the
exact spans of every planted value. Values are drawn the way they occur in the wild: phone numbers
are Faker's, kept only when ``phonenumbers`` says they are real numbers; card numbers and IBANs
carry valid checksums; person names are either household members (given to the detector as the
configured list) or other people named after a cue ("tell", "mon fils", "meine Frau"). Decoy
sentences are mixed in so precision can be measured: hand-written ones (rooms, times,
temperatures, assistants named after a cue) and Faker company and city names right after a cue.

Used by ``tests/policies/test_vault.py`` (nothing planted may leak, re-identification is exact)
and ``tests/bench/test_bench_redaction.py`` (precision/recall per class against Presidio).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import phonenumbers
from faker import Faker

from edgeward.policies.detectors import BUILTIN_CLASSES

LANGUAGES = ("en", "fr", "es", "de")
LOCALES = {"en": ("en_US", "en_GB"), "fr": ("fr_FR",), "es": ("es_ES",), "de": ("de_DE",)}
REGION = {"en_US": "US", "en_GB": "GB", "fr_FR": "FR", "es_ES": "ES", "de_DE": "DE"}
CUSTOM_PATTERNS: dict[str, list[str]] = {
    # French SIV, German and Spanish number plates: a custom class a policy may define.
    "licence_plate": [
        r"\b[A-HJ-NP-TV-Z]{2}-\d{3}-[A-HJ-NP-TV-Z]{2}\b",
        r"\b[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} \d{1,4}\b",
        r"\b\d{4} [BCDFGHJKLMNPRSTVWXYZ]{3}\b",
    ]
}
CLASSES = (*BUILTIN_CLASSES, *CUSTOM_PATTERNS)


@dataclass(frozen=True)
class Span:
    data_class: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class CorpusItem:
    language: str
    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Corpus:
    items: tuple[CorpusItem, ...]
    names: tuple[str, ...]
    """Household members and contacts, as a policy would configure them."""
    device_ids: tuple[str, ...]
    """Known device serials/ids, as the catalog would supply them."""
    custom: dict[str, list[str]]


# Templates: {slot} is a planted value; {person} a household member, {other} someone else named
# right after a cue written in the template.
TEMPLATES: dict[str, dict[str, list[str]]] = {
    "en": {
        "person_name": [
            "Remind {person} to take the bins out tonight.",
            "Is {person} home yet?",
            "Tell {other} that dinner is ready.",
            "Call {other} and say the alarm went off.",
            "My wife {other} will arrive at 6, unlock the door then.",
            "Let Mrs {other} in when she rings.",
        ],
        "email": [
            "Send the energy report to {email} every Monday.",
            "Email the camera clip to {email}, please.",
        ],
        "phone": [
            "If the smoke alarm goes off, call {phone} right away.",
            "Text the plumber at {phone} when the leak sensor trips.",
        ],
        "street_address": [
            "The new thermostat ships to {street_address}.",
            "Order more filters and deliver them to {street_address}.",
        ],
        "gps_location": [
            "Start the heating when my car reaches {gps_location}.",
            "The shed camera is mounted at {gps_location}.",
        ],
        "ip_address": [
            "The printer answers on {ip_address}, block it at night.",
            "Why is {ip_address} talking to the doorbell?",
        ],
        "mac_address": [
            "Wake the PC with MAC {mac_address} at 7.",
            "Forget the device {mac_address} on the guest network.",
        ],
        "device_id": [
            "Re-pair the sensor {device_id} with the hub.",
            "The battery of {device_id} is low, order a new one.",
            "The boiler with serial number {serial} keeps rebooting.",
        ],
        "iban": [
            "Pay the electricity bill from {iban} on the 1st.",
            "My account for the solar refund is {iban}.",
        ],
        "card_number": [
            "Buy new bulbs with the card {card_number}.",
            "Use {card_number} to renew the cloud backup.",
        ],
        "licence_plate": [
            "Open the gate for the car {licence_plate}.",
            "Log when {licence_plate} leaves the driveway.",
        ],
    },
    "fr": {
        "person_name": [
            "Rappelle à {person} de sortir les poubelles ce soir.",
            "Est-ce que {person} est rentrée ?",
            "Dis à {other} que le dîner est prêt.",
            "Appelle {other} si l'alarme se déclenche.",
            "Mon fils {other} rentre à 18 h, ouvre-lui la porte.",
            "Laisse entrer Mme {other} quand elle sonne.",
        ],
        "email": [
            "Envoie le rapport de consommation à {email} chaque lundi.",
            "Transfère la vidéo de la caméra à {email}.",
        ],
        "phone": [
            "Si le détecteur de fumée sonne, appelle le {phone} tout de suite.",
            "Préviens le plombier au {phone} quand le capteur de fuite se déclenche.",
        ],
        "street_address": [
            "Le nouveau thermostat sera livré au {street_address}.",
            "Commande des filtres et fais-les livrer au {street_address}.",
        ],
        "gps_location": [
            "Allume le chauffage quand la voiture arrive à {gps_location}.",
            "La caméra de l'abri est fixée à {gps_location}.",
        ],
        "ip_address": [
            "L'imprimante répond sur {ip_address}, bloque-la la nuit.",
            "Pourquoi {ip_address} parle-t-il à la sonnette ?",
        ],
        "mac_address": [
            "Réveille le PC d'adresse MAC {mac_address} à 7 h.",
            "Oublie l'appareil {mac_address} sur le réseau invité.",
        ],
        "device_id": [
            "Réappaire le capteur {device_id} avec la box.",
            "La pile de {device_id} est faible.",
            "La chaudière avec le numéro de série {serial} redémarre sans cesse.",
        ],
        "iban": [
            "Paie la facture d'électricité depuis {iban} le 1er.",
            "Mon compte pour le remboursement solaire est {iban}.",
        ],
        "card_number": [
            "Achète des ampoules avec la carte {card_number}.",
            "Utilise la carte {card_number} pour renouveler la sauvegarde.",
        ],
        "licence_plate": [
            "Ouvre le portail pour la voiture {licence_plate}.",
            "Note quand {licence_plate} quitte l'allée.",
        ],
    },
    "es": {
        "person_name": [
            "Recuérdale a {person} que saque la basura esta noche.",
            "¿Ha llegado {person} a casa?",
            "Dile a {other} que la cena está lista.",
            "Llama a {other} si salta la alarma.",
            "Mi hermana {other} llega a las 6, abre la puerta entonces.",
            "Deja pasar a la Sra. {other} cuando llame al timbre.",
        ],
        "email": [
            "Envía el informe de consumo a {email} cada lunes.",
            "Manda el vídeo de la cámara a {email}, por favor.",
        ],
        "phone": [
            "Si salta el detector de humo, llama al {phone} enseguida.",
            "Avisa al fontanero al {phone} cuando el sensor detecte una fuga.",
        ],
        "street_address": [
            "El termostato nuevo se envía a {street_address}.",
            "Pide más filtros y que los lleven a {street_address}.",
        ],
        "gps_location": [
            "Enciende la calefacción cuando el coche llegue a {gps_location}.",
            "La cámara del cobertizo está en {gps_location}.",
        ],
        "ip_address": [
            "La impresora responde en {ip_address}, bloquéala por la noche.",
            "¿Por qué {ip_address} habla con el timbre?",
        ],
        "mac_address": [
            "Enciende el PC con MAC {mac_address} a las 7.",
            "Olvida el dispositivo {mac_address} en la red de invitados.",
        ],
        "device_id": [
            "Vuelve a emparejar el sensor {device_id} con el hub.",
            "La batería de {device_id} está baja.",
            "La caldera con número de serie {serial} se reinicia sin parar.",
        ],
        "iban": [
            "Paga la factura de la luz desde {iban} el día 1.",
            "Mi cuenta para la devolución solar es {iban}.",
        ],
        "card_number": [
            "Compra bombillas con la tarjeta {card_number}.",
            "Usa la tarjeta {card_number} para renovar la copia de seguridad.",
        ],
        "licence_plate": [
            "Abre la verja para el coche {licence_plate}.",
            "Anota cuando {licence_plate} salga del garaje.",
        ],
    },
    "de": {
        "person_name": [
            "Erinnere {person} daran, heute Abend den Müll rauszubringen.",
            "Ist {person} schon zu Hause?",
            "Sag {other}, dass das Essen fertig ist.",
            "Ruf {other} an, wenn der Alarm losgeht.",
            "Meine Frau {other} kommt um 18 Uhr, schließ dann die Tür auf.",
            "Lass Herrn {other} rein, wenn er klingelt.",
        ],
        "email": [
            "Schick den Energiebericht jeden Montag an {email}.",
            "Leite das Kameravideo an {email} weiter.",
        ],
        "phone": [
            "Wenn der Rauchmelder anschlägt, ruf sofort {phone} an.",
            "Benachrichtige den Klempner unter {phone}, wenn der Wassersensor auslöst.",
        ],
        "street_address": [
            "Das neue Thermostat wird an {street_address} geliefert.",
            "Bestell neue Filter und lass sie an {street_address} liefern.",
        ],
        "gps_location": [
            "Schalte die Heizung ein, wenn das Auto {gps_location} erreicht.",
            "Die Schuppenkamera hängt bei {gps_location}.",
        ],
        "ip_address": [
            "Der Drucker antwortet auf {ip_address}, sperr ihn nachts.",
            "Warum spricht {ip_address} mit der Türklingel?",
        ],
        "mac_address": [
            "Weck den PC mit der MAC {mac_address} um 7 Uhr.",
            "Vergiss das Gerät {mac_address} im Gästenetz.",
        ],
        "device_id": [
            "Koppel den Sensor {device_id} neu mit dem Hub.",
            "Die Batterie von {device_id} ist schwach.",
            "Die Therme mit der Seriennummer {serial} startet ständig neu.",
        ],
        "iban": [
            "Bezahl die Stromrechnung am 1. von {iban}.",
            "Mein Konto für die Solarerstattung ist {iban}.",
        ],
        "card_number": [
            "Kauf neue Glühbirnen mit der Karte {card_number}.",
            "Nimm die Karte {card_number} für die Cloud-Sicherung.",
        ],
        "licence_plate": [
            "Öffne das Tor für das Auto {licence_plate}.",
            "Protokolliere, wann {licence_plate} die Einfahrt verlässt.",
        ],
    },
}
# Sentences with no personal data that look like some: capitalised words after cues, numbers,
# times, dates, temperatures, rooms and device names.
DECOYS: dict[str, list[str]] = {
    "en": [
        "Set the Kitchen Lights to 40% at 7:30.",
        "Tell Alexa to play some jazz in the Living Room.",
        "Make it 21.5 degrees until 12.05.2026.",
        "Call Home Assistant if the Garage Door stays open for 10 minutes.",
        "Ask Google whether it rains on Saturday.",
        "Turn on 3 Porch Lights and the Back Door Lock.",
        "The firmware 2.4.1 update finished at 23:15.",
        "Remind Everyone the Christmas Lights go on at 17:00.",
    ],
    "fr": [
        "Mets la Lampe du Salon à 40 % à 7 h 30.",
        "Dis à Alexa de jouer du jazz dans le Salon.",
        "Règle 21,5 degrés jusqu'au 12.05.2026.",
        "Appelle Maman si la porte du garage reste ouverte.",
        "Allume la Prise Cuisine pendant 20 minutes.",
        "La mise à jour 2.4.1 s'est terminée à 23:15.",
    ],
    "es": [
        "Pon la Lámpara del Salón al 40 % a las 7:30.",
        "Dile a Alexa que ponga jazz en el Salón.",
        "Pon 21,5 grados hasta el 12.05.2026.",
        "Llama a Mamá si la puerta del garaje sigue abierta.",
        "Enciende el Enchufe Cocina durante 20 minutos.",
        "La actualización 2.4.1 terminó a las 23:15.",
    ],
    "de": [
        "Stell die Wohnzimmerlampe um 7:30 auf 40 %.",
        "Sag Alexa, sie soll Jazz im Wohnzimmer spielen.",
        "Mach 21,5 Grad bis zum 12.05.2026.",
        "Sag Bescheid, wenn die Waschmaschine fertig ist.",
        "Ruf Mama an, wenn das Garagentor offen bleibt.",
        "Das Update 2.4.1 war um 23:15 fertig.",
    ],
}
# Decoys filled with Faker values that are not person names (companies, cities) right after a
# cue: the context-name detector was not tuned on these, so they measure its precision.
GENERATED_DECOYS: dict[str, list[str]] = {
    "en": ["Call {company} about the broken heater.", "Ask {city} council when the bins go out."],
    "fr": ["Appelle {company} pour la chaudière.", "Demande à {city} les horaires de collecte."],
    "es": ["Llama a {company} por la caldera.", "Pregunta a {city} cuándo pasa la basura."],
    "de": ["Ruf {company} wegen der Heizung an.", "Frag {city} nach dem Abholtermin."],
}
_CARD_TYPES = ("visa16", "visa13", "mastercard", "amex", "discover", "jcb16", "diners")


def _grouped(value: str, size: int = 4) -> str:
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def _dms(value: float, positive: str, negative: str) -> str:
    hemisphere = positive if value >= 0 else negative
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return f"{degrees}°{minutes:02d}'{seconds:04.1f}\"{hemisphere}"


_SLOT_CLASS = {"person": "person_name", "other": "person_name", "serial": "device_id"}


class _Planter:
    """Draws values of each class for one locale."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        self.rng = rng
        self.fakers: dict[str, Faker] = {}
        for offset, locale in enumerate(REGION):
            faker = Faker(locale)
            faker.seed_instance(seed * 31 + offset)
            self.fakers[locale] = faker

    def draw(self, slot: str, locale: str, names: list[str], device_ids: list[str]) -> str:
        f = self.fakers[locale]
        match slot:
            case "person":
                return _person(self.rng, names)
            case "other":
                return f"{f.first_name()} {f.last_name()}"
            case "phone" | "street_address" | "licence_plate":
                return str(getattr(self, slot)(f, locale))
            case "device_id":
                return self.device_id(f, device_ids)
            case _:
                return str(getattr(self, slot)(f))

    def email(self, f: Faker) -> str:
        return self.rng.choice((f.email, f.free_email, f.company_email))()

    def phone(self, f: Faker, locale: str) -> str:
        region = REGION[locale]
        for _ in range(200):
            number = f.phone_number()
            try:
                parsed = phonenumbers.parse(number, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(parsed) and "x" not in number:
                style = self.rng.random()
                if style < 0.5:
                    return number
                fmt = (
                    phonenumbers.PhoneNumberFormat.NATIONAL
                    if style < 0.75
                    else phonenumbers.PhoneNumberFormat.INTERNATIONAL
                )
                return phonenumbers.format_number(parsed, fmt)
        raise RuntimeError(f"Faker produced no valid {region} phone number in 200 draws")

    def street_address(self, f: Faker, locale: str) -> str:
        street = f.street_address().strip()
        tail = self.rng.random() < 0.6
        if locale == "en_US":
            return f"{street}, {f.city()}, {f.state_abbr()} {f.postcode()}" if tail else street
        if locale == "en_GB":
            return f"{street}, {f.city()}, {f.postcode()}" if tail else street
        if locale == "es_ES":
            return f"{street}, {f.city()}, {f.postcode()}" if tail else street
        return f"{street}, {f.postcode()} {f.city()}" if tail else street

    def gps_location(self, f: Faker) -> str:
        lat, lon = float(f.latitude()), float(f.longitude())
        style = self.rng.randrange(4)
        if style == 0:
            return f"{lat:.5f}, {lon:.5f}"
        if style == 1:
            ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
            return f"{abs(lat):.4f}° {ns}, {abs(lon):.4f}° {ew}"
        if style == 2:
            return f"{_dms(lat, 'N', 'S')} {_dms(lon, 'E', 'W')}"
        return f"{lat:.6f},{lon:.6f}"

    def ip_address(self, f: Faker) -> str:
        return self.rng.choice((f.ipv4_public, f.ipv4_private, f.ipv6))()

    def mac_address(self, f: Faker) -> str:
        mac = f.mac_address()
        style = self.rng.randrange(3)
        if style == 1:
            return mac.upper()
        if style == 2:
            return mac.replace(":", "-").upper()
        return mac

    def device_id(self, f: Faker, known: list[str]) -> str:
        style = self.rng.randrange(3)
        if style == 0:
            return "0x" + f.hexify("^" * 16)
        if style == 1:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return self.rng.choice(known)

    def serial(self, f: Faker) -> str:
        return f.bothify("??##-####-##??").upper()

    def iban(self, f: Faker) -> str:
        iban = f.iban()
        return _grouped(iban) if self.rng.random() < 0.5 else iban

    def card_number(self, f: Faker) -> str:
        number = f.credit_card_number(card_type=self.rng.choice(_CARD_TYPES))
        if self.rng.random() < 0.5 and len(number) == 16:
            return _grouped(number)
        return number

    def licence_plate(self, f: Faker, locale: str) -> str:
        if locale == "fr_FR":
            return f.bothify("??-###-??", letters="ABCDEFGHJKLMNPQRSTVWXYZ")
        if locale == "es_ES":
            return f.bothify("#### ???", letters="BCDFGHJKLMNPRSTVWXYZ")
        return f.bothify("??-?? ####", letters="ABDEFHKMNRSW")


def _household(planter: _Planter) -> list[str]:
    names: list[str] = []
    for locale in REGION:
        f = planter.fakers[locale]
        names.extend(f"{f.first_name()} {f.last_name()}" for _ in range(5))
    return names


def _fill(
    template: str,
    values: dict[str, tuple[str, str]],
) -> tuple[str, list[Span]]:
    """Fill ``{slot}`` markers, returning the text and the spans of the planted values."""
    text = ""
    spans: list[Span] = []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        slot, _, rest = after.partition("}")
        text += before
        data_class, value = values[slot]
        spans.append(Span(data_class, len(text), len(text) + len(value), value))
        text += value
    return text + rest, spans


def generate_corpus(seed: int = 20261126, size: int = 600) -> Corpus:
    """``size`` requests, languages in turn, every class planted in turn, reproducible by seed."""
    rng = random.Random(seed)
    planter = _Planter(rng, seed)
    names = _household(planter)
    device_ids = [f"{kind}-{rng.randrange(16**6):06x}" for kind in ("thermo", "plug", "cam")] * 1
    device_ids += [f"EW{rng.randrange(10**8):08d}" for _ in range(3)]
    items = []
    for index in range(size):
        language = LANGUAGES[index % len(LANGUAGES)]
        locale = rng.choice(LOCALES[language])
        f = planter.fakers[locale]
        planted_classes = [CLASSES[(index // len(LANGUAGES)) % len(CLASSES)]]
        if rng.random() < 0.5:
            planted_classes.append(rng.choice(CLASSES))
        sentences: list[tuple[str, dict[str, tuple[str, str]]]] = []
        for data_class in planted_classes:
            template = rng.choice(TEMPLATES[language][data_class])
            slot = template[template.index("{") + 1 : template.index("}")]
            value = planter.draw(slot, locale, names, device_ids)
            values = {slot: (_SLOT_CLASS.get(slot, slot), value)}
            sentences.append((template, values))
        if rng.random() < 0.4:
            sentences.append((rng.choice(DECOYS[language]), {}))
        if rng.random() < 0.25:
            decoy = rng.choice(GENERATED_DECOYS[language])
            decoy = decoy.replace("{company}", f.company()).replace("{city}", f.city())
            sentences.append((decoy, {}))
        rng.shuffle(sentences)
        text = ""
        spans: list[Span] = []
        for template, values in sentences:
            if text:
                text += " "
            filled, filled_spans = _fill(template, values)
            spans.extend(
                Span(s.data_class, s.start + len(text), s.end + len(text), s.text)
                for s in filled_spans
            )
            text += filled
        items.append(CorpusItem(language, text, tuple(spans)))
    return Corpus(tuple(items), tuple(names), tuple(device_ids), CUSTOM_PATTERNS)


def _person(rng: random.Random, names: list[str]) -> str:
    name = rng.choice(names)
    style = rng.randrange(3)
    if style == 0:
        return name.split()[0]
    if style == 1:
        return name.lower()  # speech-to-text writes names in lower case
    return name
