"""Our Stasis app against the live Asterisk, as each live test file needs it."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg

from app.calls.call_log import CallLog
from app.calls.write_behind import WriteBehind
from app.engines.local.flite import FliteTextToSpeech
from app.pbx.sandbox import AsteriskSandbox
from app.storage.calls_repo import CallRepository
from app.storage.errors import is_transient
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.ari.models import AriEvent
from app.telephony.controller import (
    CallLimits,
    ConversationFactory,
    MediaSettings,
    StasisApp,
)
from app.telephony.rtp_endpoint import PortPool
from app.telephony.whisper import WhisperFiles


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
    modes: set[str],
    ports: tuple[int, int],
) -> AsyncIterator[Running]:
    """The Stasis app connected to the sandbox's ARI; stopped and drained on the way out."""
    http = aiohttp.ClientSession()
    client = AriClient(http, pbx.ari_url, pbx.ari_user, pbx.ari_password)
    writes = WriteBehind(is_transient)
    app = StasisApp(
        client,
        media=MediaSettings("127.0.0.1", "127.0.0.1"),
        ports=PortPool(*ports),
        conversations=conversations,
        modes=modes,
        call_log=CallLog(CallRepository(pool), writes),
        property_for=lambda dialled: "harborview",
        fallback=("frontdesk-fallback", "s"),
        limits=CallLimits(rtp_inactivity=15, max_duration=60, check_every=0.2),
        moh_class="frontdesk",
        whisper=WhisperFiles(
            Path(tempfile.mkdtemp(prefix="whisper-")), FliteTextToSpeech().synthesize
        ),
    )
    seen: list[AriEvent] = []

    def deliver(event: AriEvent) -> None:
        seen.append(event)
        app.deliver(event)

    events = EventStream(http, client, deliver, app.on_connected, backoff_min=0.1, backoff_max=0.5)
    tasks = [
        asyncio.create_task(writes.run(), name="writes"),
        asyncio.create_task(events.run(), name="events"),
    ]
    try:
        await asyncio.wait_for(events.connected.wait(), 10)
        yield Running(app, client, events, seen)
    finally:
        await app.stop(drain_seconds=0)
        await writes.drain(5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.close()
