"""Reservations as the payment tool needs them, and the payment links issued for them."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from app.hotel.payments import PayableReservation, PaymentLink


class PaymentRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def reservation(self, property_id: str, code: str) -> PayableReservation | None:
        row = await self._pool.fetchrow(
            """SELECT id, confirmation_code, status, guest_name, guest_phone_e164, total_cents,
                      currency, check_in
               FROM reservations WHERE property_id = $1 AND confirmation_code = $2""",
            property_id,
            code.upper().replace(" ", "").replace(",", "").replace("-", ""),
        )
        return PayableReservation(**dict(row)) if row else None

    async def add_link(
        self,
        property_id: str,
        reservation_id: uuid.UUID,
        link: PaymentLink,
        amount_cents: int,
        currency: str,
        expires_at: dt.datetime,
    ) -> uuid.UUID:
        """One link per reservation and provider reference: asking twice reuses the first."""
        return await self._pool.fetchval(  # type: ignore[no-any-return]
            """INSERT INTO payment_links (property_id, reservation_id, provider, provider_ref,
                   url, amount_cents, currency, expires_at, status)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'sent')
               ON CONFLICT (provider, provider_ref) DO UPDATE SET url = excluded.url,
                   expires_at = excluded.expires_at, status = 'sent', updated_at = now()
               RETURNING id""",
            property_id,
            reservation_id,
            link.provider,
            link.provider_ref,
            link.url,
            amount_cents,
            currency,
            expires_at,
        )
