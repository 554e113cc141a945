"""A browser phone's way in: SIP over a secure WebSocket (what SIP.js speaks) to Asterisk's
TLS server, REGISTER with the password the app provisioned through ARI's dynamic
configuration (asterisk-config/sorcery.conf), as the `webrtc-phone` template expects; a
replaced or removed password no longer works."""

from __future__ import annotations

import hashlib
import re
import secrets
import ssl

import aiohttp
import asyncpg

from app.hotel.config import load_hotel_config
from app.main import build_phones
from app.pbx.sandbox import AsteriskSandbox
from app.settings import load_settings
from app.telephony.ari.client import AriClient
from app.telephony.phone_logins import AriPhoneLogins
from app.web.phone import add_phone_routes
from tests.live.running import ROOT
from tests.web_support import password_for, seed_users, serving, sign_in, staff_app

HOST = "frontdesk-browser.invalid"  # what SIP.js puts in Via/Contact: a name that resolves nowhere


def _register(extension: str, cseq: int, call_id: str, tag: str, auth: str = "") -> str:
    lines = [
        "REGISTER sip:127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/WSS {HOST};branch=z9hG4bK{secrets.token_hex(6)}",
        "Max-Forwards: 70",
        f"To: <sip:{extension}@127.0.0.1>",
        f"From: <sip:{extension}@127.0.0.1>;tag={tag}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:{extension}@{HOST};transport=ws>;expires=300",
        "Expires: 300",
        *([auth] if auth else []),
        "User-Agent: frontdesk-live-test",
        "Content-Length: 0",
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


def _digest(challenge: str, extension: str, password: str) -> str:
    fields = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge))
    realm, nonce = fields["realm"], fields["nonce"]
    uri = "sip:127.0.0.1"
    ha1 = hashlib.md5(f"{extension}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
    cnonce, nc = secrets.token_hex(8), "00000001"
    response = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    opaque = f', opaque="{fields["opaque"]}"' if "opaque" in fields else ""
    return (
        f'Authorization: Digest username="{extension}", realm="{realm}", nonce="{nonce}", '
        f'uri="{uri}", response="{response}", algorithm=MD5, cnonce="{cnonce}", qop=auth, '
        f"nc={nc}{opaque}"
    )


async def _exchange(ws: aiohttp.ClientWebSocketResponse, request: str) -> str:
    await ws.send_str(request)
    while True:
        message = await ws.receive(timeout=10)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        # A response to us, not "Trying", and not a request of Asterisk's own: once a contact
        # registers, its qualify OPTIONS can arrive before the REGISTER's 200.
        if message.data.startswith("SIP/2.0 ") and not message.data.startswith("SIP/2.0 100"):
            return str(message.data)


async def _register_with(
    ws: aiohttp.ClientWebSocketResponse, call_id: str, tag: str, cseq: int, password: str
) -> str:
    challenge = await _exchange(ws, _register("2002", cseq, call_id, tag))
    if not challenge.startswith("SIP/2.0 401"):
        return challenge
    header = next(h for h in challenge.split("\r\n") if h.startswith("WWW-Authenticate"))
    return await _exchange(
        ws, _register("2002", cseq + 1, call_id, tag, _digest(header, "2002", password))
    )


async def test_a_browser_phone_registers_with_the_password_the_app_provisioned(
    pbx: AsteriskSandbox,
) -> None:
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE  # the sandbox's self-signed certificate
    url = f"wss://127.0.0.1:{pbx.ports.https}/ws"
    call_id, tag = secrets.token_hex(8), secrets.token_hex(4)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, protocols=("sip",), ssl=insecure) as ws,
    ):
        assert ws.protocol == "sip"
        logins = AriPhoneLogins(AriClient(http, pbx.ari_url, pbx.ari_user, pbx.ari_password))
        # before the app provisions it, extension 2002 has no password at all
        refused = await _register_with(ws, call_id, tag, 1, "anything")
        assert not refused.startswith("SIP/2.0 200"), refused
        login = await logins.issue("2002")
        wrong = await _register_with(ws, call_id, tag, 3, "not-it")
        assert not wrong.startswith("SIP/2.0 200"), wrong
        ok = await _register_with(ws, call_id, tag, 5, login.password)
        assert ok.startswith("SIP/2.0 200"), ok
        contacts = pbx.cli("pjsip show contacts")
        assert f"2002/sip:2002@{HOST}" in contacts or "2002/sip:2002@127.0.0.1" in contacts, (
            contacts
        )
        # a desk phone's password is the file's: the app cannot provision one through ARI
        assert "2001" in pbx.cli("pjsip show auths")
        # the app restarted: at start-up it removes what its previous run provisioned
        restarted = AriPhoneLogins(AriClient(http, pbx.ari_url, pbx.ari_user, pbx.ari_password))
        await restarted.forget(["2002"])
        gone = await _register_with(ws, call_id, tag, 7, login.password)
        assert not gone.startswith("SIP/2.0 200"), gone


