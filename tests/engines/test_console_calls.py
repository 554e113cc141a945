"""The console watching a real AI call: the offline engine over its real protocol, fake ARI
(recorded), real RTP, PostgreSQL, the console's WebSocket over real HTTP. The transcript
streams as the agent and the caller speak; the agent's activity (speaking, listening) shows;
take-over stops the agent and removes its media (externalMedia, bridge, RTP port, the engine's session)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from app.storage.calls_repo import CallRepository
from app.telephony.call_control import StasisCallControl
from app.web.console import add_console_routes
from tests.engines.test_agent_calls import Rig, _quiet, _rig, _say, _speech, _until
from tests.web_support import seed_users, serving, sign_in, staff_app


@pytest.fixture
async def offline(
    pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Rig]:
    async with _rig(pool, monkeypatch, tmp_path_factory, "offline") as rig:
        yield rig


async def _messages(ws: aiohttp.ClientWebSocketResponse, into: list[dict[str, Any]]) -> None:
    async for message in ws:
        into.append(json.loads(message.data))


async def _seen(
    got: list[dict[str, Any]], match: Any, timeout: float = 30, since: int = 0
) -> dict[str, Any]:
    """The first message (from index `since` on) that matches, waiting for it."""
    async with asyncio.timeout(timeout):
        while True:
            found = [m for m in got[since:] if match(m)]
            if found:
                return found[0]
            await asyncio.sleep(0.05)


async def test_the_console_streams_an_ai_calls_transcript_and_takes_it_over(
    offline: Rig, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    rig = offline
    users = await seed_users(pool)
    live = rig.app.services.call_log.live
    app = staff_app(
        pool,
        lambda app: add_console_routes(app, live, CallRepository(pool), StasisCallControl(rig.app)),
    )
    rig.fake.staff_phones["2002"] = "answers"
    got: list[dict[str, Any]] = []
    async with (
        serving(app) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        await sign_in(http, base, users["staff"].email, users["staff"].password)
        async with http.get(f"{base}/console") as page:
            token = re.search(r'name="csrf-token" content="([^"]+)"', await page.text())
        assert token is not None
        async with http.ws_connect(f"{base}/console/ws", origin=base) as ws:
            reader = asyncio.create_task(_messages(ws, got))
            call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
            started = await _seen(got, lambda m: m["type"] == "call_started")
            call_id = started["call"]["id"]
            # the greeting, as the agent said it, and the agent speaking meanwhile
            greeting = await _seen(
                got, lambda m: m["type"] == "transcript" and m["speaker"] == "agent"
            )
            assert "Harborview" in greeting["text"] and greeting["call_id"] == call_id
            await _seen(
                got,
                lambda m: m["type"] == "call_changed" and m["call"]["activity"] == "speaking",
            )
            await _quiet(rig)
            await _say(rig, call, _speech("Do you have free wifi?", tmp_path))
            asked = await _seen(
                got, lambda m: m["type"] == "transcript" and m["speaker"] == "caller"
            )
            assert "wi" in asked["text"].lower().replace("-", "")
            answer = await _seen(
                got,
                lambda m: (
                    m["type"] == "transcript" and m["speaker"] == "agent" and "Wi-Fi" in m["text"]
                ),
            )
            assert answer["seq"] > asked["seq"] > greeting["seq"]  # in the order said
            await _quiet(rig)
            after = next(n for n, m in enumerate(got) if m is answer)
            await _seen(  # the caller has heard it all: the agent listens
                got,
                lambda m: m["type"] == "call_changed" and m["call"]["activity"] == "listening",
                since=after,
            )
            engine_sockets = len(rig.sockets())
            assert engine_sockets == 1

            async with http.post(
                f"{base}/console/calls/{call_id}/takeover",
                headers={"X-CSRF-Token": token.group(1), "Accept": "application/json"},
            ) as taken:
                assert taken.status == 200, await taken.text()
            await _seen(
                got,
                lambda m: m["type"] == "call_changed" and m["call"]["state"] == "with_staff",
            )
            # the agent's leg is gone: its media channel, its bridge, its port, its engine
            leg = rig.fake.staff_leg("2002")
            assert leg is not None
            assert not call.media_in_stasis
            assert call.bridge_id not in rig.fake.bridges
            assert [sorted(m) for m in rig.fake.bridges.values()] == [
                sorted([call.caller_id, leg.id])
            ]
            assert rig.app.ports.in_use == 0
            await _until(lambda: not rig.sockets(), timeout=5)
            sent = len(rig.rtp.received)
            await asyncio.sleep(0.5)
            assert len(rig.rtp.received) == sent  # the agent says nothing more

            await rig.fake.caller_hangs_up(call)
            ended = await _seen(got, lambda m: m["type"] == "call_ended")
            reader.cancel()
    assert ended["outcome"] == "taken_over" and ended["reason"] == "caller_hangup"
    row = await pool.fetchrow("SELECT * FROM calls WHERE channel_id = $1", call.caller_id)
    async with asyncio.timeout(5):
        while row["state"] != "ended":
            await asyncio.sleep(0.05)
            row = await pool.fetchrow("SELECT * FROM calls WHERE channel_id = $1", call.caller_id)
    assert row["outcome"] == "taken_over"
    assert row["summary"].startswith("Asked: “")
    assert "wi" in row["summary"].lower() and "extension 2002" in row["summary"]
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
