"""KPIs against the plan's targets (shared/reference/voice-module-plan.md, success metrics),
from the totals of a set of calls (a property's or the group's).

Which calls count: those that started in the period and have ended. Definitions (also in
docs/VOICE_API.md):
- automation_rate: calls with no human (not transferred, not taken over) / calls.
- avg_duration_s: mean of started → ended, what the caller lived (menu and queue included).
- satisfaction: mean of the calls' satisfaction scores (1–5) where one was derived.
- booking_conversion: booked calls / calls that asked about a stay (looked for rooms, booked or
  left a lead). A lead is not a booking.
- call_success_rate: calls whose outcome is not "failed" / calls.
- error_rate: calls with an error (a tool invocation with status error, or outcome failed) /
  calls.
- cost_per_call_usd, cost_per_booking_usd: estimated cost (app/analytics/costs.py) / calls,
  / booked calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from app.analytics.costs import Prices, total_cost

Comparison = Literal["ge", "gt", "le", "lt"]
Unit = Literal["ratio", "seconds", "score", "usd", "count", "ms"]


@dataclass(frozen=True, slots=True)
class Totals:
    """Counts and sums over a set of calls (app/storage/analytics_repo.py)."""

    calls: int = 0
    automated: int = 0
    booked: int = 0
    leads: int = 0
    transferred: int = 0
    abandoned: int = 0
    failed: int = 0
    stay_inquiries: int = 0
    with_errors: int = 0
    after_hours_bookings: int = 0
    avg_duration_s: float | None = None
    avg_satisfaction: float | None = None
    trunk_minutes: float = 0.0  # billed: whole minutes per call
    engine_minutes: Mapping[str, float] = field(default_factory=dict)
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str
    label: str
    value: float | int | None
    target: float | None
    comparison: Comparison | None
    met: bool | None
    unit: Unit


@dataclass(frozen=True, slots=True)
class Target:
    value: float
    comparison: Comparison

    def met_by(self, value: float) -> bool:
        if self.comparison == "ge":
            return value >= self.value
        if self.comparison == "gt":
            return value > self.value
        if self.comparison == "le":
            return value <= self.value
        return value < self.value


TARGETS: dict[str, Target] = {
    "automation_rate": Target(0.80, "ge"),
    "avg_duration_s": Target(180.0, "lt"),
    "satisfaction": Target(4.5, "ge"),
    "booking_conversion": Target(0.30, "ge"),
    "call_success_rate": Target(0.95, "gt"),
    "error_rate": Target(0.01, "lt"),
    "cost_per_call_usd": Target(0.50, "lt"),
    "cost_per_booking_usd": Target(5.00, "lt"),
}


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)


def kpi(
    key: str, label: str, value: float | int | None, unit: Unit, digits: int | None = None
) -> Kpi:
    """A KPI judged against its target on its exact value, shown rounded to `digits`
    (19,999 of 25,000 calls automated is 0.79996: shown 0.8, and missed)."""
    target = TARGETS.get(key)
    met = None if target is None or value is None else target.met_by(value)
    return Kpi(
        key,
        label,
        value if digits is None or value is None else round(value, digits),
        target.value if target else None,
        target.comparison if target else None,
        met,
        unit,
    )


def cost_usd(totals: Totals, prices: Prices) -> float:
    return total_cost(totals.trunk_minutes, totals.engine_minutes, prices)


def kpis(totals: Totals, prices: Prices) -> list[Kpi]:
    n = totals.calls
    cost = cost_usd(totals, prices)
    return [
        kpi("calls", "Calls", n, "count"),
        kpi("automation_rate", "Automation", _ratio(totals.automated, n), "ratio", 4),
        kpi("avg_duration_s", "Average duration", totals.avg_duration_s, "seconds", 1),
        kpi("satisfaction", "Satisfaction", totals.avg_satisfaction, "score", 2),
        kpi(
            "booking_conversion",
            "Booking conversion",
            _ratio(totals.booked, totals.stay_inquiries),
            "ratio",
            4,
        ),
        kpi("call_success_rate", "Call success", _ratio(n - totals.failed, n), "ratio", 4),
        kpi("error_rate", "Error rate", _ratio(totals.with_errors, n), "ratio", 4),
        kpi("booked", "Bookings", totals.booked, "count"),
        kpi("after_hours_bookings", "After-hours bookings", totals.after_hours_bookings, "count"),
        kpi("cost_per_call_usd", "Cost per call", None if n == 0 else cost / n, "usd", 4),
        kpi(
            "cost_per_booking_usd",
            "Cost per booking",
            None if totals.booked == 0 else cost / totals.booked,
            "usd",
            4,
        ),
        kpi("latency_p50_ms", "Response latency p50", _whole(totals.latency_p50_ms), "ms"),
        kpi("latency_p95_ms", "Response latency p95", _whole(totals.latency_p95_ms), "ms"),
    ]
