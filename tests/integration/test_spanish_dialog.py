"""A Spanish-speaking caller served in Spanish by the offline dialog, end to end: booking,
the hotel's facts, transfers, call backs, the tools' errors. Real tools, real PostgreSQL.

The words are what speech-to-text writes (with accents or without); the dialog's language is
set as the engine sets it from the call (`dialog.language = "es"`).
"""

from __future__ import annotations

import datetime as dt
import re

import asyncpg
import pytest

from app.engines.local.dialog import DialogManager
from tests.integration.dialog_rig import CALLER, PROP, TODAY, Conversation, hotel_tools

# Words no Spanish sentence of ours has (room names aside: "Harbor King" is a name).
ENGLISH = re.compile(
    r"\b(the|you|your|would|please|nights?|for|and|is|what|shall|sorry|thank|booking|room)\b",
    re.IGNORECASE,
)


@pytest.fixture
async def talk(pool: asyncpg.Pool) -> Conversation:
    return Conversation(await hotel_tools(pool, callbacks=True), language="es")


def _all_spanish(talk: Conversation) -> None:
    english = [t for t in talk.heard if ENGLISH.search(t)]
    assert not english, english


def _dollars(amount: str) -> str:
    return f"{int(float(amount))} dólares"


async def test_a_whole_booking_in_spanish_from_hola_to_the_confirmation_code(
    talk: Conversation, pool: asyncpg.Pool
) -> None:
    assert talk.dialog.greeting() == (
        "Gracias por llamar al Harborview Hotel. Soy Ava, ¿en qué puedo ayudarle?"
    )
    said = await talk.say("Hola, quisiera reservar una habitación")
    assert said == "Con mucho gusto le ayudo con la reserva. ¿Qué día le gustaría llegar?"
    assert talk.dialog.expecting() == "Queremos llegar el doce de diciembre. Este viernes. Mañana."
    said = await talk.say("El tres de diciembre.")
    assert said == "¿Y cuántas noches se quedaría?"
    assert "Dos noches" in (talk.dialog.expecting() or "")
    said = await talk.say("Dos noches.")
    assert said == "¿Cuántos adultos se alojarán, y algún niño?"
    said = await talk.say("Somos dos adultos y un niño.")
    _, _, quote = talk.calls[-1]
    shown = [o for o in quote["options"] if o["bookable"]][:3]
    assert said.startswith(
        "Un momento, lo compruebo. Para dos noches, desde el jueves tres de diciembre hasta el "
        "sábado cinco de diciembre, para dos adultos y un niño, tengo la "
        f"{shown[0]['name']} por {_dollars(shown[0]['total'])} en total"
    )
    assert said.endswith("¿Cuál prefiere?")
    assert f"La {shown[0]['name']}" in (talk.dialog.expecting() or "")
    said = await talk.say("La primera.")
    assert said == f"La {shown[0]['name']}, perfecto. ¿A nombre de quién hago la reserva?"
    said = await talk.say("Me llamo María González.")
    assert said == "Gracias, María González. ¿Uso el número desde el que llama para la reserva?"
    said = await talk.say("Sí.")
    assert said == (
        f"Entonces: la {shown[0]['name']}, con llegada el jueves tres de diciembre, dos noches, "
        "para dos adultos y un niño, a nombre de María González. ¿Hago la reserva?"
    )
    said = await talk.say("Sí, por favor.")
    row = await pool.fetchrow(
        "SELECT r.*, rt.code FROM reservations r JOIN room_types rt ON rt.id = r.room_type_id"
    )
    assert row is not None and row["guest_name"] == "María González"
    assert (row["code"], row["check_in"], row["check_out"], row["children"]) == (
        shown[0]["room_type"],
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 5),
        1,
    )
    assert row["guest_phone_e164"] == CALLER
    assert f"Su código de confirmación es {', '.join(row['confirmation_code'])}." in said
    assert said.endswith("Si no, puede pagar al llegar.")
    said = await talk.say("Sí, envíemelo.")
    assert said.startswith(
        "Se lo envío ahora. Le he enviado un mensaje al número que termina en 0 1 3 4 con un "
        f"enlace seguro para pagar {row['total_cents'] // 100} dólares."
    )
    assert await pool.fetchval("SELECT count(*) FROM sms_messages") == 1
    said = await talk.say("No, eso es todo, gracias.")
    assert said == "Gracias por llamar al Harborview Hotel. Adiós."
    assert talk.last is not None and talk.last.end_call
    _all_spanish(talk)


