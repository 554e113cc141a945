"""Outbound pacing: one frame every 20 ms on absolute deadlines, flushable at once.

Deadlines are start + n × 20 ms, never "now + 20 ms", so scheduling error does not
accumulate. With nothing to send the pacer idles (no task wakes up every 20 ms for an idle
call); the next frame starts a new talkspurt anchored to now.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass

from app.aio import cancel_and_wait
from app.media.clock import Clock

FRAME_SECONDS = 0.020


@dataclass
class PacerStats:
    sent: int = 0
    flushed: int = 0
    dropped_full: int = 0
    late_resyncs: int = 0


class Pacer:
    """Owns one task that calls `send(frame, skipped_slots)` on each deadline; skipped_slots
    is how many 20 ms slots passed without audio before this frame (0 while talking)."""

    def __init__(
        self,
        send: Callable[[bytes, int], None],
        clock: Clock,
        *,
        frame_seconds: float = FRAME_SECONDS,
        max_frames: int = 3000,  # one minute of audio queued at most
        max_lateness_frames: int = 5,
        name: str = "pacer",
    ) -> None:
        self._send = send
        self._clock = clock
        self._frame = frame_seconds
        self._max_frames = max_frames
        self._max_late = max_lateness_frames * frame_seconds
        self._queue: collections.deque[bytes] = collections.deque()
        self._wakeup = asyncio.Event()
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self.stats = PacerStats()
        self.deadlines: list[tuple[float, float]] | None = None  # (due, sent) when measuring

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def enqueue(self, frame: bytes) -> None:
        if len(self._queue) >= self._max_frames:
            self.stats.dropped_full += 1
            return
        self._queue.append(frame)
        self._wakeup.set()

    def flush(self) -> int:
        """Drop everything queued (barge-in); returns how many frames were dropped."""
        dropped = len(self._queue)
        self._queue.clear()
        self.stats.flushed += dropped
        return dropped

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def _run(self) -> None:
        deadline: float | None = None  # the next frame's slot
        idle = False
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                idle = True
                continue
            now = self._clock.now()
            skipped = 0
            if deadline is None:
                deadline = now
            elif idle and now - deadline > self._frame:
                # Silence since the last frame: a new talkspurt; tell the RTP layer how many
                # 20 ms slots went by so its timestamps keep following real time.
                skipped = round((now - deadline) / self._frame)
                deadline = now
            elif now - deadline > self._max_late:
                # We fell far behind with audio waiting (a stalled loop): re-anchor, no burst.
                self.stats.late_resyncs += 1
                skipped = round((now - deadline) / self._frame)
                deadline = now
            idle = False
            await self._clock.sleep_until(deadline)
            if not self._queue:  # flushed while we slept
                continue
            frame = self._queue.popleft()
            self._send(frame, skipped)
            self.stats.sent += 1
            if self.deadlines is not None:
                self.deadlines.append((deadline, self._clock.now()))
            deadline += self._frame
