"""Payment links by SMS: the tool, the outbox, Twilio's REST API and webhooks, over real HTTP
(a local stand-in for Twilio and for a payment service) and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email.utils
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from app.hotel.config import load_hotel_config
from app.hotel.errors import ToolError
from app.hotel.payments import (
    LinkRequest,
    OfflinePaymentProvider,
    PaymentLink,
    PaymentLinkInvalid,
)
from app.hotel.tools.booking_tools import BookingTools
from app.hotel.tools.payment_tools import PaymentTools
from app.hotel.tools.registry import ToolContext, ToolRegistry
from app.messaging.dispatcher import MAX_ATTEMPTS, SmsDispatcher
from app.messaging.outbox import OptedOut, OutgoingSms
from app.messaging.twilio import TwilioSms, signature, signature_valid
from app.payments.http_provider import HttpPaymentProvider
from app.storage.booking_repo import BookingRepository
from app.storage.payments_repo import PaymentRepository
from app.storage.seed import seed
from app.storage.sms_repo import SmsRepository
from app.web.sms_webhooks import add_sms_routes

ROOT = Path(__file__).resolve().parents[2]
HOTEL = load_hotel_config(ROOT / "config" / "hotel.yaml")
PROP = HOTEL.get_property("harborview")
NOW = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)
CALLER = "+14155550134"
SID = "AC" + "0" * 32
TOKEN = "test-auth-token"
SECRET = b"0123456789abcdef0123456789abcdef"


def ctx(caller: str | None = CALLER) -> ToolContext:
    return ToolContext(PROP, None, caller, NOW)


# --- the signature -----------------------------------------------------------------------------
# Twilio's published example (webhook security docs; twilio-node's test fixture): auth token
# 12345, this URL and these parameters give these signatures.
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="),
        ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ],
)
def test_signature_matches_twilios_published_vectors(caller: str, expected: str) -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": caller,
        "Digits": "1234",
        "From": caller,
        "To": "+18005551212",
    }
    assert signature("12345", TWILIO_URL, params) == expected
    assert signature_valid("12345", TWILIO_URL, params, expected)
    assert not signature_valid("12345", TWILIO_URL, {**params, "Digits": "9999"}, expected)
    assert not signature_valid("54321", TWILIO_URL, params, expected)
    assert not signature_valid("12345", TWILIO_URL, params, "")


# --- the offline provider ------------------------------------------------------------------------
async def test_offline_links_are_signed_expiring_and_say_so() -> None:
    provider = OfflinePaymentProvider(SECRET)

    request = LinkRequest(
        uuid.uuid4(),
        "H7K3P9",
        45800,
        "USD",
        NOW + dt.timedelta(hours=24),
        PROP.booking_page_url,
        "x",
    )
    link = await provider.create_link(request)
    assert link.offline and link.url.startswith("https://harborview.example/book/pay?")
    assert "mode=offline" in link.url
    fields = provider.verify(link.url, now=NOW)
    assert fields["amount"] == "45800" and fields["code"] == "H7K3P9"
    with pytest.raises(PaymentLinkInvalid, match="signature"):
        provider.verify(link.url.replace("amount=45800", "amount=100"), now=NOW)
    with pytest.raises(PaymentLinkInvalid, match="expired"):
        provider.verify(link.url, now=NOW + dt.timedelta(hours=25))
    with pytest.raises(PaymentLinkInvalid):
        OfflinePaymentProvider(b"another-secret-of-32-bytes------").verify(link.url, now=NOW)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        OfflinePaymentProvider(b"short")


# --- a stand-in for Twilio's REST API ----------------------------------------------------------
@dataclass
class FakeTwilio:
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    # Messages created (a 201), as Twilio's list (GET …/Messages.json) shows them.
    created: list[dict[str, str]] = field(default_factory=list)
    answer_after: float = 0.0  # seconds before answering a send it has already taken

    def app(self) -> web.Application:
        async def messages(request: web.Request) -> web.Response:
            self.auth.append(request.headers.get("Authorization", ""))
            form = {k: str(v) for k, v in (await request.post()).items()}
            self.requests.append(form)
            status, body = self.answers.pop(0) if self.answers else (201, {"sid": "SM" + "1" * 32})
            if status == 201:
                self.created.append(
                    {
                        "sid": body["sid"],
                        "to": form["To"],
                        "from": form["From"],
                        "body": form["Body"],
                        "date_created": email.utils.format_datetime(dt.datetime.now(dt.UTC)),
                    }
                )
            await asyncio.sleep(self.answer_after)
            return web.json_response(body, status=status)

        async def listed(request: web.Request) -> web.Response:
            to, from_ = request.query.get("To"), request.query.get("From")
            found = [m for m in self.created if m["to"] == to and m["from"] == from_]
            return web.json_response({"messages": list(reversed(found))})

        app = web.Application()
        app.router.add_post(f"/2010-04-01/Accounts/{SID}/Messages.json", messages)
        app.router.add_get(f"/2010-04-01/Accounts/{SID}/Messages.json", listed)
        return app


@dataclass
class Rig:
    pool: asyncpg.Pool
    tools: ToolRegistry
    sms: SmsRepository
    twilio: FakeTwilio
    dispatcher: SmsDispatcher
    http: aiohttp.ClientSession
    sender_base: str  # the stand-in's address


@pytest.fixture
async def rig(pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    await seed(pool, HOTEL, horizon_days=30, now=NOW)
    twilio = FakeTwilio()
    server = TestServer(twilio.app(), host="127.0.0.1")
    await server.start_server()
    http = aiohttp.ClientSession()
    sms = SmsRepository(pool)
    payments = PaymentTools(
        PaymentRepository(pool), OfflinePaymentProvider(SECRET), sms, "+15550100100"
    )
    tools = ToolRegistry([*BookingTools(BookingRepository(pool)).tools(), *payments.tools()])
    sender = TwilioSms(http, SID, TOKEN, api_base=str(server.make_url("")))
    dispatcher = SmsDispatcher(sms, sender, "+15550100100", backoff_base=30)
    yield Rig(pool, tools, sms, twilio, dispatcher, http, str(server.make_url("")))
    await http.close()
    await server.close()


async def _book(rig: Rig, caller: str | None = CALLER) -> str:
    result = await rig.tools.invoke(
        "create_reservation",
        {"check_in": "2026-12-11", "nights": 2, "adults": 2, "room_type": "king",
         "guest_name": "Ada Lovelace"},
        ctx(caller),
    )  # fmt: skip
    return str(result.output["confirmation_code"])


async def test_the_link_goes_by_text_once_and_nothing_is_lost_without_credentials(
    rig: Rig,
) -> None:
    code = await _book(rig)
    spoken = ", ".join(code)
    result = await rig.tools.invoke("generate_payment_link", {"confirmation_code": spoken}, ctx())
    assert "ending 0 1 3 4" in result.output["summary"]
    assert "458 dollars" in result.output["summary"] and result.output["offline_link"] is True
    again = await rig.tools.invoke("generate_payment_link", {"confirmation_code": code}, ctx())
    assert again.output["sent_to"] == "ending 0 1 3 4"
    # One message, however often it was asked for; queued until a dispatcher sends it.
    [row] = await rig.pool.fetch("SELECT * FROM sms_messages")
    assert row["status"] == "queued" and row["to_e164"] == CALLER and row["attempts"] == 0
    assert row["purpose"] == "payment_link" and code in row["body"]
    url = row["body"].split("here: ")[1].split(" ")[0]
    assert OfflinePaymentProvider(SECRET).verify(url, now=NOW)["code"] == code
    link = await rig.pool.fetchrow("SELECT * FROM payment_links")
    assert link is not None and link["amount_cents"] == 45800 and link["url"] == url
    assert await rig.pool.fetchval("SELECT count(*) FROM payment_links") == 1

    assert await rig.dispatcher.run_once() == 1
    [sent] = rig.twilio.requests
    assert sent["To"] == CALLER and sent["From"] == "+15550100100" and url in sent["Body"]
    assert rig.twilio.auth[0] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    row = await rig.pool.fetchrow("SELECT * FROM sms_messages")
    assert row["status"] == "sent" and row["provider_sid"] == "SM" + "1" * 32
    assert await rig.dispatcher.run_once() == 0  # nothing sent twice


async def test_a_link_asked_for_again_later_is_texted_again(rig: Rig) -> None:
    # "I didn't get it, can you send it again?" ten minutes on: a fresh link, and a text with
    # it (the agent says one was sent, so one must be).
    code = await _book(rig)
    await rig.tools.invoke("generate_payment_link", {"confirmation_code": code}, ctx())
    later = ToolContext(PROP, None, CALLER, NOW + dt.timedelta(minutes=10))
    again = await rig.tools.invoke("generate_payment_link", {"confirmation_code": code}, later)
    assert "I've sent a text" in again.output["summary"]
    rows = await rig.pool.fetch("SELECT body FROM sms_messages ORDER BY created_at, body")
    urls = {row["body"].split("here: ")[1].split(" ")[0] for row in rows}
    assert len(rows) == 2 and len(urls) == 2
    newest = await rig.pool.fetchval("SELECT url FROM payment_links")
    assert newest in urls
    rig.twilio.answers = [(201, {"sid": "SM" + str(n) * 32}) for n in (1, 2)]
    assert await rig.dispatcher.run_once() == 2
    assert {r["Body"].split("here: ")[1].split(" ")[0] for r in rig.twilio.requests} == urls


class SameLink:
    """A payment service that honours our idempotency key: asked again for the same
    reservation, it answers with the link it already made (as HttpPaymentProvider's do)."""

    name = "same-link"

    async def create_link(self, request: LinkRequest) -> PaymentLink:
        return PaymentLink(f"https://pay.example/{request.reservation_id}", self.name, "pl", False)


async def test_the_same_link_asked_for_again_is_texted_again(rig: Rig, pool: asyncpg.Pool) -> None:
    payments = PaymentTools(PaymentRepository(pool), SameLink(), rig.sms, "+15550100100")
    tools = ToolRegistry([*payments.tools()])
    code = await _book(rig)
    for minutes in (0, 10):  # "I didn't get it, can you send it again?"
        at = ToolContext(PROP, None, CALLER, NOW + dt.timedelta(minutes=minutes))
        sent = await tools.invoke("generate_payment_link", {"confirmation_code": code}, at)
        assert "I've sent a text" in sent.output["summary"]
    bodies = [r["body"] for r in await pool.fetch("SELECT body FROM sms_messages")]
    assert len(bodies) == 2 and len(set(bodies)) == 1  # the same link, texted twice


async def test_unknown_codes_and_opted_out_numbers_are_told_not_texted(rig: Rig) -> None:
    with pytest.raises(ToolError, match="can't find a booking"):
        await rig.tools.invoke("generate_payment_link", {"confirmation_code": "ZZZZZZ"}, ctx())
    code = await _book(rig)
    await rig.sms.opt_out(CALLER)
    with pytest.raises(ToolError, match="asked us not to send texts"):
        await rig.tools.invoke("generate_payment_link", {"confirmation_code": code}, ctx())
    assert await rig.pool.fetchval("SELECT count(*) FROM sms_messages") == 0
    await rig.sms.opt_in(CALLER)
    await rig.tools.invoke("generate_payment_link", {"confirmation_code": code}, ctx())
    assert await rig.pool.fetchval("SELECT count(*) FROM sms_messages") == 1


async def test_provider_failures_retry_with_backoff_then_give_up(rig: Rig) -> None:
    message_id = await rig.sms.enqueue(OutgoingSms("harborview", CALLER, "hello", "test", "k1"))
    assert await rig.sms.enqueue(OutgoingSms("harborview", CALLER, "hello", "test", "k1")) == (
        message_id
    )
    rig.twilio.answers = [(503, {"code": 20503, "message": "unavailable"})] * MAX_ATTEMPTS
    for attempt in range(1, MAX_ATTEMPTS + 1):
        due = await rig.sms.claim_due(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        assert [m.attempts for m in due] == [attempt]
        for message in due:
            await rig.dispatcher._send(message)
        row = await rig.pool.fetchrow("SELECT * FROM sms_messages WHERE id = $1", message_id)
        if attempt < MAX_ATTEMPTS:
            assert row["status"] == "queued" and "503" in row["last_error"]
            wait = (row["next_attempt_at"] - dt.datetime.now(dt.UTC)).total_seconds()
            assert 30 * 2 ** (attempt - 1) - 5 < wait <= 30 * 2 ** (attempt - 1)
        else:
            assert row["status"] == "failed"
    assert len(rig.twilio.requests) == MAX_ATTEMPTS


async def test_a_send_whose_answer_timed_out_is_not_sent_twice(rig: Rig) -> None:
    # Twilio takes the message, but its answer comes after our timeout: the retry finds the
    # message at Twilio and records it; the guest gets one text.
    sender = TwilioSms(rig.http, SID, TOKEN, api_base=rig.sender_base, timeout=0.3)
    dispatcher = SmsDispatcher(rig.sms, sender, "+15550100100", backoff_base=30)
    message_id = await rig.sms.enqueue(OutgoingSms("harborview", CALLER, "hello", "test", "k3"))
    rig.twilio.answer_after = 1.0
    assert await dispatcher.run_once() == 1
    row = await rig.pool.fetchrow("SELECT * FROM sms_messages WHERE id = $1", message_id)
    assert row["status"] == "queued" and "Twilio unreachable" in row["last_error"]
    rig.twilio.answer_after = 0.0
    for message in await rig.sms.claim_due(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)):
        await dispatcher._send(message)
    row = await rig.pool.fetchrow("SELECT * FROM sms_messages WHERE id = $1", message_id)
    assert row["status"] == "sent" and row["provider_sid"] == rig.twilio.created[0]["sid"]
    assert len(rig.twilio.requests) == 1 and len(rig.twilio.created) == 1


async def test_a_send_twilio_refused_is_sent_again(rig: Rig) -> None:
    # A 503 means Twilio did not take it: the retry finds nothing there and sends.
    message_id = await rig.sms.enqueue(OutgoingSms("harborview", CALLER, "hello", "test", "k4"))
    rig.twilio.answers = [(503, {"code": 20503, "message": "unavailable"})]
    assert await rig.dispatcher.run_once() == 1
    for message in await rig.sms.claim_due(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)):
        await rig.dispatcher._send(message)
    row = await rig.pool.fetchrow("SELECT * FROM sms_messages WHERE id = $1", message_id)
    assert row["status"] == "sent" and row["attempts"] == 2
    assert len(rig.twilio.requests) == 2 and len(rig.twilio.created) == 1


