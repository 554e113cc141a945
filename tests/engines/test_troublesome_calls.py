"""Whole calls through the agent, RTP and the offline engine (the rig of test_agent_calls)
with a caller who does not wait: barge-in at every question of the booking."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.calls.agent import AgentConversation
from tests.engines.test_agent_calls import Rig, _agent_says, _say, _speech, _turns


async def test_the_caller_interrupts_every_question_of_the_booking_and_is_heard(
    rig: Rig, tmp_path: Path
) -> None:
    call = await rig.fake.incoming_call(["agent"], exten="+15550100100", caller="+14155550134")
    # (what the agent is asking when the caller talks over it, what the caller says)
    script = [
        ("Harborview", "I would like to book a room for Friday."),
        ("how many nights", "Two nights."),
        ("how many adults", "We are two adults."),
        ("dollars", "I will take the double queen."),
        ("your name", "My name is John Smith."),
        ("the number you're calling from", "Yes, please."),
        ("Shall I book it", "Yes, please."),
    ]
    heard = 0
    for n, (asking, answer) in enumerate(script):
        # The prompt's words are known as soon as the engine has rendered them; the caller
        # hears them over the next seconds and starts answering half a second in.
        _, heard = await _agent_says(rig, call, asking, heard, quiet=False)
        conversation = next(iter(rig.app.calls)).conversation
        assert isinstance(conversation, AgentConversation)
        await asyncio.sleep(0.5)  # past the echo guard: a real barge-in
        before = len(conversation.truncations)
        await _say(rig, call, _speech(answer, tmp_path), start_seq=1000 + 1000 * n)
        assert len(conversation.truncations) > before, f"no barge-in while asking {asking!r}"
    said, _ = await _agent_says(rig, call, "confirmation code", heard)
    row = await rig.pool.fetchrow(
        """SELECT r.*, rt.code FROM reservations r JOIN room_types rt ON rt.id = r.room_type_id
           JOIN calls c ON c.id = r.call_id WHERE c.channel_id = $1""",
        call.caller_id,
    )
    assert row is not None, await _turns(rig, call)
    assert row["code"] == "double-queen" and row["guest_name"] == "John Smith"
    assert ", ".join(row["confirmation_code"]) in said
    assert (row["check_out"] - row["check_in"]).days == 2 and row["check_in"].weekday() == 4
    # every question was cut short where the caller spoke: the rest was never played
    assert len(conversation.truncations) >= len(script)
    assert all(t.played_ms < t.received_ms for t in conversation.truncations)
