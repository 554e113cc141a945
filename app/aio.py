"""asyncio helpers for owned tasks: every task we start is cancelled and awaited by its owner."""

from __future__ import annotations

import asyncio


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
