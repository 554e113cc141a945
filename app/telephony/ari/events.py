"""The ARI events WebSocket: one reader, heartbeats, reconnect with jittered backoff.

After a reconnect Asterisk replays nothing (no StasisStart for calls already in the app), so
`on_connected(reconnected=True)` lets the controller re-adopt what the app still owns.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from pydantic import ValidationError

from app.log import get_logger
from app.telephony.ari.client import AriClient
from app.telephony.ari.models import AriEvent, parse_event
from app.telephony.errors import TelephonyError

log = get_logger(__name__)


@dataclass
class StreamStats:
    connects: int = 0
    events: int = 0
    bad_events: int = 0


class EventStream:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        client: AriClient,
        deliver: Callable[[AriEvent], None],
        on_connected: Callable[[bool], Awaitable[None]],
        *,
        heartbeat: float = 10.0,
        backoff_min: float = 0.5,
        backoff_max: float = 15.0,
    ) -> None:
        self._session = session
        self._client = client
        self._deliver = deliver
        self._on_connected = on_connected
        self._heartbeat = heartbeat
        self._backoff_min = backoff_min
        self._backoff_max = backoff_max
        self.stats = StreamStats()
        self.connected = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def run(self) -> None:
        """Connect, read, reconnect; until cancelled."""
        delay = self._backoff_min
        while True:
            try:
                await self._read_once()
                delay = self._backoff_min  # it worked for a while: start backing off afresh
            except (aiohttp.ClientError, OSError, TimeoutError, TelephonyError) as exc:
                log.warning("ari events unavailable", error=str(exc) or type(exc).__name__)
            finally:
                self.connected.clear()
                self._ws = None
            # Even after a clean close: never reconnect in a tight loop.
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, self._backoff_max)

    async def _read_once(self) -> None:
        async with self._session.ws_connect(
            self._client.events_url(), headers=self._client.auth_headers, heartbeat=self._heartbeat
        ) as ws:
            self._ws = ws
            reconnected = self.stats.connects > 0
            self.stats.connects += 1
            log.info("ari events connected", reconnected=reconnected)
            await self._on_connected(reconnected)
            self.connected.set()
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self._handle(message.data)
                elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                    break
            log.warning("ari events closed", code=ws.close_code)

    def _handle(self, text: str) -> None:
        try:
            event = parse_event(json.loads(text))
        except (ValueError, ValidationError) as exc:
            self.stats.bad_events += 1
            log.error("unreadable ari event", error=str(exc)[:200])
            return
        self.stats.events += 1
        self._deliver(event)

    async def drop(self) -> None:
        """Close the current connection (tests of reconnection, and shutdown)."""
        if self._ws is not None:
            await self._ws.close()
