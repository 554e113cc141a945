"""What the offline dialog reads in a caller's words, in English and in Spanish: written as
speech-to-text writes them (Spanish with accents and without, numbers in words and digits)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.engines.local import slots, slots_es
from app.engines.local.language import Parser, language_code, parser

TODAY = dt.date(2026, 12, 1)  # a Tuesday
D = dt.date


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        # the caller, as Whisper wrote them
        (
            "checking in on December third and leave them in December fifth",
            (D(2026, 12, 3), D(2026, 12, 5)),
        ),
        (
            "checking in on December third and leave on December fifth",
            (D(2026, 12, 3), D(2026, 12, 5)),
        ),
        ("December 3rd to the 5th", (D(2026, 12, 3), D(2026, 12, 5))),
        ("from the 28th to January 2nd", (D(2026, 12, 28), D(2027, 1, 2))),
        ("Friday through Sunday", (D(2026, 12, 4), D(2026, 12, 6))),
        ("until the fifth", (None, D(2026, 12, 5))),
        ("the 12 of December", (D(2026, 12, 12), None)),
        ("December the 12th", (D(2026, 12, 12), None)),
        ("the day after tomorrow", (D(2026, 12, 3), None)),
        ("the first one", (None, None)),  # a room of the quote, not a date
        ("the second option please", (None, None)),
        ("put me through to reservations", (None, None)),
    ],
)
def test_english_dates(words: str, expected: tuple[D | None, D | None]) -> None:
    assert slots.parse_dates(words, TODAY) == expected


def test_a_departure_said_alone_is_after_the_arrival_known() -> None:
    assert slots.parse_dates("until the 2nd", TODAY, arrival=D(2026, 12, 28)) == (
        None,
        D(2027, 1, 2),
    )


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("el tres de diciembre", (D(2026, 12, 3), None)),
        ("el 3 de diciembre", (D(2026, 12, 3), None)),
        ("del 3 al 5 de diciembre", (D(2026, 12, 3), D(2026, 12, 5))),
        ("del tres al cinco de diciembre", (D(2026, 12, 3), D(2026, 12, 5))),
        ("llegamos el viernes y salimos el domingo", (D(2026, 12, 4), D(2026, 12, 6))),
        ("el treinta y uno de diciembre hasta el 2 de enero", (D(2026, 12, 31), D(2027, 1, 2))),
        ("mañana", (D(2026, 12, 2), None)),
        ("manana", (D(2026, 12, 2), None)),
        ("pasado mañana", (D(2026, 12, 3), None)),
        ("este viernes", (D(2026, 12, 4), None)),
        ("el sábado", (D(2026, 12, 5), None)),
        ("el sabado", (D(2026, 12, 5), None)),
        ("el primero de diciembre", (D(2026, 12, 1), None)),
        ("hasta el cinco", (None, D(2026, 12, 5))),
        ("por la mañana", (None, None)),  # the morning, not tomorrow
        ("somos dos adultos", (None, None)),
        ("dos noches", (None, None)),
        ("Hola, quisiera reservar una habitación", (None, None)),
    ],
)
def test_spanish_dates(words: str, expected: tuple[D | None, D | None]) -> None:
    assert slots_es.parse_dates(words, TODAY) == expected


@pytest.mark.parametrize(
    ("module", "words", "asked", "nights"),
    [
        (slots, "two nights", False, 2),
        (slots, "for a week", False, 7),
        (slots, "three", True, 3),
        (slots, "three", False, None),  # a bare number only answers "how many nights?"
        (slots, "um, just three please", True, 3),
        (slots, "two adults", True, None),
        (slots_es, "dos noches", False, 2),
        (slots_es, "una noche", False, 1),
        (slots_es, "una semana", False, 7),
        (slots_es, "el fin de semana", False, 2),
        (slots_es, "tres", True, 3),
        (slots_es, "tres", False, None),
        (slots_es, "dos adultos", True, None),
    ],
)
def test_nights(module: Parser, words: str, asked: bool, nights: int | None) -> None:
    assert module.parse_nights(words, asked=asked) == nights


@pytest.mark.parametrize(
    ("words", "asked", "guests"),
    [
        ("dos adultos y un niño", False, (2, 1)),
        ("dos adultos y un nino", False, (2, 1)),
        ("somos dos", False, (2, None)),
        ("somos tres, dos adultos y un niño", False, (2, 1)),
        ("para tres personas", False, (3, None)),
        ("solo yo", False, (1, None)),
        ("mi esposa y yo", False, (2, None)),
        ("dos adultos, sin niños", False, (2, 0)),
        ("dos", True, (2, None)),
        ("para dos, por favor", True, (2, None)),
        ("dos", False, (None, None)),
        ("la azul", True, (None, None)),
    ],
)
def test_spanish_guests(words: str, asked: bool, guests: tuple[int | None, int | None]) -> None:
    assert slots_es.parse_guests(words, asked=asked) == guests


@pytest.mark.parametrize(
    ("words", "answer"),
    [
        ("sí", True),
        ("Si, por favor.", True),
        ("claro", True),
        ("vale", True),
        ("de acuerdo", True),
        ("no", False),
        ("No, gracias.", False),
        ("mejor no", False),
        ("mmm", None),
    ],
)
def test_spanish_yes_and_no(words: str, answer: bool | None) -> None:
    assert slots_es.parse_yes_no(words) is answer


def test_a_bare_number_answers_how_many_guests_only_alone() -> None:
    assert slots.parse_guests("three", asked=True) == (3, None)
    assert slots.parse_guests("we are three, please", asked=True) == (3, None)
    assert slots.parse_guests("the blue one", asked=True) == (None, None)  # not one guest
    assert slots.parse_guests("four one five", asked=True) == (None, None)  # digits


def test_names_given_whatever_was_asked() -> None:
    assert slots.introduced_name("My name is Maria Gonzalez") == "Maria Gonzalez"
    assert slots.introduced_name("Two nights, and my name is Maria Gonzalez.") == ("Maria Gonzalez")
    assert slots.introduced_name("The name's Ada Lovelace, for two nights") == "Ada Lovelace"
    assert slots.introduced_name("Two nights please") is None
    assert slots.parse_name("Ada Lovelace please") == "Ada Lovelace"
    assert slots.parse_name("two nights") is None  # an answer, but not a name
    assert slots.parse_name("yes") is None
    assert slots_es.introduced_name("Me llamo María González") == "María González"
    assert slots_es.introduced_name("me llamo maria gonzalez y somos dos") == "Maria Gonzalez"
    assert slots_es.introduced_name("A nombre de José Luis Pérez, por favor") == ("José Luis Pérez")
    assert slots_es.parse_name("María de la Cruz") == "María de la Cruz"
    assert slots_es.parse_name("Soy Ana Torres") == "Ana Torres"
    assert slots_es.parse_name("para dos") is None
    assert slots_es.parse_name("sí") is None


def test_digits_read_out() -> None:
    assert slots_es.parse_digits("cuatro uno cinco, cinco cinco cinco, cero uno tres cuatro") == (
        "4155550134"
    )
    assert slots_es.parse_digits("seis cincuenta y cinco, veintidós, 10") == "6552210"
    assert slots.parse_digits("four one five, double five five, oh one three four") == (
        "4155550134"
    )


@pytest.mark.parametrize(
    ("module", "words", "position"),
    [
        (slots, "the first one", "1"),
        (slots, "The second, please.", "2"),
        (slots, "the last one", "last"),
        (slots, "the cheaper one", "cheapest"),
        (slots, "the cheapest", "cheapest"),
        (slots, "I'll take the bigger one", "biggest"),
        (slots, "the more expensive one", "dearest"),
        (slots, "on the first of December", None),
        (slots, "the double queen", None),
        (slots_es, "la primera", "1"),
        (slots_es, "el segundo", "2"),
        (slots_es, "la última", "last"),
        (slots_es, "la ultima", "last"),
        (slots_es, "la más barata", "cheapest"),
        (slots_es, "la mas economica", "cheapest"),
        (slots_es, "la más grande", "biggest"),
        (slots_es, "el primero de diciembre", None),
    ],
)
def test_rooms_by_position(module: Parser, words: str, position: str | None) -> None:
    assert module.parse_position(words) == position


@pytest.mark.parametrize(
    ("language", "words", "cue"),
    [
        ("en", "Sorry, could you repeat that?", "repeat"),
        ("en", "say that again", "repeat"),
        ("en", "Pardon?", "repeat"),
        ("en", "Can we start over?", "start_over"),
        ("en", "Let me talk to someone.", "person"),
        ("en", "Operator!", "person"),
        ("en", "I want to speak to a real person", "person"),
        ("es", "Repita, por favor.", "repeat"),
        ("es", "¿Cómo?", "repeat"),
        ("es", "¿como?", "repeat"),
        ("es", "no le he entendido", "repeat"),
        ("es", "Quiero empezar de nuevo", "start_over"),
        ("es", "Quiero hablar con alguien", "person"),
        ("es", "Con recepción, por favor", "person"),
        ("es", "con recepcion", "person"),
        ("es", "Adiós", "goodbye"),
        ("es", "Eso es todo, gracias", "goodbye"),
        ("es", "Llámenme mañana", "callback"),
        ("es", "¿Me pueden llamar más tarde?", "callback"),
    ],
)
def test_what_steers_the_call(language: str, words: str, cue: str) -> None:
    assert parser(language).cue(words, cue)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Sorry, two nights"),  # "sorry" in passing is not "repeat that"
        ("en", "I'd like to talk about the pool"),
        ("es", "¿Cómo llego al hotel?"),  # "cómo" in a question is not "¿cómo?"
        ("es", "Me llamo María"),  # "me llamo" is a name, not "call me"
    ],
)
def test_what_does_not_steer_it(language: str, words: str) -> None:
    p = parser(language)
    assert not any(p.cue(words, c) for c in ("repeat", "person", "callback", "start_over"))


@pytest.mark.parametrize(
    ("words", "booking"),
    [
        ("Hola, quisiera reservar una habitación", True),
        ("¿Tienen disponibilidad para el viernes?", True),
        ("¿Qué precio tiene una habitación?", True),
        ("¿Tienen habitación para el tres de diciembre?", True),
        ("Mi habitación está fría", False),
        ("¿Tienen wifi?", False),
    ],
)
def test_spanish_booking_intent(words: str, booking: bool) -> None:
    assert slots_es.wants_booking(words, TODAY) is booking


def test_spanish_times_for_a_call_back() -> None:
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    at = dt.UTC
    assert slots_es.parse_when("mañana a las tres", now) == dt.datetime(2026, 12, 2, 15, tzinfo=at)
    assert slots_es.parse_when("a las diez de la mañana", now) == dt.datetime(
        2026, 12, 1, 10, tzinfo=at
    )
    assert slots_es.parse_when("esta tarde a las cinco y media", now) == dt.datetime(
        2026, 12, 1, 17, 30, tzinfo=at
    )
    assert slots_es.parse_when("en dos horas", now) == now + dt.timedelta(hours=2)
    assert slots_es.parse_when("el viernes por la mañana", now) == dt.datetime(
        2026, 12, 4, 10, tzinfo=at
    )


def test_language_codes() -> None:
    assert [language_code(c) for c in ("es", "es-ES", "ES", "en-US", "fr", None)] == [
        "es",
        "es",
        "es",
        "en",
        "en",
        "en",
    ]
