"""Dates in a caller's words, whatever the language: each language's parser finds the
mentions ("tomorrow", "Friday", "the 12th", "December 3rd", "el tres de diciembre") and this
module turns them into days, the same way for every language.

One utterance often names two days: the first is the arrival, a later one the departure
("checking in on December third and leave on December fifth"; "del 3 al 5 de diciembre"),
also when speech-to-text garbled the words between them ("…and leave them in December
fifth"). A day named without its month takes the month of the next day that has one ("from
the 8th to the 10th of December"), else the nearest month that puts it ahead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass
class Mention:
    """One way of naming a day, at token `at` of the utterance."""

    at: int
    offset: int | None = None  # days from today: today 0, tomorrow 1
    weekday: int | None = None  # Monday 0: the next one after the base day
    day: int | None = None  # of the month
    month: int | None = None  # None: the month is inferred


def next_weekday(base: dt.date, weekday: int) -> dt.date:
    ahead = (weekday - base.weekday()) % 7 or 7
    return base + dt.timedelta(days=ahead)


def future(year: int, month: int, day: int, base: dt.date) -> dt.date | None:
    """That day and month on or after `base` (this year or next); None if there is no such day."""
    for y in (year, year + 1):
        try:
            candidate = dt.date(y, month, day)
        except ValueError:
            return None
        if candidate >= base:
            return candidate
    return None


def resolve(mention: Mention, base: dt.date, today: dt.date) -> dt.date | None:
    """The day a mention names, on or after `base` (today for an arrival, the arrival for a
    departure); 'tomorrow' is always from today."""
    if mention.offset is not None:
        return today + dt.timedelta(days=mention.offset)
    if mention.weekday is not None:
        return next_weekday(base, mention.weekday)
    if mention.day is None:
        return None
    if mention.month is not None:
        return future(base.year, mention.month, mention.day, base)
    month = base.month if mention.day >= base.day else base.month % 12 + 1
    year = base.year if month >= base.month else base.year + 1
    return future(year, month, mention.day, base)


def lend_months(mentions: list[Mention]) -> None:
    """A day without its month takes the month of the next mention that has one, else of the
    one before it ('the 8th to the 10th of December', 'December 3rd to the 5th')."""
    for index, mention in enumerate(mentions):
        if mention.day is None or mention.month is not None:
            continue
        later = [m for m in mentions[index + 1 :] if m.month is not None]
        earlier = [m for m in mentions[:index] if m.month is not None]
        if later and (later[0].day is None or mention.day <= later[0].day):
            mention.month = later[0].month
        elif earlier:
            mention.month = earlier[-1].month
        elif later and later[0].month is not None:  # "the 28th to January 2nd": December
            mention.month = (later[0].month - 2) % 12 + 1


def arrival_departure(
    mentions: list[Mention],
    departs_at: int | None,
    today: dt.date,
    arrival: dt.date | None = None,
) -> tuple[dt.date | None, dt.date | None]:
    """(arrival, departure) from the mentions in order. `departs_at`: the token where the
    words say the departure comes ('until', 'leaving', 'hasta'); without one the second day
    named is the departure. `arrival`: the one already known, for a departure said alone."""
    lend_months(mentions)
    if departs_at is not None:
        before = [m for m in mentions if m.at < departs_at]
        after = [m for m in mentions if m.at > departs_at]
    else:
        before, after = mentions[:1], mentions[1:2]
    first = resolve(before[0], today, today) if before else None
    departure = None
    if after:
        base = first or arrival or today
        departure = resolve(after[0], base, today)
        if departure is not None and departure <= base:
            departure = None
    return first, departure


def at_day(day: dt.date | None, at: dt.time | None, now: dt.datetime) -> dt.datetime | None:
    """A day and a time of day as a moment ahead of `now` (a call back "tomorrow at three",
    "esta tarde"): no time is 10:00, no day is today or, when that has passed, tomorrow."""
    if day is None and at is None:
        return None
    when = dt.datetime.combine(day or now.date(), at or dt.time(10), tzinfo=now.tzinfo)
    if day is None and when <= now:
        when += dt.timedelta(days=1)
    return when
