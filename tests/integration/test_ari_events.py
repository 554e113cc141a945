"""The events WebSocket: reconnects with backoff, never in a tight loop, survives bad events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.ari.models import AriEvent

DTMF = {
    "type": "ChannelDtmfReceived",
    "digit": "7",
    "duration_ms": 120,
    "channel": {"id": "1.1", "name": "PJSIP/trunk-1"},
}


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[str]]]:
    """Accepts the socket, sends a bad event and a good one, then closes cleanly."""
    log: list[str] = []

    async def events(request: web.Request) -> web.WebSocketResponse:
        log.append(request.query_string)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("{not json")
        await ws.send_str(
            json.dumps({"type": "ChannelDtmfReceived", "channel": {"id": "x"}})
        )  # missing digit
        await ws.send_str(json.dumps(DTMF))
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/ari/events", events)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield f"http://127.0.0.1:{test_server.port}/ari", log
    await test_server.close()


async def test_clean_closes_are_followed_by_backoff_not_a_tight_loop(
    server: tuple[str, list[str]],
) -> None:
    url, log = server
    got: list[AriEvent] = []
    reconnects: list[bool] = []

    async def on_connected(reconnected: bool) -> None:
        reconnects.append(reconnected)

    async with aiohttp.ClientSession() as http:
        stream = EventStream(
            http,
            AriClient(http, url, "u", "p"),
            got.append,
            on_connected,
            backoff_min=0.2,
            backoff_max=0.4,
        )
        task = asyncio.create_task(stream.run())
        await asyncio.sleep(1.5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # Each connection closes at once; with 0.2–0.4 s backoff (±50 %) that is at most ~8 in 1.5 s.
    assert 2 <= len(log) <= 10
    assert reconnects[0] is False and all(reconnects[1:])
    assert [e.type for e in got] == ["ChannelDtmfReceived"] * len(log)
    assert stream.stats.bad_events == 2 * len(log)
    assert log[0] == "app=frontdesk&subscribeAll=false"


async def test_an_unreachable_asterisk_is_retried_quietly() -> None:
    async with aiohttp.ClientSession() as http:
        stream = EventStream(
            http,
            AriClient(http, "http://127.0.0.1:9/ari", "u", "p"),
            lambda e: None,
            lambda r: asyncio.sleep(0),
            backoff_min=0.1,
            backoff_max=0.2,
        )
        task = asyncio.create_task(stream.run())
        await asyncio.sleep(0.5)
        assert not task.done() and stream.stats.connects == 0
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
