"""calls.ivr_wait_ms from the dialplan's mark and the StasisStart's timestamp."""

from __future__ import annotations

import datetime as dt

from app.telephony.ivr_wait import MENU_START, ivr_wait_ms

REACHED = "2026-11-24T06:45:58.197+0000"  # as Asterisk writes an event's timestamp
EPOCH = dt.datetime(2026, 11, 24, 6, 45, 58, 197000, tzinfo=dt.UTC).timestamp()


def test_the_wait_is_the_stasis_start_minus_the_menus_start() -> None:
    mark = f"{EPOCH - 8.5:.3f}"  # STRFTIME(,,%s.%3q)
    assert ivr_wait_ms({MENU_START: mark}, REACHED) == 8500


def test_no_mark_means_the_call_never_saw_the_menu() -> None:
    assert ivr_wait_ms(None, REACHED) is None
    assert ivr_wait_ms({}, REACHED) is None
    assert ivr_wait_ms({MENU_START: ""}, REACHED) is None  # channelvars lists it, unset


def test_an_unreadable_mark_or_timestamp_is_not_a_wait() -> None:
    assert ivr_wait_ms({MENU_START: "%s.%3q"}, REACHED) is None
    assert ivr_wait_ms({MENU_START: f"{EPOCH:.3f}"}, "yesterday") is None
    assert ivr_wait_ms({MENU_START: f"{EPOCH:.3f}"}, "") is None


def test_a_mark_in_the_future_is_a_fault_and_a_few_ms_of_rounding_is_zero() -> None:
    assert ivr_wait_ms({MENU_START: f"{EPOCH + 60:.3f}"}, REACHED) is None
    assert ivr_wait_ms({MENU_START: f"{EPOCH + 0.002:.3f}"}, REACHED) == 0
