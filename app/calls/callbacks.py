"""Callbacks on the calling side: the scheduler that places them when due, and the
conversation that opens a callback once the guest answers."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Protocol

from app.aio import cancel_and_wait
from app.calls.agent import Opening
from app.calls.conversation import CallIO, Conversation
from app.calls.session import CallSession
from app.hotel.callbacks import RETRY_AFTER, DueCallback
from app.hotel.config import PropertyConfig
from app.hotel.destinations import DestinationRefused
from app.log import get_logger

log = get_logger(__name__)

# A callback still 'dialing' after this was left by a crash: a ring ends well within it (the
# dial timeout), and an answered callback is 'completed' at once.
STUCK_DIALING = dt.timedelta(minutes=10)


class CallbackQueue(Protocol):
    async def claim_due(
        self, now: dt.datetime | None = None, limit: int = 5
    ) -> list[DueCallback]: ...

    async def answered(self, callback_id: uuid.UUID) -> None: ...

    async def release_stuck(self, older_than: dt.timedelta) -> int: ...

    async def link_call(self, callback_id: uuid.UUID, call_id: uuid.UUID) -> bool: ...

    async def not_reached(self, callback_id: uuid.UUID, why: str, retry_at: dt.datetime) -> str: ...

    async def details(self, callback_id: uuid.UUID) -> tuple[str, str] | None:
        """(phone, reason) of a callback."""
        ...

    async def refused(self, callback_id: uuid.UUID, why: str) -> None:
        """Given up for good: the destination policy refuses the number."""
        ...


class Dialer(Protocol):
    async def dial(self, callback: DueCallback) -> None:
        """Place the call; raises when it cannot even be placed."""
        ...


class CallbackScheduler:
    def __init__(
        self,
        queue: CallbackQueue,
        dialer: Dialer,
        screen: Callable[[DueCallback], None],
        *,
        poll_seconds: float = 5.0,
        retry_after: dt.timedelta = RETRY_AFTER,
    ) -> None:
        self._queue = queue
        self._dialer = dialer
        # The destination policy's last word before dialling (settings may have changed since
        # the callback was arranged): raises DestinationRefused for a number it refuses.
        self._screen = screen
        self._poll = poll_seconds
        self._retry_after = retry_after
        self._reports: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.run_once()
                except Exception:  # the database or Asterisk had a moment: try again later
                    log.exception("callback scheduling failed")
                await asyncio.sleep(self._poll)
        finally:
            for task in list(self._reports):
                await cancel_and_wait(task)

    async def run_once(self, now: dt.datetime | None = None) -> int:
        stuck = await self._queue.release_stuck(STUCK_DIALING)
        if stuck:
            log.warning("callbacks left dialling by a crash are due again", callbacks=stuck)
        due = await self._queue.claim_due(now)
        for callback in due:
            try:
                self._screen(callback)
            except DestinationRefused as refused:
                await self._queue.refused(callback.id, f"refused: {refused.rule}")
                continue
            log.info("placing a callback", callback_id=str(callback.id), attempt=callback.attempts)
            try:
                await self._dialer.dial(callback)
            except Exception as exc:  # DialFailed, or the ARI is away
                await self._not_reached(callback.id, f"failed: {exc}")
        return len(due)

    def unanswered(self, callback_id: uuid.UUID, why: str) -> None:
        """The call rang out, was busy or failed (from the controller's event reader)."""
        task = asyncio.get_running_loop().create_task(
            self._not_reached(callback_id, why), name=f"callback-unanswered-{callback_id}"
        )
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _not_reached(self, callback_id: uuid.UUID, why: str) -> None:
        status = await self._queue.not_reached(
            callback_id, why[:300], dt.datetime.now(dt.UTC) + self._retry_after
        )
        log.info("callback not reached", callback_id=str(callback_id), why=why, status=status)


class CallbackConversation:
    """A callback the guest answered: note it, then the agent takes over, opening with why
    we are calling."""

    def __init__(
        self,
        callback_id: uuid.UUID,
        queue: CallbackQueue,
        agent: Callable[[Opening], Conversation],  # its first words -> the agent's conversation
        opening: Callable[[PropertyConfig, str], str],  # (property, reason) -> the first words
    ) -> None:
        self._id = callback_id
        self._queue = queue
        self._agent_for = agent
        self._opening = opening
        self._agent: Conversation | None = None
        self._link: asyncio.Task[bool] | None = None

    def prepare(self, session: CallSession) -> None:
        pass

    async def run(self, io: CallIO, session: CallSession) -> None:
        details = await self._queue.details(self._id)
        if details is None:
            log.error("answered a callback that is not on record", callback_id=str(self._id))
            await io.hangup("unknown_callback")
            return
        phone, reason = details
        session.caller_e164 = phone  # the guest: what the tools default to
        await self._queue.answered(self._id)
        self._link = asyncio.create_task(
            self._queue.link_call(self._id, session.id), name=f"callback-link-{self._id}"
        )
        self._agent = self._agent_for(lambda prop: self._opening(prop, reason))
        self._agent.prepare(session)
        await self._agent.run(io, session)

    def on_dtmf(self, digit: str) -> None:
        if self._agent is not None:
            self._agent.on_dtmf(digit)

    async def discard(self) -> None:
        if self._link is not None and not self._link.done():
            # The call ended before its row was written: give the link a moment, no more.
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._link), 5)
            await cancel_and_wait(self._link)
        if self._agent is not None:
            with contextlib.suppress(Exception):
                await self._agent.discard()
