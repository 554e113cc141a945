"""Failures counted in a sliding window: the sign-in rate limit.

In memory, per process: one `frontdesk run` serves the staff pages. Bounded: at most
`max_keys` keys are tracked (the stalest are forgotten first), each with at most `limit`
timestamps.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class Throttle:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a throttle needs a limit of at least 1 and a positive window")
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None when it may try now."""
        stamps = self._recent(key)
        if stamps is None or len(stamps) < self.limit:
            return None
        return max(1, math.ceil(stamps[0] + self.window - self._clock()))

    def fail(self, key: str) -> None:
        stamps = self._recent(key)
        if stamps is None:
            stamps = deque(maxlen=self.limit)
            self._failures[key] = stamps
            while len(self._failures) > self._max_keys:
                self._failures.popitem(last=False)
        self._failures.move_to_end(key)
        stamps.append(self._clock())

    def undo(self, key: str) -> None:
        """Forget the latest failure of `key` (an attempt counted in advance that succeeded)."""
        stamps = self._failures.get(key)
        if stamps:
            stamps.pop()
            if not stamps:
                del self._failures[key]

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float] | None:
        stamps = self._failures.get(key)
        if stamps is None:
            return None
        horizon = self._clock() - self.window
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
            return None
        return stamps
