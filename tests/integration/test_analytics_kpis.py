"""KPIs, daily series, call figures and the weekly text over calls seeded in PostgreSQL
(tests/integration/analytics_rig.py has the table). Every expected figure is worked out by
hand in the comments from that table, not by the SQL under test.

Prices for these tests: trunk $0.01 per started minute, OpenAI $0.20 and local $0.005 per
minute of conversation.
"""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from app.analytics.costs import Prices
from app.analytics.kpis import Kpi
from app.analytics.period import QueryError, period
from app.analytics.records import CallFilter
from app.analytics.report import NotYourProperty, Reports, Scope
from app.analytics.weekly import render_text
from app.storage.analytics_repo import AnalyticsRepository
from tests.integration.analytics_rig import Seeded, seed_calls

DAY0 = dt.date(2026, 11, 10)
PRICES = Prices(0.01, {"openai": 0.20, "local": 0.005})
WEEK = period(dt.date(2026, 11, 9), dt.date(2026, 11, 13))


@pytest.fixture
async def seeded(pool: asyncpg.Pool) -> Seeded:
    return await seed_calls(pool, DAY0)


@pytest.fixture
def reports(pool: asyncpg.Pool) -> Reports:
    return Reports(AnalyticsRepository(pool), PRICES)


def by_key(kpis: list[Kpi]) -> dict[str, Kpi]:
    return {k.key: k for k in kpis}


async def test_group_kpis_match_the_hand_computed_figures(seeded: Seeded, reports: Reports) -> None:
    report = await reports.kpi_report(Scope(), WEEK)
    k = by_key(report.group.kpis)
    # c1..c8 ended in the range (c9 still talking, c10 after it): 8 calls.
    assert report.group.calls == 8 and k["calls"].value == 8
    # automated: not transferred (c3), not taken over (c7): c1 c2 c4 c5 c6 c8 = 6/8
    assert k["automation_rate"].value == 0.75 and k["automation_rate"].met is False
    # durations 120+200+60+30+10+240+90+5 = 755 s / 8 = 94.375 → 94.4
    assert k["avg_duration_s"].value == 94.4 and k["avg_duration_s"].met is True
    # satisfaction of c1 c2 c3 c5 c6 c7 = 5+4+3+2+5+4 = 23 / 6 = 3.833 → 3.83
    assert k["satisfaction"].value == 3.83 and k["satisfaction"].met is False
    # asked about a stay: c1 c2 c6 (room search or booking or lead); booked c1 c6: 2/3
    assert k["booking_conversion"].value == 0.6667 and k["booking_conversion"].met is True
    # success: all but c5 (failed) = 7/8
    assert k["call_success_rate"].value == 0.875 and k["call_success_rate"].met is False
    # errors: c4 (a tool error), c5 (failed) = 2/8
    assert k["error_rate"].value == 0.25 and k["error_rate"].met is False
    assert k["booked"].value == 2
    assert k["after_hours_bookings"].value == 1  # c1 only (c6 was in hours)
    # trunk: started minutes 2+4+1+1+1+4+2+1 = 16 × 0.01 = 0.16
    # local: (120+200+60+10+90)/60 = 8 min × 0.005 = 0.04; openai: (30+240)/60 = 4.5 × 0.2 = 0.9
    # total 1.10: per call 1.10/8 = 0.1375, per booking 1.10/2 = 0.55
    assert k["cost_per_call_usd"].value == pytest.approx(0.1375, abs=1e-4)
    assert k["cost_per_call_usd"].met is True
    assert k["cost_per_booking_usd"].value == pytest.approx(0.55, abs=1e-4)
    assert k["cost_per_booking_usd"].met is True
    # agent latencies 400 600 500 700 300 900 800 200 → sorted, n=8: p50 at rank 3.5 =
    # (500+600)/2 = 550; p95 at rank 6.65 = 800 + 0.65 × 100 = 865
    assert k["latency_p50_ms"].value == 550 and k["latency_p95_ms"].value == 865
    assert k["latency_p50_ms"].target is None and k["latency_p50_ms"].met is None


