"""Twilio's webhooks for messages: delivery status callbacks and inbound texts (STOP/START).

Both verify X-Twilio-Signature against the public URL Twilio was given (PUBLIC_BASE_URL +
path), since behind a proxy the URL this process sees is not the one Twilio signed. That
signature is their authentication: they are `public` (no staff session, no CSRF token).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from aiohttp import web

from app.log import get_logger
from app.messaging.outbox import START_WORDS, STOP_WORDS
from app.messaging.twilio import signature_valid
from app.redaction import mask_phone
from app.web.auth import public

log = get_logger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# A phone number; a short code ("72345") or an alphanumeric sender ("HOTELCO") is not one.
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class SmsEvents(Protocol):
    async def provider_status(self, provider_sid: str, status: str, error: str | None) -> bool: ...

    async def opt_out(self, phone_e164: str, source: str = "keyword") -> None: ...

    async def opt_in(self, phone_e164: str) -> None: ...

    async def inbound(
        self, property_id: str, from_e164: str | None, to_e164: str, body: str, sid: str
    ) -> None: ...


def add_sms_routes(
    app: web.Application,
    events: SmsEvents,
    auth_token: str,
    public_base_url: str,
    property_for: Callable[[str], str],  # the number texted -> its property id
) -> None:
    base = public_base_url.rstrip("/")

    async def _verified(request: web.Request) -> dict[str, str]:
        form = {k: str(v) for k, v in (await request.post()).items()}
        url = base + request.path_qs
        if not signature_valid(
            auth_token, url, form, request.headers.get("X-Twilio-Signature", "")
        ):
            log.warning("sms webhook with a bad signature refused", path=request.path)
            raise web.HTTPForbidden(text="invalid signature")
        return form

    @public
    async def status(request: web.Request) -> web.Response:
        form = await _verified(request)
        sid, state = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if not sid or not state:
            raise web.HTTPBadRequest(text="MessageSid and MessageStatus are required")
        error = form.get("ErrorCode")
        known = await events.provider_status(sid, state, f"error {error}" if error else None)
        return web.Response(status=204 if known else 404)

    @public
    async def inbound(request: web.Request) -> web.Response:
        form = await _verified(request)
        sender, to, body = form.get("From", ""), form.get("To", ""), form.get("Body", "")
        keyword = body.strip().upper()
        if not _E164.match(sender):
            # A short code or an alphanumeric sender (a carrier's or a service's notice): kept,
            # without a number to reply to; STOP/START from it means nothing (we never text it).
            log.info("sms from a sender that is not a phone number", sender_kind=_kind(sender))
            await events.inbound(property_for(to), None, to, body, form.get("MessageSid", ""))
            return web.Response(text=EMPTY_TWIML, content_type="application/xml")
        if keyword in STOP_WORDS:
            await events.opt_out(sender)
            log.info("sms opt-out", phone=mask_phone(sender))
        elif keyword in START_WORDS:
            await events.opt_in(sender)
            log.info("sms opt-in", phone=mask_phone(sender))
        await events.inbound(property_for(to), sender, to, body, form.get("MessageSid", ""))
        return web.Response(text=EMPTY_TWIML, content_type="application/xml")

    def _kind(sender: str) -> str:
        if sender.isdigit():
            return "short_code"
        return "alphanumeric" if sender else "none"

    app.router.add_post("/sms/status", status)
    app.router.add_post("/sms/inbound", inbound)
