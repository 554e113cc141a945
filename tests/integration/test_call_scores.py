"""What the managers' analytics read, written at hang-up through the call log and the
write-behind queue into a real PostgreSQL: each caller turn's sentiment and the call's."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable

import asyncpg
import pytest

from app.analytics.sentiment import score_text
from app.calls.call_log import CallLog
from app.calls.live import LiveCalls
from app.calls.records import CallState, Direction, NewCall, Outcome, TurnRole
from app.calls.write_behind import WriteBehind
from app.hotel.tools.registry import ToolInvocation
from app.storage.calls_repo import CallRepository
from app.storage.errors import is_transient


@pytest.fixture
async def repo(pool: asyncpg.Pool) -> CallRepository:
    await pool.execute(
        """INSERT INTO properties (id, name, timezone, phone_e164, currency) VALUES
           ('harborview', 'Harborview', 'America/Los_Angeles', '+15550100100', 'USD')"""
    )
    return CallRepository(pool)


def _new(language: str | None = "en") -> NewCall:
    return NewCall(
        id=uuid.uuid4(),
        property_id="harborview",
        direction=Direction.INBOUND,
        channel_id=f"1800.{uuid.uuid4().hex[:6]}",
        caller_e164="+14155550123",
        language=language,
    )


async def _logged(repo: CallRepository, steps: Callable[[CallLog], None]) -> None:
    writes = WriteBehind(is_transient)
    runner = asyncio.create_task(writes.run())
    try:
        steps(CallLog(repo, writes, live=LiveCalls()))
        assert await writes.drain(5)
    finally:
        runner.cancel()


async def test_caller_turns_and_the_call_get_their_sentiment_at_hang_up(
    repo: CallRepository, pool: asyncpg.Pool
) -> None:
    new = _new()
    assert new.id is not None
    call_id = new.id
    happy, angry = "Thank you so much, that's perfect.", "I was on hold forever, this is terrible."

    def call(log: CallLog) -> None:
        log.started(new, dt.datetime.now(dt.UTC))
        log.state(call_id, CallState.TALKING)
        log.turn(call_id, TurnRole.AGENT, "Wonderful to hear from you!")
        log.turn(call_id, TurnRole.CALLER, angry, language="en")
        log.turn(call_id, TurnRole.AGENT, "I'm sorry about that.")
        log.turn(call_id, TurnRole.CALLER, happy, language="en")
        log.ended(call_id, "caller_hangup", outcome=Outcome.INFO)

    await _logged(repo, call)
    rows = await pool.fetch(
        "SELECT role, sentiment FROM turns WHERE call_id = $1 ORDER BY seq", call_id
    )
    assert [r["role"] for r in rows] == ["agent", "caller", "agent", "caller"]
    assert rows[0]["sentiment"] is None and rows[2]["sentiment"] is None  # agents not scored
    expected_angry, expected_happy = score_text(angry, "en"), score_text(happy, "en")
    assert expected_angry is not None and expected_happy is not None
    assert rows[1]["sentiment"] == pytest.approx(expected_angry, abs=1e-6) and expected_angry < 0
    assert rows[3]["sentiment"] == pytest.approx(expected_happy, abs=1e-6) and expected_happy > 0
    stored = await repo.get(call_id)
    assert stored is not None and stored.state is CallState.ENDED and stored.summary
    assert stored.sentiment == pytest.approx((expected_angry + expected_happy) / 2, abs=1e-6)


async def test_a_spanish_call_is_stored_not_scored(
    repo: CallRepository, pool: asyncpg.Pool
) -> None:
    new = _new(language="es")
    assert new.id is not None
    call_id = new.id

    def call(log: CallLog) -> None:
        log.started(new, dt.datetime.now(dt.UTC))
        log.turn(call_id, TurnRole.CALLER, "Muchas gracias, es perfecto.", language="es")
        log.turn(call_id, TurnRole.CALLER, "Quiero una habitación")  # the call's language
        log.ended(call_id, "caller_hangup", outcome=Outcome.INFO)

    await _logged(repo, call)
    scores = await pool.fetch("SELECT sentiment FROM turns WHERE call_id = $1", call_id)
    assert len(scores) == 2 and all(r["sentiment"] is None for r in scores)
    row = await pool.fetchrow("SELECT state, sentiment FROM calls WHERE id = $1", call_id)
    assert row["state"] == "ended" and row["sentiment"] is None


async def test_satisfaction_is_written_at_hang_up_from_sentiment_outcome_and_friction(
    repo: CallRepository,
) -> None:
    new = _new()
    assert new.id is not None
    call_id = new.id
    said = "This is ridiculous, I've been waiting for twenty minutes."

    def call(log: CallLog) -> None:
        log.started(new, dt.datetime.now(dt.UTC))
        log.turn(call_id, TurnRole.AGENT, "Harborview Hotel, this is Ava.")
        log.interrupted(call_id)  # the caller cut the greeting off
        log.turn(call_id, TurnRole.CALLER, said, language="en")
        log.turn(call_id, TurnRole.AGENT, "Sorry, which", interrupted=True)
        log.silence_prompt(call_id)
        log.record(
            ToolInvocation(
                call_id,
                "check_availability",
                {},
                None,
                "error",
                "no rooms",
                dt.datetime.now(dt.UTC),
                3,
            )
        )
        log.ended(call_id, "transferred", outcome=Outcome.TRANSFERRED)

    await _logged(repo, call)
    stored = await repo.get(call_id)
    assert stored is not None and stored.sentiment is not None and stored.sentiment < 0
    mood = score_text(said, "en")
    assert mood is not None
    # by hand: transferred 3.5 + sentiment − 2 × 0.25 (cut off) − 0.25 (silence) − 0.5 (tool)
    expected = max(1.0, 3.5 + mood - 0.5 - 0.25 - 0.5)
    assert stored.satisfaction == pytest.approx(round(expected, 1), abs=0.051)
    assert [t.interrupted for t in stored.turns] == [True, False, True]


async def test_a_quiet_booking_is_satisfied_and_a_fault_is_not(repo: CallRepository) -> None:
    booked, broken = _new(), _new()
    assert booked.id is not None and broken.id is not None
    booked_id, broken_id = booked.id, broken.id

    def calls(log: CallLog) -> None:
        log.started(booked, dt.datetime.now(dt.UTC))
        log.turn(booked_id, TurnRole.CALLER, "Two nights from the fifth.", language="en")
        log.ended(booked_id, "agent_goodbye", outcome=Outcome.BOOKED)
        log.started(broken, dt.datetime.now(dt.UTC))
        log.ended(broken_id, "media_lost", outcome=Outcome.FAILED)

    await _logged(repo, calls)
    good, bad = await repo.get(booked_id), await repo.get(broken_id)
    assert good is not None and good.satisfaction == 4.5  # neutral words, booked, no friction
    assert bad is not None and bad.satisfaction == 1.0  # failed 1.5 − a fault's 0.5
    assert bad.sentiment is None  # nothing said: not scored


async def test_a_stored_survey_answer_is_the_satisfaction_at_the_end(
    repo: CallRepository, pool: asyncpg.Pool
) -> None:
    new = _new()
    assert new.id is not None
    call_id = new.id
    await repo.create(new)
    await pool.execute("UPDATE calls SET survey_score = 2 WHERE id = $1", call_id)
    await repo.end(call_id, "agent_goodbye", outcome=Outcome.BOOKED, satisfaction=4.8)
    stored = await repo.get(call_id)
    assert stored is not None and stored.satisfaction == 2.0 and stored.survey_score == 2
