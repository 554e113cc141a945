"""Whether a moment falls outside a property's staffed hours (calls.after_hours, for the
managers' analytics): hotel.yaml's `business_hours`, the hours people answer the phone
(outside them the AI answers everything), read in the property's own time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from app.hotel.config import PropertyConfig


def after_hours(prop: PropertyConfig, at: dt.datetime) -> bool:
    """True when nobody staffs the phone at `at` (an aware moment, any zone)."""
    if at.tzinfo is None:
        raise ValueError("after_hours needs an aware datetime")
    return not prop.business_hours.is_open(at.astimezone(ZoneInfo(prop.timezone)))
