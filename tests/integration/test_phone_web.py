"""The browser phone's server side over real HTTP and WebSockets: /phone/config per role, the
/ws relay to a stand-in Asterisk, and the refusals the relay promises (no session, another
site's Origin, no extension, SIP as someone else, a session that ends)."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from app.calls.call_log import CallLog
from app.calls.write_behind import WriteBehind
from app.hotel.config import load_hotel_config
from app.main import build_telephony, taking_calls
from app.settings import load_settings
from app.storage.calls_repo import CallRepository
from app.storage.errors import is_transient
from app.storage.users_repo import SessionRepository
from app.telephony.ari.client import AriClient
from app.web.turn import IceSettings
from tests.fakes.ari import FakeAri
from tests.phone_rig import PhoneRig, free_port, phone_rig

ROOT = Path(__file__).resolve().parents[2]

REGISTER = (
    "REGISTER sip:frontdesk SIP/2.0\r\n"
    "Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1\r\n"
    "From: <sip:{ext}@frontdesk>;tag=1\r\n"
    "To: <sip:{ext}@frontdesk>\r\n"
    "Call-ID: c1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
)


@pytest.fixture
async def rig(pool: asyncpg.Pool) -> AsyncIterator[PhoneRig]:
    async with phone_rig(pool, session_check_seconds=0.2) as rig:
        yield rig


def _phone_socket(rig: PhoneRig, token: str | None, origin: str | None = None) -> Any:
    """The browser phone's WebSocket to /ws: its session cookie (if any) and its page's Origin."""
    headers = {"Origin": origin or rig.url}
    if token:
        headers.update(rig.cookies(token))
    return rig.http.ws_connect(f"{rig.url}/ws", protocols=("sip",), headers=headers)


async def _config(rig: PhoneRig, token: str | None) -> aiohttp.ClientResponse:
    headers = {"Accept": "application/json", **(rig.cookies(token) if token else {})}
    async with rig.http.get(f"{rig.url}/phone/config", headers=headers) as response:
        await response.read()
        return response


# --- the relay ------------------------------------------------------------------------------
async def test_the_relay_carries_sip_both_ways_for_a_signed_in_member_of_staff(
    rig: PhoneRig,
) -> None:
    rig.asterisk.greeting = (
        "OPTIONS sip:2002@abc.invalid SIP/2.0\r\nFrom: <sip:frontdesk@x>\r\n\r\n"
    )
    token = await rig.sign_in(await rig.user("staff", "2002"))
    async with _phone_socket(rig, token) as ws:
        assert ws.protocol == "sip"
        first = await ws.receive_str(timeout=5)  # Asterisk's own request reaches the browser
        assert first.startswith("OPTIONS sip:2002@abc.invalid")
        await ws.send_str(REGISTER.format(ext="2002"))
        echoed = await ws.receive_str(timeout=5)
        assert echoed == REGISTER.format(ext="2002")
    assert rig.asterisk.received == [REGISTER.format(ext="2002")]


async def test_closing_the_browser_closes_asterisks_side_and_ends_the_relays_tasks(
    rig: PhoneRig,
) -> None:
    token = await rig.sign_in(await rig.user("manager", "2002"))
    async with _phone_socket(rig, token) as ws:
        await ws.send_str(REGISTER.format(ext="2002"))
        await ws.receive_str(timeout=5)
        assert any(t.get_name().startswith("sip-relay-") for t in asyncio.all_tasks())
    for _ in range(100):
        if rig.asterisk.closed == 1 and not any(
            t.get_name().startswith("sip-relay-") for t in asyncio.all_tasks()
        ):
            break
        await asyncio.sleep(0.05)
    assert rig.asterisk.closed == 1
    assert not [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("sip-relay-")]


async def test_asterisk_going_away_closes_the_browsers_socket(rig: PhoneRig) -> None:
    token = await rig.sign_in(await rig.user("admin", "2003"))
    async with _phone_socket(rig, token) as ws:
        await ws.send_str(REGISTER.format(ext="2003"))
        await ws.receive_str(timeout=5)
        await rig.asterisk.drop_connections()
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_the_relay_refuses_a_browser_without_a_session(rig: PhoneRig) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await _phone_socket(rig, None)
    assert refused.value.status == 401
    assert rig.asterisk.received == [] and rig.asterisk.closed == 0


async def test_the_relay_refuses_a_page_of_another_site(rig: PhoneRig) -> None:
    """Cross-site WebSocket hijacking: the browser sends the cookie, the Origin gives it away."""
    token = await rig.sign_in(await rig.user("staff", "2002"))
    for origin in ("https://evil.example", "null", f"http://{rig.host}.evil.example"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await _phone_socket(rig, token, origin)
        assert refused.value.status == 403, origin
    assert rig.asterisk.closed == 0  # Asterisk never saw a connection


async def test_the_relay_refuses_a_user_without_an_extension(rig: PhoneRig) -> None:
    token = await rig.sign_in(await rig.user("manager", None))
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await _phone_socket(rig, token)
    assert refused.value.status == 403


async def test_sip_sent_as_another_extension_is_not_forwarded(rig: PhoneRig) -> None:
    token = await rig.sign_in(await rig.user("staff", "2002"))
    async with _phone_socket(rig, token) as ws:
        await ws.send_str(REGISTER.format(ext="2003"))  # 2003 is someone else's phone
        message = await ws.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 1008
    assert rig.asterisk.received == []


async def test_signing_out_ends_the_phones_connection(rig: PhoneRig) -> None:
    token = await rig.sign_in(await rig.user("staff", "2002"))
    async with _phone_socket(rig, token) as ws:
        await ws.send_str(REGISTER.format(ext="2002"))
        await ws.receive_str(timeout=5)
        await SessionRepository(rig.pool).end(token)
        message = await ws.receive(timeout=5)  # within a session check (0.2 s here)
        assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 1008
        assert message.extra == "signed out"


async def test_an_unreachable_asterisk_is_a_clear_503(pool: asyncpg.Pool) -> None:
    async with phone_rig(pool, relay_url=f"ws://127.0.0.1:{free_port()}/ws") as rig:
        token = await rig.sign_in(await rig.user("staff", "2002"))
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await _phone_socket(rig, token)
        assert refused.value.status == 503


# --- /phone/config ----------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["staff", "manager", "admin"])
async def test_each_role_gets_a_login_for_its_own_extension_never_cached(
    rig: PhoneRig, role: str
) -> None:
    user = await rig.user(role, "2002", name="Dana Desk")  # type: ignore[arg-type]
    token = await rig.sign_in(user)
    headers = {"Accept": "application/json", **rig.cookies(token)}
    async with rig.http.get(f"{rig.url}/phone/config", headers=headers) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        body = await response.json()
    assert body["extension"] == "2002" and body["authorization_user"] == "2002"
    assert body["sip_uri"] == "sip:2002@frontdesk" and body["display_name"] == "Dana Desk"
    assert body["ws_url"] == f"ws://{rig.host}/ws"  # the app's own origin, never Asterisk's
    # the password the browser gets is the one Asterisk was given, and a long random one
    assert rig.asterisk.auths["2002"] == {
        "auth_type": "digest",
        "username": "2002",
        "password": body["password"],
    }
    assert len(body["password"]) >= 24
    assert 3000 < body["expires_in"] <= 3600
    assert body["speed_dials"][0] == {"label": "AI receptionist", "number": "2500"}


async def test_the_same_login_is_shared_while_fresh(rig: PhoneRig) -> None:
    token = await rig.sign_in(await rig.user("staff", "2003"))
    headers = {"Accept": "application/json", **rig.cookies(token)}
    passwords = []
    for _ in range(2):
        async with rig.http.get(f"{rig.url}/phone/config", headers=headers) as response:
            passwords.append((await response.json())["password"])
    assert passwords[0] == passwords[1] == rig.asterisk.auths["2003"]["password"]


async def test_without_a_session_there_is_no_login(rig: PhoneRig) -> None:
    response = await _config(rig, None)
    assert response.status == 401
    assert rig.asterisk.auths == {}


async def test_a_user_without_an_extension_is_told_so(rig: PhoneRig) -> None:
    token = await rig.sign_in(await rig.user("manager", None))
    headers = {"Accept": "application/json", **rig.cookies(token)}
    async with rig.http.get(f"{rig.url}/phone/config", headers=headers) as response:
        assert response.status == 409 and response.headers["Cache-Control"] == "no-store"
        body = await response.json()
    assert body["error"] == "no_extension" and "Ask your administrator" in body["message"]


async def test_a_desk_phone_extension_gets_no_browser_login(rig: PhoneRig) -> None:
    token = await rig.sign_in(await rig.user("staff", "2001"))
    headers = {"Accept": "application/json", **rig.cookies(token)}
    async with rig.http.get(f"{rig.url}/phone/config", headers=headers) as response:
        assert response.status == 409
        body = await response.json()
    assert body["error"] == "not_a_browser_phone" and "desk phone" in body["message"]
    assert "2001" not in rig.asterisk.auths


async def test_the_phone_system_down_is_a_503_with_words(rig: PhoneRig) -> None:
    rig.asterisk.ari_up = False
    token = await rig.sign_in(await rig.user("staff", "2002"))
    headers = {"Accept": "application/json", **rig.cookies(token)}
    async with rig.http.get(f"{rig.url}/phone/config", headers=headers) as response:
        assert response.status == 503
        body = await response.json()
    assert body["error"] == "phone_system_unavailable" and "Try again" in body["message"]


async def test_turn_credentials_come_with_the_login(pool: asyncpg.Pool) -> None:
    ice = IceSettings(
        turn_urls=("turn:turn.hotel.example:3478?transport=udp",),
        stun_urls=("stun:stun.hotel.example:3478",),
        turn_secret="a-shared-secret-of-coturn",
        ttl_seconds=3600,
    )
    async with phone_rig(pool, ice=ice) as rig:
        token = await rig.sign_in(await rig.user("staff", "2002"))
        headers = {"Accept": "application/json", **rig.cookies(token)}
        before = int(time.time())
        async with rig.http.get(f"{rig.url}/phone/config", headers=headers) as response:
            body = await response.json()
    turn, stun = body["ice_servers"]
    assert turn["urls"] == ["turn:turn.hotel.example:3478?transport=udp"]
    expiry, user = turn["username"].split(":", 1)
    assert user == "ext2002" and before + 3600 <= int(expiry) <= int(time.time()) + 3600
    # coturn's check, done by openssl: base64(HMAC-SHA1(secret, username))
    digest = subprocess.run(
        ["openssl", "dgst", "-sha1", "-hmac", "a-shared-secret-of-coturn", "-binary"],
        input=turn["username"].encode(),
        capture_output=True,
        check=True,
    ).stdout
    assert turn["credential"] == base64.b64encode(digest).decode()
    assert stun == {"urls": ["stun:stun.hotel.example:3478"]}
    assert "a-shared-secret-of-coturn" not in str(body)


async def test_the_phone_page_needs_a_session_and_is_not_cached(rig: PhoneRig) -> None:
    async with rig.http.get(
        f"{rig.url}/phone", headers={"Accept": "text/html"}, allow_redirects=False
    ) as response:
        assert response.status == 303
        assert response.headers["Location"].startswith("/login?next=%2Fphone")
    token = await rig.sign_in(await rig.user("staff", None))
    async with rig.http.get(f"{rig.url}/phone", headers=rig.cookies(token)) as response:
        assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
        page = await response.text()
    assert "You have no phone extension" in page and "/static/build/phone.js" not in page


BYE = (
    "BYE sip:asterisk@127.0.0.1:8088;transport=ws SIP/2.0\r\n"
    "Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK2\r\n"
    "From: <sip:q8v2k1m3@abc.invalid>;tag=b1\r\n"  # the To of Asterisk's INVITE: SIP.js's contact
    "To: <sip:2003@127.0.0.1>;tag=a1\r\n"
    "Call-ID: c2\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
)


async def test_the_browser_hangs_up_a_call_it_answered(rig: PhoneRig) -> None:
    """The BYE of a call the browser phone answered is within a dialog: its From is the
    contact Asterisk called, not the extension, and it must reach Asterisk (it was refused as
    'another extension', and the call never ended)."""
    token = await rig.sign_in(await rig.user("staff", "2002"))
    async with _phone_socket(rig, token) as ws:
        await ws.send_str(BYE)
        assert await ws.receive_str(timeout=5)  # the stand-in Asterisk answered it
    assert any(m.startswith("BYE ") for m in rig.asterisk.received)


async def test_a_register_with_a_to_tag_is_still_checked(rig: PhoneRig) -> None:
    token = await rig.sign_in(await rig.user("staff", "2002"))
    async with _phone_socket(rig, token) as ws:
        await ws.send_str(
            REGISTER.format(ext="2003").replace("@frontdesk>\r\nCall", "@frontdesk>;tag=x\r\nCall")
        )
        message = await ws.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 1008
    assert rig.asterisk.received == []


async def test_a_restarted_asterisk_gets_the_browser_logins_back_when_ari_reconnects(
    rig: PhoneRig, pool: asyncpg.Pool
) -> None:
    """Browser phones' passwords live only in Asterisk's memory: after Asterisk restarts the
    app still hands out the cached one, so without `restore` every REGISTER gets a 401 until
    the login is half expired. `frontdesk run` restores them when ARI's events reconnect."""
    token = await rig.sign_in(await rig.user("staff", "2002"))
    async with rig.http.get(
        f"{rig.url}/phone/config", headers={"Accept": "application/json", **rig.cookies(token)}
    ) as response:
        password = (await response.json())["password"]
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    events = FakeAri(rtp_address=("127.0.0.1", 9))
    url = await events.start()
    settings = load_settings(asterisk_ari_url=url, asterisk_ari_password="secret")
    async with aiohttp.ClientSession() as http:
        client = AriClient(http, url, "frontdesk", "secret")
        stasis = build_telephony(
            settings, hotel, client, CallLog(CallRepository(pool), WriteBehind(is_transient))
        )
        async with taking_calls(
            settings, stasis, client, http, on_reconnect=rig.logins.restore
        ) as calls:
            await asyncio.wait_for(calls.events.connected.wait(), 5)
            rig.asterisk.auths.clear()  # Asterisk restarted: its in-memory auths are gone
            await events.drop_websockets()
            async with asyncio.timeout(10):
                while "2002" not in rig.asterisk.auths:
                    await asyncio.sleep(0.05)
    await events.stop()
    assert rig.asterisk.auths["2002"]["password"] == password  # the one the phone still has
    async with rig.http.get(
        f"{rig.url}/phone/config", headers={"Accept": "application/json", **rig.cookies(token)}
    ) as response:
        assert (await response.json())["password"] == password
