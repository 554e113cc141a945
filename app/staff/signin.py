"""Checking a sign-in: the password, the account, and the rate limit.

Failures are limited per email and per client address (`Throttle`); a success clears the
email's failures (not the address's: one account of one's own must not reset the count of
guesses at others). An unknown email costs the same argon2 verification as a known one, so
the answer's timing does not tell which emails have accounts.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Protocol

from app.staff.errors import (
    AccountDisabled,
    InvalidEmailError,
    TooManyAttempts,
    WrongCredentials,
)
from app.staff.passwords import hash_password, verify_password
from app.staff.throttle import Throttle
from app.staff.users import User, normalize_email

EMAIL_FAILURES = 5  # per email within the window
ADDRESS_FAILURES = 20  # per client address (a front desk shares one address behind its NAT)
WINDOW_SECONDS = 5 * 60
VERIFY_AT_ONCE = 2  # argon2 verifications in parallel (the calls need the CPU too)


@dataclass(frozen=True, slots=True)
class Credentials:
    user: User
    password_hash: str
    disabled: bool


class CredentialStore(Protocol):
    async def credentials(self, email: str) -> Credentials | None: ...

    async def signed_in(self, user_id: int) -> None:
        """Note the time of the user's last sign-in."""
        ...


_dummy_hash: str | None = None


async def _dummy() -> str:
    """An argon2 hash no password matches (made once, on the first unknown email)."""
    global _dummy_hash  # noqa: PLW0603
    if _dummy_hash is None:
        _dummy_hash = await asyncio.to_thread(hash_password, secrets.token_urlsafe(24))
    return _dummy_hash


class SignIn:
    def __init__(
        self,
        store: CredentialStore,
        *,
        per_email: Throttle | None = None,
        per_address: Throttle | None = None,
    ) -> None:
        self._store = store
        self.per_email = per_email or Throttle(EMAIL_FAILURES, WINDOW_SECONDS)
        self.per_address = per_address or Throttle(ADDRESS_FAILURES, WINDOW_SECONDS)
        self._verifying = asyncio.Semaphore(VERIFY_AT_ONCE)

    async def authenticate(self, email: str, password: str, address: str) -> User:
        """The user these credentials belong to. WrongCredentials, AccountDisabled or
        TooManyAttempts (with its retry_after) otherwise.

        The attempt counts as a failure *before* the password is checked (and is forgiven if
        it was right), so a burst of parallel guesses cannot slip past the limit."""
        try:
            key = normalize_email(email)
        except InvalidEmailError:
            key = email.strip().lower()[:254]
        email_key, address_key = f"email:{key}", f"address:{address}"
        waits = [
            wait
            for wait in (
                self.per_email.retry_after(email_key),
                self.per_address.retry_after(address_key),
            )
            if wait is not None
        ]
        if waits:
            raise TooManyAttempts(max(waits))
        self.per_email.fail(email_key)
        self.per_address.fail(address_key)
        try:
            found = await self._store.credentials(key)
            # verified even when there is no such user: the same work, the same time
            stored = found.password_hash if found is not None else await _dummy()
            async with self._verifying:  # argon2 is CPU work: in a thread, a few at a time
                matches = await asyncio.to_thread(verify_password, stored, password)
        except BaseException:  # the database failed us, not the password: no failure counted
            self.per_email.undo(email_key)
            self.per_address.undo(address_key)
            raise
        if found is None or not matches:
            raise WrongCredentials("wrong email or password")
        self.per_email.reset(email_key)
        self.per_address.undo(address_key)
        if found.disabled:
            raise AccountDisabled(f"user {found.user.id} is disabled")
        await self._store.signed_in(found.user.id)
        return found.user
