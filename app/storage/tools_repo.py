"""Tool invocations: what the agent did during a call, for history and analytics."""

from __future__ import annotations

import uuid

import asyncpg

from app.hotel.tools.registry import ToolInvocation


class ToolInvocationRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, invocation: ToolInvocation) -> None:
        await self._pool.execute(
            """INSERT INTO tool_invocations (call_id, name, arguments, result, status,
                   error_message, started_at, duration_ms)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            invocation.call_id,
            invocation.name,
            invocation.arguments,
            invocation.result,
            invocation.status,
            invocation.error_message,
            invocation.started_at,
            invocation.duration_ms,
        )

    async def for_call(self, call_id: uuid.UUID) -> list[ToolInvocation]:
        rows = await self._pool.fetch(
            """SELECT call_id, name, arguments, result, status, error_message, started_at,
                      duration_ms
               FROM tool_invocations WHERE call_id = $1 ORDER BY started_at, id""",
            call_id,
        )
        return [ToolInvocation(**dict(r)) for r in rows]

    async def usage(self, property_id: str | None = None) -> dict[str, int]:
        """How often each tool ran (for analytics), optionally for one property."""
        rows = await self._pool.fetch(
            """SELECT t.name, count(*) AS n FROM tool_invocations t
               LEFT JOIN calls c ON c.id = t.call_id
               WHERE $1::text IS NULL OR c.property_id = $1
               GROUP BY t.name ORDER BY t.name""",
            property_id,
        )
        return {r["name"]: r["n"] for r in rows}
