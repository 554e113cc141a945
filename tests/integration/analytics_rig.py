"""Calls seeded straight into PostgreSQL with the values the call path writes (outcome, turns
with latency, interruption and sentiment, tool invocations, menu and queue waits, satisfaction,
after hours), for the analytics tests. Every figure the tests expect is worked out by hand
in their comments from the table below, never by the SQL under test.

Two properties: harborview (America/Los_Angeles), seaside (UTC). `day0` is the first day;
times are UTC.

| #  | property   | start (UTC)        | dur s | outcome     | engine  | sat | sent  | tools (status)                 | turn latencies | after |
|----|------------|--------------------|-------|-------------|---------|-----|-------|--------------------------------|----------------|-------|
| c1 | harborview | day0 12:00         | 120   | booked      | local   | 5   | 0.5   | check_availability, create_reservation | 400, 600 (600 interrupted) | yes |
| c2 | harborview | day0+2 03:00       | 200   | lead        | local   | 4   | 0.0   | check_availability, create_lead | 500           | no    |
| c3 | harborview | day0 12:10         | 60    | transferred | local   | 3   | -0.3  | transfer_call                  | 700            | no    |
| c4 | harborview | day0 12:20         | 30    | info        | openai  | –   | –     | get_hotel_info (error)         | 300, 900       | no    |
| c5 | harborview | day0 12:25         | 10    | failed      | local   | 2   | -0.6  | –                              | –              | no    |
| c6 | seaside    | day0+1 15:00       | 240   | booked      | openai  | 5   | 0.8   | check_availability, create_reservation | 800   | no    |
| c7 | seaside    | day0+1 15:30       | 90    | taken_over  | local   | 4   | 0.2   | –                              | 200            | no    |
| c8 | harborview | day0 12:30         | 5     | abandoned   | –       | –   | –     | –                              | –              | –     |
| c9 | harborview | day0+2 10:00       | (talking: not ended)                                                   |
| c10| harborview | day0+10 12:00      | 60    | info (outside the range the tests ask for)                             |

c2 at day0+2 03:00 UTC is day0+1 19:00 in Los Angeles. c3's language is es-ES, the others en-US.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from app.staff.directory import StaffDirectory
from app.storage.users_repo import UserRepository
from tests.web_support import add_property

UTC = dt.UTC


@dataclass(frozen=True)
class Seeded:
    day0: dt.date
    ids: dict[str, uuid.UUID]


GROUP_MANAGER = ("group@harborview.example", "group-manager-password")


async def add_properties(pool: asyncpg.Pool) -> None:
    await add_property(pool)  # harborview, America/Los_Angeles
    await pool.execute(
        """INSERT INTO properties (id, name, timezone, phone_e164, currency)
           VALUES ('seaside', 'Seaside Inn', 'UTC', '+15550200200', 'USD')
           ON CONFLICT (id) DO NOTHING"""
    )


async def add_group_manager(pool: asyncpg.Pool) -> None:
    """A manager for every property (no property of their own)."""
    await StaffDirectory(UserRepository(pool)).add(
        GROUP_MANAGER[0], "Gale Group", "manager", GROUP_MANAGER[1], actor="test"
    )


async def _call(
    pool: asyncpg.Pool,
    prop: str,
    start: dt.datetime,
    seconds: float | None,
    outcome: str | None,
    *,
    engine: str | None = "local",
    satisfaction: float | None = None,
    sentiment: float | None = None,
    after_hours: bool | None = False,
    language: str = "en-US",
    transferred_to: str | None = None,
    caller: str = "+15550100123",
    survey: int | None = None,
    ivr_wait_ms: int | None = None,
    queue_wait_ms: int | None = None,
    summary: str | None = None,
) -> uuid.UUID:
    ended = None if seconds is None else start + dt.timedelta(seconds=seconds)
    value = await pool.fetchval(
        """INSERT INTO calls (property_id, direction, caller_e164, state, engine, language,
                              ivr_path, started_at, answered_at, ended_at, outcome, summary,
                              sentiment, transferred_to, ivr_wait_ms, queue_wait_ms,
                              survey_score, satisfaction, after_hours)
           VALUES ($1, 'inbound', $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $13, $14,
                   $15, $16, $17)
           RETURNING id""",
        prop,
        caller,
        "ended" if ended else "talking",
        engine,
        language,
        ["1"],
        start,
        ended,
        outcome,
        summary,
        sentiment,
        transferred_to,
        ivr_wait_ms,
        queue_wait_ms,
        survey,
        satisfaction,
        after_hours,
    )
    return uuid.UUID(str(value))


async def _turns(
    pool: asyncpg.Pool, call_id: uuid.UUID, start: dt.datetime, agent: list[tuple[int, bool]]
) -> None:
    """A caller turn, then an agent turn with (latency, interrupted), for each entry."""
    seq = 0
    for i, (latency, interrupted) in enumerate(agent):
        at = start + dt.timedelta(seconds=10 * i)
        await pool.execute(
            """INSERT INTO turns (call_id, seq, role, text, started_at, sentiment)
               VALUES ($1, $2, 'caller', $3, $4, 0.1)""",
            call_id,
            seq,
            f"caller line {i}",
            at,
        )
        await pool.execute(
            """INSERT INTO turns (call_id, seq, role, text, started_at, latency_ms, interrupted)
               VALUES ($1, $2, 'agent', $3, $4, $5, $6)""",
            call_id,
            seq + 1,
            f"agent line {i}",
            at + dt.timedelta(seconds=2),
            latency,
            interrupted,
        )
        seq += 2


async def _tool(
    pool: asyncpg.Pool, call_id: uuid.UUID, name: str, at: dt.datetime, error: str | None = None
) -> None:
    await pool.execute(
        """INSERT INTO tool_invocations (call_id, name, status, error_message, started_at,
                                         duration_ms)
           VALUES ($1, $2, $3, $4, $5, 120)""",
        call_id,
        name,
        "error" if error else "ok",
        error,
        at,
    )


async def seed_calls(pool: asyncpg.Pool, day0: dt.date) -> Seeded:
    await add_properties(pool)

    def at(days: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day0 + dt.timedelta(days=days), dt.time(hour, minute), UTC)

    ids: dict[str, uuid.UUID] = {}
    ids["c1"] = await _call(
        pool, "harborview", at(0, 12), 120, "booked", satisfaction=5, sentiment=0.5,
        after_hours=True, survey=5, ivr_wait_ms=4000, queue_wait_ms=0,
        summary="Booked a king room for two nights.",
    )  # fmt: skip
    await _turns(pool, ids["c1"], at(0, 12), [(400, False), (600, True)])
    await _tool(pool, ids["c1"], "check_availability", at(0, 12, 1))
    await _tool(pool, ids["c1"], "create_reservation", at(0, 12, 2))

    ids["c2"] = await _call(
        pool, "harborview", at(2, 3), 200, "lead", satisfaction=4, sentiment=0.0
    )
    await _turns(pool, ids["c2"], at(2, 3), [(500, False)])
    await _tool(pool, ids["c2"], "check_availability", at(2, 3, 1))
    await _tool(pool, ids["c2"], "create_lead", at(2, 3, 2))

    ids["c3"] = await _call(
        pool, "harborview", at(0, 12, 10), 60, "transferred", satisfaction=3, sentiment=-0.3,
        language="es-ES", transferred_to="frontdesk",
    )  # fmt: skip
    await _turns(pool, ids["c3"], at(0, 12, 10), [(700, False)])
    await _tool(pool, ids["c3"], "transfer_call", at(0, 12, 11))

    ids["c4"] = await _call(
        pool, "harborview", at(0, 12, 20), 30, "info", engine="openai:gpt-realtime"
    )
    await _turns(pool, ids["c4"], at(0, 12, 20), [(300, False), (900, False)])
    await _tool(pool, ids["c4"], "get_hotel_info", at(0, 12, 20), error="faq unavailable")

    ids["c5"] = await _call(
        pool, "harborview", at(0, 12, 25), 10, "failed", satisfaction=2, sentiment=-0.6
    )

    ids["c6"] = await _call(
        pool, "seaside", at(1, 15), 240, "booked", engine="openai:gpt-realtime",
        satisfaction=5, sentiment=0.8, caller="+442071838750",
    )  # fmt: skip
    await _turns(pool, ids["c6"], at(1, 15), [(800, False)])
    await _tool(pool, ids["c6"], "check_availability", at(1, 15, 1))
    await _tool(pool, ids["c6"], "create_reservation", at(1, 15, 2))

    ids["c7"] = await _call(
        pool, "seaside", at(1, 15, 30), 90, "taken_over", satisfaction=4, sentiment=0.2
    )
    await _turns(pool, ids["c7"], at(1, 15, 30), [(200, False)])

    ids["c8"] = await _call(
        pool, "harborview", at(0, 12, 30), 5, "abandoned", engine=None, after_hours=None
    )
    ids["c9"] = await _call(pool, "harborview", at(2, 10), None, None)
    ids["c10"] = await _call(pool, "harborview", at(10, 12), 60, "info")
    return Seeded(day0, ids)
