"""More callers the offline dialog must never strand (issue 13; test_troublesome_callers.py has the rest): misheard dates, answers to other
questions, positions instead of names, "repeat that", "start over", "let me talk to someone",
and nothing said three times in a row. Turn by turn with the real tools and database, as
tests/integration/test_booking_dialog.py; over audio and the real protocol:
tests/engines/test_troublesome_calls.py."""

from __future__ import annotations

import datetime as dt
import re

import asyncpg
import pytest

from tests.integration.dialog_rig import Conversation, hotel_tools


@pytest.fixture
async def talk(pool: asyncpg.Pool) -> Conversation:
    return Conversation(await hotel_tools(pool, callbacks=True))


async def _reservation(pool: asyncpg.Pool) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT r.*, rt.code FROM reservations r JOIN room_types rt ON rt.id = r.room_type_id"
    )
    assert row is not None, "nothing was booked"
    return row


async def test_the_reported_call_misheard_dates_then_other_answers_books_with_all_of_it(
    talk: Conversation, pool: asyncpg.Pool
) -> None:
    # The words as speech-to-text wrote them on the reported call.
    said = await talk.say("I'm checking in on December third and leave them in December fifth.")
    assert "nights" not in said  # the length is known: the second date is the departure
    assert said == "How many adults will be staying, and any children?"
    said = await talk.say("The king room, please. My name is Maria Gonzalez.")
    assert "How many" in said and said != talk.heard[-2]  # asked again, rephrased
    said = await talk.say("Two adults.")
    assert "Would you like me to book the Harbor King?" in said  # the room was kept
    said = await talk.say("Yes, please book it.")
    # the name given two questions earlier is not asked for again
    assert "May I have your name" not in said and "calling from" in said
    said = await talk.say("Yes.")
    assert "under the name Maria Gonzalez" in said
    await talk.say("Yes.")
    row = await _reservation(pool)
    assert (row["code"], row["check_in"], row["check_out"]) == (
        "king",
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 5),
    )
    assert row["guest_name"] == "Maria Gonzalez"


async def test_a_question_is_asked_twice_at_most_then_a_person_or_a_callback_is_offered(
    talk: Conversation,
) -> None:
    await talk.say("I'd like to book a room for Friday.")
    first = talk.heard[-1]
    assert first == "And how many nights will you be staying?"
    second = await talk.say("The view is important to us.")
    assert second != first and "For example" in second  # rephrased with an example
    third = await talk.say("Hmm, what floors do you have?")
    assert "front desk" in third and "call you back" in third.replace("call back", "call you back")
    reply = talk.dialog.reply("The front desk, please.")
    assert reply.transfer_to == "front_desk" and "put you through" in reply.text


async def test_yes_to_the_offer_puts_the_caller_through(talk: Conversation) -> None:
    await talk.say("I'd like to book a room for Friday.")
    await talk.say("Blue.")
    await talk.say("Green.")
    assert "front desk" in talk.heard[-1]
    reply = talk.dialog.reply("Yes please.")  # to "the front desk, or a call back?"
    if reply.transfer_to is None:  # which of the two: asked once, plainly
        assert "front desk" in reply.text
        reply = talk.dialog.reply("The front desk.")
    assert reply.transfer_to == "front_desk"


async def test_a_callback_can_be_taken_instead_of_a_person(talk: Conversation) -> None:
    talk.dialog.tools |= {"schedule_callback"}
    await talk.say("I'd like to book a room for Friday.")
    await talk.say("Blue.")
    await talk.say("Green.")
    reply = talk.dialog.reply("Could you call me back tomorrow at 3 pm?")
    assert reply.call is not None and reply.call.name == "schedule_callback"


@pytest.mark.parametrize(
    ("choice", "place"),
    [
        ("The first one, please.", 0),
        ("I'll take the second one.", 1),
        ("The last one.", 2),
        ("The cheapest one.", "cheapest"),
        ("The most expensive one.", "dearest"),
    ],
)
async def test_rooms_chosen_by_position(talk: Conversation, choice: str, place: int | str) -> None:
    said = await talk.say("A room from the 8th to the 10th of December for one adult, please.")
    assert said.endswith("Which would you like?")
    prices = {  # as the caller heard them: name → total, in the order read out
        m.group(1): int(m.group(2).replace(",", ""))
        for m in re.finditer(r"the ([A-Z][\w ]+?) at ([\d,]+) dollars in total", said)
    }
    heard = list(prices)
    assert len(heard) == 3
    if place == "cheapest":
        expected = min(heard, key=prices.__getitem__)
    elif place == "dearest":
        expected = max(heard, key=prices.__getitem__)
    else:
        assert isinstance(place, int)
        expected = heard[place]
    said = await talk.say(choice)
    assert said.startswith(f"The {expected}, lovely.")


async def test_repeat_that_says_the_last_thing_again_at_any_stage(talk: Conversation) -> None:
    for line in ("I'd like to book a room for Friday.", "Two nights.", "Two adults."):
        before = await talk.say(line)
        again = talk.dialog.reply("Sorry, could you repeat that?").text
        assert again == talk.heard[-1].split(" Let me check")[0] or before.endswith(again)


async def test_start_over_clears_the_booking(talk: Conversation) -> None:
    await talk.say("A king room from the 8th to the 10th of December for two adults.")
    said = await talk.say("Actually, let's start over.")
    assert said.startswith("Of course, let's start again.") and "arrive" in said
    booking = talk.dialog.booking
    assert booking is not None
    assert (booking.check_in, booking.nights, booking.check_out, booking.adults, booking.room) == (
        None,
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ["I'd like to book a room for Friday."],
        ["I'd like to book a room for Friday.", "Two nights."],
        ["A king room from the 8th to the 10th of December for two adults."],
        ["A king room from the 8th to the 10th of December for two adults.", "Yes."],
    ],
)
async def test_let_me_talk_to_someone_works_at_every_stage(
    talk: Conversation, lines: list[str]
) -> None:
    for line in lines:
        await talk.say(line)
    reply = talk.dialog.reply("Let me talk to someone.")
    assert reply.transfer_to == "front_desk"


async def test_never_the_same_sentence_three_times_in_a_row(talk: Conversation) -> None:
    # A caller the dialog cannot understand at all, whatever it asks.
    lines = ["Mm.", "I'd like to book a room for Friday.", *["Blue."] * 12, "Mm.", "Mm.", "Mm."]
    replies = [talk.dialog.reply(line) for line in lines]
    texts = [r.text for r in replies]
    for a, b, c in zip(texts, texts[1:], texts[2:], strict=False):
        assert not (a == b == c), f"said three times in a row: {a}"
    assert any(r.transfer_to == "front_desk" for r in replies)  # in the end: a person


async def test_a_correction_at_the_read_back_is_read_back_again(
    talk: Conversation, pool: asyncpg.Pool
) -> None:
    await talk.say("A king room from the 8th to the 10th of December for two adults.")
    await talk.say("Yes.")
    await talk.say("Anna Norwick.")
    said = await talk.say("Yes.")
    assert "under the name Anna Norwick" in said
    said = await talk.say("No, the name is Anna Novak.")
    assert "under the name Anna Novak. Shall I book it?" in said
    await talk.say("Yes.")
    assert (await _reservation(pool))["guest_name"] == "Anna Novak"
