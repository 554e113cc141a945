"""Payment links: how a caller pays without ever reading a card number over the phone.

A provider turns (reservation, amount) into a URL the guest opens on their phone. The
offline provider needs no payment service: it signs a link to the hotel's own booking page
(HMAC-SHA256 over reservation, amount, currency and expiry), which the booking page checks
with `verify`. It says of itself that it is offline, so nobody mistakes it for a charge.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass(frozen=True)
class LinkRequest:
    reservation_id: uuid.UUID
    confirmation_code: str
    amount_cents: int
    currency: str
    expires_at: dt.datetime
    booking_page_url: str  # the property's page, from hotel.yaml
    description: str


@dataclass(frozen=True)
class PaymentLink:
    url: str
    provider: str
    provider_ref: str
    offline: bool


@dataclass(frozen=True)
class PayableReservation:
    id: uuid.UUID
    confirmation_code: str
    status: str
    guest_name: str
    guest_phone_e164: str | None
    total_cents: int
    currency: str
    check_in: dt.date


class PaymentStore(Protocol):
    async def reservation(self, property_id: str, code: str) -> PayableReservation | None: ...

    async def add_link(
        self,
        property_id: str,
        reservation_id: uuid.UUID,
        link: PaymentLink,
        amount_cents: int,
        currency: str,
        expires_at: dt.datetime,
    ) -> uuid.UUID: ...


class PaymentProvider(Protocol):
    name: str

    async def create_link(self, request: LinkRequest) -> PaymentLink: ...


class PaymentLinkInvalid(Exception):
    """A link that was not signed by us, was altered, or has expired."""


class OfflinePaymentProvider:
    name = "offline"

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the payment link secret must be at least 16 bytes")
        self._secret = secret

    def _sign(self, fields: dict[str, str]) -> str:
        message = "&".join(f"{k}={fields[k]}" for k in sorted(fields)).encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    async def create_link(self, request: LinkRequest) -> PaymentLink:
        fields = {
            "reservation": str(request.reservation_id),
            "code": request.confirmation_code,
            "amount": str(request.amount_cents),
            "currency": request.currency,
            "expires": str(int(request.expires_at.timestamp())),
            "mode": "offline",
        }
        query = urlencode({**fields, "sig": self._sign(fields)})
        url = f"{request.booking_page_url.rstrip('/')}/pay?{query}"
        return PaymentLink(url, self.name, f"offline-{request.reservation_id}", offline=True)

    def verify(self, url: str, now: dt.datetime | None = None) -> dict[str, str]:
        """The link's fields when it is ours, unaltered and unexpired; else PaymentLinkInvalid."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        signature = query.pop("sig", "")
        if not hmac.compare_digest(signature, self._sign(query)):
            raise PaymentLinkInvalid("the link's signature does not match")
        expires = dt.datetime.fromtimestamp(int(query["expires"]), dt.UTC)
        if (now or dt.datetime.now(dt.UTC)) >= expires:
            raise PaymentLinkInvalid("the link has expired")
        return query
