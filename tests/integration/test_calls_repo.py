"""Call sessions and history against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import replace

import asyncpg
import pytest

from app.calls.records import CallState, Direction, NewCall, Outcome, TurnRole
from app.storage.calls_repo import CallRepository


@pytest.fixture
async def repo(pool: asyncpg.Pool) -> CallRepository:
    await pool.execute(
        """INSERT INTO properties (id, name, timezone, phone_e164, currency) VALUES
           ('harborview', 'Harborview', 'America/Los_Angeles', '+15550100100', 'USD'),
           ('lodge', 'Lodge', 'America/Denver', '+15550100200', 'USD')"""
    )
    return CallRepository(pool)


def _inbound(channel: str, property_id: str = "harborview") -> NewCall:
    return NewCall(
        property_id=property_id,
        direction=Direction.INBOUND,
        channel_id=channel,
        caller_e164="+14155550123",
        dialled_e164="+15550100100",
        ivr_path=("main", "1"),
    )


async def test_a_call_from_ringing_to_ended(repo: CallRepository) -> None:
    call = await repo.create(_inbound("1700000000.1"))
    assert call.state is CallState.RINGING and call.ended_at is None

    await repo.set_state(call.id, CallState.TALKING)
    await repo.add_turn(call.id, TurnRole.AGENT, "Harborview Hotel, this is Ava.")
    await repo.add_turn(
        call.id, TurnRole.CALLER, "A room for two nights please", latency_ms=None, language="en"
    )
    await repo.add_turn(call.id, TurnRole.AGENT, "Which dates?", latency_ms=640, interrupted=True)
    await repo.end(call.id, "caller_hangup", outcome=Outcome.INFO, summary="asked for dates")
    await repo.end(call.id, "app_hangup")  # a second end keeps the first

    stored = await repo.get(call.id)
    assert stored is not None
    assert stored.state is CallState.ENDED
    assert stored.end_reason == "caller_hangup" and stored.outcome is Outcome.INFO
    assert stored.answered_at is not None and stored.ended_at is not None
    assert stored.ivr_path == ("main", "1")
    assert [(t.seq, t.role) for t in stored.turns] == [
        (0, TurnRole.AGENT),
        (1, TurnRole.CALLER),
        (2, TurnRole.AGENT),
    ]
    assert stored.turns[2].latency_ms == 640 and stored.turns[2].interrupted
    assert stored.turns[1].language == "en"

    with pytest.raises(ValueError, match="already ended"):
        await repo.set_state(call.id, CallState.TALKING)


async def test_a_barge_in_after_the_turn_was_stored_flags_the_latest_agent_turn_only(
    repo: CallRepository,
) -> None:
    call = await repo.create(_inbound("1700000000.11"))
    assert not await repo.mark_last_agent_turn_interrupted(call.id)  # no agent turn yet
    await repo.add_turn(call.id, TurnRole.AGENT, "Harborview Hotel, this is Ava.")
    await repo.add_turn(call.id, TurnRole.CALLER, "Hi")
    await repo.add_turn(call.id, TurnRole.AGENT, "How can I help you with your stay today?")
    await repo.add_turn(call.id, TurnRole.CALLER, "A room")
    assert await repo.mark_last_agent_turn_interrupted(call.id)

    stored = await repo.get(call.id)
    assert stored is not None
    assert [t.interrupted for t in stored.turns] == [False, False, True, False]
    assert stored.turns[2].text == "How can I help you with your stay today?"


async def test_the_call_is_in_the_language_its_caller_speaks(repo: CallRepository) -> None:
    call = await repo.create(replace(_inbound("1700000000.7"), language="en"))  # the channel's
    await repo.add_turn(call.id, TurnRole.AGENT, "Harborview Hotel, this is Ava.", language="en")
    await repo.add_turn(call.id, TurnRole.CALLER, "Hola, quisiera una habitación", language="es")
    assert (stored := await repo.get(call.id)) is not None and stored.language == "es"
    # neither the agent's words nor a turn of unknown language (a key, OpenAI) change it
    await repo.add_turn(call.id, TurnRole.AGENT, "Thank you.", language="en")
    await repo.add_turn(call.id, TurnRole.CALLER, "Vale")
    await repo.add_turn(call.id, TurnRole.DTMF, "2", language="en")
    assert (stored := await repo.get(call.id)) is not None and stored.language == "es"


async def test_card_numbers_never_reach_the_turns_table(
    repo: CallRepository, pool: asyncpg.Pool
) -> None:
    call = await repo.create(_inbound("1700000000.2"))
    await repo.add_turn(call.id, TurnRole.CALLER, "my card is 4111 1111 1111 1111 expiry 12/28")
    raw = await pool.fetchval("SELECT text FROM turns WHERE call_id = $1", call.id)
    assert "4111" not in raw and "1111 1111" not in raw


async def test_concurrent_turns_get_consecutive_numbers(repo: CallRepository) -> None:
    call = await repo.create(_inbound("1700000000.3"))
    await asyncio.gather(*(repo.add_turn(call.id, TurnRole.CALLER, f"t{i}") for i in range(20)))
    stored = await repo.get(call.id)
    assert stored is not None
    assert [t.seq for t in stored.turns] == list(range(20))


async def test_history_is_newest_first_and_filterable(repo: CallRepository) -> None:
    base = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    ids = []
    for i in range(5):
        call = await repo.create(
            _inbound(f"c{i}", "harborview" if i % 2 == 0 else "lodge"),
            started_at=base + dt.timedelta(minutes=i),
        )
        ids.append(call.id)
    await repo.add_turn(ids[4], TurnRole.CALLER, "hello")
    await repo.end(ids[0], "caller_hangup")

    recent = await repo.list_recent(limit=3)
    assert [c.id for c in recent] == [ids[4], ids[3], ids[2]]
    assert recent[0].turn_count == 1 and recent[1].turn_count == 0

    lodge = await repo.list_recent(property_id="lodge")
    assert {c.id for c in lodge} == {ids[1], ids[3]}
    active = await repo.list_recent(active_only=True)
    assert ids[0] not in {c.id for c in active} and len(active) == 4
    later = await repo.list_recent(since=base + dt.timedelta(minutes=3))
    assert {c.id for c in later} == {ids[3], ids[4]}
    assert (await repo.find_by_channel("c2")) is not None
    assert (await repo.find_by_channel("nope")) is None


async def test_bad_input_is_refused_without_writing(
    repo: CallRepository, pool: asyncpg.Pool
) -> None:
    with pytest.raises(LookupError):
        await repo.add_turn(uuid.uuid4(), TurnRole.CALLER, "hello")
    with pytest.raises(LookupError):
        await repo.set_state(uuid.uuid4(), CallState.TALKING)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await repo.create(_inbound("x", property_id="nowhere"))
    with pytest.raises(ValueError):
        await repo.list_recent(limit=0)
    assert await pool.fetchval("SELECT count(*) FROM calls") == 0
    assert await pool.fetchval("SELECT count(*) FROM turns") == 0
