"""Outbound pacing: each call's frames leave on absolute 20 ms deadlines, flushable at once.

Deadlines are start + n × 20 ms, never "now + 20 ms", so scheduling error does not
accumulate. One `PacingScheduler` serves every call of the process with a single timer armed
for the earliest deadline (not a task and a timer per call per frame): with hundreds of calls
that is what keeps CPU and pacing jitter low. An idle call costs nothing.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

from app.media.clock import Clock, Timer

FRAME_SECONDS = 0.020


@dataclass
class PacerStats:
    sent: int = 0
    flushed: int = 0
    dropped_full: int = 0
    late_resyncs: int = 0


class PacingScheduler:
    """Fires every pacer whose deadline has come, from one timer on the event loop."""

    def __init__(self, clock: Clock, slack: float = 0.0002) -> None:
        self.clock = clock
        self._slack = slack  # deadlines this close together are served in one wake-up
        self._heap: list[tuple[float, int, Pacer]] = []
        self._order = itertools.count()
        self._timer: Timer | None = None
        self._timer_at = math.inf

    def schedule(self, pacer: Pacer, deadline: float) -> None:
        heapq.heappush(self._heap, (deadline, next(self._order), pacer))
        if deadline < self._timer_at:
            self._arm(deadline)

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = self.clock.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer, self._timer_at = None, math.inf
        now = self.clock.now()
        while self._heap and self._heap[0][0] <= now + self._slack:
            _, _, pacer = heapq.heappop(self._heap)
            following = pacer.tick(now)
            if following is not None:
                heapq.heappush(self._heap, (following, next(self._order), pacer))
        if self._heap:
            self._arm(self._heap[0][0])

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, math.inf
        self._heap.clear()

    @property
    def waiting(self) -> int:
        return len(self._heap)


class Pacer:
    """One call's outbound queue; calls `send(frame, skipped_slots)` on each deadline, where
    skipped_slots is how many 20 ms slots passed without audio before it (0 while talking)."""

    def __init__(
        self,
        send: Callable[[bytes, int], None],
        scheduler: PacingScheduler,
        *,
        frame_seconds: float = FRAME_SECONDS,
        max_frames: int = 3000,  # one minute of audio queued at most
        max_lateness_frames: int = 5,
    ) -> None:
        self._send = send
        self._scheduler = scheduler
        self._frame = frame_seconds
        self._max_frames = max_frames
        self._max_late = max_lateness_frames * frame_seconds
        self._queue: collections.deque[bytes] = collections.deque()
        self._deadline: float | None = None  # the next frame's slot
        self._scheduled = False
        self._skipped = 0
        self._closed = False
        self.stats = PacerStats()
        self.deadlines: list[tuple[float, float]] | None = None  # (due, sent) when measuring

    def enqueue(self, frame: bytes) -> None:
        if self._closed:
            return
        if len(self._queue) >= self._max_frames:
            self.stats.dropped_full += 1
            return
        self._queue.append(frame)
        if self._scheduled:
            return
        now = self._scheduler.clock.now()
        if self._deadline is None:
            self._deadline = now
        elif now - self._deadline > self._frame:
            # Silence since the last frame: a new talkspurt; the RTP layer is told how many
            # slots went by so its timestamps keep following real time.
            self._skipped = round((now - self._deadline) / self._frame)
            self._deadline = now
        self._scheduled = True
        self._scheduler.schedule(self, self._deadline)

    def tick(self, now: float) -> float | None:
        """The scheduler's call: send one frame; returns the next deadline, or None when idle."""
        if not self._queue or self._closed or self._deadline is None:
            self._scheduled = False
            return None
        if now - self._deadline > self._max_late:
            # Far behind with audio waiting (a stalled loop): re-anchor instead of bursting.
            self.stats.late_resyncs += 1
            self._skipped += round((now - self._deadline) / self._frame)
            self._deadline = now
        self._send(self._queue.popleft(), self._skipped)
        self._skipped = 0
        self.stats.sent += 1
        if self.deadlines is not None:
            self.deadlines.append((self._deadline, now))
        self._deadline += self._frame
        if self._queue:
            return self._deadline
        self._scheduled = False
        return None

    def flush(self) -> int:
        """Drop everything queued (barge-in); returns how many frames were dropped."""
        dropped = len(self._queue)
        self._queue.clear()
        self.stats.flushed += dropped
        return dropped

    def close(self) -> None:
        self.flush()
        self._closed = True

    @property
    def queued(self) -> int:
        return len(self._queue)