async def test_a_tools_spoken_refusal_is_not_an_error(
    seeded: Seeded, reports: Reports, pool: asyncpg.Pool
) -> None:
    # c6 asked for a date that had passed: the tool said so, nothing of ours failed
    await pool.execute(
        """INSERT INTO tool_invocations (call_id, name, status, error_message, started_at,
                                         duration_ms)
           SELECT id, 'check_availability', 'refused', 'That date has already passed.',
                  started_at, 40 FROM calls WHERE id = $1""",
        seeded.ids["c6"],
    )
    k = by_key((await reports.kpi_report(Scope(), WEEK)).group.kpis)
    assert k["error_rate"].value == 0.25  # still c4 and c5 only, as above


async def test_each_property_gets_its_own_kpis(seeded: Seeded, reports: Reports) -> None:
    report = await reports.kpi_report(Scope(), WEEK)
    props = {p.property_id: p for p in report.properties}
    assert set(props) == {"harborview", "seaside"}
    h, s = by_key(props["harborview"].kpis), by_key(props["seaside"].kpis)
    assert props["harborview"].name == "Harborview Hotel" and props["harborview"].calls == 6
    # harborview: c1 c2 c3 c4 c5 c8; automated all but c3 = 5/6 = 0.8333 (≥ 0.80: met)
    assert h["automation_rate"].value == 0.8333 and h["automation_rate"].met is True
    # (120+200+60+30+10+5)/6 = 70.83 → 70.8; satisfaction (5+4+3+2)/4 = 3.5
    assert h["avg_duration_s"].value == 70.8 and h["satisfaction"].value == 3.5
    # stay inquiries c1 c2, booked c1: 0.5; success 5/6; errors c4 c5 = 2/6
    assert h["booking_conversion"].value == 0.5
    assert h["call_success_rate"].value == 0.8333 and h["error_rate"].value == 0.3333
    # trunk 2+4+1+1+1+1 = 10 × 0.01 = 0.10; local 6.5 min × 0.005 = 0.0325; openai 0.5 × 0.2
    # = 0.10 → 0.2325: per call 0.03875, per booking (c1) 0.2325
    assert h["cost_per_call_usd"].value == pytest.approx(0.03875, abs=1e-4)
    assert h["cost_per_booking_usd"].value == pytest.approx(0.2325, abs=1e-4)
    # latencies 400 600 500 700 300 900 → n=6: p50 rank 2.5 = 550; p95 rank 4.75 = 700+0.75×200
    assert h["latency_p50_ms"].value == 550 and h["latency_p95_ms"].value == 850
    # seaside: c6 (booked, automated), c7 (taken over)
    assert props["seaside"].calls == 2
    assert s["automation_rate"].value == 0.5 and s["satisfaction"].value == 4.5
    assert s["satisfaction"].met is True and s["booking_conversion"].value == 1.0
    assert s["call_success_rate"].value == 1.0 and s["call_success_rate"].met is True
    assert s["error_rate"].value == 0.0 and s["error_rate"].met is True
    # trunk 4+2 = 6 × 0.01; openai 4 min × 0.2 = 0.8; local 1.5 × 0.005 = 0.0075 → 0.8675
    assert s["cost_per_booking_usd"].value == pytest.approx(0.8675, abs=1e-4)
    assert s["cost_per_call_usd"].value == pytest.approx(0.43375, abs=1e-4)
    # p50 of 800, 200 = 500; p95 = 200 + 0.95 × 600 = 770
    assert s["latency_p50_ms"].value == 500 and s["latency_p95_ms"].value == 770


async def test_one_property_asked_for_is_the_whole_report(seeded: Seeded, reports: Reports) -> None:
    report = await reports.kpi_report(Scope(property_id="seaside"), WEEK)
    assert report.group.calls == 2 and [p.property_id for p in report.properties] == ["seaside"]
    assert by_key(report.group.kpis)["booked"].value == 1


