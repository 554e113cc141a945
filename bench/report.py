"""bench/report: the report's and the dashboard API's queries over 100,000 seeded calls, with
and without migration 0006's indexes.

A throwaway database (bench/benchdb.py) gets the hotel of config/hotel.yaml and N calls
spread over the last 90 days, in realistic proportions: outcomes (info 35 %, booked 15 %,
transferred 15 %, abandoned 12 %, lead 8 %, other 6 %, callback 5 %, taken over 2 %,
failed 2 %), 2 to 14 turns a call (half of them the agent's, with a latency), 0 to 3 tool
invocations (2 % failing). Each query runs --runs times with the indexes, then again after
they are dropped (and ANALYZE), and the medians are printed with their ratio.

    .venv/bin/python bench/report.py [--calls 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import throwaway_database

from app.analytics.costs import Prices
from app.analytics.period import period
from app.analytics.records import CallFilter
from app.analytics.report import Reports, Scope
from app.hotel.config import load_hotel_config
from app.settings import load_settings
from app.storage.analytics_repo import AnalyticsRepository
from app.storage.db import create_pool

INDEXES = {  # migrations/versions/0006_analytics_indexes.py
    "calls_started_idx": "calls (started_at DESC)",
    "calls_outcome_started_idx": "calls (outcome, started_at DESC)",
    "turns_call_figures_idx": "turns (call_id) INCLUDE (latency_ms, interrupted, sentiment)",
    "tool_invocations_call_figures_idx": "tool_invocations (call_id) INCLUDE (name, status)",
}

SEED_CALLS = """
INSERT INTO calls (property_id, direction, caller_e164, state, engine, language, started_at,
                   answered_at, ended_at, outcome, transferred_to, sentiment, satisfaction,
                   survey_score, ivr_wait_ms, queue_wait_ms, after_hours, summary)
SELECT prop, 'inbound', '+1555' || lpad((n % 9000000)::text, 7, '0'), 'ended',
       CASE WHEN n % 3 = 0 THEN 'openai:gpt-realtime' ELSE 'local' END,
       CASE WHEN n % 10 = 0 THEN 'es-ES' ELSE 'en-US' END,
       at, at, at + make_interval(secs => 20 + (n * 7919) % 400), outcome,
       CASE WHEN outcome = 'transferred' THEN 'frontdesk' END,
       CASE WHEN n % 5 = 0 THEN NULL ELSE ((n * 31) % 200 - 100) / 100.0 END,
       1 + (n * 13) % 5, CASE WHEN n % 4 = 0 THEN 1 + n % 5 END,
       (n * 17) % 20000, CASE WHEN outcome = 'transferred' THEN (n * 23) % 90000 END,
       extract(hour FROM at) NOT BETWEEN 8 AND 21, 'summary of call ' || n
FROM (
    SELECT n, props[1 + n % array_length(props, 1)] AS prop,
           now() - make_interval(secs => ((n::bigint * 7777) % (90 * 86400 * 100)) / 100.0) AS at,
           CASE WHEN r < 35 THEN 'info' WHEN r < 50 THEN 'booked' WHEN r < 65 THEN 'transferred'
                WHEN r < 77 THEN 'abandoned' WHEN r < 85 THEN 'lead' WHEN r < 91 THEN 'other'
                WHEN r < 96 THEN 'callback' WHEN r < 98 THEN 'taken_over' ELSE 'failed' END
               AS outcome
    FROM (SELECT n, (n * 37) % 100 AS r, $2::text[] AS props
          FROM generate_series(1, $1) AS n) s
) c
"""

SEED_TURNS = """
INSERT INTO turns (call_id, seq, role, text, started_at, latency_ms, interrupted, sentiment)
SELECT c.id, s, CASE WHEN s % 2 = 0 THEN 'caller' ELSE 'agent' END, 'turn ' || s,
       c.started_at + make_interval(secs => s * 6),
       CASE WHEN s % 2 = 1 THEN 250 + (s * 97 + c.h) % 1200 END,
       s % 2 = 1 AND (s + c.h) % 17 = 0,
       CASE WHEN s % 2 = 0 THEN ((s * 41 + c.h) % 200 - 100) / 100.0 END
FROM (SELECT id, started_at, abs(hashtext(id::text)) AS h FROM calls) c,
     generate_series(0, 1 + c.h % 13) AS s
