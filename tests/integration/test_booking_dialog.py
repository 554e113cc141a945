"""The offline engine's booking conversation, turn by turn, with the real tools and database.

The words are what speech-to-text writes; the tools run against PostgreSQL exactly as they do
on a call. (The same conversation over audio and the real protocol: tests/engines.)
"""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from app.engines.local import slots
from app.engines.local.dialog import DialogManager, Reply
from tests.integration.dialog_rig import CALLER, PROP, TODAY, Conversation, hotel_tools


@pytest.fixture
async def talk(pool: asyncpg.Pool) -> Conversation:
    return Conversation(await hotel_tools(pool))


async def test_a_whole_booking_from_first_words_to_confirmation_code(
    talk: Conversation, pool: asyncpg.Pool
) -> None:
    said = await talk.say("Hi, I'd like to book a room for Friday.")
    assert said == "And how many nights will you be staying?"
    said = await talk.say("Two nights.")
    assert said == "How many adults will be staying, and any children?"
    said = await talk.say("Two adults.")
    assert "For two nights from Friday, December 4th to Sunday, December 6th" in said
    assert "Harbor King at 458 dollars in total, 229 dollars a night" in said
    assert said.endswith("Which would you like?")
    said = await talk.say("The double queen, please.")
    assert said == "The Double Queen, lovely. May I have your name for the booking?"
    said = await talk.say("My name is Ada Lovelace.")
    assert said.startswith("Thank you, Ada Lovelace. Shall I use the number")
    said = await talk.say("Yes, that's fine.")
    assert said == (
        "So that's the Double Queen, arriving Friday, December 4th for 2 nights, for 2 adults, "
        "under the name Ada Lovelace. Shall I book it?"
    )
    said = await talk.say("Yes please.")
    row = await pool.fetchrow(
        "SELECT r.*, rt.code FROM reservations r JOIN room_types rt ON rt.id = r.room_type_id"
    )
    assert row is not None
    assert (row["code"], row["check_in"], row["check_out"]) == (
        "double-queen",
        dt.date(2026, 12, 4),
        dt.date(2026, 12, 6),
    )
    assert row["guest_name"] == "Ada Lovelace" and row["guest_phone_e164"] == CALLER
    assert row["status"] == "confirmed" and row["total_cents"] == 2 * 24900
    code = row["confirmation_code"]
    assert f"Your confirmation code is {', '.join(code)}." in said
    assert said.endswith("Otherwise you can pay at check-in.")
    # The caller starts reading a card: stopped at once, offered the link instead.
    said = await talk.say("Can I just give you my card? It's 4111 1111 1111 1111")
    assert said.startswith("Please don't give card details over the phone")
    said = await talk.say("Oh, OK, yes please.")
    assert "I've sent a text to the number ending 0 1 3 4" in said
    assert said.endswith("Is there anything else I can help you with?")
    sms = await pool.fetchrow("SELECT * FROM sms_messages")
    assert sms is not None and sms["status"] == "queued" and code in sms["body"]
    said = await talk.say("No, thank you.")
    assert said == "Thank you for calling the Harborview Hotel. Goodbye."


async def test_everything_in_one_breath_and_a_change_of_mind(
    talk: Conversation, pool: asyncpg.Pool
) -> None:
    said = await talk.say(
        "Do you have a king room from the 8th to the 10th of December for two adults and a child?"
    )
    assert "two nights from Tuesday, December 8th to Thursday, December 10th" in said
    assert "two adults and one child" in said
    assert "Would you like me to book the Harbor King?" in said
    said = await talk.say("Actually make it three nights.")
    assert "three nights from Tuesday, December 8th to Friday, December 11th" in said
    said = await talk.say("Yes.")
    assert "May I have your name" in said
    said = await talk.say("Grace Hopper")
    said = await talk.say("No, use another number.")
    assert "What number should we use?" in said
    said = await talk.say("The caller keyed 4155550199 on the telephone keypad.")
    assert "for 3 nights, for 2 adults and 1 child, under the name Grace Hopper" in said
    said = await talk.say("Yes.")
    row = await pool.fetchrow("SELECT * FROM reservations")
    assert row is not None and row["guest_phone_e164"] == "+14155550199"
    said = await talk.say("No, I'll pay when I arrive.")
    assert said.startswith("No problem, you can pay at check-in.")
    assert await pool.fetchval("SELECT count(*) FROM sms_messages") == 0
    assert row["check_out"] == dt.date(2026, 12, 11) and row["children"] == 1


async def test_tool_errors_are_spoken_and_the_missing_slot_asked_again(
    talk: Conversation, pool: asyncpg.Pool
) -> None:
    said = await talk.say("I want to book a room for nine adults on Friday for two nights")
    assert "would need more than one room" in said
    said = await talk.say("Just two adults then.")
    assert "For two nights from Friday, December 4th" in said
    # The season's minimum stay: one night over the holidays is quoted but cannot be booked.
    other = Conversation(talk.tools)
    said = await other.say(
        "Can I book the king room on December 21st for one night for two adults?"
    )
    assert "needs at least two nights" in said
    assert await pool.fetchval("SELECT count(*) FROM reservations") == 0


