"""Callbacks: the hotel phones the guest back at the time they chose.

A callback is stored when the caller asks for one (to a number the destination policy allows,
app/hotel/destinations.py); the scheduler originates the call when it is due, through the
dialplan's checks to the trunk, into `Stasis(frontdesk,callback)`, and tries again (up to
`max_attempts`) when nobody answers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Protocol

RETRY_AFTER = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class NewCallback:
    property_id: str
    phone_e164: str
    due_at: dt.datetime
    reason: str
    call_id: uuid.UUID | None = None
    language: str | None = None
    max_attempts: int = 3


@dataclass(frozen=True)
class DueCallback:
    id: uuid.UUID
    property_id: str
    phone_e164: str
    reason: str
    attempts: int
    max_attempts: int


class CallbackStore(Protocol):
    async def add(self, callback: NewCallback) -> uuid.UUID: ...