async def test_a_period_without_calls_has_null_values_and_no_verdicts(
    seeded: Seeded, reports: Reports
) -> None:
    report = await reports.kpi_report(Scope(), period(dt.date(2026, 1, 1), dt.date(2026, 1, 7)))
    k = by_key(report.group.kpis)
    assert k["calls"].value == 0 and k["booked"].value == 0
    for key in ("automation_rate", "avg_duration_s", "satisfaction", "cost_per_call_usd"):
        assert k[key].value is None and k[key].met is None


async def test_a_user_of_one_property_sees_that_property_only(
    seeded: Seeded, reports: Reports
) -> None:
    report = await reports.kpi_report(Scope(only="seaside"), WEEK)
    assert report.group.calls == 2
    with pytest.raises(NotYourProperty):
        await reports.kpi_report(Scope(property_id="harborview", only="seaside"), WEEK)
    assert await reports.call(Scope(only="seaside"), seeded.ids["c1"]) is None


async def test_an_unknown_property_is_a_query_error(seeded: Seeded, reports: Reports) -> None:
    with pytest.raises(QueryError, match="nowhere"):
        await reports.kpi_report(Scope(property_id="nowhere"), WEEK)


async def test_daily_series_is_zero_filled_in_the_group_timezone(
    seeded: Seeded, reports: Reports
) -> None:
    days = await reports.daily(Scope(), WEEK)
    assert [d.day for d in days] == [dt.date(2026, 11, 9) + dt.timedelta(n) for n in range(5)]
    assert [d.calls for d in days] == [0, 5, 2, 1, 0]  # UTC days: c1 c3 c4 c5 c8 | c6 c7 | c2
    nov10 = days[1]
    # c1 c3 c4 c5 c8: automated all but c3; booked c1; transferred c3; abandoned c8
    assert (nov10.automated, nov10.booked, nov10.transferred, nov10.abandoned) == (4, 1, 1, 1)
    assert nov10.avg_duration_s == pytest.approx(45.0)  # (120+60+30+10+5)/5
    assert nov10.satisfaction == pytest.approx(10 / 3, abs=1e-4)  # 5, 3, 2
    assert nov10.sentiment == pytest.approx((0.5 - 0.3 - 0.6) / 3, abs=1e-4)
    assert nov10.after_hours_bookings == 1
    assert days[0].automated == 0 and days[0].avg_duration_s is None
    assert days[2].sentiment == pytest.approx(0.5, abs=1e-4)  # c6 0.8, c7 0.2


async def test_a_propertys_days_are_in_its_own_timezone(seeded: Seeded, reports: Reports) -> None:
    # c2 started 2026-11-12 03:00 UTC = 2026-11-11 19:00 in Los Angeles
    scope = Scope(property_id="harborview")
    days = await reports.daily(scope, await reports.period(scope, "2026-11-11", "2026-11-11"))
    assert [(d.day, d.calls) for d in days] == [(dt.date(2026, 11, 11), 1)]
    group = await reports.daily(Scope(), period(dt.date(2026, 11, 11), dt.date(2026, 11, 11)))
    assert [d.calls for d in group] == [2]  # c6 c7 at seaside; c2 is the 12th in UTC


