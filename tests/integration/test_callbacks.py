"""Callbacks: the tool that books one, and the scheduler that places them, against a real
PostgreSQL (the dialling itself is a stand-in here; tests/live dials a real SIP phone)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import asyncpg
import pytest

from app.calls.callbacks import CallbackScheduler
from app.engines.local.dialog import DialogManager
from app.hotel.callbacks import DueCallback, NewCallback
from app.hotel.config import load_hotel_config
from app.hotel.errors import ToolError
from app.hotel.tools.callback_tools import CallbackTools
from app.hotel.tools.registry import ToolContext, ToolRegistry
from app.storage.callbacks_repo import CallbackRepository
from app.storage.seed import seed
from app.telephony.dialer import callback_of, outbound_channel_id

ROOT = Path(__file__).resolve().parents[2]
HOTEL = load_hotel_config(ROOT / "config" / "hotel.yaml")
PROP = HOTEL.get_property("harborview")
NOW = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)  # noon in San Francisco
CALLER = "+14155550134"


def ctx(caller: str | None = CALLER) -> ToolContext:
    return ToolContext(PROP, None, caller, NOW)


@pytest.fixture
async def repo(pool: asyncpg.Pool) -> CallbackRepository:
    await seed(pool, HOTEL, horizon_days=5, now=NOW)
    return CallbackRepository(pool)


async def test_a_callback_is_stored_in_the_hotels_time_and_read_back(
    repo: CallbackRepository, pool: asyncpg.Pool
) -> None:
    tools = ToolRegistry(CallbackTools(repo).tools())
    result = await tools.invoke(
        "schedule_callback", {"when": "2026-12-02T15:00", "reason": "a group booking"}, ctx()
    )
    assert result.output["summary"] == (
        "I've arranged for us to call you back tomorrow at 3 PM on the number ending 0 1 3 4."
    )
    row = await pool.fetchrow("SELECT * FROM callbacks")
    assert row is not None
    assert row["due_at"] == dt.datetime(2026, 12, 2, 23, 0, tzinfo=dt.UTC)  # 15:00 PST
    assert row["next_attempt_at"] == row["due_at"] and row["status"] == "scheduled"
    assert row["phone_e164"] == CALLER and row["reason"] == "a group booking"


@pytest.mark.parametrize(
    ("when", "caller", "spoken"),
    [
        ("2026-12-01T11:00", CALLER, "already passed"),
        ("2027-03-01T10:00", CALLER, "within the next month"),
        ("2026-12-02T10:00", None, "What number should we call"),
        ("next week", CALLER, "when"),
    ],
)
async def test_bad_callback_requests_are_spoken_and_not_stored(
    repo: CallbackRepository, pool: asyncpg.Pool, when: str, caller: str | None, spoken: str
) -> None:
    tools = ToolRegistry(CallbackTools(repo).tools())
    with pytest.raises(ToolError, match=spoken):
        await tools.invoke("schedule_callback", {"when": when, "reason": "a question"}, ctx(caller))
    assert await pool.fetchval("SELECT count(*) FROM callbacks") == 0


def _anyone(due: DueCallback) -> None:
    """No destination policy: these tests are about scheduling (test_destinations.py checks
    the scheduler's screen)."""


class Dialer:
    def __init__(self, fail: bool = False) -> None:
        self.dialled: list[DueCallback] = []
        self.fail = fail

    async def dial(self, callback: DueCallback) -> None:
        self.dialled.append(callback)
        if self.fail:
            raise RuntimeError("Allocation failed")


async def test_the_scheduler_dials_what_is_due_and_retries_what_was_not_answered(
    repo: CallbackRepository, pool: asyncpg.Pool
) -> None:
    # The scheduler's times meet the database's own now() (retries, stuck dials): on the
    # real clock, not a fixed day that the calendar leaves behind.
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    soon = await repo.add(NewCallback("harborview", CALLER, now, "a question", max_attempts=2))
    later = await repo.add(
        NewCallback("harborview", "+14155550199", now + dt.timedelta(hours=3), "later")
    )
    dialer = Dialer()
    scheduler = CallbackScheduler(repo, dialer, _anyone, retry_after=dt.timedelta(minutes=15))
    assert await scheduler.run_once(now) == 1
    assert [c.id for c in dialer.dialled] == [soon]
    assert await pool.fetchval("SELECT status FROM callbacks WHERE id = $1", soon) == "dialing"
    assert await scheduler.run_once(now) == 0  # being dialled: not dialled twice
    # Nobody answered: the controller reports the channel's end; tried again in 15 minutes.
    await scheduler._not_reached(soon, "No answer")
    row = await pool.fetchrow("SELECT * FROM callbacks WHERE id = $1", soon)
    assert row["status"] == "scheduled" and row["attempts"] == 1
    assert row["last_error"] == "No answer"
    assert row["next_attempt_at"] > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=14)
    again = row["next_attempt_at"]
    assert await scheduler.run_once(again) == 1
    await scheduler._not_reached(soon, "No answer")  # the last attempt
    row = await pool.fetchrow("SELECT * FROM callbacks WHERE id = $1", soon)
    assert row["status"] == "no_answer" and row["attempts"] == 2
    assert await scheduler.run_once(now + dt.timedelta(days=1)) == 1  # only `later` is left
    assert dialer.dialled[-1].id == later