async def test_a_number_twilio_says_is_unsubscribed_is_not_retried(rig: Rig) -> None:
    await rig.sms.enqueue(OutgoingSms("harborview", CALLER, "hello", "test", "k2"))
    rig.twilio.answers = [(400, {"code": 21610, "message": "unsubscribed recipient"})]
    assert await rig.dispatcher.run_once() == 1
    row = await rig.pool.fetchrow("SELECT * FROM sms_messages")
    assert row["status"] == "opted_out" and row["attempts"] == 1


async def test_webhooks_verify_the_signature_and_honour_stop(rig: Rig) -> None:
    await rig.sms.enqueue(OutgoingSms("harborview", CALLER, "hello", "test", "k3"))
    await rig.dispatcher.run_once()
    sid = "SM" + "1" * 32
    app = web.Application()
    add_sms_routes(app, rig.sms, TOKEN, "https://frontdesk.example", lambda to: "harborview")
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()

    async def post(path: str, form: dict[str, str], valid: bool = True) -> aiohttp.ClientResponse:
        sig = signature(TOKEN, f"https://frontdesk.example{path}", form)
        headers = {
            "X-Twilio-Signature": sig if valid else sig[::-1],
            "Content-Type": "application/x-www-form-urlencoded",
        }
        async with rig.http.post(server.make_url(path), data=urlencode(form), headers=headers) as r:
            await r.read()
            return r

    try:
        delivered = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": SID}
        assert (await post("/sms/status", delivered, valid=False)).status == 403
        assert await rig.pool.fetchval("SELECT status FROM sms_messages") == "sent"
        assert (await post("/sms/status", delivered)).status == 204
        assert await rig.pool.fetchval("SELECT status FROM sms_messages") == "delivered"
        unknown = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}
        assert (await post("/sms/status", unknown)).status == 404

        stop = {"From": CALLER, "To": "+15550100100", "Body": " stop ", "MessageSid": "SM1"}
        assert (await post("/sms/inbound", stop)).status == 200
        with pytest.raises(OptedOut):
            await rig.sms.enqueue(OutgoingSms("harborview", CALLER, "hi", "test", "k4"))
        start = {**stop, "Body": "START", "MessageSid": "SM2"}
        assert (await post("/sms/inbound", start)).status == 200
        await rig.sms.enqueue(OutgoingSms("harborview", CALLER, "hi", "test", "k4"))
        inbound = await rig.pool.fetch(
            "SELECT body FROM sms_messages WHERE direction = 'inbound' ORDER BY created_at"
        )
        assert [r["body"] for r in inbound] == [" stop ", "START"]

        # A short code and an alphanumeric sender: answered as Twilio expects, kept, no opt-out.
        for n, sender in enumerate(["72345", "HOTELCO", ""]):
            notice = {"From": sender, "To": "+15550100100", "Body": "STOP", "MessageSid": f"SMx{n}"}
            answer = await post("/sms/inbound", notice)
            assert answer.status == 200 and answer.content_type == "application/xml"
        kept = await rig.pool.fetch(
            "SELECT from_e164, body FROM sms_messages WHERE provider_sid LIKE 'SMx%'"
        )
        assert [(r["from_e164"], r["body"]) for r in kept] == [(None, "STOP")] * 3
        assert await rig.pool.fetchval("SELECT count(*) FROM sms_opt_outs") == 0
    finally:
        await server.close()