"""

SEED_TOOLS = """
INSERT INTO tool_invocations (call_id, name, status, error_message, started_at, duration_ms)
SELECT c.id, (ARRAY['check_availability', 'create_reservation', 'get_hotel_info',
                    'transfer_call', 'create_lead', 'schedule_callback'])[1 + (k + h) % 6],
       CASE WHEN (h + k) % 50 = 0 THEN 'error' ELSE 'ok' END,
       CASE WHEN (h + k) % 50 = 0 THEN 'timeout' END,
       c.started_at + make_interval(secs => 10 + k * 20), 50 + abs(h) % 900
FROM (SELECT id, started_at, abs(hashtext(id::text)) AS h FROM calls) c,
     generate_series(1, c.h % 4) AS k
"""


async def seed(pool: asyncpg.Pool, calls: int) -> dict[str, int]:
    props = [r["id"] for r in await pool.fetch("SELECT id FROM properties ORDER BY id")]
    async with pool.acquire() as conn:
        await conn.execute(SEED_CALLS, calls, props, timeout=1800)
        await conn.execute(SEED_TURNS, timeout=1800)
        await conn.execute(SEED_TOOLS, timeout=1800)
        # the visibility map set, as autovacuum leaves a table in use: index-only scans count
        await conn.execute("VACUUM ANALYZE", timeout=1800)
        return {
            t: await conn.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("calls", "turns", "tool_invocations")
        }


async def timed(run: Callable[[], Awaitable[object]], runs: int) -> float:
    await run()  # warm the cache: both rounds read from memory
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def workload(
    reports: Reports, prop: str, one_call: object
) -> dict[str, Callable[[], Awaitable[object]]]:
    today = dt.datetime.now(dt.UTC).date()
    day = period(today, today)
    week = period(today - dt.timedelta(days=6), today)
    month = period(today - dt.timedelta(days=29), today)
    group, one = Scope(), Scope(property_id=prop)
    return {
        "report --days 7 (group)": lambda: reports.weekly(group, 7),
        "kpis today (group)": lambda: reports.kpi_report(group, day),
        "kpis 7 days (group)": lambda: reports.kpi_report(group, week),
        "kpis 30 days (group)": lambda: reports.kpi_report(group, month),
        "kpis 30 days (one property)": lambda: reports.kpi_report(one, month),
        "daily 7 days (group)": lambda: reports.daily(group, week),
        "daily 30 days (group)": lambda: reports.daily(group, month),
        "calls, first page (group, 7 d)": lambda: reports.calls(group, week, CallFilter()),
        "calls, first page (group, 30 d)": lambda: reports.calls(group, month, CallFilter()),
        "calls, outcome=failed (30 d)": lambda: reports.calls(
            group, month, CallFilter(outcome="failed")
        ),
        "calls, sentiment=negative (7 d)": lambda: reports.calls(
            group, week, CallFilter(sentiment="negative")
        ),
        "call detail": lambda: reports.call(group, one_call),  # type: ignore[arg-type]
        "export calls 7 days (group)": lambda: reports.calls(group, week, CallFilter(limit=None)),
        "export turns 7 days (group)": lambda: reports.turns(group, week),
    }


async def main(calls: int, runs: int) -> None:
    hotel = load_hotel_config(load_settings().hotel_config)
    async with throwaway_database(hotel) as url:
        pool = await create_pool(url, min_size=1, max_size=2)
        try:
            started = time.perf_counter()
            counts = await seed(pool, calls)
            print(f"seeded {counts} in {time.perf_counter() - started:.0f} s")
            reports = Reports(AnalyticsRepository(pool), Prices(0.0045, {"openai": 0.2}))
            prop = hotel.default_property.id
            one_call = await pool.fetchval(
                "SELECT id FROM calls ORDER BY started_at DESC OFFSET 500 LIMIT 1"
            )
            work = workload(reports, prop, one_call)
            # with, without, with again: the second "with" shows how much is the machine's noise
            first = {name: await timed(run, runs) for name, run in work.items()}
            for name in INDEXES:
                await pool.execute(f"DROP INDEX {name}", timeout=1800)
            await pool.execute("ANALYZE", timeout=1800)
            without = {name: await timed(run, runs) for name, run in work.items()}
            for name, target in INDEXES.items():
                await pool.execute(f"CREATE INDEX {name} ON {target}", timeout=1800)
            await pool.execute("VACUUM ANALYZE", timeout=1800)
            again = {name: await timed(run, runs) for name, run in work.items()}
        finally:
            await pool.close()
    print(
        "\n| query | with 0006 ms | without ms | with again ms | without ÷ with (mean of both) |"
        "\n|---|---|---|---|---|"
    )
    for name in work:
        with_idx = (first[name] + again[name]) / 2
        print(
            f"| {name} | {first[name]:.1f} | {without[name]:.1f} | {again[name]:.1f} "
            f"| {without[name] / with_idx:.1f}× |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.runs))
