"""Staff users, their signed-in web sessions and the audit log of admin actions (all SQL here).

A session's token never reaches the database: only its sha256 is stored, so a copy of the
table signs nobody in. An expired session is as good as absent, and rows past their expiry
are deleted whenever someone signs in. Disabling a user deletes their sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import asyncpg

from app.staff.errors import (
    DuplicateEmailError,
    ExtensionTakenError,
    UnknownPropertyError,
    UnknownUserError,
)
from app.staff.sessions import NewSession, Session
from app.staff.signin import Credentials
from app.staff.users import NewUser, Role, StaffMember, User

_USER_COLUMNS = "u.id, u.email, u.display_name, u.role, u.property_id, u.extension"


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _user(row: asyncpg.Record) -> User:
    role: Role = row["role"]
    return User(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        role=role,
        property_id=row["property_id"],
        extension=row["extension"],
    )


async def audit(
    conn: asyncpg.Connection | asyncpg.Pool,
    actor: str,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    property_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One row in audit_log: who did what to which thing."""
    await conn.execute(
        """INSERT INTO audit_log (actor, action, property_id, target_type, target_id, details)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        actor,
        action,
        property_id,
        target_type,
        target_id,
        details or {},
    )


class UserRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, new: NewUser, actor: str) -> User:
        async with self._pool.acquire() as conn, conn.transaction():
            if new.property_id is not None and not await conn.fetchval(
                "SELECT 1 FROM properties WHERE id = $1", new.property_id
            ):
                raise UnknownPropertyError(f"no property {new.property_id!r}")
            if new.extension is not None:
                # one active user per extension: it is the phone they register as
                await conn.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
                holder = await conn.fetchval(
                    "SELECT email FROM users WHERE extension = $1 AND NOT disabled",
                    new.extension,
                )
                if holder is not None:
                    raise ExtensionTakenError(
                        f"extension {new.extension} already belongs to {holder}"
                    )
            try:
                row = await conn.fetchrow(
                    f"""INSERT INTO users AS u (email, display_name, password_hash, role,
                            property_id, extension)
                        VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_USER_COLUMNS}""",
                    new.email,
                    new.display_name,
                    new.password_hash,
                    new.role,
                    new.property_id,
                    new.extension,
                )
            except asyncpg.UniqueViolationError:
                raise DuplicateEmailError(f"a user with email {new.email} exists") from None
            user = _user(row)
            await audit(
                conn,
                actor,
                "user.add",
                target_type="user",
                target_id=str(user.id),
                property_id=user.property_id,
                details={"email": user.email, "role": user.role, "extension": user.extension},
            )
        return user

    async def members(self) -> list[StaffMember]:
        rows = await self._pool.fetch(
            f"""SELECT {_USER_COLUMNS}, u.disabled, u.created_at, u.last_login_at
                FROM users u ORDER BY lower(u.email)"""
        )
        return [
            StaffMember(_user(r), r["disabled"], r["created_at"], r["last_login_at"]) for r in rows
        ]

    async def get_by_email(self, email: str) -> User | None:
        row = await self._pool.fetchrow(
            f"SELECT {_USER_COLUMNS} FROM users u WHERE lower(u.email) = lower($1)", email
        )
        return _user(row) if row else None

    async def credentials(self, email: str) -> Credentials | None:
        row = await self._pool.fetchrow(
            f"""SELECT {_USER_COLUMNS}, u.password_hash, u.disabled
                FROM users u WHERE lower(u.email) = lower($1)""",
            email,
        )
        return Credentials(_user(row), row["password_hash"], row["disabled"]) if row else None

    async def signed_in(self, user_id: int) -> None:
        await self._pool.execute("UPDATE users SET last_login_at = now() WHERE id = $1", user_id)

    async def disable(self, email: str, actor: str) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._locked(conn, email)
            if row["disabled"]:
                return False
            await conn.execute("UPDATE users SET disabled = true WHERE id = $1", row["id"])
            ended = await conn.fetchval(
                "WITH gone AS (DELETE FROM web_sessions WHERE user_id = $1 RETURNING 1) "
                "SELECT count(*) FROM gone",
                row["id"],
            )
            await audit(
                conn,
                actor,
                "user.disable",
                target_type="user",
                target_id=str(row["id"]),
                property_id=row["property_id"],
                details={"email": email, "sessions_ended": ended},
            )
        return True

    async def enable(self, email: str, actor: str) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._locked(conn, email)
            if not row["disabled"]:
                return False
            await conn.execute("UPDATE users SET disabled = false WHERE id = $1", row["id"])
            await audit(
                conn,
                actor,
                "user.enable",
                target_type="user",
                target_id=str(row["id"]),
                property_id=row["property_id"],
                details={"email": email},
            )
        return True

    async def set_password(self, email: str, password_hash: str, actor: str) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._locked(conn, email)
            await conn.execute(
                "UPDATE users SET password_hash = $2 WHERE id = $1", row["id"], password_hash
            )
            ended = await conn.fetchval(
                "WITH gone AS (DELETE FROM web_sessions WHERE user_id = $1 RETURNING 1) "
                "SELECT count(*) FROM gone",
                row["id"],
            )
            await audit(
                conn,
                actor,
                "user.password",
                target_type="user",
                target_id=str(row["id"]),
                property_id=row["property_id"],
                details={"email": email, "sessions_ended": ended},  # never the hash
            )
        return int(ended)

    @staticmethod
    async def _locked(conn: asyncpg.Connection, email: str) -> asyncpg.Record:
        row = await conn.fetchrow(
            "SELECT id, disabled, property_id FROM users WHERE lower(email) = lower($1) FOR UPDATE",
            email,
        )
        if row is None:
            raise UnknownUserError(f"no user with email {email}")
        return row


class SessionRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def start(self, user_id: int, lifetime: dt.timedelta) -> NewSession:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM web_sessions WHERE expires_at <= now()")
            expires_at = await conn.fetchval(
                """INSERT INTO web_sessions (token_hash, user_id, csrf_token, expires_at)
                   VALUES ($1, $2, $3, now() + $4) RETURNING expires_at""",
                token_hash(token),
                user_id,
                csrf,
                lifetime,
            )
        return NewSession(token, csrf, expires_at)

    async def find(self, token: str) -> Session | None:
        row = await self._pool.fetchrow(
            f"""WITH s AS (
                    UPDATE web_sessions SET last_seen_at = now()
                    WHERE token_hash = $1 AND expires_at > now()
                    RETURNING user_id, csrf_token, expires_at)
                SELECT {_USER_COLUMNS}, s.csrf_token, s.expires_at
                FROM s JOIN users u ON u.id = s.user_id
                WHERE NOT u.disabled""",
            token_hash(token),
        )
        if row is None:
            return None
        return Session(_user(row), row["csrf_token"], row["expires_at"])

    async def end(self, token: str) -> None:
        await self._pool.execute(
            "DELETE FROM web_sessions WHERE token_hash = $1", token_hash(token)
        )
