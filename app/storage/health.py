"""Can we reach PostgreSQL, and is its schema the one this code expects?"""

from __future__ import annotations

import asyncpg

from app.health import ComponentStatus
from app.storage.db import schema_revision

# What a dropped or refused connection raises, depending on where in the protocol it breaks.
_CONNECTION_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)


class DatabaseCheck:
    name = "database"

    def __init__(self, pool: asyncpg.Pool, head: str | None) -> None:
        self._pool = pool
        self._head = head

    async def check(self) -> ComponentStatus:
        try:
            async with self._pool.acquire(timeout=2) as conn:
                revision = await schema_revision(conn)
        except _CONNECTION_ERRORS as exc:
            return ComponentStatus(
                self.name,
                False,
                "unreachable",
                f"{type(exc).__name__}: {exc}",
                "check that PostgreSQL is running and DATABASE_URL points at it",
            )
        if revision != self._head:
            return ComponentStatus(
                self.name,
                False,
                "error",
                f"schema at revision {revision or 'none'}, code expects {self._head}",
                "run `frontdesk db upgrade`",
            )
        return ComponentStatus(self.name, True, "ok", f"schema {revision}")
