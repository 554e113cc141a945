"""A call's summary written at hang-up, its 'taken_over' outcome, and the console's pages of
recent calls: through the call log and the write-behind queue into a real PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import asyncpg
import pytest

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
           ('harborview', 'Harborview', 'America/Los_Angeles', '+15550100100', 'USD'),
           ('lodge', 'Lodge', 'America/Denver', '+15550100200', 'USD')"""
    )
    return CallRepository(pool)


def _new(prop: str = "harborview") -> NewCall:
    return NewCall(
        id=uuid.uuid4(),
        property_id=prop,
        direction=Direction.INBOUND,
        channel_id=f"1800.{uuid.uuid4().hex[:6]}",
        caller_e164="+14155550123",
    )


async def _logged(repo: CallRepository, steps: object) -> None:
    writes = WriteBehind(is_transient)
    runner = asyncio.create_task(writes.run())
    try:
        steps(CallLog(repo, writes, live=LiveCalls()))  # type: ignore[operator]
        assert await writes.drain(5)
    finally:
        runner.cancel()


async def test_the_summary_is_written_with_the_calls_end(repo: CallRepository) -> None:
    new = _new()

    def call(log: CallLog) -> None:
        assert new.id is not None
        log.started(new, dt.datetime.now(dt.UTC))
        log.state(new.id, CallState.TALKING)
        log.turn(new.id, TurnRole.AGENT, "Harborview Hotel, this is Ava.")
        log.turn(new.id, TurnRole.CALLER, "Is there parking at the hotel?", language="en")
        log.record(
            ToolInvocation(
                new.id,
                "get_hotel_info",
                {"topic": "parking"},
                {"answer": "Valet parking is $45 a night."},
                "ok",
                None,
                dt.datetime.now(dt.UTC),
                3,
            )
        )
        log.ended(new.id, "caller_hangup", outcome=Outcome.INFO)

    await _logged(repo, call)
    assert new.id is not None
    stored = await repo.get(new.id)
    assert stored is not None and stored.state is CallState.ENDED
    assert stored.summary == (
        "Asked: “Is there parking at the hotel?” Answered about parking. "
        "Outcome: info. Ended: the caller hung up."
    )


async def test_a_call_taken_over_is_stored_as_taken_over(repo: CallRepository) -> None:
    new = _new()

    def call(log: CallLog) -> None:
        assert new.id is not None
        log.started(new, dt.datetime.now(dt.UTC))
        log.taken_over(new.id, "2001")
        log.ended(new.id, "staff_hangup", outcome=Outcome.TAKEN_OVER)

    await _logged(repo, call)
    assert new.id is not None
    stored = await repo.get(new.id)
    assert stored is not None and stored.outcome is Outcome.TAKEN_OVER
    assert stored.summary is not None and "extension 2001" in stored.summary


async def test_recent_calls_come_in_pages_newest_first_without_live_ones(
    repo: CallRepository,
) -> None:
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    ids = []
    for n in range(7):
        record = await repo.create(_new(), start + dt.timedelta(minutes=n))
        await repo.end(record.id, "caller_hangup", summary=f"call {n}")
        ids.append(record.id)
    await repo.create(_new(), start + dt.timedelta(minutes=30))  # still live: not listed
    other = await repo.create(_new("lodge"), start + dt.timedelta(minutes=40))
    await repo.end(other.id, "caller_hangup")

    first = await repo.ended_page(property_id="harborview", limit=3)
    assert [c.summary for c in first] == ["call 6", "call 5", "call 4"]
    second = await repo.ended_page(
        property_id="harborview", before=(first[-1].started_at, first[-1].id), limit=3
    )
    assert [c.summary for c in second] == ["call 3", "call 2", "call 1"]
    last = await repo.ended_page(
        property_id="harborview", before=(second[-1].started_at, second[-1].id), limit=3
    )
    assert [c.summary for c in last] == ["call 0"]
    everyone = await repo.ended_page(limit=10)
    assert everyone[0].id == other.id and len(everyone) == 8
    with pytest.raises(ValueError):
        await repo.ended_page(limit=0)
