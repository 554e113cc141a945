"""Signed-in web sessions: what the staff pages know about who is asking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from app.staff.users import User


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf_token: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # goes to the browser's cookie; only its sha256 is stored
    csrf_token: str
    expires_at: dt.datetime


class SessionStore(Protocol):
    async def start(self, user_id: int, lifetime: dt.timedelta) -> NewSession:
        """A new session for the user, with a fresh random token and CSRF token."""
        ...

    async def find(self, token: str) -> Session | None:
        """The session of this token; None when unknown, expired or its user is disabled."""
        ...

    async def end(self, token: str) -> None:
        """Forget the session of this token (signing out)."""
        ...

    async def live_count(self, user_id: int) -> int:
        """How many unexpired sessions the user has (other browsers still signed in)."""
        ...
