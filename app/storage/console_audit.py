"""The console's actions on calls in audit_log: who listened in, took over or hung up which
call, and whether it worked."""

from __future__ import annotations

import uuid

import asyncpg

from app.staff.users import User
from app.storage.users_repo import audit


class ConsoleAudit:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(
        self, user: User, action: str, call_id: uuid.UUID, property_id: str, result: str
    ) -> None:
        await audit(
            self._pool,
            user.email,
            action,
            target_type="call",
            target_id=str(call_id),
            property_id=property_id,
            details={"result": result, "user_id": user.id, "extension": user.extension},
        )
