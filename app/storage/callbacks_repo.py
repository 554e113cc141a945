"""Callbacks: stored requests, the scheduler's claims, and what came of each attempt."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import asyncpg

from app.hotel.callbacks import DueCallback, NewCallback


class CallbackRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, callback: NewCallback) -> uuid.UUID:
        call_id = callback.call_id
        if call_id is not None and not await self._pool.fetchval(
            "SELECT 1 FROM calls WHERE id = $1", call_id
        ):
            call_id = None  # the call's own row is still queued behind a database hiccup
        return await self._pool.fetchval(  # type: ignore[no-any-return]
            """INSERT INTO callbacks (property_id, call_id, phone_e164, due_at, reason, language,
                   max_attempts, next_attempt_at, call_ref)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $4, $8) RETURNING id""",
            callback.property_id,
            call_id,
            callback.phone_e164,
            callback.due_at,
            callback.reason,
            callback.language,
            callback.max_attempts,
            callback.call_id,
        )

    async def claim_due(self, now: dt.datetime | None = None, limit: int = 5) -> list[DueCallback]:
        rows = await self._pool.fetch(
            """UPDATE callbacks SET status = 'dialing', attempts = attempts + 1, updated_at = now()
               WHERE id IN (SELECT id FROM callbacks
                            WHERE status = 'scheduled' AND next_attempt_at <= coalesce($1, now())
                              AND attempts < max_attempts
                            ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
               RETURNING id, property_id, phone_e164, reason, attempts, max_attempts""",
            now,
            limit,
        )
        return [DueCallback(**dict(r)) for r in rows]

    async def release_stuck(self, older_than: dt.timedelta) -> int:
        """Callbacks left 'dialing' by a process that died mid-dial (nothing will ever report
        how that call went): due again now, or failed when that was the last attempt (the
        attempt was counted when it was claimed)."""
        result = await self._pool.execute(
            """UPDATE callbacks SET
                   status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'scheduled' END,
                   next_attempt_at = now(), last_error = 'interrupted while dialling',
                   updated_at = now()
               WHERE status = 'dialing' AND updated_at < now() - $1::interval""",
            older_than,
        )
        return int(result.split()[-1])

    async def details(self, callback_id: uuid.UUID) -> tuple[str, str] | None:
        row = await self._pool.fetchrow(
            "SELECT phone_e164, reason FROM callbacks WHERE id = $1", callback_id
        )
        return (row["phone_e164"], row["reason"]) if row else None

    async def answered(self, callback_id: uuid.UUID) -> None:
        await self._pool.execute(
            """UPDATE callbacks SET status = 'completed', last_error = NULL, updated_at = now()
               WHERE id = $1""",
            callback_id,
        )

    async def link_call(
        self, callback_id: uuid.UUID, call_id: uuid.UUID, patience: float = 30.0
    ) -> bool:
        """Point the callback at the call that reached the guest, once that call's row is
        written (it goes through the write-behind queue, so it may lag a little)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while True:
            linked = await self._pool.execute(
                """UPDATE callbacks SET outbound_call_id = $2, updated_at = now()
                   WHERE id = $1 AND EXISTS (SELECT 1 FROM calls WHERE id = $2)""",
                callback_id,
                call_id,
            )
            if linked != "UPDATE 0":
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.2)

    async def not_reached(self, callback_id: uuid.UUID, why: str, retry_at: dt.datetime) -> str:
        """No answer, busy or a failed dial: scheduled again, or given up after the last try.
        Returns the new status."""
        status = await self._pool.fetchval(
            """UPDATE callbacks SET
                   status = CASE WHEN attempts >= max_attempts
                                 THEN (CASE WHEN $2 LIKE 'failed%' THEN 'failed' ELSE 'no_answer' END)
                                 ELSE 'scheduled' END,
                   next_attempt_at = $3, last_error = $2, updated_at = now()
               WHERE id = $1 AND status = 'dialing' RETURNING status""",
            callback_id,
            why,
            retry_at,
        )
        return str(status) if status is not None else "unknown"

    async def refused(self, callback_id: uuid.UUID, why: str) -> None:
        """The destination policy refused the number: given up at once, never retried."""
        await self._pool.execute(
            """UPDATE callbacks SET status = 'failed', last_error = $2, updated_at = now()
               WHERE id = $1 AND status = 'dialing'""",
            callback_id,
            why[:300],
        )
