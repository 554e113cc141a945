"""asyncio helpers for owned tasks: every task we start is cancelled and awaited by its owner."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from app.log import get_logger

log = get_logger(__name__)


async def cancel_and_wait(task: asyncio.Task[object] | None) -> None:
    """Cancel a task we own and wait until it has finished; a cancellation aimed at *us*
    while we wait is passed on, not swallowed."""
    if task is None or task.done():
        if task is not None and not task.cancelled():
            task.exception()  # retrieve, so a failure is not reported as "never retrieved"
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise


class Supervised:
    """A job that runs for the life of the process (the ARI events stream, the SMS dispatcher,
    the callback scheduler…). An unexpected exception, or returning, restarts it after an
    exponentially growing pause, logged; `state` says how it is doing (for /ready)."""

    def __init__(
        self,
        name: str,
        factory: Callable[[], Awaitable[None]],
        *,
        backoff_min: float = 1.0,
        backoff_max: float = 60.0,
    ) -> None:
        self.name = name
        self._factory = factory
        self._backoff_min, self._backoff_max = backoff_min, backoff_max
        self.state = "starting"  # running | backoff | stopped
        self.restarts = 0
        self.last_error = ""
        self.task = asyncio.create_task(self._run(), name=name)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._backoff_min
        try:
            while True:
                self.state = "running"
                started = loop.time()
                try:
                    await self._factory()
                    self.last_error = "stopped by itself"
                    log.error("background task ended, restarting", task=self.name, delay=delay)
                except Exception as exc:
                    self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                    log.exception("background task failed, restarting", task=self.name, delay=delay)
                if loop.time() - started > self._backoff_max:
                    delay = self._backoff_min  # it ran well for a while: back off afresh
                self.state = "backoff"
                self.restarts += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff_max)
        finally:
            self.state = "stopped"

    @property
    def up(self) -> bool:
        return self.state == "running"

    async def stop(self) -> None:
        await cancel_and_wait(self.task)


def supervise(
    name: str,
    factory: Callable[[], Awaitable[None]],
    *,
    backoff_min: float = 1.0,
    backoff_max: float = 60.0,
) -> Supervised:
    """Start `factory()` as a named task that is restarted whenever it fails."""
    return Supervised(name, factory, backoff_min=backoff_min, backoff_max=backoff_max)
