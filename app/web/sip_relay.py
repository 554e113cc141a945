"""/ws: the browser phones' way to Asterisk, a WebSocket relay (subprotocol `sip`).

Browsers speak SIP over a WebSocket to the app's own origin (wss:// in deployment: TLS ends at
the app or the proxy in front of it); the relay opens a WebSocket of its own to Asterisk's
SIP WebSocket on loopback (ASTERISK_WS_URL, ws://127.0.0.1:8088/ws: http.conf keeps it off the
network) and copies text messages both ways. The auth middleware (app/web/auth.py) has already
checked the session cookie, the role and that Origin is this site before the upgrade.

Per connection: one task reads the browser and writes Asterisk, one reads Asterisk and writes
the browser (one writer per socket); when either side closes or fails both tasks are cancelled
and both sockets closed. Nothing is queued here: each message is written before the next is
read, so a slow side slows the other (aiohttp's readers are bounded too), and a message over
MAX_MESSAGE is refused. A third task ends the relay when the session does (signed out,
expired, user disabled).

Defence in depth: a SIP request outside a dialog (and every REGISTER) whose From URI is not
the signed-in user's own extension is not forwarded (the connection is closed): the PBX would
challenge it for that extension's password anyway, which only that extension's user gets. A
request within a dialog (its To has a tag) is forwarded whatever its From says: Asterisk
answers 481 to one for a dialog it does not know (tests/live/test_webrtc_live.py attacks it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from app.aio import cancel_and_wait
from app.log import get_logger
from app.web.auth import until_signed_out

log = get_logger(__name__)

SUBPROTOCOL = "sip"
MAX_MESSAGE = 64 * 1024  # a SIP message with SDP is a few kB
HEARTBEAT_SECONDS = 25.0
SESSION_CHECK_SECONDS = 30.0
CLOSE_POLICY = 1008  # WebSocket close code "policy violation"

# A request's start line ("INVITE sip:… SIP/2.0"); its From header's value; a display name
# in quotes (which may hold anything, "<sip:…>" included); a SIP URI's user part.
_REQUEST_LINE = re.compile(r"^[A-Z]+ \S+ SIP/2\.0\r?\n")
_FROM = re.compile(r"^(?:From|f)[ \t]*:([^\r\n]*)", re.IGNORECASE | re.MULTILINE)
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_URI_USER = re.compile(r"sips?:([^@;>\s]+)@", re.IGNORECASE)
_TO_TAG = re.compile(r"^(?:To|t)\s*:[^\r\n]*;\s*tag=", re.IGNORECASE | re.MULTILINE)

_numbers = itertools.count(1)


def claimed_user(message: str) -> str | None:
    """The From user of a SIP request, None for a response (or a keep-alive), and for a
    request within a dialog: the browser's BYE for a call it answered carries, as its From,
    the To that Asterisk's INVITE gave it (SIP.js's random contact user, not the extension),
    and Asterisk takes an in-dialog request only for a dialog it knows (481 otherwise). A
    REGISTER is never within a dialog, whatever its To says."""
    if not _REQUEST_LINE.match(message):
        return None
    head = message.split("\r\n\r\n", 1)[0]
    if not head.startswith("REGISTER ") and _TO_TAG.search(head):
        return None
    return _from_user(head)


def _from_user(head: str) -> str:
    """The user of the From URI: inside <…> when there are brackets (the display name before
    them says what it likes), else the addr-spec before its parameters. "" when unreadable."""
    found = _FROM.search(head)
    if found is None:
        return ""
    value = _QUOTED.sub('""', found.group(1))
    uri = value.split("<", 1)[1].split(">", 1)[0] if "<" in value else value.split(";", 1)[0]
    user = _URI_USER.match(uri.strip())
    return user.group(1) if user else ""


@dataclass(frozen=True)
class RelayTarget:
    url: str  # Asterisk's SIP WebSocket: ws://127.0.0.1:8088/ws
    http: aiohttp.ClientSession
    session_check_seconds: float = SESSION_CHECK_SECONDS


async def relay(
    request: web.Request,
    target: RelayTarget,
    extension: str,
    still_signed_in: Callable[[], Awaitable[bool]],
) -> web.WebSocketResponse:
    """Relay one browser's SIP WebSocket to Asterisk until either side closes."""
    number = next(_numbers)
    try:
        upstream = await target.http.ws_connect(
            target.url,
            protocols=(SUBPROTOCOL,),
            max_msg_size=MAX_MESSAGE,
            timeout=aiohttp.ClientWSTimeout(ws_close=5),
        )
    except (aiohttp.ClientError, OSError) as exc:
        log.error("phone relay: Asterisk's websocket unreachable", error=str(exc))
        raise web.HTTPServiceUnavailable(
            text="The phone system cannot be reached right now. Try again in a minute."
        ) from None
    browser = web.WebSocketResponse(
        protocols=(SUBPROTOCOL,), max_msg_size=MAX_MESSAGE, heartbeat=HEARTBEAT_SECONDS
    )
    try:
        await browser.prepare(request)
    except BaseException:
        await upstream.close()
        raise
    log.info("phone relay open", relay=number, extension=extension)
    tasks = [
        asyncio.create_task(
            _browser_to_asterisk(browser, upstream, extension), name=f"sip-relay-{number}-up"
        ),
        asyncio.create_task(
            _asterisk_to_browser(upstream, browser), name=f"sip-relay-{number}-down"
        ),
        asyncio.create_task(
            _while_signed_in(still_signed_in, target.session_check_seconds),
            name=f"sip-relay-{number}-session",
        ),
    ]
    reason = "closed"
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finished = next(iter(done))
        reason = "failed" if finished.exception() is not None else finished.result()
    finally:
        for task in tasks:
            await cancel_and_wait(task)
        code = CLOSE_POLICY if reason in ("signed out", "not yours") else aiohttp.WSCloseCode.OK
        with contextlib.suppress(Exception):
            await upstream.close()
        with contextlib.suppress(Exception):
            await browser.close(code=code, message=reason.encode())
        log.info("phone relay closed", relay=number, extension=extension, reason=reason)
    return browser


async def _browser_to_asterisk(
    browser: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse, extension: str
) -> str:
    async for message in browser:
        if message.type == aiohttp.WSMsgType.TEXT:
            claimed = claimed_user(message.data)
            if claimed is not None and claimed != extension:
                log.warning(
                    "phone relay: a request as another extension refused",
                    extension=extension,
                    claimed=claimed[:20],
                )
                return "not yours"
            await upstream.send_str(message.data)
        elif message.type == aiohttp.WSMsgType.BINARY:
            return "binary messages are not SIP"
        else:  # close, error
            break
    return "browser closed"


async def _asterisk_to_browser(
    upstream: aiohttp.ClientWebSocketResponse, browser: web.WebSocketResponse
) -> str:
    async for message in upstream:
        if message.type == aiohttp.WSMsgType.TEXT:
            await browser.send_str(message.data)
        else:
            break
    return "asterisk closed"


async def _while_signed_in(still_signed_in: Callable[[], Awaitable[bool]], every: float) -> str:
    await until_signed_out(still_signed_in, every)
    return "signed out"
