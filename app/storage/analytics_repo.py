"""The SQL behind the managers' analytics (app/analytics/): totals for KPIs, daily series,
the call list with each call's figures, one call's detail, the report's rankings, and the
recordings the dashboard plays. The rules (who is automated, what is a stay inquiry) come
from app/analytics/metrics.py as parameters. Indexes: migrations/versions/0006.

KPIs and series count calls that have ended; the call list shows every call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg

from app.analytics.kpis import Totals
from app.analytics.metrics import (
    CONVERTED_OUTCOMES,
    HUMAN_OUTCOMES,
    SENTIMENT_EDGE,
    STAY_OUTCOMES,
    STAY_TOOLS,
    CallFacts,
)
from app.analytics.period import Period
from app.analytics.records import (
    CallDetailFacts,
    CallFilter,
    DayFigures,
    PropertyInfo,
    RecordingInfo,
    RecordingUnavailable,
    ToolCount,
    ToolUse,
    TurnFacts,
)
from app.storage.recordings import (
    RecordingError,
    RecordingStorage,
    StoredRecording,
    open_recording,
)

# $1 start, $2 end (UTC, end excluded), $3 property or NULL
_ENDED_IN_RANGE = """
    c.started_at >= $1 AND c.started_at < $2 AND c.state = 'ended'
    AND ($3::text IS NULL OR c.property_id = $3)
"""

_TOTALS = f"""
WITH r AS (
    SELECT c.id, c.property_id, c.outcome, c.transferred_to, c.after_hours, c.satisfaction,
           c.engine, extract(epoch FROM c.ended_at - c.started_at)::float8 AS dur_s
    FROM calls c
    WHERE {_ENDED_IN_RANGE}
), ti AS (
    -- the range's tool invocations only, joined as the planner sees fit (a nested loop on
    -- tool_invocations_call_figures_idx for a short range, a hash join for a long one)
    SELECT t.call_id, bool_or(t.status = 'error') AS tool_error,
           bool_or(t.name = ANY($4::text[])) AS stay_tool
    FROM r JOIN tool_invocations t ON t.call_id = r.id
    GROUP BY t.call_id
), c AS (
    SELECT r.*, coalesce(ti.tool_error, false) AS tool_error,
           coalesce(ti.stay_tool, false) AS stay_tool
    FROM r LEFT JOIN ti ON ti.call_id = r.id
)
SELECT grouping(property_id) = 1 AS is_group, property_id,
       count(*) AS calls,
       count(*) FILTER (WHERE NOT (coalesce(outcome, '') = ANY($5::text[]))
                          AND transferred_to IS NULL) AS automated,
       count(*) FILTER (WHERE outcome = ANY($6::text[])) AS booked,
       count(*) FILTER (WHERE outcome = 'lead') AS leads,
       count(*) FILTER (WHERE outcome = 'transferred') AS transferred,
       count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned,
       count(*) FILTER (WHERE outcome = 'failed') AS failed,
       count(*) FILTER (WHERE stay_tool OR outcome = ANY($7::text[])) AS stay_inquiries,
       count(*) FILTER (WHERE tool_error OR outcome = 'failed') AS with_errors,
       count(*) FILTER (WHERE outcome = ANY($6::text[]) AND after_hours) AS after_hours_bookings,
       avg(dur_s) AS avg_duration_s,
       avg(satisfaction)::float8 AS avg_satisfaction,
       coalesce(sum(ceil(dur_s / 60.0)), 0)::float8 AS trunk_minutes,
       coalesce(sum(dur_s / 60.0) FILTER (WHERE split_part(engine, ':', 1) = 'openai'), 0)
           AS openai_minutes,
       coalesce(sum(dur_s / 60.0) FILTER (WHERE split_part(engine, ':', 1) = 'local'), 0)
           AS local_minutes
