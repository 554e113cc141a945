"""A staff member who signs in to the staff pages, and what is checked about one."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal, get_args

from app.staff.errors import (
    InvalidEmailError,
    InvalidExtensionError,
    InvalidNameError,
    UnknownRoleError,
)

Role = Literal["admin", "manager", "staff"]
ROLES: tuple[Role, ...] = get_args(Role)

# The database's `email` domain accepts the same shape (migrations/versions/0001).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A PBX extension: digits only (it becomes a PJSIP endpoint name and a dialplan extension).
_EXTENSION = re.compile(r"^[0-9]{2,6}$")
MAX_EMAIL = 254
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    display_name: str
    role: Role
    property_id: str | None
    extension: str | None


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A user as an administrator lists them."""

    user: User
    disabled: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    display_name: str
    role: Role
    password_hash: str
    property_id: str | None
    extension: str | None


def normalize_email(email: str) -> str:
    """The email as stored and looked up: trimmed, lower case. InvalidEmailError if not one."""
    value = email.strip().lower()
    if len(value) > MAX_EMAIL or not _EMAIL.match(value):
        raise InvalidEmailError(f"{email!r} is not an email address")
    return value


def parse_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise UnknownRoleError(f"unknown role {role!r} (one of: {', '.join(ROLES)})")


def check_name(name: str) -> str:
    value = " ".join(name.split())
    if not value:
        raise InvalidNameError("a user needs a name (--name)")
    if len(value) > MAX_NAME or not value.isprintable():
        raise InvalidNameError(f"a name has at most {MAX_NAME} printable characters")
    return value


def is_extension(text: str) -> bool:
    """A staff phone extension: 2 to 6 digits (what `users add` stores and the console dials)."""
    return _EXTENSION.match(text) is not None


def check_extension(extension: str | None) -> str | None:
    if extension is None:
        return None
    if not is_extension(extension):
        raise InvalidExtensionError(f"extension {extension!r} is not 2 to 6 digits")
    return extension
