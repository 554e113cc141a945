"""The console over real HTTP and WebSockets, signed in for real, with calls driven through the
Stasis app and the recorded-ARI fake, and PostgreSQL behind it all."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import asyncpg
import pytest

from app.calls.live import LiveCalls
from app.calls.records import CallState, Direction, NewCall, TurnRole
from app.staff.directory import StaffDirectory
from app.staff.passwords import hash_password
from app.staff.users import NewUser, Role
from app.storage.calls_repo import CallRepository
from app.storage.console_audit import ConsoleAudit
from app.storage.users_repo import UserRepository
from app.telephony.call_control import StasisCallControl
from app.telephony.call_services import CallLimits
from app.web.console import add_console_routes
from tests.fakes.ari import FakeCall
from tests.integration.test_stasis_calls import Rig, _call_row, _until, rig
from tests.web_support import SeededUser, password_for, seed_users, serving, sign_in, staff_app

__all__ = ["rig"]

PINECREST_NUMBER = "+15550100200"


@dataclass
class Console:
    base: str
    rig: Rig
    users: dict[str, SeededUser]

    @property
    def live(self) -> LiveCalls:
        return self.rig.app.services.call_log.live

    @contextlib.asynccontextmanager
    async def signed_in(self, who: str) -> AsyncIterator[aiohttp.ClientSession]:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            user = self.users[who]
            answer = await sign_in(http, self.base, user.email, user.password)
            assert answer.status == 303, await answer.text()
            yield http

    async def csrf(self, http: aiohttp.ClientSession) -> str:
        async with http.get(f"{self.base}/console") as page:
            assert page.status == 200
            found = re.search(r'<meta name="csrf-token" content="([^"]+)">', await page.text())
        assert found is not None
        return found.group(1)

    def feed(self, http: aiohttp.ClientSession) -> Any:
        return http.ws_connect(f"{self.base}/console/ws", origin=self.base)

    async def act(
        self, http: aiohttp.ClientSession, call_id: object, action: str, token: str | None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["X-CSRF-Token"] = token
        async with http.post(
            f"{self.base}/console/calls/{call_id}/{action}", headers=headers
        ) as answer:
            return answer.status, await answer.json(content_type=None)


@pytest.fixture
async def console(rig: Rig, pool: asyncpg.Pool) -> AsyncIterator[Console]:
    rig.app.services = replace(
        rig.app.services,
        limits=CallLimits(rtp_inactivity=30.0, max_duration=60.0, staff_ring_seconds=1),
    )
    users: dict[str, SeededUser] = dict(await seed_users(pool))
    lodge = await StaffDirectory(UserRepository(pool)).add(
        "desk@pinecrest.example",
        "Pat Pinecrest",
        "staff",
        password_for("staff"),
        actor="test",
        property_id="pinecrest",
        extension="4100",
    )
    users["pinecrest"] = SeededUser(lodge, "desk@pinecrest.example", password_for("staff"))
    group = await StaffDirectory(UserRepository(pool)).add(
        "ops@hotels.example", "Gus Group", "manager", password_for("manager"), actor="test"
    )
    users["group"] = SeededUser(group, "ops@hotels.example", password_for("manager"))
    # a member of staff of no property, as a row from before `users add` refused them
    hashed = hash_password(password_for("staff"))
    nowhere = await UserRepository(pool).add(
        NewUser("drifter@hotels.example", "Dee Drifter", "staff", hashed, None, "2009"), "test"
    )
    users["nowhere"] = SeededUser(nowhere, "drifter@hotels.example", password_for("staff"))
    live = rig.app.services.call_log.live
    app = staff_app(
        pool,
        lambda app: add_console_routes(
            app,
            live,
            CallRepository(pool),
            StasisCallControl(rig.app),
            ConsoleAudit(pool),
            session_recheck=0.2,
        ),
    )
    async with serving(app) as base:
        yield Console(base, rig, users)


async def _next(
    ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = 5
) -> dict[str, Any]:
    """The next message of that type (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.receive_str())
            if message["type"] == kind:
                return message


async def _up(console: Console, exten: str = "+15550100100") -> FakeCall:
    fake = await console.rig.fake.incoming_call(["echo"], exten=exten)
    await _until(
        lambda: fake.bridge_id and len(console.rig.fake.bridges.get(fake.bridge_id, [])) == 2
    )
    await _until(lambda: all(c.ready for c in console.rig.app.calls))
    return fake


