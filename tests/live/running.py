"""Our Stasis app against the live Asterisk, built as `frontdesk run` builds it.

The composition root (app/main.py) wires the app from settings pointed at the sandbox:
the same ARI client, Stasis app, events stream and shutdown order as in production. In
`running_app` the conversations are each test file's own stand-ins; `ai_receptionist` has the
real agent with the offline engine on a real port.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp.test_utils import TestServer

from app.aio import supervise
from app.calls.call_log import CallLog
from app.calls.write_behind import WriteBehind
from app.engines.local.server import create_engine_app
from app.hotel.config import HotelConfig, load_hotel_config
from app.main import (
    ari_client,
    build_destinations,
    build_engine,
    build_telephony,
    build_tools,
    destination_rules,
    taking_calls,
)
from app.pbx.sandbox import AsteriskSandbox
from app.settings import Settings, load_settings
from app.storage.calls_repo import CallRepository
from app.storage.errors import is_transient
from app.storage.tools_repo import ToolInvocationRepository
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.ari.models import AriEvent
from app.telephony.controller import ConversationFactory, StasisApp

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Running:
    app: StasisApp
    client: AriClient
    events: EventStream
    seen: list[AriEvent]  # every ARI event, as the real Asterisk sent it


@contextlib.asynccontextmanager
async def running_app(
    pbx: AsteriskSandbox,
    pool: asyncpg.Pool,
    conversations: ConversationFactory,
    ports: tuple[int, int],
) -> AsyncIterator[Running]:
    """The Stasis app connected to the sandbox's ARI; stopped and drained on the way out."""
    whisper_dir = tempfile.TemporaryDirectory(prefix="whisper-")  # removed on the way out too
    settings = load_settings(
        asterisk_ari_url=pbx.ari_url,
        asterisk_ari_user=pbx.ari_user,
        asterisk_ari_password=pbx.ari_password,
        rtp_bind_host="127.0.0.1",
        rtp_advertise_host="127.0.0.1",
        rtp_port_min=ports[0],
        rtp_port_max=ports[1],
        rtp_inactivity_seconds=15,
        drain_seconds=0,
        whisper_dir=whisper_dir.name,
    )
    hotel = load_hotel_config(settings.hotel_config)
    seen: list[AriEvent] = []
    async with aiohttp.ClientSession() as http, contextlib.AsyncExitStack() as stack:
        stack.callback(whisper_dir.cleanup)
        writes = WriteBehind(is_transient)
        stack.push_async_callback(supervise("writes", writes.run).stop)
        stack.push_async_callback(writes.drain, 5)
        client = ari_client(settings, http)
        app = build_telephony(
            settings,
            hotel,
            client,
            CallLog(CallRepository(pool), writes),
            conversations=conversations,
        )
        calls = await stack.enter_async_context(
            taking_calls(settings, app, client, http, observe=seen.append)
        )
        await asyncio.wait_for(calls.events.connected.wait(), 10)
        yield Running(app, client, calls.events, seen)


@dataclass
class Receptionist:
    stasis: StasisApp
    settings: Settings
    hotel: HotelConfig
    call_log: CallLog
    http: aiohttp.ClientSession


@contextlib.asynccontextmanager
async def ai_receptionist(
    pbx: AsteriskSandbox, pool: asyncpg.Pool, ports: tuple[int, int]
) -> AsyncIterator[Receptionist]:
    """The Stasis app with the AI receptionist as `frontdesk run` wires it (agent, tools,
    write-behind call log) and the offline engine on a real port; browser phones register
    through the sandbox's /ws. Stopped and drained on the way out."""
    # the speech model loads with this module: only the tests that talk to the agent pay
    from tests.engines.test_local_engine import STT, local_tts  # noqa: PLC0415

    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    engine = TestServer(create_engine_app(hotel, STT, local_tts, "en"), host="127.0.0.1")
    await engine.start_server()
    whisper_dir = tempfile.TemporaryDirectory(prefix="whisper-")
    settings = load_settings(
        asterisk_ari_url=pbx.ari_url,
        asterisk_ari_user=pbx.ari_user,
        asterisk_ari_password=pbx.ari_password,
        asterisk_ws_url=f"ws://127.0.0.1:{pbx.ports.http}/ws",
        engine="local",
        local_engine_url=f"ws://127.0.0.1:{engine.port}/v1/realtime",
        rtp_bind_host="127.0.0.1",
        rtp_advertise_host="127.0.0.1",
        rtp_port_min=ports[0],
        rtp_port_max=ports[1],
        drain_seconds=0,
        whisper_dir=whisper_dir.name,
    )
    async with aiohttp.ClientSession() as http, contextlib.AsyncExitStack() as stack:
        stack.callback(whisper_dir.cleanup)
        stack.push_async_callback(engine.close)
        writes = WriteBehind(is_transient)
        stack.push_async_callback(supervise("writes", writes.run).stop)
        stack.push_async_callback(writes.drain, 5)
        call_log = CallLog(CallRepository(pool), writes, ToolInvocationRepository(pool))
        tools = build_tools(
            pool, call_log, build_destinations(destination_rules(settings), hotel, pool)
        )
        client = ari_client(settings, http)
        stasis = build_telephony(
            settings,
            hotel,
            client,
            call_log,
            None,
            build_engine(settings, hotel, http, tools),
            tools,
        )
        calls = await stack.enter_async_context(taking_calls(settings, stasis, client, http))
        await asyncio.wait_for(calls.events.connected.wait(), 10)
        yield Receptionist(stasis, settings, hotel, call_log, http)
