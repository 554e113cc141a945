"""The date range a report covers: whole days in a reporting timezone, both ends included."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_DAYS = 366


class QueryError(ValueError):
    """A report was asked for with input it cannot answer (bad date, unknown property,
    unknown filter); the message says which and what is accepted."""


@dataclass(frozen=True, slots=True)
class Period:
    first: dt.date
    last: dt.date  # included
    timezone: str = "UTC"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC: midnight of the first day to midnight after the last, in the
        reporting timezone (a day across a DST change is 23 or 25 hours, as it was lived)."""
        zone = ZoneInfo(self.timezone)
        start = dt.datetime.combine(self.first, dt.time(), zone)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), zone)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)

    def in_zone(self, timezone: str) -> Period:
        return Period(self.first, self.last, timezone)


FIRST_YEAR, LAST_YEAR = 1970, 2100  # calls are in these; the edges of the calendar overflow


def parse_day(value: str, name: str) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name}={value!r} is not a date of the form YYYY-MM-DD") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise QueryError(f"{name}={value!r} is outside the years {FIRST_YEAR} to {LAST_YEAR}")
    return day


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(f"{name!r} is not a known timezone (e.g. Europe/Madrid)") from None
    return name


def period(first: dt.date, last: dt.date, timezone: str = "UTC") -> Period:
    if first > last:
        raise QueryError(f"from ({first}) is after to ({last})")
    if (last - first).days + 1 > MAX_DAYS:
        raise QueryError(f"the range is over {MAX_DAYS} days: ask for a shorter one")
    return Period(first, last, check_timezone(timezone))


def parse_period(
    first: str | None, last: str | None, timezone: str, today: dt.date | None = None
) -> Period:
    """`from`/`to` as given (YYYY-MM-DD); a missing end is today (in `timezone`), a missing
    start six days before the end (a week)."""
    zone = ZoneInfo(check_timezone(timezone))
    end = parse_day(last, "to") if last else (today or dt.datetime.now(zone).date())
    start = parse_day(first, "from") if first else end - dt.timedelta(days=6)
    return period(start, end, timezone)


def last_days(days: int, timezone: str, today: dt.date | None = None) -> Period:
    """The last `days` days, today included (what `frontdesk report --days` covers)."""
    if not 1 <= days <= MAX_DAYS:
        raise QueryError(f"--days {days}: give a number of days from 1 to {MAX_DAYS}")
    end = today or dt.datetime.now(ZoneInfo(check_timezone(timezone))).date()
    return period(end - dt.timedelta(days=days - 1), end, timezone)
