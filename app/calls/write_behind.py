"""Database writes that must not hold a call up: queued in order, retried until they land.

If PostgreSQL goes away mid-call the call goes on; its writes wait here and are retried with
backoff. A write that fails for a reason retrying cannot fix (a bug, bad data) is logged and
dropped so it does not block the ones behind it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.log import get_logger

log = get_logger(__name__)

Write = Callable[[], Awaitable[object]]


@dataclass
class WriteStats:
    done: int = 0
    retried: int = 0
    failed: int = 0
    dropped_full: int = 0


class WriteBehind:
    def __init__(
        self,
        is_transient: Callable[[Exception], bool],
        *,
        capacity: int = 10_000,
        backoff_min: float = 0.2,
        backoff_max: float = 10.0,
    ) -> None:
        self._is_transient = is_transient
        self._queue: asyncio.Queue[tuple[str, Write]] = asyncio.Queue(maxsize=capacity)
        self._backoff_min = backoff_min
        self._backoff_max = backoff_max
        self.stats = WriteStats()

    def submit(self, what: str, write: Write) -> None:
        try:
            self._queue.put_nowait((what, write))
        except asyncio.QueueFull:
            self.stats.dropped_full += 1
            log.error("write queue full, write lost", what=what)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        while True:
            what, write = await self._queue.get()
            delay = self._backoff_min
            while True:
                try:
                    await write()
                    self.stats.done += 1
                    break
                except Exception as exc:
                    if not self._is_transient(exc):
                        self.stats.failed += 1
                        log.error("write failed for good", what=what, error=str(exc))
                        break
                    self.stats.retried += 1
                    log.warning(
                        "database unavailable, will retry",
                        what=what,
                        error=str(exc),
                        retry_in=round(delay, 2),
                    )
                    await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                    delay = min(delay * 2, self._backoff_max)
            self._queue.task_done()

    async def drain(self, timeout: float) -> bool:
        """Wait until everything queued has landed (shutdown); False when time ran out."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            return False
        return True
