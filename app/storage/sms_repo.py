"""The SMS outbox and opt-outs: the SQL behind messaging.

Workers claim due messages with FOR UPDATE SKIP LOCKED, so two dispatchers never send the
same row; the idempotency key's UNIQUE constraint makes a repeated enqueue a no-op.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from app.messaging.outbox import OptedOut, OutgoingSms, QueuedSms
from app.redaction import redact_card_data


class SmsRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def enqueue(self, message: OutgoingSms) -> uuid.UUID:
        async with self._pool.acquire() as conn, conn.transaction():
            if await conn.fetchval(
                "SELECT 1 FROM sms_opt_outs WHERE phone_e164 = $1", message.to_e164
            ):
                raise OptedOut(message.to_e164)
            new_id = await conn.fetchval(
                """INSERT INTO sms_messages (property_id, to_e164, from_e164, body, purpose,
                       related_id, idempotency_key, call_ref)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                   ON CONFLICT (idempotency_key) DO NOTHING RETURNING id""",
                message.property_id,
                message.to_e164,
                message.from_e164,
                message.body,
                message.purpose,
                message.related_id,
                message.idempotency_key,
                message.call_id,
            )
            if new_id is None:
                new_id = await conn.fetchval(
                    "SELECT id FROM sms_messages WHERE idempotency_key = $1",
                    message.idempotency_key,
                )
        return new_id  # type: ignore[no-any-return]

    async def claim_due(self, limit: int = 10, now: dt.datetime | None = None) -> list[QueuedSms]:
        rows = await self._pool.fetch(
            """UPDATE sms_messages SET status = 'sending', attempts = attempts + 1,
                   updated_at = now()
               WHERE id IN (SELECT id FROM sms_messages
                            WHERE status = 'queued' AND next_attempt_at <= coalesce($2, now())
                            ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
               RETURNING id, to_e164, from_e164, body, attempts, created_at""",
            limit,
            now,
        )
        return [
            QueuedSms(
                r["id"], r["to_e164"], r["from_e164"], r["body"], r["attempts"], r["created_at"]
            )
            for r in rows
        ]

    async def sent(self, message_id: uuid.UUID, provider_sid: str) -> None:
        await self._pool.execute(
            """UPDATE sms_messages SET status = 'sent', provider_sid = $2, sent_at = now(),
                   last_error = NULL, updated_at = now() WHERE id = $1""",
            message_id,
            provider_sid,
        )

    async def retry_later(self, message_id: uuid.UUID, error: str, at: dt.datetime) -> None:
        await self._pool.execute(
            """UPDATE sms_messages SET status = 'queued', last_error = $2, next_attempt_at = $3,
                   updated_at = now() WHERE id = $1""",
            message_id,
            error[:500],
            at,
        )

    async def give_up(self, message_id: uuid.UUID, error: str, *, opted_out: bool = False) -> None:
        await self._pool.execute(
            """UPDATE sms_messages SET status = $3, last_error = $2, updated_at = now()
               WHERE id = $1""",
            message_id,
            error[:500],
            "opted_out" if opted_out else "failed",
        )

    async def release_stale(self, older_than: dt.timedelta = dt.timedelta(minutes=5)) -> int:
        """Messages left 'sending' by a process that died: queued again."""
        result = await self._pool.execute(
            """UPDATE sms_messages SET status = 'queued', updated_at = now()
               WHERE status = 'sending' AND updated_at < now() - $1::interval""",
            older_than,
        )
        return int(result.split()[-1])

    async def provider_status(self, provider_sid: str, status: str, error: str | None) -> bool:
        """A delivery report (Twilio's status callback); False for an unknown SID."""
        mapped = {
            "queued": "sent",
            "accepted": "sent",
            "sending": "sent",
            "sent": "sent",
            "delivered": "delivered",
            "undelivered": "undelivered",
            "failed": "failed",
        }.get(status)
        if mapped is None:
            return True  # a status we don't track (read, scheduled…): acknowledged, ignored
        result = await self._pool.execute(
            """UPDATE sms_messages SET status = $2, last_error = coalesce($3, last_error),
                   updated_at = now()
               WHERE provider_sid = $1 AND status NOT IN ('delivered')""",
            provider_sid,
            mapped,
            error,
        )
        return result != "UPDATE 0" or bool(
            await self._pool.fetchval(
                "SELECT 1 FROM sms_messages WHERE provider_sid = $1", provider_sid
            )
        )

    async def opt_out(self, phone_e164: str, source: str = "keyword") -> None:
        await self._pool.execute(
            """INSERT INTO sms_opt_outs (phone_e164, source) VALUES ($1, $2)
               ON CONFLICT (phone_e164) DO NOTHING""",
            phone_e164,
            source,
        )

    async def opt_in(self, phone_e164: str) -> None:
        await self._pool.execute("DELETE FROM sms_opt_outs WHERE phone_e164 = $1", phone_e164)

    async def inbound(
        self, property_id: str, from_e164: str | None, to_e164: str, body: str, sid: str
    ) -> None:
        """A text from a guest, kept without card data (guests text card numbers too);
        `from_e164` None for a sender that is no phone number (a short code, a name)."""
        await self._pool.execute(
            """INSERT INTO sms_messages (property_id, direction, to_e164, from_e164, body,
                   idempotency_key, status, provider_sid, purpose)
               VALUES ($1, 'inbound', $2, $3, $4, $5, 'received', $6, 'inbound')
               ON CONFLICT (idempotency_key) DO NOTHING""",
            property_id,
            to_e164,
            from_e164,
            redact_card_data(body)[:1600] or " ",
            f"inbound-{sid}",
            sid,
        )
