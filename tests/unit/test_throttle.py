"""The sign-in rate limit's sliding window, on a clock the test moves."""

from __future__ import annotations

import pytest

from app.staff.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_locks_until_the_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = Throttle(3, 300, clock=clock)
    for _ in range(2):
        throttle.fail("k")
        clock.now += 10
    assert throttle.retry_after("k") is None
    throttle.fail("k")  # third failure at t=1020; the first was at t=1000
    assert throttle.retry_after("k") == 280
    clock.now = 1299.5
    assert throttle.retry_after("k") == 1
    clock.now = 1300.0
    assert throttle.retry_after("k") is None  # the first failure has aged out


def test_reset_and_undo() -> None:
    throttle = Throttle(2, 60, clock=Clock())
    throttle.fail("a")
    throttle.fail("a")
    assert throttle.retry_after("a") is not None
    throttle.undo("a")
    assert throttle.retry_after("a") is None
    throttle.fail("a")
    throttle.reset("a")
    throttle.fail("a")
    assert throttle.retry_after("a") is None
    throttle.undo("never-seen")  # harmless


def test_keys_are_bounded_stalest_forgotten_first() -> None:
    clock = Clock()
    throttle = Throttle(1, 60, clock=clock, max_keys=3)
    for key in ("a", "b", "c"):
        throttle.fail(key)
    throttle.fail("d")
    assert throttle.retry_after("a") is None  # forgotten
    assert all(throttle.retry_after(k) is not None for k in ("b", "c", "d"))
    assert len(throttle._failures) == 3


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        Throttle(0, 60)
    with pytest.raises(ValueError, match="window"):
        Throttle(1, 0)