async def test_the_feed_sends_a_snapshot_then_each_calls_events_and_transcript(
    console: Console,
) -> None:
    async with console.signed_in("staff") as http, console.feed(http) as ws:
        first = await _next(ws, "snapshot")
        assert first["calls"] == [] and first["transcripts"] == {}
        fake = await console.rig.fake.incoming_call(["echo"], caller="+14155550123")
        started = await _next(ws, "call_started")
        assert started["call"]["caller"] == "+*******0123"  # masked, never the number
        assert "+14155550123" not in json.dumps(started)
        assert started["call"]["property_id"] == "harborview"
        changed = await _next(ws, "call_changed")
        while changed["call"]["state"] != "with_agent":
            changed = await _next(ws, "call_changed")
        await _until(lambda: fake.bridge_id and len(console.rig.fake.bridges[fake.bridge_id]) == 2)
        await console.rig.fake.press(fake, "1")
        await console.rig.fake.press(fake, "2")
        line = await _next(ws, "transcript", timeout=6)  # the keys, once the caller pauses
        assert line["speaker"] == "dtmf" and line["text"] == "1 2"
        assert line["call_id"] == started["call"]["id"]
        await console.rig.fake.caller_hangs_up(fake)
        ended = await _next(ws, "call_ended")
        assert ended["call_id"] == started["call"]["id"] and ended["reason"] == "caller_hangup"


async def test_a_console_opened_mid_call_gets_the_call_and_its_transcript_so_far(
    console: Console,
) -> None:
    fake = await _up(console)
    [call] = console.rig.app.calls
    console.live.line(call.session.id, TurnRole.AGENT, "Harborview Hotel, this is Ava.")
    async with console.signed_in("manager") as http, console.feed(http) as ws:
        snapshot = await _next(ws, "snapshot")
    [listed] = snapshot["calls"]
    assert listed["id"] == str(call.session.id) and listed["state"] == "with_agent"
    [said] = snapshot["transcripts"][listed["id"]]
    assert said["speaker"] == "agent" and said["text"] == "Harborview Hotel, this is Ava."
    await console.rig.fake.caller_hangs_up(fake)


async def test_taking_a_call_over_from_the_console(console: Console, pool: asyncpg.Pool) -> None:
    console.rig.fake.staff_phones["2002"] = "answers"  # the staff member's phone
    fake = await _up(console)
    [call] = console.rig.app.calls
    async with console.signed_in("staff") as http, console.feed(http) as ws:
        await _next(ws, "snapshot")
        token = await console.csrf(http)
        status, body = await console.act(http, call.session.id, "takeover", token)
        assert (status, body) == (200, {"ok": True, "message": "The caller is on your phone now."})
        changed = await _next(ws, "call_changed")
        while changed["call"]["state"] != "with_staff":
            changed = await _next(ws, "call_changed")
        assert changed["call"]["staff"] == "2002" and changed["call"]["activity"] is None
        assert not fake.media_in_stasis and console.rig.app.ports.in_use == 0
        leg = console.rig.fake.staff_leg("2002")
        assert leg is not None
        await console.rig.fake.staff_hangs_up(leg.id)
        ended = await _next(ws, "call_ended")
        assert ended["outcome"] == "taken_over"
        row = await _call_row(pool, fake.caller_id)
        async with http.get(
            f"{console.base}/console/calls", headers={"Accept": "application/json"}
        ) as page:
            recent = await page.json()
    [listed] = recent["calls"]
    assert listed["id"] == str(row["id"]) and listed["outcome"] == "taken_over"
    assert "Taken over by staff at extension 2002." in listed["summary"]
    audit = await pool.fetchrow("SELECT * FROM audit_log WHERE action = 'console.takeover'")
    assert audit["actor"] == "staff@harborview.example" and audit["target_id"] == str(row["id"])
    assert audit["details"]["result"] == "done"


async def test_an_action_without_the_sessions_csrf_token_is_refused(console: Console) -> None:
    console.rig.fake.staff_phones["2002"] = "answers"
    fake = await _up(console)
    [call] = console.rig.app.calls
    async with console.signed_in("staff") as http:
        for token in (None, "not-the-token"):
            status, body = await console.act(http, call.session.id, "hangup", token)
            assert status == 403 and "security token" in body["error"]
    assert console.rig.fake.originated == [] and call.is_live() and fake.in_stasis
    await console.rig.fake.caller_hangs_up(fake)


