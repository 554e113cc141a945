"""A real call: SIPp → PJSIP → dialplan → Stasis → externalMedia → our RTP endpoint, and back."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import numpy as np
import pytest

from app.calls.conversation import CallIO
from app.calls.session import CallSession
from app.hotel.config import load_hotel_config
from app.media.g711 import ULAW_DECODE, ulaw_encode
from app.pbx.sandbox import AsteriskSandbox
from app.storage.seed import seed
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.ari.models import AriEvent
from app.telephony.call_services import MediaSettings
from app.telephony.controller import StasisApp
from app.telephony.rtp_endpoint import PortPool
from tests.fakes.ari import FakeAri
from tests.live.keypad import free_port
from tests.live.running import running_app

ROOT = Path(__file__).resolve().parents[2]
SIPP = Path(__file__).parent / "sipp"
ECHO_NUMBER = "+15550100199"  # dialplan/extensions.conf: Stasis(frontdesk,echo)
TONE_HZ = 1000


def _tone_frames(seconds: float, hz: int = TONE_HZ) -> list[bytes]:
    t = np.arange(int(8000 * seconds)) / 8000
    pcm = (np.sin(2 * np.pi * hz * t) * 12000).astype(np.int16)
    data = ulaw_encode(pcm)
    return [data[i : i + 160] for i in range(0, len(data), 160)]


def _level(frame: bytes) -> float:
    return float(np.abs(ULAW_DECODE[np.frombuffer(frame, np.uint8)].astype(np.float64)).mean())


def _dominant_hz(frames: list[bytes]) -> float:
    pcm = np.concatenate([ULAW_DECODE[np.frombuffer(f, np.uint8)] for f in frames]).astype(
        np.float64
    )
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    return float(np.argmax(spectrum) * 8000 / len(pcm))


@dataclass
class Probe:
    """The conversation side of a live call: plays a tone, records what the caller sends."""

    send_tone: bool = False
    hang_up_after: float | None = None
    hold_for: float | None = None  # put the call on hold (music) for this long, then resume
    heard: list[bytes] = field(default_factory=list)
    digits: list[str] = field(default_factory=list)
    on_hold: list[bool] = field(default_factory=list)  # per frame heard: was the call on hold?

    async def run(self, io: CallIO, session: CallSession) -> None:
        if self.hold_for is not None:
            await self._hold_then_resume(io)
            return
        if self.send_tone:
            await asyncio.sleep(0.5)
            for frame in _tone_frames(1.0):
                io.send_audio(frame)
        deadline = asyncio.get_running_loop().time() + (self.hang_up_after or 3600)
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                await io.hangup("app_hangup")
                return
            try:
                self.heard.append(await asyncio.wait_for(io.caller_audio.get(), remaining))
            except TimeoutError:
                continue

    async def _hold_then_resume(self, io: CallIO) -> None:
        assert self.hold_for is not None
        loop = asyncio.get_running_loop()
        holding = False

        async def listen(seconds: float) -> None:
            end = loop.time() + seconds
            while (left := end - loop.time()) > 0:
                with contextlib.suppress(TimeoutError):
                    self.heard.append(await asyncio.wait_for(io.caller_audio.get(), left))
                    self.on_hold.append(holding)

        await listen(1.0)
        await io.hold(True)
        holding = True
        await listen(self.hold_for)
        await io.hold(False)
        holding = False
        await listen(2.0)
        await io.hangup("app_hangup")

    def on_dtmf(self, digit: str) -> None:
        self.digits.append(digit)

    def prepare(self, session: CallSession) -> None:
        pass

    async def discard(self) -> None:
        pass


@dataclass
class Live:
    pbx: AsteriskSandbox
    app: StasisApp
    events: EventStream
    client: AriClient
    probe: Probe
    seen: list[AriEvent]
    pool: asyncpg.Pool


@pytest.fixture
async def live(pbx: AsteriskSandbox, pool: asyncpg.Pool) -> AsyncIterator[Live]:
    await seed(pool, load_hotel_config(ROOT / "config" / "hotel.yaml"), horizon_days=2)
    probe = Probe()
    async with running_app(pbx, pool, lambda arrival: probe, (42000, 42019)) as run:
        yield Live(pbx, run.app, run.events, run.client, probe, run.seen, pool)


async def _sipp(
    pbx: AsteriskSandbox, scenario: str, *extra: str, stay_ms: int = 1000
) -> tuple[int, str]:
    media = free_port() & ~1
    proc = await asyncio.create_subprocess_exec(
        "sipp",
        pbx.sip_address,
        "-sf",
        str(SIPP / scenario),
        "-s",
        ECHO_NUMBER,
        "-m",
        "1",
        "-i",
        "127.0.0.1",
        "-p",
        str(free_port()),
        "-mp",
        str(media),
        "-d",
        str(stay_ms),
        "-timeout",
        "60s",
        "-timeout_error",
        "-nostdin",
        "-trace_err",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=os.environ.get("TMPDIR", "/tmp"),
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")[-2000:]


async def _clean(live: Live) -> None:
    async with asyncio.timeout(10):
        while live.app.calls:
            await asyncio.sleep(0.05)
    # Nothing left in Asterisk, nothing left in our process.
    async with asyncio.timeout(5):
        while await live.client.list_channels() or await live.client.list_bridges():
            await asyncio.sleep(0.1)
    assert (await live.client.application()).channel_ids == []
    assert live.app.ports.in_use == 0
    ours = [
        t.get_name()
        for t in asyncio.all_tasks()
        if t.get_name().startswith(("call-", "conversation-", "watchdog-", "rtp-"))
    ]
    assert ours == []


async def test_a_call_with_speech_and_keys_then_the_caller_hangs_up(live: Live) -> None:
    code, out = await _sipp(live.pbx, "caller.xml", stay_ms=7500)  # the speech lasts ~6.8 s
    assert code == 0, out
    await _clean(live)
    assert live.probe.digits == ["1", "2"]
    loud = [f for f in live.probe.heard if _level(f) > 200]
    assert len(loud) > 150, f"only {len(loud)} of {len(live.probe.heard)} frames carried speech"
    row = await live.pool.fetchrow("SELECT * FROM calls ORDER BY started_at DESC LIMIT 1")
    assert row["end_reason"] == "caller_hangup" and row["caller_e164"] == "+14155550123"
    assert row["dialled_e164"] == ECHO_NUMBER and row["mode"] == "echo"
    async with asyncio.timeout(5):
        while not (
            turns := await live.pool.fetch(
                "SELECT role, text FROM turns WHERE call_id = $1", row["id"]
            )
        ):
            await asyncio.sleep(0.05)
    assert [(t["role"], t["text"]) for t in turns] == [("dtmf", "1 2")]


async def test_the_caller_hears_us_and_we_hang_up(live: Live) -> None:
    live.probe.send_tone = True
    live.probe.hang_up_after = 4.0
    code, out = await _sipp(live.pbx, "caller_waits_for_bye.xml", "-rtp_echo")
    assert code == 0, out  # SIPp got our BYE
    await _clean(live)
    # SIPp echoed what it heard: our tone came back through Asterisk to us.
    loud = [f for f in live.probe.heard if _level(f) > 500]
    assert len(loud) >= 20, f"{len(loud)} loud frames came back"
    assert abs(_dominant_hz(loud) - TONE_HZ) < 30


async def test_losing_the_events_socket_mid_call(live: Live) -> None:
    async def drop_soon() -> None:
        async with asyncio.timeout(20):
            while not live.app.calls:
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        await live.events.drop()

    dropper = asyncio.create_task(drop_soon())
    code, out = await _sipp(live.pbx, "caller.xml", stay_ms=2000)
    await dropper
    assert code == 0, out
    await _clean(live)
    assert live.events.stats.connects >= 2
    assert (
        live.probe.digits
    )  # keys pressed around the drop still arrived (some may be lost in the gap)


CORE = {
    "StasisStart",
    "StasisEnd",
    "ChannelStateChange",
    "ChannelEnteredBridge",
    "ChannelLeftBridge",
    "ChannelHangupRequest",
    "ChannelDestroyed",
    "BridgeDestroyed",
}


def _shape(events: list[Any], caller: str, media: str) -> dict[str, list[str]]:
    shape: dict[str, list[str]] = {"caller": [], "media": [], "bridge": []}
    for event in events:
        kind = event.type if hasattr(event, "type") else event["type"]
        if kind not in CORE:
            continue
        channel = getattr(event, "channel", None)
        channel_id = channel.id if channel is not None else None
        if kind == "BridgeDestroyed":
            shape["bridge"].append(kind)
        elif channel_id == caller:
            shape["caller"].append(kind)
        elif channel_id == media:
            shape["media"].append(kind)
    return shape


async def test_the_fake_ari_replays_what_asterisk_really_does(live: Live) -> None:
    """Keeps tests/fakes/ari.py honest: the same call, live and faked, has the same shape."""
    code, out = await _sipp(live.pbx, "caller.xml", stay_ms=500)
    assert code == 0, out
    await _clean(live)
    starts = [e for e in live.seen if e.type == "StasisStart"]
    caller = next(e.channel.id for e in starts if e.args)
    media = next(
        e.channel.id for e in starts if not e.args and e.channel.technology == "UnicastRTP"
    )
    real = _shape(live.seen, caller, media)

    fake = FakeAri(user=live.pbx.ari_user, password=live.pbx.ari_password)
    url = await fake.start()
    seen: list[AriEvent] = []
    async with aiohttp.ClientSession() as http:
        client = AriClient(http, url, live.pbx.ari_user, live.pbx.ari_password)
        app = StasisApp(
            client,
            media=MediaSettings("127.0.0.1", "127.0.0.1"),
            ports=PortPool(42100, 42119),
            conversations=lambda arrival: Probe(),
            modes={"echo"},
            call_log=live.app.services.call_log,
            property_for=lambda d: "harborview",
            fallback=("frontdesk-fallback", "s"),
        )

        def deliver(event: AriEvent) -> None:
            seen.append(event)
            app.deliver(event)

        stream = EventStream(http, client, deliver, app.on_connected, backoff_min=0.05)
        task = asyncio.create_task(stream.run())
        await asyncio.wait_for(stream.connected.wait(), 5)
        call = await fake.incoming_call(["echo"])
        async with asyncio.timeout(5):
            while not (call.bridge_id and len(fake.bridges.get(call.bridge_id, [])) == 2):
                await asyncio.sleep(0.02)
        await fake.caller_hangs_up(call)
        async with asyncio.timeout(5):
            while app.calls or fake.leftovers()["bridges"]:
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await fake.stop()
    assert call.media_id is not None
    assert _shape(seen, call.caller_id, call.media_id) == real


async def test_hold_music_from_our_musiconhold_conf_reaches_the_call(live: Live) -> None:
    live.probe.hold_for = 2.0
    code, out = await _sipp(live.pbx, "caller_waits_for_bye.xml")
    assert code == 0, out
    await _clean(live)
    held = [f for f, h in zip(live.probe.heard, live.probe.on_hold, strict=True) if h]
    after = [f for f, h in zip(live.probe.heard, live.probe.on_hold, strict=True) if not h][-75:]
    loud_held = [f for f in held if _level(f) > 200]
    assert len(loud_held) > 50, f"{len(loud_held)} of {len(held)} frames on hold carried music"
    assert sum(_level(f) > 200 for f in after[25:]) < 5  # resumed: the music stopped
    row = await live.pool.fetchrow("SELECT id FROM calls ORDER BY started_at DESC LIMIT 1")
    async with asyncio.timeout(5):
        while True:
            states = await live.pool.fetch(
                "SELECT 1 FROM calls WHERE id = $1 AND state = 'ended'", row["id"]
            )
            if states:
                break
            await asyncio.sleep(0.05)
