import dataclasses

import pytest

from app.staff.passwords import MIN_LENGTH, PasswordTooShortError, hash_password, verify_password
from app.staff.users import ROLES, User


def test_hash_is_argon2_and_not_the_password() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert "correct horse battery" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")


def test_short_password_refused() -> None:
    with pytest.raises(PasswordTooShortError):
        hash_password("x" * (MIN_LENGTH - 1))
    assert verify_password(hash_password("x" * MIN_LENGTH), "x" * MIN_LENGTH)


def test_garbage_hash_does_not_verify() -> None:
    assert not verify_password("not-a-hash", "whatever password")


def test_user_is_frozen_and_roles() -> None:
    assert ROLES == ("admin", "manager", "staff")
    user = User(1, "a@example.org", "A", "staff", None, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        user.role = "admin"  # type: ignore[misc]