async def test_what_cannot_be_done_is_said_clearly_never_a_500(console: Console) -> None:
    fake = await _up(console)
    [call] = console.rig.app.calls
    async with console.signed_in("manager") as manager:
        token = await console.csrf(manager)
        status, body = await console.act(manager, call.session.id, "takeover", token)
        assert status == 400 and "no phone extension" in body["error"]
    async with console.signed_in("staff") as http:
        token = await console.csrf(http)
        status, body = await console.act(http, call.session.id, "listen", token)  # 2002 is not up
        assert status == 409 and "is not registered" in body["error"]
        assert "stays with the receptionist" in body["error"]
        assert call.is_live() and fake.media_in_stasis
        status, body = await console.act(http, call.session.id, "somethingelse", token)
        assert status == 404 and body["error"] == "There is no such action."
        for bad in ("not-a-call", uuid.uuid4()):
            status, body = await console.act(http, bad, "takeover", token)
            assert status == 410 and body["error"] == "That call has already ended."
        for query in ("before=yesterday", "limit=0", "limit=lots", "before=2026-01-01T00:00:00_x"):
            async with http.get(f"{console.base}/console/calls?{query}") as answer:
                assert answer.status == 400, query
                assert "reload the console" in (await answer.json())["error"]
        async with http.get(f"{console.base}/console/calls/nope/turns") as answer:
            assert answer.status == 404
        await console.rig.fake.caller_hangs_up(fake)
        await _until(lambda: not console.rig.app.calls)
        status, body = await console.act(http, call.session.id, "hangup", token)
        assert status == 410


async def test_staff_of_one_property_see_and_touch_only_its_calls(
    console: Console, pool: asyncpg.Pool
) -> None:
    here = await _up(console)  # Harborview
    [harborview] = list(console.rig.app.calls)
    lodge = await _up(console, exten=PINECREST_NUMBER)
    pinecrest = next(c for c in console.rig.app.calls if c is not harborview)
    assert pinecrest.session.property_id == "pinecrest"
    async with console.signed_in("pinecrest") as http, console.feed(http) as ws:
        snapshot = await _next(ws, "snapshot")
        assert [c["id"] for c in snapshot["calls"]] == [str(pinecrest.session.id)]
        token = await console.csrf(http)
        status, body = await console.act(http, harborview.session.id, "hangup", token)
        assert status == 404 and body["error"] == "There is no such call."
        assert harborview.is_live()
        await console.rig.fake.caller_hangs_up(here)  # not theirs: not on their feed
        await console.rig.fake.caller_hangs_up(lodge)
        ended = await _next(ws, "call_ended")
        assert ended["call_id"] == str(pinecrest.session.id)
        row = await _call_row(pool, here.caller_id)
        await _call_row(pool, lodge.caller_id)
        async with http.get(f"{console.base}/console/calls") as page:
            recent = await page.json()
        assert [c["id"] for c in recent["calls"]] == [str(pinecrest.session.id)]
        async with http.get(f"{console.base}/console/calls/{row['id']}/turns") as other:
            assert other.status == 404
    async with (
        console.signed_in("group") as group,  # a user of no one property: every call
        group.get(f"{console.base}/console/calls") as page,
    ):
        assert len((await page.json())["calls"]) == 2


async def test_staff_of_no_property_see_and_touch_no_call(console: Console) -> None:
    """Failing open would show them every hotel's calls: they get a 403 that says why."""
    here = await _up(console)
    [call] = list(console.rig.app.calls)
    async with console.signed_in("nowhere") as http:
        async with http.get(
            f"{console.base}/console/calls", headers={"Accept": "application/json"}
        ) as page:
            assert page.status == 403
            assert "belongs to no property" in (await page.json())["error"]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{console.base}/console/ws", origin=console.base)
        assert refused.value.status == 403
        status, body = await console.act(http, call.session.id, "hangup", await console.csrf(http))
        assert status == 403 and "belongs to no property" in body["error"]
        assert call.is_live()
    await console.rig.fake.caller_hangs_up(here)


