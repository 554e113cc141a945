"""Our Stasis app against the live Asterisk, built as `frontdesk run` builds it.

The composition root (app/main.py) wires the app from settings pointed at the sandbox:
the same ARI client, Stasis app, events stream and shutdown order as in production; only
the conversations are each test file's own stand-ins.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import asyncpg

from app.aio import supervise
from app.calls.call_log import CallLog
from app.calls.write_behind import WriteBehind
from app.hotel.config import load_hotel_config
from app.main import ari_client, build_telephony, taking_calls
from app.pbx.sandbox import AsteriskSandbox
from app.settings import load_settings
from app.storage.calls_repo import CallRepository
from app.storage.errors import is_transient
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.ari.models import AriEvent
from app.telephony.controller import ConversationFactory, StasisApp


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
