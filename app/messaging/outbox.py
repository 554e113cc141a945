"""The SMS outbox as the domain sees it: a message is queued (a row) before anything is sent,
so nothing is lost when the provider is down or not configured."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Protocol

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES", "OPTIN"}


@dataclass(frozen=True)
class OutgoingSms:
    property_id: str
    to_e164: str
    body: str
    purpose: str
    idempotency_key: str  # the same key twice is one message
    related_id: uuid.UUID | None = None
    from_e164: str | None = None
    call_id: uuid.UUID | None = None  # the call that asked for it (the destination caps)


@dataclass(frozen=True)
class QueuedSms:
    id: uuid.UUID
    to_e164: str
    from_e164: str | None
    body: str
    attempts: int
    created_at: dt.datetime  # when it was queued: no earlier text can be this one


class OptedOut(Exception):
    """The number texted STOP: nothing is sent to it until it texts START."""


class SmsOutbox(Protocol):
    async def enqueue(self, message: OutgoingSms) -> uuid.UUID:
        """Queue once per idempotency key (a repeat returns the first id); OptedOut when the
        number has opted out."""
        ...


def backoff(attempts: int, base: float = 30.0, cap: float = 3600.0) -> dt.timedelta:
    """Wait before attempt `attempts + 1`: 30 s, 60 s, 120 s … at most an hour."""
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))
