"""The offline dialog's language: what the engine sets (`DialogManager.language`), and what it
changes — the greeting, the questions, the hints for speech-to-text — mid-call too."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.engines.local.dialog import DialogManager
from app.hotel.config import load_hotel_config

HOTEL = load_hotel_config(Path(__file__).resolve().parents[2] / "config" / "hotel.yaml")
HARBORVIEW = HOTEL.get_property("harborview")
PINECREST = HOTEL.get_property("pinecrest")
TODAY = dt.date(2026, 12, 1)


def test_the_language_is_english_unless_set() -> None:
    assert DialogManager(HARBORVIEW, TODAY).language == "en"
    assert DialogManager(HARBORVIEW, TODAY, language="es").language == "es"
    assert DialogManager(HARBORVIEW, TODAY, language="es-ES").language == "es"
    dialog = DialogManager(HARBORVIEW, TODAY)
    dialog.language = "es"
    assert dialog.language == "es"
    dialog.language = "fr"  # not spoken here: English
    assert dialog.language == "en"


def test_the_greeting_is_in_the_dialogs_language() -> None:
    dialog = DialogManager(HARBORVIEW, TODAY)
    assert dialog.greeting() == HARBORVIEW.greeting_words
    dialog.language = "es"
    assert dialog.greeting() == (
        "Gracias por llamar al Harborview Hotel. Soy Ava, ¿en qué puedo ayudarle?"
    )
    # A property without a Spanish greeting in hotel.yaml: the dialog's own, with its names.
    assert DialogManager(PINECREST, TODAY, language="es").greeting() == (
        "Gracias por llamar al Pinecrest Lodge. Soy Sam, ¿en qué puedo ayudarle?"
    )


def test_the_language_can_change_mid_booking() -> None:
    dialog = DialogManager(HARBORVIEW, TODAY)
    assert dialog.reply("I'd like to book a room.").question == "arrival"
    assert dialog.expecting() == (
        "We would like to arrive on the twelfth of December. This Friday. Tomorrow."
    )
    dialog.language = "es"  # the engine heard Spanish
    reply = dialog.reply("El viernes.")
    assert reply.text == "¿Y cuántas noches se quedaría?"
    assert dialog.booking is not None and dialog.booking.check_in == dt.date(2026, 12, 4)
    assert dialog.expecting() == "Tres noches. Dos noches, por favor. Solo una noche. Una semana."


def test_unheard_and_not_understood_in_spanish() -> None:
    dialog = DialogManager(HARBORVIEW, TODAY, language="es")
    assert dialog.reply("").text == "Perdone, no le he oído bien. ¿Puede repetirlo?"
    assert dialog.reply("...").text.startswith("Lo siento, sigo sin oírle.")
    said = dialog.reply("¿Cuál es el sentido de la vida?").text
    assert said.startswith("Lo siento, eso no lo puedo resolver yo.")
    assert dialog.reply("repita").text == said
    dialog.tools = {"schedule_callback"}
    said = dialog.reply("¿Y el sentido del universo?").text
    assert said.startswith("Lo siento, sigo sin poder ayudarle con eso. Puede decir, por ejemplo:")
    assert dialog.reply("¿Y las estrellas?").question == "rescue"
