"""Detectors: each class found in its written forms, checksums enforced, overlaps resolved."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeward.policies.detectors import (
    BUILTIN_CLASSES,
    Detection,
    Detector,
    RedactionConfigError,
    fold,
    iban_valid,
    luhn_valid,
)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(
        names=["Émilie Durand", "Jack O'Neill", "María de la Cruz"],
        device_ids=["thermo-1a2b3c", "EW00012345"],
        custom={"licence_plate": [r"\b[A-Z]{2}-\d{3}-[A-Z]{2}\b"]},
    )


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    return [(d.data_class, d.text) for d in detector.detect(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jean.dupont@example.fr.", ("email", "jean.dupont@example.fr")),
        ("écris à zoé.müller@exämple.de", ("email", "zoé.müller@exämple.de")),
        ("call +33 6 12 34 56 78 now", ("phone", "+33 6 12 34 56 78")),
        ("appelle le 06 12 34 56 78", ("phone", "06 12 34 56 78")),
        ("ruf 030 12345678 an", ("phone", "030 12345678")),
        ("call (202) 555-0173 please", ("phone", "(202) 555-0173")),
        ("ring 020 7946 0958", ("phone", "020 7946 0958")),
        ("llama al 612 345 678", ("phone", "612 345 678")),
        ("ruf +49(0)6008203706 an", ("phone", "+49(0)6008203706")),
        ("from 0033 1 42 89 40 72", ("phone", "0033 1 42 89 40 72")),
        ("printer at 192.168.1.20.", ("ip_address", "192.168.1.20")),
        ("host 2001:db8::8a2e:370:7334 up", ("ip_address", "2001:db8::8a2e:370:7334")),
        ("link fe80::1ff:fe23:4567:890a%eth0", ("ip_address", "fe80::1ff:fe23:4567:890a%eth0")),
        ("mac 00:1A:2B:3C:4D:5E", ("mac_address", "00:1A:2B:3C:4D:5E")),
        ("mac 00-1a-2b-3c-4d-5e", ("mac_address", "00-1a-2b-3c-4d-5e")),
        ("cisco 001a.2b3c.4d5e", ("mac_address", "001a.2b3c.4d5e")),
        ("at 48.85661, 2.35222.", ("gps_location", "48.85661, 2.35222")),
        ("at -33.8688,151.2093", ("gps_location", "-33.8688,151.2093")),
        ("at 40.7128° N, 74.0060° W.", ("gps_location", "40.7128° N, 74.0060° W")),
        ("at 48°51'24.0\"N 2°21'07.9\"E", ("gps_location", "48°51'24.0\"N 2°21'07.9\"E")),
        ("bei 48°51.396'N, 2°21.132'O", ("gps_location", "48°51.396'N, 2°21.132'O")),
        (
            "IBAN FR76 3000 6000 0112 3456 7890 189 ok",
            ("iban", "FR76 3000 6000 0112 3456 7890 189"),
        ),
        ("von DE89370400440532013000.", ("iban", "DE89370400440532013000")),
        ("card 4111 1111 1111 1111", ("card_number", "4111 1111 1111 1111")),
        ("amex 371449635398431", ("card_number", "371449635398431")),
        ("zigbee 0x00158d0001a2b3c4", ("device_id", "0x00158d0001a2b3c4")),
        (
            "id 123e4567-e89b-12d3-a456-426614174000",
            ("device_id", "123e4567-e89b-12d3-a456-426614174000"),
        ),
        ("serial number: AB12-3456-CD", ("device_id", "AB12-3456-CD")),
        ("Seriennummer XK-99-1234", ("device_id", "XK-99-1234")),
        ("the THERMO-1A2B3C is off", ("device_id", "THERMO-1A2B3C")),
        ("car AB-123-CD here", ("licence_plate", "AB-123-CD")),
    ],
)
def test_each_class_is_found_in_its_written_forms(
    detector: Detector, text: str, expected: tuple[str, str]
) -> None:
    assert found(detector, text) == [expected]


@pytest.mark.parametrize(
    "address",
    [
        "17066 Heather Grove Apt. 915, Lake Ashley, KS 12345",
        "1600 Pennsylvania Avenue NW",
        "221B Baker Street, London, NW1 6XE",
        "Flat 17\nJanet Meadows",
        "8 Margaret spur",
        "8, rue Jeanne Henry, 75001 Paris",
        "12 bis avenue de la République",
        "Rose-Krebs-Straße 7, 10115 Berlin",
        "Müllerstr. 12a",
        "Berliner Allee 3/5",
        "van der Dussenstraße 48/41, 68459 Pfaffenhofen an der Ilm",
        "Von-der-Tann-Straße 3",
        "Calle de Alcalá 48, 28014 Madrid",
        "Callejón Desiderio Valbuena 77 Puerta 3, Ceuta, 51001",
        "C/ Mayor, nº 5",
    ],
)
def test_street_addresses_in_us_uk_fr_de_es_forms(detector: Detector, address: str) -> None:
    assert found(detector, f"send it to {address}. thanks") == [("street_address", address)]


@pytest.mark.parametrize(
    "text",
    [
        "set the kitchen to 21.5 degrees at 7:30 on 12.05.2024",
        "firmware 2.4.1 installed, order 20240512, 3 lights on",
        "Turn on 3 Kitchen Lights and 2 Porch Lights",
        "card 4111 1111 1111 1112 is not luhn valid",
        "IBAN FR76 3000 6000 0112 3456 7890 188 has a bad checksum",
        "255.255.255.256 is not an address, nor is 12:30:45",
        "coordinates 1.5, 2.5 are just numbers; 95.12345, 10.12345 is off the globe",
        "Tell Alexa to play jazz, ask Google about Monday, sag Bescheid",
        "Ich gehe an der Straße 5 Minuten spazieren",
        "the phone 12345 is too short and (555) 123-4567 is fiction",
    ],
)
def test_look_alikes_are_not_detected(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


def test_configured_names_match_case_insensitively_with_diacritics_folded(
    detector: Detector,
) -> None:
    text = "tell EMILIE durand and emilie, then jack o'neill; Maria DE LA CRUZ too"
    assert found(detector, text) == [
        ("person_name", "EMILIE durand"),
        ("person_name", "emilie"),
        ("person_name", "jack o'neill"),
        ("person_name", "Maria DE LA CRUZ"),
    ]


def test_configured_names_match_whole_words_only(detector: Detector) -> None:
    assert found(detector, "durandal and jackson are not names here") == []


def test_ambiguous_given_names_need_a_capital_in_the_text() -> None:
    d = Detector(names=["Will Turner", "May Smith"], context_names=False)
    assert found(d, "will you check if may comes?") == []
    assert found(d, "Will is home, so is May") == [("person_name", "Will"), ("person_name", "May")]
    assert found(d, "will turner is home") == [("person_name", "will turner")]


def test_particles_of_configured_names_are_not_matched_alone(detector: Detector) -> None:
    assert found(detector, "la porte de la cuisine") == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Tell Anna Schmidt that dinner is ready", "Anna Schmidt"),
        ("Let Mrs O'Connor in", "O'Connor"),
        ("Dr. Jean-Pierre Lefèvre arrives at 5", "Jean-Pierre Lefèvre"),
        ("mon fils Yves arrive", "Yves"),
        ("dis à Hortense Barre de venir", "Hortense Barre"),
        ("Mi hermana Lucía García-López llega", "Lucía García-López"),
        ("meine Frau Ulla kommt", "Ulla"),
        ("Lass Herrn Nikolaj Girschner rein", "Nikolaj Girschner"),
        ("Tell April Wade the door is open", "April Wade"),
        ("Llama a Juan de la Fuente", "Juan de la Fuente"),
        ("Dile a Darío Mayo que venga", "Darío Mayo"),
    ],
)
def test_capitalised_names_after_a_cue(text: str, name: str) -> None:
    assert found(Detector(), text) == [("person_name", name)]


def test_context_names_can_be_switched_off() -> None:
    assert found(Detector(context_names=False), "Tell Anna Schmidt hello") == []


def test_overlaps_keep_the_longest_then_highest_scoring_span(detector: Detector) -> None:
    # "Durand" is a configured name inside an address and inside an email: the longer span wins.
    text = "12 rue Durand, 75001 Paris, mail emilie.durand@example.fr"
    assert found(detector, text) == [
        ("street_address", "12 rue Durand, 75001 Paris"),
        ("email", "emilie.durand@example.fr"),
    ]
    # A serial after its cue (0.9) outranks a phone reading of the same digits (0.75).
    assert found(detector, "serial number 0612345678") == [("device_id", "0612345678")]


def test_detections_carry_class_span_score_and_text(detector: Detector) -> None:
    text = "write to a@b.io"
    (d,) = detector.detect(text)
    assert d == Detection("email", 9, 15, 0.95, "a@b.io")
    assert text[d.start : d.end] == d.text


def test_results_are_deterministic_and_sorted(detector: Detector) -> None:
    text = "a@b.io 192.168.0.1 Émilie 4111111111111111 00:1A:2B:3C:4D:5E"
    first = detector.detect(text)
    assert first == detector.detect(text)
    assert [d.start for d in first] == sorted(d.start for d in first)
    assert [d.data_class for d in first] == [
        "email",
        "ip_address",
        "person_name",
        "card_number",
        "mac_address",
    ]


def test_custom_pattern_value_group_narrows_the_span() -> None:
    d = Detector(custom={"badge": [r"badge (?P<value>\d{6})"]}, context_names=False)
    assert found(d, "my badge 123456 opens it") == [("badge", "123456")]
    assert d.classes == (*BUILTIN_CLASSES, "badge")


def test_phone_regions_decide_national_formats() -> None:
    us_only = Detector(phone_regions=["US"], context_names=False)
    assert found(us_only, "06 12 34 56 78") == []
    assert found(us_only, "+33 6 12 34 56 78") == [("phone", "+33 6 12 34 56 78")]


def test_checksums() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82WEST12345698765432")
    assert not iban_valid("GB82WEST12345698765433")
    assert not iban_valid("GB82WEST1234569876543")  # wrong length for GB
    assert not iban_valid("ZZ82WEST12345698765432")  # no such country


def test_fold_keeps_offsets() -> None:
    text = "Émilie ÇA Øre İzmir Straße"
    assert len(fold(text)) == len(text)
    assert fold("Émilie Ñandú") == "emilie nandu"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"phone_regions": ["XX"]}, "phone_regions: 'XX'"),
        ({"names": [""]}, "names: ''"),
        ({"names": ["x" * 101]}, "longer than 100"),
        ({"device_ids": ["ab"]}, "device_ids: 'ab'"),
        ({"device_ids": ["--x-"]}, "starting with a letter or digit"),
        ({"names": "Anna Schmidt"}, "names: expected a list of strings"),
        ({"custom": {"Plate": ["x"]}}, "custom class name 'Plate'"),
        ({"custom": {"plate2": ["x"]}}, "no digits"),
        ({"custom": {"email": ["x"]}}, "clashes with a built-in"),
        ({"custom": {"plate": "AB"}}, "non-empty list"),
        ({"custom": {"plate": ["("]}}, "pattern '(' is not a valid regex"),
        ({"custom": {"plate": ["a*"]}}, "matches empty text"),
    ],
)
def test_bad_configuration_is_rejected_with_the_setting_named(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(RedactionConfigError, match=message.replace("(", r"\(")):
        Detector(**kwargs)


def test_offsets_stay_right_when_lower_casing_changes_length() -> None:
    text = "İstanbul: tell Anna Schmidt hi"
    (d,) = Detector().detect(text)
    assert (d.data_class, text[d.start : d.end]) == ("person_name", "Anna Schmidt")


@pytest.mark.parametrize(
    "text",
    [
        "Call Brewer Ltd about the broken heater.",  # a legal form inside the capitalised run
        "Llama a Hotel Gallardo S.A. por la caldera.",
        "Llama a Regina Barrio Cobo S.Coop. por la caldera.",
        "Llama a Desarrollo Vara & Asociados S.Com. por la caldera.",
        "Ask Lake Michaelton council when the bins go out.",  # a place's first word
        "Pregunta a Las Palmas cuándo pasa la basura.",
        "Pregunta a Santa Cruz de Tenerife cuándo pasa la basura.",
        "Ask Springfield council when the bins go out.",  # a civic word after it
        "Demande à Vallée-sur-Mer les horaires de collecte.",  # a French place's particle
        "Connecte le réseau invité. Mets la Lampe du Salon à 40 %.",  # a verb ending a sentence
    ],
)
def test_places_and_businesses_after_a_cue_are_not_names(text: str) -> None:
    assert found(Detector(), text) == [], text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Tell Jean-Pierre the door is open", "Jean-Pierre"),
        ("Dr. Lefèvre arrives at 5", "Lefèvre"),
        ("Call Anna Newman about the heater", "Anna Newman"),  # "New" only as a first word
        ("Ask Paul Town when he comes", "Paul Town"),
    ],
)
def test_names_near_place_and_business_words_are_still_names(text: str, name: str) -> None:
    assert found(Detector(), text) == [("person_name", name)]


def test_businesses_after_a_cue_are_not_names() -> None:
    d = Detector()
    for text in ("Call Hunt and Sons about it", "Appelle Morel SARL", "Ruf Gumprich AG an"):
        assert found(d, text) == [], text
    assert found(d, "Llama a Gómez y asociados S.L. hoy") == []


def test_custom_patterns_with_inline_flags_still_work_when_they_cannot_merge() -> None:
    d = Detector(custom={"badge": [r"(?i)badge-\d{3}", r"pass-\d{3}"]}, context_names=False)
    assert found(d, "BADGE-123 and pass-456") == [("badge", "BADGE-123"), ("badge", "pass-456")]


def test_card_numbers_do_not_swallow_following_digits() -> None:
    d = Detector(context_names=False)
    assert found(d, "4111111111111111 00:1A:2B:3C:4D:5E") == [
        ("card_number", "4111111111111111"),
        ("mac_address", "00:1A:2B:3C:4D:5E"),
    ]


def test_detection_repr_never_shows_the_value() -> None:
    (d,) = Detector().detect("mail a@b.io")
    assert "a@b.io" not in repr(d)


def test_numbers_written_back_to_back_are_split_by_the_matcher() -> None:
    d = Detector(context_names=False)
    assert found(d, "call 0612345678 0698765432") == [
        ("phone", "0612345678"),
        ("phone", "0698765432"),
    ]


_PIECES = st.sampled_from(
    [
        " ",
        ", ",
        ". ",
        "\n",
        "Émilie",
        "Durand",
        "tell",
        "Mrs",
        "a@b.io",
        "+33 6 12 34 56 78",
        "06 12 34 56 78",
        "12",
        "rue",
        "Straße 5",
        "48.85661",
        "2.35222",
        "°",
        "N",
        "E",
        "::",
        "00:1A:2B:3C:4D:5E",
        "4111 1111 1111 1111",
        "FR76 3000 6000 0112 3456 7890 189",
        "0x00158d0001a2b3c4",
        "serial",
        "İ",
        "ß",
        "<",
        ">",
        "-",
        "7",
        "0",
        "x",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES | st.text(max_size=6), max_size=14).map("".join))
def test_detections_are_exact_sorted_and_disjoint_on_any_text(text: str) -> None:
    detector = _FUZZ_DETECTOR
    previous_end = 0
    for d in detector.detect(text):
        assert text[d.start : d.end] == d.text
        assert d.start >= previous_end and d.end > d.start
        assert d.data_class in detector.classes
        previous_end = d.end


_FUZZ_DETECTOR = Detector(names=["Émilie Durand"], device_ids=["thermo-1a2b3c"])


def test_long_hyphenated_runs_match_in_linear_time() -> None:
    # Once exponential (every hyphen could end a word or not): this took minutes.
    text = "Aa-" * 30 + "Xstraße 5"
    assert found(Detector(), text) == [("street_address", "Aa-Aa-Aa-Aa-Aa-Xstraße 5")]


def test_every_detectable_class_can_be_named_in_a_policy() -> None:
    from edgeward.policies.detectors import BUILTIN_CLASSES
    from edgeward.policies.document import BUILTIN_DATA_CLASSES

    assert set(BUILTIN_CLASSES) <= BUILTIN_DATA_CLASSES
