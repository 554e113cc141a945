"""What the destination policy's caps count: texts queued and callbacks arranged, by the call
that asked for them and by the number they reach (app/hotel/destinations.py)."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from app.hotel.destinations import Usage


class UsageRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def usage(self, call_id: uuid.UUID | None, e164: str, since: dt.datetime) -> Usage:
        row = await self._pool.fetchrow(
            """SELECT
                 (SELECT count(*) FROM sms_messages
                   WHERE direction = 'outbound' AND call_ref = $1)
               + (SELECT count(*) FROM callbacks WHERE call_ref = $1) AS in_call,
                 (SELECT count(*) FROM sms_messages
                   WHERE direction = 'outbound' AND to_e164 = $2 AND created_at >= $3)
               + (SELECT count(*) FROM callbacks
                   WHERE phone_e164 = $2 AND created_at >= $3) AS to_number""",
            call_id,
            e164,
            since,
        )
        assert row is not None
        return Usage(in_call=int(row["in_call"]), to_number=int(row["to_number"]))