def _forged(method: str, as_extension: str, call_id: str) -> str:
    """A request within a dialog (its To has a tag) sent as another extension: the relay lets
    it through whatever its From says (app/web/sip_relay.py, claimed_user)."""
    lines = [
        f"{method} sip:2500@127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/WSS {HOST};branch=z9hG4bK{secrets.token_hex(6)}",
        "Max-Forwards: 70",
        f"To: <sip:2500@127.0.0.1>;tag={secrets.token_hex(4)}",
        f"From: <sip:{as_extension}@127.0.0.1>;tag={secrets.token_hex(4)}",
        f"Call-ID: {call_id}",
        f"CSeq: 2 {method}",
        f"Contact: <sip:{as_extension}@{HOST};transport=ws>",
        "User-Agent: frontdesk-live-test",
        "Content-Length: 0",
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


async def test_a_request_forged_within_a_dialog_through_the_relay_reaches_nothing(
    pbx: AsteriskSandbox, pool: asyncpg.Pool
) -> None:
    """The relay's claim attacked: Asterisk takes an in-dialog request only for a dialog it
    knows (481 otherwise), so the From check can spare those requests. Staff with extension
    2002, registered through the app's /ws, forge an INVITE, a BYE and a REFER within made-up
    dialogs as extension 2003: each is answered 481, no channel appears, and 2002's phone is
    still registered."""
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    staff = (await seed_users(pool))["staff"]
    settings = load_settings(
        asterisk_ari_url=pbx.ari_url,
        asterisk_ari_user=pbx.ari_user,
        asterisk_ari_password=pbx.ari_password,
        asterisk_ws_url=f"ws://127.0.0.1:{pbx.ports.http}/ws",
    )
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        phones = build_phones(settings, hotel, http)
        app = staff_app(pool, lambda app: add_phone_routes(app, phones.setup))
        async with serving(app) as base:
            await sign_in(http, base, staff.email, password_for("staff"))
            async with http.get(
                f"{base}/phone/config", headers={"Accept": "application/json"}
            ) as response:
                assert response.status == 200
                login = await response.json()
            assert login["extension"] == "2002"
            async with http.ws_connect(
                f"{base}/ws", protocols=("sip",), headers={"Origin": base}
            ) as ws:
                call_id, tag = secrets.token_hex(8), secrets.token_hex(4)
                ok = await _register_with(ws, call_id, tag, 1, login["password"])
                assert ok.startswith("SIP/2.0 200"), ok
                for method in ("INVITE", "BYE", "REFER"):
                    answer = await _exchange(ws, _forged(method, "2003", secrets.token_hex(8)))
                    assert answer.startswith("SIP/2.0 481"), f"{method}: {answer}"
                    assert not ws.closed  # spared by the relay: Asterisk said no
                channels = pbx.cli("core show channels concise")
                assert "!" not in channels, channels
                assert "2002/sip:2002@" in pbx.cli("pjsip show contacts")
        # the next test finds 2002 as Asterisk started: without a password
        ari = AriClient(http, pbx.ari_url, pbx.ari_user, pbx.ari_password)
        await AriPhoneLogins(ari).forget(["2002"])