async def test_a_call_that_cannot_be_placed_is_retried_then_failed(
    repo: CallbackRepository, pool: asyncpg.Pool
) -> None:
    callback_id = await repo.add(NewCallback("harborview", CALLER, NOW, "x", max_attempts=1))
    scheduler = CallbackScheduler(repo, Dialer(fail=True), _anyone)
    assert await scheduler.run_once(NOW) == 1
    row = await pool.fetchrow("SELECT * FROM callbacks WHERE id = $1", callback_id)
    assert row["status"] == "failed" and "Allocation failed" in row["last_error"]


async def test_answered_callbacks_are_completed_and_linked(
    repo: CallbackRepository, pool: asyncpg.Pool
) -> None:
    callback_id = await repo.add(NewCallback("harborview", CALLER, NOW, "your booking enquiry"))
    assert await repo.details(callback_id) == (CALLER, "your booking enquiry")
    await repo.claim_due(NOW)
    await repo.answered(callback_id)
    # The call's row is not written yet: the link waits for it, then gives up.
    assert await repo.link_call(callback_id, uuid.uuid4(), patience=0.3) is False
    row = await pool.fetchrow("SELECT * FROM callbacks WHERE id = $1", callback_id)
    assert row["status"] == "completed" and row["outbound_call_id"] is None
    assert await repo.details(uuid.uuid4()) is None


def test_outbound_channel_ids_name_their_callback() -> None:
    callback_id = uuid.uuid4()
    channel = outbound_channel_id(callback_id, 2)
    assert callback_of(channel) == callback_id
    assert callback_of("1795502812.28") is None
    assert callback_of("fdv-out-not-a-uuid-1") is None
    # The second half of a Local channel (CALLBACK_ENDPOINT=Local/...): Asterisk names it
    # after ours with ";2", and its end is reported by the first half's: not a callback's own.
    assert callback_of(f"{channel};2") is None


def test_the_offline_dialog_arranges_a_callback() -> None:
    dialog = DialogManager(PROP, dt.date(2026, 12, 1))
    dialog.tools = {"schedule_callback"}
    assert "When would be a good time" in dialog.reply("Could you call me back later?").text
    reply = dialog.reply("Tomorrow at 3 pm please.")
    assert reply.call is not None and reply.call.name == "schedule_callback"
    assert reply.call.arguments["when"] == "2026-12-02T15:00"
    answer = dialog.tool_result("schedule_callback", {"summary": "I've arranged it."})
    assert answer.text == "I've arranged it. Is there anything else I can help you with?"
    assert dialog.reply("No thanks.").end_call
    dialog.tools = set()
    assert DialogManager(PROP).reply("please call me back").transfer_to == "front_desk"


async def test_a_callback_reason_keeps_no_card_digits(
    repo: CallbackRepository, pool: asyncpg.Pool
) -> None:
    tools = ToolRegistry(CallbackTools(repo).tools())
    in_card_context = ToolContext(PROP, None, CALLER, NOW, True)
    await tools.invoke(
        "schedule_callback",
        {"when": "2026-12-02T15:00", "reason": "payment for booking, card 4539 1488 0343"},
        in_card_context,
    )
    await tools.invoke(
        "schedule_callback",
        {"when": "2026-12-03T15:00", "reason": "wants to give 1488 0343 by phone"},
        in_card_context,
    )
    reasons = [
        r["reason"] for r in await pool.fetch("SELECT reason FROM callbacks ORDER BY due_at")
    ]
    assert reasons == ["payment for booking, card [card]", "wants to give [card] by phone"]


async def test_a_callback_left_dialling_by_a_crash_is_dialled_again(
    repo: CallbackRepository, pool: asyncpg.Pool
) -> None:
    # The scheduler's times meet the database's own now() (retries, stuck dials): on the
    # real clock, not a fixed day that the calendar leaves behind.
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stuck = await repo.add(NewCallback("harborview", CALLER, now, "a question", max_attempts=2))
    last = await repo.add(NewCallback("harborview", "+14155550199", now, "x", max_attempts=1))
    assert await CallbackScheduler(repo, Dialer(), _anyone).run_once(now) == 2
    # The process dies mid-dial: nobody will report how those calls went. Eleven minutes on
    # (updated_at moved back past the trigger that keeps it current):
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE callbacks DISABLE TRIGGER callbacks_updated_at")
        await conn.execute("UPDATE callbacks SET updated_at = now() - interval '11 minutes'")
        await conn.execute("ALTER TABLE callbacks ENABLE TRIGGER callbacks_updated_at")
    dialer = Dialer()
    assert await CallbackScheduler(repo, dialer, _anyone).run_once() == 1  # the next process
    assert [c.id for c in dialer.dialled] == [stuck] and dialer.dialled[0].attempts == 2
    row = await pool.fetchrow("SELECT * FROM callbacks WHERE id = $1", stuck)
    assert row["status"] == "dialing" and row["attempts"] == 2
    row = await pool.fetchrow("SELECT * FROM callbacks WHERE id = $1", last)
    assert row["status"] == "failed" and row["last_error"] == "interrupted while dialling"
    assert (
        await CallbackScheduler(repo, dialer, _anyone).run_once() == 0
    )  # a fresh dial stays alone