async def test_spanish_as_speech_to_text_writes_it_without_accents(
    talk: Conversation, pool: asyncpg.Pool
) -> None:
    said = await talk.say(
        "hola quisiera reservar una habitacion del 3 al 5 de diciembre para dos adultos"
    )
    shown = [o for o in talk.calls[-1][2]["options"] if o["bookable"]][:3]
    cheapest = min(shown, key=lambda o: float(o["total"]))
    assert "desde el jueves tres de diciembre hasta el sábado cinco de diciembre" in said
    said = await talk.say("la mas barata")
    assert said.startswith(f"La {cheapest['name']}, perfecto.")
    await talk.say("a nombre de Maria Gonzalez")
    said = await talk.say("no, a otro numero")
    assert said == "¿Qué número usamos? Dígamelo cifra a cifra, con el prefijo."
    said = await talk.say("cuatro uno cinco, cinco cinco cinco, cero uno nueve nueve")
    assert said.startswith(f"Entonces: la {cheapest['name']}") and "Maria Gonzalez" in said
    await talk.say("si")
    row = await pool.fetchrow("SELECT * FROM reservations")
    assert row is not None and row["guest_phone_e164"] == "+14155550199"
    _all_spanish(talk)


async def test_the_hotels_facts_in_spanish_english_where_there_is_no_translation(
    talk: Conversation,
) -> None:
    wifi, pool_hours = PROP.faq[0], PROP.faq[5]
    assert await talk.say("¿Tienen wifi?") == wifi.translations["es"].answer
    assert await talk.say("¿A qué hora abre la piscina?") == pool_hours.translations["es"].answer
    assert "gimnasio" in await talk.say("¿Hay gimnasio?")
    untranslated = PROP.model_copy(
        update={"faq": [e.model_copy(update={"translations": {}}) for e in PROP.faq]}
    )
    plain = DialogManager(untranslated, TODAY, language="es")
    assert plain.reply("¿Tienen wifi?").text == wifi.answer  # English is the fallback


async def test_put_through_in_spanish(talk: Conversation) -> None:
    said = await talk.say("Quiero hablar con alguien, por favor.")
    assert said == "Por supuesto. Le paso con la recepción."
    reply = talk.last
    assert reply is not None and reply.transfer_to == "front_desk"
    assert "The caller speaks Spanish." in reply.transfer_summary  # for staff, in English
    other = Conversation(talk.tools, language="es")
    assert await other.say("Páseme con el restaurante, por favor.") == (
        "Por supuesto. Le paso con el restaurante Bay Kitchen."
    )
    assert other.last is not None and other.last.transfer_to == "restaurant"
    desk = Conversation(talk.tools, language="es")
    await desk.say("Con recepción")
    assert desk.last is not None and desk.last.transfer_to == "front_desk"


async def test_the_tools_errors_in_spanish(talk: Conversation, pool: asyncpg.Pool) -> None:
    said = await talk.say("Quisiera reservar para nueve adultos el viernes, dos noches.")
    assert "Nuestras habitaciones más grandes son para 5 personas" in said
    assert said.endswith("¿Cuántos adultos se alojarán, y algún niño?")
    said = await talk.say("Dos adultos entonces.")
    assert said.startswith("Un momento, lo compruebo. Para dos noches, desde el viernes")
    holidays = Conversation(talk.tools, language="es")
    said = await holidays.say(
        "Quisiera la habitación harbor king el veintiuno de diciembre, una noche, dos adultos."
    )
    assert "requiere un mínimo de dos noches" in said
    assert said.endswith("¿Cuántas noches prefiere entonces?")
    _all_spanish(talk)
    _all_spanish(holidays)


