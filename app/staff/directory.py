"""Managing staff accounts: adding, listing and disabling users, each change audited."""

from __future__ import annotations

from typing import Protocol

from app.staff.errors import PropertyRequiredError
from app.staff.passwords import hash_password
from app.staff.users import (
    NewUser,
    StaffMember,
    User,
    check_extension,
    check_name,
    normalize_email,
    parse_role,
)


class StaffStore(Protocol):
    async def add(self, new: NewUser, actor: str) -> User:
        """Store the user and an audit row. DuplicateEmailError, ExtensionTakenError,
        UnknownPropertyError when the data says no."""
        ...

    async def members(self) -> list[StaffMember]: ...

    async def disable(self, email: str, actor: str) -> bool:
        """Disable the user, end their sessions, audit it. False when already disabled;
        UnknownUserError when there is no such user."""
        ...

    async def enable(self, email: str, actor: str) -> bool:
        """Let a disabled user sign in again, audit it. False when not disabled."""
        ...

    async def set_password(self, email: str, password_hash: str, actor: str) -> int:
        """Replace the user's password and end their sessions (a reset is often because the
        old one leaked), audit it. The number of sessions ended."""
        ...


class StaffDirectory:
    def __init__(self, store: StaffStore) -> None:
        self._store = store

    async def add(
        self,
        email: str,
        name: str,
        role: str,
        password: str,
        *,
        actor: str,
        property_id: str | None = None,
        extension: str | None = None,
    ) -> User:
        """A new user; every input is checked (a StaffError or PasswordTooShortError says which)
        before the password is hashed and the user stored."""
        new = NewUser(
            email=normalize_email(email),
            display_name=check_name(name),
            role=parse_role(role),
            password_hash="",
            property_id=property_id or None,
            extension=check_extension(extension),
        )
        if new.role == "staff" and new.property_id is None:
            # a member of staff with no property would see every hotel's calls in the console
            raise PropertyRequiredError(
                "staff work at one property: give it (--property, an id from hotel.yaml)"
            )
        hashed = hash_password(password)
        return await self._store.add(
            NewUser(new.email, new.display_name, new.role, hashed, new.property_id, new.extension),
            actor,
        )

    async def members(self) -> list[StaffMember]:
        return await self._store.members()

    async def disable(self, email: str, *, actor: str) -> bool:
        return await self._store.disable(normalize_email(email), actor)

    async def enable(self, email: str, *, actor: str) -> bool:
        return await self._store.enable(normalize_email(email), actor)

    async def set_password(self, email: str, password: str, *, actor: str) -> int:
        """PasswordTooShortError before anything changes."""
        hashed = hash_password(password)
        return await self._store.set_password(normalize_email(email), hashed, actor)