async def test_the_http_payment_provider(rig: Rig) -> None:
    seen: list[dict[str, Any]] = []
    answer: list[tuple[int, dict[str, Any]]] = [
        (201, {"id": "pl_1", "url": "https://pay.example/pl_1"}),
        (500, {"error": "down"}),
    ]

    async def create(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer key-1"
        seen.append(await request.json())
        status, body = answer.pop(0)
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/links", create)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        provider = HttpPaymentProvider(rig.http, str(server.make_url("/links")), "key-1")

        request = LinkRequest(uuid.uuid4(), "H7K3P9", 45800, "USD", NOW, PROP.booking_page_url, "x")
        link = await provider.create_link(request)
        assert (link.url, link.provider_ref, link.offline) == (
            "https://pay.example/pl_1",
            "pl_1",
            False,
        )
        assert seen[0]["amount"] == 45800 and seen[0]["reference"] == "H7K3P9"
        with pytest.raises(ToolError, match="couldn't create the payment link"):
            await provider.create_link(request)
    finally:
        await server.close()


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        ("Here is my card 4539, 1488, 0343, 6467 exp 12/27", "Here is my card [card] exp [exp]"),
        ("4539.1488.0343.6467", "[card]"),
        ("visa 4539 1488 0343 6468 thanks", "visa [card] thanks"),  # mistyped: not Luhn-valid
        ("cvv is 123, see you Friday", "cvv is [cvv], see you Friday"),
    ],
)
async def test_inbound_texts_are_stored_without_card_data(rig: Rig, body: str, stored: str) -> None:
    await rig.sms.inbound("harborview", CALLER, "+15550100100", body, "SM" + uuid.uuid4().hex)
    kept = await rig.pool.fetchval("SELECT body FROM sms_messages WHERE direction = 'inbound'")
    assert kept == stored