async def test_not_ready_to_book_becomes_a_lead_with_consent(
    talk: Conversation, pool: asyncpg.Pool
) -> None:
    await talk.say("How much is a room on Friday for two nights for two adults?")
    said = await talk.say("I'm not ready to book yet, I need to think about it.")
    assert "contact you" in said
    said = await talk.say("Yes please.")
    assert "I've noted it" in said and "ending 0 1 3 4" in said
    lead = await pool.fetchrow("SELECT * FROM leads")
    assert lead is not None and lead["consent_to_contact"] is True
    assert lead["check_in"] == dt.date(2026, 12, 4) and lead["phone_e164"] == CALLER
    assert await pool.fetchval("SELECT count(*) FROM reservations") == 0


async def test_keypad_answers_yes_and_no(talk: Conversation, pool: asyncpg.Pool) -> None:
    await talk.say("Book the accessible king on Friday for two nights for two adults.")
    said = await talk.say("The caller pressed 1 on the telephone keypad.")
    assert "May I have your name" in said
    await talk.say("Alan Turing")
    said = await talk.say("The caller pressed 1 on the telephone keypad.")
    assert "Shall I book it?" in said
    said = await talk.say("The caller pressed 2 on the telephone keypad.")
    assert "nothing is booked" in said
    assert await pool.fetchval("SELECT count(*) FROM reservations") == 0


def test_other_intents_still_work_without_a_database() -> None:
    dialog = DialogManager(PROP, TODAY)
    assert dialog.reply("Put me through to reservations please").transfer_to == "reservations"
    assert dialog.reply("Can I book a table at the Bay Kitchen restaurant?").transfer_to == (
        "restaurant"
    )
    assert "Wi-Fi is free" in dialog.reply("Do you have wifi?").text
    bye: Reply = dialog.reply("That's all, goodbye")
    assert bye.end_call


@pytest.mark.parametrize(
    ("words", "arrival", "departure"),
    [
        ("tomorrow", dt.date(2026, 12, 2), None),
        ("on the twenty first of December", dt.date(2026, 12, 21), None),
        ("January 3rd until January 5th", dt.date(2027, 1, 3), dt.date(2027, 1, 5)),
        ("from the 12th to the 14th", dt.date(2026, 12, 12), dt.date(2026, 12, 14)),
        ("checking in Friday and leaving Sunday", dt.date(2026, 12, 4), dt.date(2026, 12, 6)),
        ("I'd like to book a room", None, None),
        ("May I book a room", None, None),
    ],
)
def test_dates_as_callers_say_them(
    words: str, arrival: dt.date | None, departure: dt.date | None
) -> None:
    assert slots.parse_dates(words, TODAY) == (arrival, departure)


def test_guests_names_and_numbers_as_callers_say_them() -> None:
    assert slots.parse_guests("two adults and a child") == (2, 1)
    assert slots.parse_guests("me and my wife and two kids") == (2, 2)
    assert slots.parse_guests("three", asked=True) == (3, None)
    assert slots.parse_guests("three") == (None, None)
    assert slots.parse_nights("for a week") == 7
    assert slots.parse_name("It's John Smith.") == "John Smith"
    assert slots.parse_name("I would really rather not say that to you") is None
    assert slots.parse_digits("four one five, double five five, oh one three four") == (
        "4155550134"
    )
    assert slots.parse_yes_no("yeah go ahead") is True
    assert slots.parse_yes_no("no thanks") is False
    assert slots.parse_yes_no("hmm") is None


def test_a_card_keyed_in_is_refused_like_a_card_read_out() -> None:
    dialog = DialogManager(PROP, TODAY)
    reply = dialog.reply("The caller keyed 4111111111111111 on the telephone keypad.")
    assert reply.text.startswith("Please don't give card details over the phone")
    assert dialog.reply("The caller keyed 123 on the telephone keypad.").text == (
        "Thank you. How can I help you?"
    )


async def test_each_question_says_what_answer_to_listen_for(talk: Conversation) -> None:
    assert talk.dialog.expecting() is None  # nothing asked yet
    await talk.say("I'd like to book a room.")
    assert "arrive" in (talk.dialog.expecting() or "")
    await talk.say("For Friday.")
    assert "nights" in (talk.dialog.expecting() or "")
    await talk.say("Two nights.")
    assert "adults" in (talk.dialog.expecting() or "")
    said = await talk.say("Two adults.")
    rooms = talk.dialog.expecting() or ""
    assert "The Harbor King" in rooms and "The Double Queen" in rooms, said  # those offered
    await talk.say("The double queen, please.")
    assert talk.dialog.expecting() is None  # a name: nothing to suggest
    await talk.say("My name is Ada Lovelace.")
    assert "five five five" in (talk.dialog.expecting() or "")  # a number (or yes)
    await talk.say("Yes, that's fine.")
    assert talk.dialog.expecting() is None  # yes or no: never suggested (noise became "yes")
    await talk.say("No.")  # "what would you like to change?": any of it
    assert all(w in (talk.dialog.expecting() or "") for w in ("nights", "adults", "King"))