FROM c
GROUP BY GROUPING SETS ((property_id), ())
"""

_LATENCY = f"""
SELECT grouping(c.property_id) = 1 AS is_group, c.property_id,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t.latency_ms) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY t.latency_ms) AS p95
FROM calls c JOIN turns t ON t.call_id = c.id
WHERE {_ENDED_IN_RANGE} AND t.latency_ms IS NOT NULL
GROUP BY GROUPING SETS ((c.property_id), ())
"""

_DAILY = """
WITH days AS (
    SELECT d::date AS day FROM generate_series($4::date, $5::date, interval '1 day') AS d
), c AS (
    SELECT (c.started_at AT TIME ZONE $6)::date AS day, c.outcome, c.transferred_to,
           c.after_hours, c.satisfaction, c.sentiment,
           extract(epoch FROM c.ended_at - c.started_at)::float8 AS dur_s
    FROM calls c
    WHERE c.started_at >= $1 AND c.started_at < $2 AND c.state = 'ended'
      AND ($3::text IS NULL OR c.property_id = $3)
)
SELECT days.day,
       count(c.day) AS calls,
       count(*) FILTER (WHERE c.day IS NOT NULL
                          AND NOT (coalesce(c.outcome, '') = ANY($7::text[]))
                          AND c.transferred_to IS NULL) AS automated,
       count(*) FILTER (WHERE c.outcome = ANY($8::text[])) AS booked,
       count(*) FILTER (WHERE c.outcome = 'transferred') AS transferred,
       count(*) FILTER (WHERE c.outcome = 'abandoned') AS abandoned,
       avg(c.dur_s) AS avg_duration_s,
       avg(c.satisfaction)::float8 AS satisfaction,
       avg(c.sentiment)::float8 AS sentiment,
       count(*) FILTER (WHERE c.outcome = ANY($8::text[]) AND c.after_hours)
           AS after_hours_bookings
FROM days LEFT JOIN c ON c.day = days.day
GROUP BY days.day
ORDER BY days.day
"""

_CALL_FIGURES = """
SELECT c.id, c.property_id, c.started_at, c.ivr_path,
       extract(epoch FROM c.ended_at - c.started_at)::float8 AS duration_s,
       c.caller_e164, c.direction, c.language, c.outcome, c.transferred_to, c.after_hours,
       coalesce(tu.turns, 0) AS turns, coalesce(tu.interruptions, 0) AS interruptions,
       tu.p50, tu.p95,
       coalesce(ti.tools, '{}') AS tools, coalesce(ti.errors, 0) AS tool_errors,
       c.sentiment::numeric::float8 AS sentiment, c.satisfaction::numeric::float8 AS satisfaction,
       c.survey_score, c.ivr_wait_ms, c.queue_wait_ms, c.summary
       /*extra*/
FROM calls c
LEFT JOIN LATERAL (
    SELECT count(*) AS turns, count(*) FILTER (WHERE t.interrupted) AS interruptions,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY t.latency_ms) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY t.latency_ms) AS p95
    FROM turns t WHERE t.call_id = c.id
) tu ON true
LEFT JOIN LATERAL (
    SELECT array_agg(DISTINCT t.name ORDER BY t.name) AS tools,
           count(*) FILTER (WHERE t.status = 'error') AS errors
    FROM tool_invocations t WHERE t.call_id = c.id
) ti ON true
"""

# Real columns go through numeric to float8: the value as written (0.1), not float4's
# 0.10000000149…

# $1 start, $2 end, $3 property, $4 outcome, $5 language, $6 sentiment bucket, $7 edge,
# $8 limit (NULL: all), $9 offset
_MATCHING = """
WHERE c.started_at >= $1 AND c.started_at < $2
  AND ($3::text IS NULL OR c.property_id = $3)
  AND ($4::text IS NULL OR c.outcome = $4)
  AND ($5::text IS NULL OR lower(split_part(c.language, '-', 1)) = $5)
  AND ($6::text IS NULL
       OR ($6 = 'unscored' AND c.sentiment IS NULL)
       OR ($6 = 'positive' AND c.sentiment >= $7::float8)
       OR ($6 = 'negative' AND c.sentiment <= -$7::float8)
       OR ($6 = 'neutral' AND c.sentiment > -$7::float8 AND c.sentiment < $7::float8))
"""

# The page is chosen first (and counted), then only its calls get their figures: the
# per-call aggregates never run for calls off the page.
_CALL_PAGE = (
    f"""
