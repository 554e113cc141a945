"""generate_payment_link: a secure link by text message, never a card number by voice."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from app.hotel.errors import ToolError
from app.hotel.payments import LinkRequest, PaymentProvider, PaymentStore
from app.hotel.spoken import last_digits, spoken_money
from app.hotel.tools.booking_tools import guest_phone
from app.hotel.tools.registry import Tool, ToolContext, ToolResult
from app.messaging.outbox import OptedOut, OutgoingSms, SmsOutbox

LINK_TTL = dt.timedelta(hours=24)


class PaymentLinkArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    confirmation_code: Annotated[str, Field(min_length=6, max_length=20)] = Field(
        description="The reservation's confirmation code"
    )
    phone: str | None = Field(
        None, description="Where to text the link; omit for the guest's number on the booking"
    )


class TextCheck(Protocol):
    async def __call__(self, to_e164: str, property_id: str, call_id: uuid.UUID | None) -> None:
        """Raises a ToolError when this number may not be texted (the destination policy)."""
        ...


class PaymentTools:
    def __init__(
        self,
        store: PaymentStore,
        provider: PaymentProvider,
        outbox: SmsOutbox,
        sms_from: str | None = None,
        may_text: TextCheck | None = None,
    ) -> None:
        self._store = store
        self._provider = provider
        self._outbox = outbox
        self._from = sms_from
        # Asked before a link is made, so a number we may not text leaves no link behind (the
        # outbox checks again when the text is queued).
        self._may_text = may_text

    def tools(self) -> list[Tool[Any]]:
        return [
            Tool(
                "generate_payment_link",
                "Text the guest a secure link to pay for a reservation. Use it whenever payment "
                "comes up; never take card numbers by voice.",
                PaymentLinkArgs,
                self.generate_payment_link,
            )
        ]

    async def generate_payment_link(
        self, args: PaymentLinkArgs, context: ToolContext
    ) -> ToolResult:
        reservation = await self._store.reservation(context.prop.id, args.confirmation_code)
        if reservation is None:
            raise ToolError(
                "I can't find a booking with that confirmation code. Could you read it to me "
                "again, letter by letter?"
            )
        if reservation.status not in ("held", "confirmed"):
            raise ToolError(f"That booking is {reservation.status}, so there is nothing to pay.")
        phone = guest_phone(args.phone, context) if args.phone else None
        phone = phone or reservation.guest_phone_e164 or context.caller_e164
        if phone is None:
            raise ToolError("What mobile number should I text the payment link to?")
        if self._may_text is not None:
            await self._may_text(phone, context.prop.id, context.call_id)
        expires = context.now + LINK_TTL
        link = await self._provider.create_link(
            LinkRequest(
                reservation_id=reservation.id,
                confirmation_code=reservation.confirmation_code,
                amount_cents=reservation.total_cents,
                currency=reservation.currency,
                expires_at=expires,
                booking_page_url=context.prop.booking_page_url,
                description=f"{context.prop.name}, booking {reservation.confirmation_code}",
            )
        )
        await self._store.add_link(
            context.prop.id,
            reservation.id,
            link,
            reservation.total_cents,
            reservation.currency,
            expires,
        )
        amount = spoken_money(reservation.total_cents, reservation.currency)
        body = (
            f"{context.prop.name}: pay {amount} for booking {reservation.confirmation_code} "
            f"securely here: {link.url} (valid 24 hours). Reply STOP to opt out."
        )
        try:
            await self._outbox.enqueue(
                OutgoingSms(
                    property_id=context.prop.id,
                    to_e164=phone,
                    body=body,
                    purpose="payment_link",
                    # Once a minute: the same request twice (a retry, the engine asking twice
                    # in one breath) is one text; a link asked for again later is texted
                    # again, as the agent then says, even when the payment service answers
                    # with the link it made before.
                    idempotency_key=(
                        f"payment-link:{reservation.id}:{phone}:{context.now:%Y%m%dT%H%M}"
                    ),
                    related_id=reservation.id,
                    from_e164=self._from,
                    call_id=context.call_id,
                )
            )
        except OptedOut:
            raise ToolError(
                "That number has asked us not to send texts. If you text START to our number, "
                "I can send it again, or the front desk can email the link."
            ) from None
        return ToolResult(
            {
                "sent_to": f"ending {last_digits(phone)}",
                "amount": amount,
                "offline_link": link.offline,
                "summary": (
                    f"I've sent a text to the number ending {last_digits(phone)} with a secure "
                    f"link to pay {amount}. It's valid for 24 hours."
                ),
            }
        )