async def test_the_feed_needs_a_session_and_our_own_origin(console: Console) -> None:
    url = f"{console.base}/console/ws"
    async with aiohttp.ClientSession() as anonymous:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anonymous.ws_connect(url, origin=console.base)
        assert refused.value.status == 401
    async with console.signed_in("staff") as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
            await http.ws_connect(url, origin="https://evil.example")
        assert foreign.value.status == 403


async def test_the_feed_is_closed_when_its_session_ends(console: Console) -> None:
    async with console.signed_in("staff") as http, console.feed(http) as ws:
        await _next(ws, "snapshot")
        token = await console.csrf(http)
        async with http.post(
            f"{console.base}/logout", data={"csrf_token": token}, allow_redirects=False
        ) as out:
            assert out.status == 303
        async with asyncio.timeout(3):
            closed = await ws.receive()
        assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 4401


async def test_a_feed_that_falls_behind_starts_again_from_a_fresh_snapshot(
    pool: asyncpg.Pool,
) -> None:
    users = await seed_users(pool)
    live = LiveCalls(subscriber_events=4)
    app = staff_app(pool, lambda app: add_console_routes(app, live, CallRepository(pool)))
    async with (
        serving(app) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        staff: Role = "staff"
        await sign_in(http, base, users[staff].email, users[staff].password)
        async with http.ws_connect(f"{base}/console/ws", origin=base) as ws:
            await _next(ws, "snapshot")
            new = NewCall(id=uuid.uuid4(), property_id="harborview", direction=Direction.INBOUND)
            live.started(new, dt.datetime.now(dt.UTC))
            live.moved(new.id, CallState.TALKING)  # type: ignore[arg-type]
            for n in range(40):  # all at once: more than the socket's queue holds
                live.line(new.id, TurnRole.CALLER, f"line {n}")  # type: ignore[arg-type]
            resync = await _next(ws, "snapshot")
    assert resync.get("resync") is True
    [call] = resync["calls"]
    lines = resync["transcripts"][call["id"]]
    assert lines[-1]["text"] == "line 39" and len(lines) == 40  # the whole story, now


async def test_a_server_not_taking_calls_says_so_when_asked_to_act(pool: asyncpg.Pool) -> None:
    users = await seed_users(pool)
    live = LiveCalls()
    app = staff_app(pool, lambda app: add_console_routes(app, live, CallRepository(pool)))
    new = NewCall(id=uuid.uuid4(), property_id="harborview", direction=Direction.INBOUND)
    live.started(new, dt.datetime.now(dt.UTC))
    async with (
        serving(app) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        await sign_in(http, base, users["staff"].email, users["staff"].password)
        async with http.get(f"{base}/console") as page:
            html = await page.text()
        assert "This server is not taking calls right now" in html
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
        assert token is not None
        async with http.post(
            f"{base}/console/calls/{new.id}/takeover",
            headers={"X-CSRF-Token": token.group(1), "Accept": "application/json"},
        ) as answer:
            assert answer.status == 503
            assert "not taking calls" in (await answer.json())["error"]


def _handler_of_the_feed() -> asyncio.Task[object]:
    """The aiohttp task serving a /console/ws (its stack runs console_socket)."""

    def awaits_the_feed(task: asyncio.Task[object]) -> bool:
        coro: Any = task.get_coro()
        while coro is not None:  # down the chain of coroutines it awaits
            code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
            if code is not None and code.co_name == "console_socket":
                return True
            coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        return False

    found = [t for t in asyncio.all_tasks() if awaits_the_feed(t)]
    assert len(found) == 1, found
    return found[0]


async def test_a_feed_cancelled_by_a_server_shutdown_leaves_no_task_behind(
    console: Console,
) -> None:
    async with console.signed_in("staff") as http, console.feed(http) as ws:
        await _next(ws, "snapshot")
        live = console.rig.app.services.call_log.live
        assert live.subscribers == 1
        handler = _handler_of_the_feed()
        handler.cancel()  # what a shutdown does to a handler still running
        with contextlib.suppress(asyncio.CancelledError):
            await handler
        assert handler.cancelled()  # passed on, not swallowed
        assert live.subscribers == 0
        left = [
            t
            for t in asyncio.all_tasks()
            if not t.done()
            and (
                t.get_name().startswith("console-ws-")
                or getattr(t.get_coro(), "__qualname__", "").endswith(".next")
            )
        ]
        assert left == []