WITH page AS (
    SELECT c.id, count(*) OVER () AS total FROM calls c
    {_MATCHING}
    ORDER BY c.started_at DESC, c.id DESC
    LIMIT $8 OFFSET $9
)
"""
    + _CALL_FIGURES.replace("/*extra*/", ", page.total").replace(
        "FROM calls c", "FROM page JOIN calls c ON c.id = page.id", 1
    )
    + "\nORDER BY c.started_at DESC, c.id DESC"
)

_COUNT_ONLY = "SELECT count(*) FROM calls c " + _MATCHING


def _facts(row: asyncpg.Record) -> CallFacts:
    return CallFacts(
        id=row["id"],
        property_id=row["property_id"],
        started_at=row["started_at"],
        duration_s=row["duration_s"],
        caller_e164=row["caller_e164"],
        direction=row["direction"],
        language=row["language"],
        outcome=row["outcome"],
        transferred_to=row["transferred_to"],
        after_hours=row["after_hours"],
        turns=row["turns"],
        interruptions=row["interruptions"],
        tools=tuple(row["tools"]),
        tool_errors=row["tool_errors"],
        sentiment=row["sentiment"],
        satisfaction=row["satisfaction"],
        survey_score=row["survey_score"],
        latency_p50_ms=row["p50"],
        latency_p95_ms=row["p95"],
        ivr_wait_ms=row["ivr_wait_ms"],
        queue_wait_ms=row["queue_wait_ms"],
        summary=row["summary"],
    )


def _totals(row: asyncpg.Record | None, latency: asyncpg.Record | None) -> Totals:
    if row is None:
        return Totals()
    return Totals(
        calls=row["calls"],
        automated=row["automated"],
        booked=row["booked"],
        leads=row["leads"],
        transferred=row["transferred"],
        abandoned=row["abandoned"],
        failed=row["failed"],
        stay_inquiries=row["stay_inquiries"],
        with_errors=row["with_errors"],
        after_hours_bookings=row["after_hours_bookings"],
        avg_duration_s=row["avg_duration_s"],
        avg_satisfaction=row["avg_satisfaction"],
        trunk_minutes=row["trunk_minutes"],
        engine_minutes={"openai": row["openai_minutes"], "local": row["local_minutes"]},
        latency_p50_ms=latency["p50"] if latency else None,
        latency_p95_ms=latency["p95"] if latency else None,
    )


def _turn(row: asyncpg.Record) -> TurnFacts:
    return TurnFacts(
        call_id=row["call_id"],
        property_id=row["property_id"],
        seq=row["seq"],
        role=row["role"],
        text=row["text"],
        language=row["language"],
        started_at=row["started_at"],
        latency_ms=row["latency_ms"],
        interrupted=row["interrupted"],
        sentiment=row["sentiment"],
    )


class AnalyticsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def properties(self) -> list[PropertyInfo]:
        rows = await self._pool.fetch("SELECT id, name, timezone FROM properties ORDER BY id")
        return [PropertyInfo(r["id"], r["name"], r["timezone"]) for r in rows]

    async def totals(
        self, start: dt.datetime, end: dt.datetime, property_id: str | None
    ) -> tuple[Totals, dict[str, Totals]]:
        """The group's totals (of `property_id` alone when given) and each property's."""
        rows = await self._pool.fetch(
            _TOTALS,
            start,
            end,
            property_id,
            list(STAY_TOOLS),
            list(HUMAN_OUTCOMES),
            list(CONVERTED_OUTCOMES),
            list(STAY_OUTCOMES),
        )
        latency = await self._pool.fetch(_LATENCY, start, end, property_id)
        lat = {(r["is_group"], r["property_id"]): r for r in latency}
        group = next((r for r in rows if r["is_group"]), None)
        by_property = {
            r["property_id"]: _totals(r, lat.get((False, r["property_id"])))
            for r in rows
            if not r["is_group"]
        }
        return _totals(group, lat.get((True, None))), by_property

    async def daily(self, period: Period, property_id: str | None) -> list[DayFigures]:
        start, end = period.bounds()
        rows = await self._pool.fetch(
            _DAILY,
            start,
            end,
            property_id,
            period.first,
            period.last,
            period.timezone,
            list(HUMAN_OUTCOMES),
            list(CONVERTED_OUTCOMES),
        )
        return [
            DayFigures(
                day=r["day"],
                calls=r["calls"],
                automated=r["automated"],
                booked=r["booked"],
                transferred=r["transferred"],
                abandoned=r["abandoned"],
                avg_duration_s=r["avg_duration_s"],
                satisfaction=r["satisfaction"],
                sentiment=r["sentiment"],
                after_hours_bookings=r["after_hours_bookings"],
            )
            for r in rows
        ]

    async def calls(
        self, start: dt.datetime, end: dt.datetime, property_id: str | None, where: CallFilter
    ) -> tuple[int, list[CallFacts]]:
        """One page, newest first, and how many calls match in all."""
        args: list[Any] = [
            start,
            end,
            property_id,
            where.outcome,
            where.language,
            where.sentiment,
            SENTIMENT_EDGE,
        ]
        rows = await self._pool.fetch(_CALL_PAGE, *args, where.limit, where.offset)
        if rows:
            total = int(rows[0]["total"])
        else:  # past the last page: the count still matters to the pager
            total = int(await self._pool.fetchval(_COUNT_ONLY, *args))
        return total, [_facts(r) for r in rows]

    async def call(self, call_id: uuid.UUID) -> CallDetailFacts | None:
        row = await self._pool.fetchrow(_CALL_FIGURES + " WHERE c.id = $1", call_id)
        if row is None:
            return None
        turns = await self._pool.fetch(
            """SELECT t.call_id, c.property_id, t.seq, t.role, t.text, t.language, t.started_at,
                      t.latency_ms, t.interrupted,
                      t.sentiment::numeric::float8 AS sentiment
               FROM turns t JOIN calls c ON c.id = t.call_id
               WHERE t.call_id = $1 ORDER BY t.seq""",
            call_id,
        )
        tools = await self._pool.fetch(
            """SELECT name, status, started_at, duration_ms, error_message
               FROM tool_invocations WHERE call_id = $1 ORDER BY started_at, id""",
            call_id,
        )
        recording = await self._pool.fetchrow(
            """SELECT id, duration_ms FROM recordings WHERE call_id = $1
               ORDER BY created_at DESC LIMIT 1""",
            call_id,
        )
        return CallDetailFacts(
            _facts(row),
            tuple(row["ivr_path"]),
            tuple(_turn(t) for t in turns),
            tuple(
                ToolUse(
                    t["name"], t["status"], t["started_at"], t["duration_ms"], t["error_message"]
                )
                for t in tools
            ),
            RecordingInfo(recording["id"], recording["duration_ms"]) if recording else None,
        )

    async def turns(
        self, start: dt.datetime, end: dt.datetime, property_id: str | None
    ) -> list[TurnFacts]:
        """Every turn of the calls that started in the range, call by call."""
        rows = await self._pool.fetch(
            """SELECT t.call_id, c.property_id, t.seq, t.role, t.text, t.language, t.started_at,
                      t.latency_ms, t.interrupted,
                      t.sentiment::numeric::float8 AS sentiment
               FROM calls c JOIN turns t ON t.call_id = c.id
               WHERE c.started_at >= $1 AND c.started_at < $2
                 AND ($3::text IS NULL OR c.property_id = $3)
               ORDER BY c.started_at, c.id, t.seq""",
            start,
            end,
            property_id,
        )
        return [_turn(r) for r in rows]

    async def outcomes(
        self, start: dt.datetime, end: dt.datetime, property_id: str | None
    ) -> dict[str, int]:
        rows = await self._pool.fetch(
            f"""SELECT coalesce(c.outcome, 'none') AS outcome, count(*) AS n FROM calls c
                WHERE {_ENDED_IN_RANGE} GROUP BY 1""",
            start,
            end,
            property_id,
        )
        return {r["outcome"]: r["n"] for r in rows}

    async def top_tools(
        self, start: dt.datetime, end: dt.datetime, property_id: str | None, limit: int
    ) -> list[ToolCount]:
        rows = await self._pool.fetch(
            f"""SELECT t.name, count(*) AS uses, count(*) FILTER (WHERE t.status = 'error') AS errors
                FROM calls c JOIN tool_invocations t ON t.call_id = c.id
                WHERE {_ENDED_IN_RANGE}
                GROUP BY t.name ORDER BY uses DESC, t.name LIMIT $4""",
            start,
            end,
            property_id,
            limit,
        )
        return [ToolCount(r["name"], r["uses"], r["errors"]) for r in rows]

    async def busiest_hours(
        self, period: Period, property_id: str | None, limit: int
    ) -> list[tuple[int, int]]:
        start, end = period.bounds()
        rows = await self._pool.fetch(
            f"""SELECT extract(hour FROM c.started_at AT TIME ZONE $4)::int AS hour,
                       count(*) AS n
                FROM calls c WHERE {_ENDED_IN_RANGE}
                GROUP BY 1 ORDER BY n DESC, hour LIMIT $5""",
            start,
            end,
            property_id,
            period.timezone,
            limit,
        )
        return [(r["hour"], r["n"]) for r in rows]


class CallRecordings:
    """A call's newest recording, read back for the dashboard: decrypted when this server
    holds RECORDING_IDENTITY, else the sealed file as stored."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        storage_for: Callable[[str], RecordingStorage],
        identity: str | None,
    ) -> None:
        self._pool = pool
        self._storage_for = storage_for
        self._identity = identity

    @property
    def playable(self) -> bool:
        return self._identity is not None

    async def read(self, call_id: uuid.UUID) -> bytes | None:
        """The audio (WAV when playable, else the age-encrypted file); None: no recording."""
        row = await self._pool.fetchrow(
            """SELECT storage, location, sha256, key_id, size_bytes FROM recordings
               WHERE call_id = $1 ORDER BY created_at DESC LIMIT 1""",
            call_id,
        )
        if row is None:
            return None
        stored = StoredRecording(
            row["storage"], row["location"], row["sha256"], row["key_id"], row["size_bytes"]
        )
        try:
            storage = self._storage_for(stored.storage)
            if self._identity is None:
                return await asyncio.to_thread(storage.get, stored.location)
            return await asyncio.to_thread(open_recording, storage, stored, self._identity)
        except (RecordingError, OSError) as exc:
            raise RecordingUnavailable(str(exc)) from None
