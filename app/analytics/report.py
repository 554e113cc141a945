"""The analytics as the API, the exports and `frontdesk report` ask for them: a period and a
scope (one property or the group) turned into KPIs, days, calls and the weekly text.

Which timezone a period's days are in: the property's (properties.timezone) when one property
is asked for, else the group's (REPORT_TIMEZONE, UTC by default).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from app.analytics.costs import Prices
from app.analytics.kpis import Kpi, Totals, kpis
from app.analytics.metrics import CallFacts, CallMetrics, call_metrics
from app.analytics.period import Period, QueryError, last_days, parse_period
from app.analytics.records import (
    CallDetailFacts,
    CallFilter,
    DayFigures,
    PropertyInfo,
    ToolCount,
    TurnFacts,
)


class NotYourProperty(Exception):
    """A user who works for one property asked about another."""


class AnalyticsStore(Protocol):
    """The queries behind the analytics (app/storage/analytics_repo.py). `start`/`end`: UTC,
    end excluded; `property_id` None: every property."""

    async def properties(self) -> list[PropertyInfo]: ...

    async def totals(
        self, start: dt.datetime, end: dt.datetime, property_id: str | None
    ) -> tuple[Totals, dict[str, Totals]]: ...

    async def daily(self, period: Period, property_id: str | None) -> list[DayFigures]: ...

    async def calls(
        self, start: dt.datetime, end: dt.datetime, property_id: str | None, where: CallFilter
    ) -> tuple[int, list[CallFacts]]: ...

    async def call(self, call_id: uuid.UUID) -> CallDetailFacts | None: ...

    async def turns(
        self, start: dt.datetime, end: dt.datetime, property_id: str | None
    ) -> list[TurnFacts]: ...

    async def outcomes(
        self, start: dt.datetime, end: dt.datetime, property_id: str | None
    ) -> dict[str, int]: ...

    async def top_tools(
        self, start: dt.datetime, end: dt.datetime, property_id: str | None, limit: int
    ) -> list[ToolCount]: ...

    async def busiest_hours(
        self, period: Period, property_id: str | None, limit: int
    ) -> list[tuple[int, int]]: ...


@dataclass(frozen=True, slots=True)
class Scope:
    """Who asks: `only` is the one property a user works for (None: every property)."""

    property_id: str | None = None
    only: str | None = None

    def effective(self) -> str | None:
        if self.only is not None:
            if self.property_id not in (None, self.only):
                raise NotYourProperty(f"you can see the figures of {self.only} only")
            return self.only
        return self.property_id


@dataclass(frozen=True, slots=True)
class KpiSet:
    property_id: str | None  # None: the group
    name: str | None
    calls: int
    kpis: list[Kpi]


@dataclass(frozen=True, slots=True)
class KpiReport:
    period: Period
    group: KpiSet
    properties: list[KpiSet]


@dataclass(frozen=True, slots=True)
class CallPage:
    total: int
    calls: list[CallMetrics]


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    kpis: KpiReport
    outcomes: Mapping[str, int]
    top_tools: list[ToolCount]
    busiest_hours: list[tuple[int, int]]


class Reports:
    def __init__(self, store: AnalyticsStore, prices: Prices, group_timezone: str = "UTC") -> None:
        self.store = store
        self.prices = prices
        self.group_timezone = group_timezone

    async def resolve(self, scope: Scope) -> tuple[str | None, list[PropertyInfo], str]:
        """The property asked for (checked), the properties in scope, their timezone."""
        wanted = scope.effective()
        known = await self.store.properties()
        if wanted is None:
            return None, known, self.group_timezone
        for prop in known:
            if prop.id == wanted:
                return wanted, [prop], prop.timezone
        raise QueryError(f"property={wanted!r} is not a property of this installation")

    async def period(self, scope: Scope, first: str | None, last: str | None) -> Period:
        _, _, timezone = await self.resolve(scope)
        return parse_period(first, last, timezone)

    async def kpi_report(self, scope: Scope, period: Period) -> KpiReport:
        property_id, props, _ = await self.resolve(scope)
        start, end = period.bounds()
        group, by_property = await self.store.totals(start, end, property_id)
        sets = [
            KpiSet(p.id, p.name, t.calls, kpis(t, self.prices))
            for p in props
            for t in [by_property.get(p.id, Totals())]
        ]
        return KpiReport(period, KpiSet(None, None, group.calls, kpis(group, self.prices)), sets)

    async def daily(self, scope: Scope, period: Period) -> list[DayFigures]:
        property_id, _, _ = await self.resolve(scope)
        return await self.store.daily(period, property_id)

    async def calls(self, scope: Scope, period: Period, where: CallFilter) -> CallPage:
        property_id, _, _ = await self.resolve(scope)
        start, end = period.bounds()
        total, facts = await self.store.calls(start, end, property_id, where)
        return CallPage(total, [call_metrics(f) for f in facts])

    async def call(self, scope: Scope, call_id: uuid.UUID) -> CallDetailFacts | None:
        """None when there is no such call, or it belongs to a property not in scope (the
        same answer: a user bound to a property cannot learn other calls exist)."""
        detail = await self.store.call(call_id)
        if detail is None:
            return None
        if scope.only is not None and detail.facts.property_id != scope.only:
            return None
        return detail

    async def turns(self, scope: Scope, period: Period) -> list[TurnFacts]:
        property_id, _, _ = await self.resolve(scope)
        start, end = period.bounds()
        return await self.store.turns(start, end, property_id)

    async def weekly(self, scope: Scope, days: int) -> WeeklyReport:
        property_id, _, timezone = await self.resolve(scope)
        period = last_days(days, timezone)
        start, end = period.bounds()
        return WeeklyReport(
            await self.kpi_report(scope, period),
            await self.store.outcomes(start, end, property_id),
            await self.store.top_tools(start, end, property_id, 5),
            await self.store.busiest_hours(period, property_id, 3),
        )
