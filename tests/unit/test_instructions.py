"""The agent's instructions say how the caller reached it: the menu's path and language."""

import datetime as dt
from pathlib import Path

import pytest

from app.calls.arrival import Arrival
from app.calls.engine_port import CallContext
from app.calls.languages import base_language
from app.engines.instructions import build_instructions
from app.hotel.config import load_hotel_config

HOTEL = load_hotel_config(Path(__file__).parents[2] / "config" / "hotel.yaml")
HARBORVIEW = HOTEL.get_property("harborview")
NOW = dt.datetime(2026, 11, 25, 18, 30, tzinfo=dt.UTC)


def _for(*path: str, language: str = "en") -> str:
    context = CallContext("harborview", "+15551230000", Arrival.parse(["agent", *path]), language)
    return build_instructions(HARBORVIEW, context, NOW)


def test_the_property_and_the_caller_are_in_them() -> None:
    text = _for()
    assert HARBORVIEW.name in text and "+15551230000" in text
    assert "Wednesday 25 November 2026, 10:30 local time" in text  # Los Angeles
    assert "phone menu" not in text and "Spanish" not in text  # nothing said of a menu


@pytest.mark.parametrize(
    ("path", "said"),
    [
        (("after-hours",), "outside business hours"),
        (("menu",), "chose to speak to you in the phone menu"),
        (("menu-reservations",), "chose reservations in the phone menu"),
        (("callback",), "call-back key"),
        (("unanswered", "3100", "harborview"), "put through to Bay Kitchen restaurant, but nobody"),
        (("unanswered", "queue-front-desk"), "put through to the front desk, but nobody"),
        (("closed", "3300"), "chose housekeeping in the phone menu, which is closed"),
    ],
)
def test_the_way_the_caller_came_is_explained(path: tuple[str, ...], said: str) -> None:
    assert said in _for(*path)


def test_a_spanish_call_is_spoken_to_in_spanish() -> None:
    text = _for("menu", language="es")
    assert "Speak Spanish with this caller, from your first words" in text
    english = _for("menu")
    assert "Spanish" not in english and "another language, carry on in theirs" in english


@pytest.mark.parametrize(
    ("channel", "base"), [("en", "en"), ("en_US", "en"), ("es", "es"), ("pt-BR", "pt"), ("", "en")]
)
def test_a_channel_language_is_taken_without_its_region(channel: str, base: str) -> None:
    assert base_language(channel) == base
    assert (base == "en") == ("from your first words" not in _for(language=channel))
