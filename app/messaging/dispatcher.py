"""Sends what the outbox holds: claim due messages, send each, record the outcome.

A retryable failure (network, 429, 5xx) waits with exponential backoff and tries again, up
to MAX_ATTEMPTS; a permanent one (bad number, opted out) stops at once. A failure may hide a
text that went out (a timeout after Twilio took the request, a crash before we recorded its
answer), and Twilio takes no idempotency key: so before any second attempt Twilio is asked
whether it already has the message, and it is sent again only when it has not. Without Twilio
credentials no dispatcher runs and messages stay queued, visible, until one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from typing import Protocol

from app.log import get_logger
from app.messaging.outbox import QueuedSms, backoff
from app.messaging.twilio import SmsError

log = get_logger(__name__)

MAX_ATTEMPTS = 5


class SmsSender(Protocol):
    async def send(self, to: str, from_: str, body: str) -> str: ...

    async def find_sent(self, to: str, from_: str, body: str, since: dt.datetime) -> str | None:
        """The provider's id of this message if an earlier attempt did send it."""
        ...


class OutboxStore(Protocol):
    async def claim_due(
        self, limit: int = 10, now: dt.datetime | None = None
    ) -> list[QueuedSms]: ...

    async def sent(self, message_id: uuid.UUID, provider_sid: str) -> None: ...

    async def retry_later(self, message_id: uuid.UUID, error: str, at: dt.datetime) -> None: ...

    async def give_up(
        self, message_id: uuid.UUID, error: str, *, opted_out: bool = False
    ) -> None: ...

    async def release_stale(self, older_than: dt.timedelta = ...) -> int: ...


class SmsDispatcher:
    def __init__(
        self,
        store: OutboxStore,
        sender: SmsSender,
        default_from: str,
        *,
        poll_seconds: float = 2.0,
        backoff_base: float = 30.0,
    ) -> None:
        self._store = store
        self._sender = sender
        self._from = default_from
        self._poll = poll_seconds
        self._backoff_base = backoff_base
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        await self._store.release_stale()
        while True:
            try:
                while await self.run_once():
                    pass
            except Exception:  # a database hiccup: log, wait, go on
                log.exception("sms dispatch failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def run_once(self) -> int:
        """Send what is due now; how many were claimed."""
        due = await self._store.claim_due()
        for message in due:
            await self._send(message)
        return len(due)

    async def _send(self, message: QueuedSms) -> None:
        sender = message.from_e164 or self._from
        try:
            sid = None
            if message.attempts > 1:  # an earlier attempt may have been sent after all
                sid = await self._sender.find_sent(
                    message.to_e164, sender, message.body, message.created_at
                )
                if sid is not None:
                    log.info("sms found sent by an earlier attempt", sms_id=str(message.id))
            if sid is None:
                sid = await self._sender.send(message.to_e164, sender, message.body)
        except SmsError as exc:
            if exc.retryable and message.attempts < MAX_ATTEMPTS:
                at = dt.datetime.now(dt.UTC) + backoff(message.attempts, self._backoff_base)
                log.warning("sms not sent, will retry", sms_id=str(message.id), error=str(exc))
                await self._store.retry_later(message.id, str(exc), at)
            else:
                log.error("sms not sent, giving up", sms_id=str(message.id), error=str(exc))
                await self._store.give_up(message.id, str(exc), opted_out=exc.opted_out)
            return
        await self._store.sent(message.id, sid)
        log.info("sms sent", sms_id=str(message.id))