async def test_the_last_room_taken_meanwhile_in_spanish(
    talk: Conversation, pool: asyncpg.Pool
) -> None:
    for line in ["Quisiera reservar el viernes, dos noches, dos adultos.", "La primera.",
                 "Me llamo Ana Torres.", "Sí."]:  # fmt: skip
        await talk.say(line)
    room = talk.dialog.booking.room if talk.dialog.booking else None
    assert room is not None
    await pool.execute(  # another caller books the last of them meanwhile
        """UPDATE inventory SET booked = total - held FROM room_types rt
           WHERE rt.id = inventory.room_type_id AND rt.code = $1""",
        room.code,
    )
    said = await talk.say("Sí.")
    assert said == (
        f"Ahora mismo hago la reserva. Lo siento, la última {room.name} para esas fechas se "
        "acaba de reservar. ¿Busco otra habitación?"
    )
    assert await pool.fetchval("SELECT count(*) FROM reservations") == 0
    said = await talk.say("Sí.")
    assert said.startswith("Un momento, lo compruebo.") and room.name not in said
    _all_spanish(talk)


async def test_an_error_without_spanish_words_is_an_apology_and_a_person(
    pool: asyncpg.Pool,
) -> None:
    talk = Conversation(await hotel_tools(pool, seeded=False), language="es")  # no rooms
    said = await talk.say("Quisiera reservar el viernes, dos noches, dos adultos.")
    assert talk.calls[-1][2]["error"].startswith("I can't see our rooms")
    assert said.endswith(
        "Lo siento, algo no ha salido bien por mi parte. ¿Quiere que le pase con la recepción?"
    )
    await talk.say("Sí.")
    assert talk.last is not None and talk.last.transfer_to == "front_desk"
    _all_spanish(talk)


async def test_a_call_back_in_spanish(talk: Conversation, pool: asyncpg.Pool) -> None:
    said = await talk.say("¿Me pueden llamar más tarde?")
    assert said == "Por supuesto. ¿Cuándo le viene bien que le llamemos?"
    said = await talk.say("Mañana a las tres.")
    assert said == (
        "Ahora mismo lo programo. He programado que le llamemos mañana a las tres de la tarde "
        "al número que termina en 0 1 3 4. ¿Puedo ayudarle en algo más?"
    )
    row = await pool.fetchrow("SELECT * FROM callbacks")
    assert row is not None
    assert row["due_at"].astimezone(PROP.zone) == dt.datetime(2026, 12, 2, 15, tzinfo=PROP.zone)
    assert await talk.say("No, nada más.") == "Gracias por llamar al Harborview Hotel. Adiós."


async def test_repeat_start_over_and_a_person_in_spanish(talk: Conversation) -> None:
    await talk.say("Quisiera reservar una habitación para el viernes.")
    asked = talk.heard[-1]
    assert await talk.say("¿Cómo?") == asked
    assert await talk.say("Repita, por favor.") == asked
    said = await talk.say("Mejor empezar de nuevo.")
    assert said == (
        "Por supuesto, empecemos de nuevo. Con mucho gusto le ayudo con la reserva. ¿Qué día "
        "le gustaría llegar?"
    )
    said = await talk.say("Mmm.")
    assert said == "¿Qué día llegaría? Por ejemplo: este viernes, o el doce de diciembre."
    said = await talk.say("Eh, no sé.")
    assert said == (
        "Lo siento, no le estoy entendiendo bien. Puedo pasarle con la recepción, o pedir que "
        "le llamen más tarde. ¿Qué prefiere?"
    )
    said = await talk.say("Llámenme, mejor.")
    assert said == "Por supuesto. ¿Cuándo le viene bien que le llamemos?"
    assert talk.dialog.expecting() == (
        "Mañana por la mañana. Esta tarde a las tres. A este número, por favor."
    )
    said = await talk.say("Quiero hablar con una persona.")
    assert said == "Por supuesto. Le paso con la recepción."
    _all_spanish(talk)
