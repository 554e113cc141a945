"""The sign-in check on its own: what counts as a failure."""

from __future__ import annotations

import pytest

from app.staff.errors import TooManyAttempts, WrongCredentials
from app.staff.passwords import hash_password
from app.staff.signin import Credentials, SignIn
from app.staff.users import User

USER = User(1, "ann@example.org", "Ann", "staff", None, None)


class Store:
    def __init__(self) -> None:
        self.down = False
        self.hash = hash_password("the right password")
        self.sign_ins: list[int] = []

    async def credentials(self, email: str) -> Credentials | None:
        if self.down:
            raise ConnectionRefusedError("database down")
        return Credentials(USER, self.hash, False) if email == USER.email else None

    async def signed_in(self, user_id: int) -> None:
        self.sign_ins.append(user_id)


async def test_a_database_outage_is_not_counted_as_a_failed_sign_in() -> None:
    store = Store()
    signin = SignIn(store)
    store.down = True
    for _ in range(10):
        with pytest.raises(ConnectionRefusedError):
            await signin.authenticate(USER.email, "the right password", "10.0.0.1")
    store.down = False
    assert await signin.authenticate(USER.email, "the right password", "10.0.0.1") == USER
    assert store.sign_ins == [1]


async def test_the_email_is_matched_trimmed_and_in_any_case() -> None:
    signin = SignIn(Store())
    assert await signin.authenticate("  ANN@Example.org ", "the right password", "a") == USER
    with pytest.raises(WrongCredentials):
        await signin.authenticate("ann@example.org", "The right password", "a")


async def test_a_malformed_email_counts_like_any_other_failure() -> None:
    signin = SignIn(Store())
    for _ in range(5):
        with pytest.raises(WrongCredentials):
            await signin.authenticate("not an email", "whatever", "b")
    with pytest.raises(TooManyAttempts) as locked:
        await signin.authenticate("NOT AN EMAIL", "whatever", "b")
    assert locked.value.retry_after > 0 and "wait 5 minutes" in locked.value.message
