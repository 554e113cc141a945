"""The browser phone's test rig: the app's web server with sign-in and the phone routes on a
real port, real PostgreSQL behind the sessions, and a stand-in Asterisk on another real port
(ARI's dynamic configuration for the SIP logins; a SIP WebSocket that echoes or plays a
minimal registrar). The live suite uses a real Asterisk instead (tests/live/)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import re
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

import aiohttp
import asyncpg
from aiohttp import web

from app.main import Phones
from app.staff.passwords import hash_password
from app.staff.signin import SignIn
from app.staff.users import NewUser, Role, User
from app.storage.users_repo import SessionRepository, UserRepository
from app.telephony.ari.client import AriClient
from app.telephony.phone_logins import AriPhoneLogins
from app.web.app import create_app
from app.web.auth import SESSION_COOKIE, AuthConfig
from app.web.phone import PhoneSetup, add_phone_routes
from app.web.sip_relay import RelayTarget
from app.web.turn import IceSettings

ARI_USER, ARI_PASSWORD = "frontdesk", "fake-ari-password"
BROWSER_PHONES = ("2002", "2003")
DESK_PHONES = ("2001",)
_PASSWORD_HASH: str | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _header(message: str, name: str) -> str:
    found = re.search(rf"^{name}\s*:\s*(.*?)\r?$", message, re.IGNORECASE | re.MULTILINE)
    return found.group(1) if found else ""


def sip_response(request: str, code: int, reason: str, extra: tuple[str, ...] = ()) -> str:
    """A response to a SIP request, with its Via, From, To (tagged), Call-ID and CSeq."""
    to = _header(request, "To")
    if ";tag=" not in to:
        to += f";tag={secrets.token_hex(4)}"
    lines = [
        f"SIP/2.0 {code} {reason}",
        *[f"Via: {v}" for v in re.findall(r"^Via\s*:\s*(.*?)\r?$", request, re.MULTILINE)],
        f"From: {_header(request, 'From')}",
        f"To: {to}",
        f"Call-ID: {_header(request, 'Call-ID')}",
        f"CSeq: {_header(request, 'CSeq')}",
        *extra,
        "Content-Length: 0",
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


@dataclass
class FakeAsterisk:
    """ARI (dynamic config) and a SIP WebSocket. `mode`: "echo" sends every message back;
    "registrar" answers REGISTER with `register_code` and INVITE with `invite_code`."""

    mode: Literal["echo", "registrar"] = "echo"
    register_code: int = 200
    invite_code: int = 403
    greeting: str | None = None  # sent to every new SIP WebSocket first (as a qualify would be)
    auths: dict[str, dict[str, str]] = field(default_factory=dict)
    received: list[str] = field(default_factory=list)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    closed: int = 0
    authenticated: list[str] = field(default_factory=list)  # digest logins that matched
    ari_up: bool = True
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def ari_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ari"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route(
            "*", "/ari/asterisk/config/dynamic/res_pjsip/{type}/{id}", self._config
        )
        app.router.add_get("/ws", self._ws)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def drop_connections(self) -> None:
        """As an Asterisk restart does: every SIP WebSocket goes."""
        for ws in list(self.sockets):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)

    async def _config(self, request: web.Request) -> web.Response:
        if not self.ari_up:
            return web.json_response({"message": "Service Unavailable"}, status=503)
        if request.headers.get("Authorization") is None:
            return web.json_response({"message": "Authentication required"}, status=401)
        kind, ident = request.match_info["type"], request.match_info["id"]
        if kind == "endpoint":
            if ident in BROWSER_PHONES:
                return web.json_response([{"attribute": "webrtc", "value": "yes"}])
            if ident in DESK_PHONES:
                return web.json_response([{"attribute": "webrtc", "value": "no"}])
            return web.json_response({"message": f"Object with id '{ident}' not found"}, status=404)
        if request.method == "PUT":
            body = await request.json()
            self.auths[ident] = {f["attribute"]: f["value"] for f in body["fields"]}
            return web.json_response(body["fields"])
        if request.method == "DELETE":
            if self.auths.pop(ident, None) is None:
                return web.json_response({"message": "not found"}, status=404)
            return web.Response(status=204)
        return web.json_response({"message": "unexpected"}, status=400)

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("sip",))
        await ws.prepare(request)
        self.sockets.append(ws)
        try:
            if self.greeting:
                await ws.send_str(self.greeting)
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                self.received.append(message.data)
                if self.mode == "echo":
                    await ws.send_str(message.data)
                else:
                    await self._answer(ws, message.data)
        finally:
            self.sockets.remove(ws)
            self.closed += 1
        return ws

    def _digest_ok(self, message: str) -> bool:
        """The REGISTER's digest answer, checked against the password ARI was given."""
        header = _header(message, "Authorization")
        if not header.startswith("Digest "):
            return False
        fields = dict(re.findall(r'(\w+)="?([^",]+)"?', header))
        password = self.auths.get(fields.get("username", ""), {}).get("password")
        if password is None:
            return False

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        ha1 = md5(f"{fields['username']}:{fields['realm']}:{password}")
        ha2 = md5(f"REGISTER:{fields['uri']}")
        expected = md5(f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
        if fields.get("response") == expected:
            self.authenticated.append(fields["username"])
            return True
        return False

    async def _answer(self, ws: web.WebSocketResponse, message: str) -> None:
        method = message.split(" ", 1)[0]
        if method == "REGISTER":
            if self.register_code == 200 and not self._digest_ok(message):
                challenge = f'WWW-Authenticate: Digest realm="frontdesk", nonce="{secrets.token_hex(8)}", qop="auth", algorithm=MD5'
                await ws.send_str(sip_response(message, 401, "Unauthorized", (challenge,)))
            elif self.register_code == 200:
                contact = _header(message, "Contact").split(";expires", 1)[0]
                await ws.send_str(
                    sip_response(message, 200, "OK", (f"Contact: {contact};expires=600",))
                )
            else:
                await ws.send_str(sip_response(message, self.register_code, "Forbidden"))
        elif method == "INVITE":
            await ws.send_str(sip_response(message, 100, "Trying"))
            await ws.send_str(sip_response(message, self.invite_code, "Forbidden"))
        elif method == "OPTIONS":
            await ws.send_str(sip_response(message, 200, "OK"))
        # ACKs, BYEs and responses need nothing here


@dataclass
class PhoneRig:
    pool: asyncpg.Pool
    asterisk: FakeAsterisk
    url: str
    logins: AriPhoneLogins
    http: aiohttp.ClientSession

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    async def user(
        self, role: Role = "staff", extension: str | None = "2002", name: str = "Dana Desk"
    ) -> User:
        global _PASSWORD_HASH  # noqa: PLW0603
        if _PASSWORD_HASH is None:
            _PASSWORD_HASH = await asyncio.to_thread(hash_password, "correct horse battery")
        email = f"{role}-{secrets.token_hex(3)}@hotel.example"
        new = NewUser(email, name, role, _PASSWORD_HASH, None, extension)
        return await UserRepository(self.pool).add(new, actor="test")

    async def sign_in(self, user: User) -> str:
        """A session cookie's token for this user, as /login would set it."""
        session = await SessionRepository(self.pool).start(user.id, dt.timedelta(hours=1))
        return session.token

    async def sign_out(self, token: str) -> None:
        """POST /logout with the session's cookie and CSRF token, as the page's button does."""
        session = await SessionRepository(self.pool).find(token)
        assert session is not None
        async with self.http.post(
            f"{self.url}/logout",
            data={"csrf_token": session.csrf_token},
            headers={"Origin": self.url, **self.cookies(token)},
            allow_redirects=False,
        ) as response:
            assert response.status == 303, response.status

    def cookies(self, token: str) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={token}"}


@contextlib.asynccontextmanager
async def phone_rig(
    pool: asyncpg.Pool,
    asterisk: FakeAsterisk | None = None,
    *,
    session_check_seconds: float = 30.0,
    ice: IceSettings | None = None,
    relay_url: str | None = None,
) -> AsyncIterator[PhoneRig]:
    fake = asterisk or FakeAsterisk()
    await fake.start()
    async with aiohttp.ClientSession() as http:
        client = AriClient(http, fake.ari_url, ARI_USER, ARI_PASSWORD)
        logins = AriPhoneLogins(client)
        setup = PhoneSetup(
            logins,
            RelayTarget(relay_url or fake.ws_url, http, session_check_seconds),
            ice or IceSettings(),
        )
        # wired as the composition root wires them: a last sign-out revokes the phone's login
        phones = Phones(setup, None, logins.restore, logins.revoke)
        auth = AuthConfig(
            signin=SignIn(UserRepository(pool)),
            sessions=SessionRepository(pool),
            session_hours=1,
            secure_cookies=False,
            signed_out=phones.signed_out,
        )
        app = create_app([], auth=auth)
        add_phone_routes(app, setup)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield PhoneRig(pool, fake, f"http://127.0.0.1:{port}", logins, http)
        finally:
            await runner.cleanup()
            await fake.stop()