async def test_call_list_is_newest_first_with_each_calls_figures(
    seeded: Seeded, reports: Reports
) -> None:
    page = await reports.calls(Scope(), WEEK, CallFilter())
    ids = {v: k for k, v in seeded.ids.items()}
    # every call in range, in progress too (c9); newest first
    assert [ids[c.id] for c in page.calls] == [
        "c9", "c2", "c7", "c6", "c8", "c5", "c4", "c3", "c1"
    ]  # fmt: skip
    assert page.total == 9
    c1 = next(c for c in page.calls if c.id == seeded.ids["c1"])
    assert c1.duration_s == 120.0 and c1.turns == 4 and c1.interruptions == 1
    assert c1.tools == ("check_availability", "create_reservation") and c1.errors == 0
    assert c1.automated and c1.converted and c1.after_hours is True
    assert c1.latency_p50_ms == 500 and c1.latency_p95_ms == 590  # 400, 600: 400 + 0.95×200
    assert c1.caller == "+1••••••0123" and c1.ivr_wait_ms == 4000 and c1.survey_score == 5
    c4 = next(c for c in page.calls if c.id == seeded.ids["c4"])
    assert c4.errors == 1 and not c4.converted
    c5 = next(c for c in page.calls if c.id == seeded.ids["c5"])
    assert c5.errors == 1 and c5.turns == 0 and c5.latency_p50_ms is None
    c3 = next(c for c in page.calls if c.id == seeded.ids["c3"])
    assert not c3.automated
    c6 = next(c for c in page.calls if c.id == seeded.ids["c6"])
    assert c6.caller == "+44••••••8750"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (CallFilter(outcome="booked"), ["c6", "c1"]),
        (CallFilter(language="es"), ["c3"]),
        (CallFilter(sentiment="negative"), ["c5", "c3"]),
        (CallFilter(sentiment="positive"), ["c7", "c6", "c1"]),
        (CallFilter(sentiment="neutral"), ["c2"]),
        (CallFilter(sentiment="unscored"), ["c9", "c8", "c4"]),
        (CallFilter(limit=2, offset=1), ["c2", "c7"]),
    ],
)
async def test_call_list_filters(
    seeded: Seeded, reports: Reports, where: CallFilter, expected: list[str]
) -> None:
    page = await reports.calls(Scope(), WEEK, where)
    ids = {v: k for k, v in seeded.ids.items()}
    assert [ids[c.id] for c in page.calls] == expected
    assert page.total == (9 if where.limit == 2 else len(expected))


async def test_a_page_past_the_end_still_counts_the_calls(seeded: Seeded, reports: Reports) -> None:
    page = await reports.calls(Scope(), WEEK, CallFilter(limit=5, offset=100))
    assert page.calls == [] and page.total == 9


async def test_call_detail_has_turns_tools_and_ivr_path(seeded: Seeded, reports: Reports) -> None:
    detail = await reports.call(Scope(), seeded.ids["c4"])
    assert detail is not None
    assert detail.ivr_path == ("1",)
    assert [(t.seq, t.role, t.latency_ms) for t in detail.turns] == [
        (0, "caller", None), (1, "agent", 300), (2, "caller", None), (3, "agent", 900)
    ]  # fmt: skip
    assert detail.turns[0].sentiment == 0.1  # as written, not float4's 0.10000000149
    assert [(u.name, u.status, u.error_message) for u in detail.tool_invocations] == [
        ("get_hotel_info", "error", "faq unavailable")
    ]
    assert detail.recording is None


async def test_weekly_text_says_which_targets_are_met(seeded: Seeded, reports: Reports) -> None:
    # the text report covers the last days up to today: seed a second batch ending today
    today = dt.datetime.now(dt.UTC).date()
    pool = reports.store._pool  # type: ignore[attr-defined]
    await seed_calls(pool, today - dt.timedelta(days=3))
    weekly = await reports.weekly(Scope(), 7)
    text = render_text(weekly, "all properties (2)")
    lines = text.splitlines()
    assert lines[0].startswith("Front Desk Voice: all properties (2), ")
    assert "Calls: 8" in lines
    automation = next(line for line in lines if line.strip().startswith("Automation"))
    assert "75.0 %" in automation and "target ≥ 80.0 %: MISSED" in automation
    conversion = next(line for line in lines if line.strip().startswith("Booking conversion"))
    assert "66.7 %" in conversion and conversion.endswith("met")
    assert any(line.split()[:2] == ["booked", "2"] for line in lines)
    assert any(line.split()[:2] == ["check_availability", "3"] for line in lines)
    # busiest hour: 12:00 UTC (c1 c3 c4 c5 c8)
    busiest = lines.index("Busiest hours (UTC):") + 1
    assert lines[busiest].split()[:2] == ["12:00–13:00", "5"]
    assert "Seaside Inn (seaside): 2 calls" in text
