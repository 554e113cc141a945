"""calls.after_hours: a moment against a property's staffed hours (app/hotel/hours.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.hotel.config import load_hotel_config
from app.hotel.hours import after_hours

ROOT = Path(__file__).resolve().parents[2]
HOTEL = load_hotel_config(ROOT / "config" / "hotel.yaml")
HARBORVIEW = HOTEL.get_property("harborview")  # America/Los_Angeles; Mon 07:00-23:00, Sun 08-22
LA = ZoneInfo("America/Los_Angeles")


def test_a_call_at_three_in_the_morning_local_time_is_after_hours() -> None:
    assert after_hours(HARBORVIEW, dt.datetime(2026, 12, 7, 3, 0, tzinfo=LA))  # a Monday


def test_a_call_in_the_middle_of_the_day_is_not() -> None:
    assert not after_hours(HARBORVIEW, dt.datetime(2026, 12, 7, 12, 0, tzinfo=LA))


def test_the_hours_are_read_in_the_propertys_time_zone_not_utc() -> None:
    # 12:00 UTC on Monday is 04:00 in Los Angeles: closed, though noon in London
    assert after_hours(HARBORVIEW, dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC))
    # 20:00 UTC is 12:00 there: open
    assert not after_hours(HARBORVIEW, dt.datetime(2026, 12, 7, 20, 0, tzinfo=dt.UTC))


def test_the_edges_of_the_hours() -> None:
    assert not after_hours(HARBORVIEW, dt.datetime(2026, 12, 7, 7, 0, tzinfo=LA))  # opens
    assert after_hours(HARBORVIEW, dt.datetime(2026, 12, 7, 6, 59, tzinfo=LA))
    assert after_hours(HARBORVIEW, dt.datetime(2026, 12, 7, 23, 0, tzinfo=LA))  # closed at 23
    assert after_hours(HARBORVIEW, dt.datetime(2026, 12, 6, 7, 30, tzinfo=LA))  # Sunday: 08:00


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        after_hours(HARBORVIEW, dt.datetime(2026, 12, 7, 12, 0))
