"""The console against the real Asterisk: a caller (SIPp signalling, our RTP) reaches the AI
receptionist (the offline engine, over its real protocol), the call and its transcript appear
in the console's feed (real HTTP, a signed-in member of staff), and take-over moves the caller
to that member of staff's registered phone (SIPp) while the AI's channels go.

And the fake honest: listen-in then take-over, run live and against tests/fakes/ari.py, have
the same shape of events per channel and bridge."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import numpy as np
import pytest

from app.calls.control import StaffPhoneUnavailable
from app.calls.conversation import CallIO, EchoConversation
from app.calls.session import CallSession
from app.hotel.config import load_hotel_config
from app.media.g711 import ULAW_DECODE
from app.pbx.sandbox import AsteriskSandbox
from app.staff.directory import StaffDirectory
from app.storage.calls_repo import CallRepository
from app.storage.seed import seed
from app.storage.users_repo import UserRepository
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.ari.models import AriEvent
from app.telephony.call_control import StasisCallControl
from app.telephony.call_services import CallLimits, MediaSettings
from app.telephony.controller import StasisApp
from app.telephony.rtp import RtpPacket, build, parse
from app.telephony.rtp_endpoint import PortPool
from app.web.console import add_console_routes
from tests.engines.test_agent_calls import _speech
from tests.fakes.ari import FakeAri
from tests.live.keypad import calling, free_port, staff_phone
from tests.live.running import ai_receptionist, running_app
from tests.live.test_calls_live import ECHO_NUMBER, _tone_frames
from tests.web_support import add_property, password_for, serving, sign_in, staff_app

ROOT = Path(__file__).resolve().parents[2]
AI_NUMBER = "+15550100177"  # not a hotel number: straight to the AI (dialplan [from-pstn])
STAFF_EMAIL = "desk1@harborview.example"


async def _until(condition: Any, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def _channels(pbx: AsteriskSandbox) -> list[str]:
    """Asterisk's channels by name (core show channels concise)."""
    return [
        line.split("!")[0]
        for line in pbx.cli("core show channels concise").splitlines()
        if "!" in line
    ]


async def _feed(ws: aiohttp.ClientWebSocketResponse, into: list[dict[str, Any]]) -> None:
    async for message in ws:
        into.append(json.loads(message.data))


async def _seen(got: list[dict[str, Any]], match: Any, timeout: float = 30) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while not (found := [m for m in got if match(m)]):
            await asyncio.sleep(0.05)
    return found[0]


async def test_an_ai_call_shows_in_the_console_and_staff_take_it_over(
    pbx: AsteriskSandbox, pool: asyncpg.Pool
) -> None:
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    await seed(pool, hotel, horizon_days=2)
    await add_property(pool)
    await StaffDirectory(UserRepository(pool)).add(
        STAFF_EMAIL, "Dana Desk", "staff", password_for("staff"), actor="test",
        property_id="harborview", extension="2001",
    )  # fmt: skip
    got: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="console-live-") as tmp:
        async with (
            ai_receptionist(pbx, pool, (42120, 42139)) as ai,
            serving(
                staff_app(
                    pool,
                    lambda app: add_console_routes(
                        app,
                        ai.stasis.services.call_log.live,
                        CallRepository(pool),
                        StasisCallControl(ai.stasis),
                    ),
                )
            ) as base,
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
        ):
            await sign_in(http, base, STAFF_EMAIL, password_for("staff"))
            async with http.get(f"{base}/console") as page:
                token = re.search(r'name="csrf-token" content="([^"]+)"', await page.text())
            assert token is not None
            async with (
                http.ws_connect(f"{base}/console/ws", origin=base) as ws,
                staff_phone(pbx, "2001") as desk,
                calling(pbx, AI_NUMBER, wait_for_audio=False) as caller,
            ):
                reader = asyncio.create_task(_feed(ws, got))
                started = await _seen(got, lambda m: m["type"] == "call_started")
                assert started["call"]["caller"] == "+*******0123"
                call_id = started["call"]["id"]
                greeting = await _seen(
                    got, lambda m: m["type"] == "transcript" and m["speaker"] == "agent"
                )
                assert "Harborview" in greeting["text"]
                # the caller hears it: speech energy comes back through Asterisk
                try:
                    async with asyncio.timeout(15):
                        while caller.level(time.monotonic() - 0.5) < 200:
                            await asyncio.sleep(0.1)
                except TimeoutError:
                    raise AssertionError(
                        f"the caller heard {caller.level(0.0):.0f}, no greeting"
                    ) from None
                await asyncio.sleep(2.0)  # the greeting's end
                caller.speak(_speech("Do you have free wifi?", Path(tmp)))
                asked = await _seen(
                    got, lambda m: m["type"] == "transcript" and m["speaker"] == "caller"
                )
                assert "wi" in asked["text"].lower().replace("-", "")
                await _seen(
                    got,
                    lambda m: (
                        m["type"] == "transcript"
                        and m["speaker"] == "agent"
                        and m["seq"] > asked["seq"]
                    ),
                )
                assert any(name.startswith("UnicastRTP/") for name in _channels(pbx))

                async with http.post(
                    f"{base}/console/calls/{call_id}/takeover",
                    headers={"X-CSRF-Token": token.group(1), "Accept": "application/json"},
                ) as taken:
                    assert taken.status == 200, await taken.text()
                taken_at = time.monotonic()
                await _seen(
                    got,
                    lambda m: m["type"] == "call_changed" and m["call"]["state"] == "with_staff",
                )
                # the AI's channels are gone; the caller and the desk phone share one bridge
                await _until(
                    lambda: not any(n.startswith("UnicastRTP/") for n in _channels(pbx)), 5
                )
                names = _channels(pbx)
                assert any(n.startswith("PJSIP/2001-") for n in names), names
                assert any(n.startswith("PJSIP/trunk-") for n in names), names
                bridges = pbx.cli("bridge show all").splitlines()[1:]
                assert [line.split()[2] for line in bridges if line.strip()] == ["2"], bridges
                await asyncio.sleep(3.0)
                from_staff = caller.level(taken_at + 0.5, taken_at + 3.0)
                assert from_staff > 300, f"the caller heard {from_staff:.0f} from the desk"
                assert ai.stasis.ports.in_use == 0
            ended = await _seen(got, lambda m: m["type"] == "call_ended")
            reader.cancel()
    assert desk.answered, desk.said
    assert ended["outcome"] == "taken_over"
    async with asyncio.timeout(10):
        while (
            not (row := await pool.fetchrow("SELECT * FROM calls WHERE id = $1::uuid", call_id))
            or row["state"] != "ended"
        ):
            await asyncio.sleep(0.1)
    assert row["outcome"] == "taken_over" and "extension 2001" in row["summary"]


# --- keeping the fake honest ---------------------------------------------------------------------
CORE = {
    "StasisStart",
    "StasisEnd",
    "ChannelEnteredBridge",
    "ChannelLeftBridge",
    "ChannelHangupRequest",
    "ChannelDestroyed",
    "BridgeDestroyed",
}


def _role(channel_id: str, name: str, caller: str) -> str:
    if channel_id == caller:
        return "caller"
    if channel_id.startswith("fdv-staff-"):
        return "staff"
    if channel_id.startswith("fdv-snoop-") or name.startswith("Snoop/"):
        return "snoop"
    if name.startswith("UnicastRTP/"):
        return "media"
    return f"other {name}"


def _shape(events: list[AriEvent], caller: str) -> dict[str, list[str]]:
    """Per channel role (and per bridge kind), the ARI events it had, in order."""
    shape: dict[str, list[str]] = {}
    for event in events:
        if event.type not in CORE:
            continue
        channel = getattr(event, "channel", None)
        bridge = getattr(event, "bridge", None)
        key = (
            _role(channel.id, channel.name, caller)
            if channel is not None
            else f"bridge {bridge.name.split('-')[0]}"
            if bridge is not None
            else "?"
        )
        if bridge is not None and channel is not None:
            kind = f"{event.type} {bridge.name.split('-')[0]}"
        else:
            kind = event.type
        shape.setdefault(key, []).append(kind)
    return shape


async def _listen_then_take_over(app: StasisApp, hang_up: Any) -> None:
    """Listen in from 2001, take the call over on the same leg; the phone then hangs up."""
    async with asyncio.timeout(20):
        while not (app.calls and all(c.ready for c in app.calls)):
            await asyncio.sleep(0.05)
    [call] = app.calls
    control = StasisCallControl(app)
    await control.listen_in(call.session.id, "2001")
    await asyncio.sleep(1.0)
    await control.take_over(call.session.id, "2001")
    await hang_up(call)
    async with asyncio.timeout(20):
        while app.calls:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)


async def test_the_fake_replays_listen_in_and_take_over_as_asterisk_does_them(
    pbx: AsteriskSandbox, pool: asyncpg.Pool
) -> None:
    await seed(pool, load_hotel_config(ROOT / "config" / "hotel.yaml"), horizon_days=2)

    async def phone_hangs_up(call: Any) -> None:  # staff_answers_then_hangs_up.xml: at 6 s
        pass

    async with (
        running_app(
            pbx, pool, lambda arrival: EchoConversation(prompt=None), (42140, 42159)
        ) as run,
        staff_phone(pbx, "2001", "staff_answers_then_hangs_up.xml") as desk,
        calling(pbx, ECHO_NUMBER, wait_for_audio=False),
    ):
        await _listen_then_take_over(run.app, phone_hangs_up)
        caller = next(
            e.channel.id for e in run.seen if e.type == "StasisStart" and e.args[:1] == ["echo"]
        )
    assert desk.answered, desk.said
    real = _shape(run.seen, caller)

    fake = FakeAri(user=pbx.ari_user, password=pbx.ari_password)
    fake.staff_phones["2001"] = "answers"
    url = await fake.start()
    seen: list[AriEvent] = []
    async with aiohttp.ClientSession() as http:
        client = AriClient(http, url, pbx.ari_user, pbx.ari_password)
        app = StasisApp(
            client,
            media=MediaSettings("127.0.0.1", "127.0.0.1"),
            ports=PortPool(42160, 42179),
            conversations=lambda arrival: EchoConversation(prompt=None),
            modes={"echo"},
            call_log=run.app.services.call_log,
            property_for=lambda d: "harborview",
            fallback=("frontdesk-fallback", "s"),
            limits=CallLimits(staff_ring_seconds=5),
        )

        def deliver(event: AriEvent) -> None:
            seen.append(event)
            app.deliver(event)

        stream = EventStream(http, client, deliver, app.on_connected, backoff_min=0.05)
        task = asyncio.create_task(stream.run())
        await asyncio.wait_for(stream.connected.wait(), 5)
        call = await fake.incoming_call(["echo"])

        async def staff_hangs_up(_: Any) -> None:
            leg = fake.staff_leg("2001")
            assert leg is not None
            await fake.staff_hangs_up(leg.id)

        await _listen_then_take_over(app, staff_hangs_up)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert fake.leftovers() == {"channels": [], "bridges": []}
        await fake.stop()
    assert _shape(seen, call.caller_id) == real


async def test_a_staff_phone_away_or_unanswered_leaves_the_caller_with_the_agent(
    pbx: AsteriskSandbox, pool: asyncpg.Pool
) -> None:
    await seed(pool, load_hotel_config(ROOT / "config" / "hotel.yaml"), horizon_days=2)
    async with (
        running_app(
            pbx, pool, lambda arrival: EchoConversation(prompt=None), (42180, 42199)
        ) as run,
        calling(pbx, ECHO_NUMBER, wait_for_audio=False),
    ):
        async with asyncio.timeout(20):
            while not (run.app.calls and all(c.ready for c in run.app.calls)):
                await asyncio.sleep(0.05)
        [call] = run.app.calls
        call.services = replace(call.services, limits=CallLimits(staff_ring_seconds=2))
        control = StasisCallControl(run.app)
        with pytest.raises(StaffPhoneUnavailable, match=r"\(3300\) is not registered"):
            await control.take_over(call.session.id, "3300")  # nobody signed in on 3300
        async with staff_phone(pbx, "3200", "staff_rings.xml") as rings:
            with pytest.raises(StaffPhoneUnavailable, match=r"\(3200\) did not answer"):
                await control.take_over(call.session.id, "3200")
        assert rings.answered, rings.said  # it rang until Asterisk gave up
        assert call.is_live() and call.endpoint is not None
        names = _channels(pbx)
        assert any(n.startswith("UnicastRTP/") for n in names), names  # still with the agent
        assert not any(n.startswith(("PJSIP/3300", "PJSIP/3200")) for n in names), names


class _Ear(asyncio.DatagramProtocol):
    """The staff phone's audio: keeps what Asterisk sends it (μ-law payloads in order) and
    talks back, a STAFF_HZ tone, to where that comes from."""

    def __init__(self) -> None:
        self.heard: list[bytes] = []
        self.remote: tuple[str | Any, int] | None = None
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        with contextlib.suppress(ValueError):
            packet = parse(data)
            if packet.payload_type == 0:
                self.heard.append(packet.payload)
                self.remote = addr

    async def talk(self) -> None:
        frames = _tone_frames(1.0, STAFF_HZ)
        for n in itertools.count():
            await asyncio.sleep(0.02)
            if self.remote is not None and self.transport is not None:
                packet = RtpPacket(0, n % 65536, n * 160 % (1 << 32), 0x57AFF, frames[n % 50])
                self.transport.sendto(build(packet), self.remote)


@dataclass
class _Humming:
    """The agent's side of the call: a steady tone (AGENT_HZ), nothing else."""

    def prepare(self, session: CallSession) -> None:
        pass

    async def run(self, io: CallIO, session: CallSession) -> None:
        while True:
            for frame in _tone_frames(1.0, AGENT_HZ):
                io.send_audio(frame)
            await asyncio.sleep(1.0)

    def on_dtmf(self, digit: str) -> None:
        pass

    async def discard(self) -> None:
        pass


AGENT_HZ, CALLER_HZ, STAFF_HZ = 1000, 440, 2000


def _strength(frames: list[bytes], hz: int) -> float:
    """How much of the audio is at `hz`, against the spectrum's median (a ratio)."""
    pcm = np.concatenate([ULAW_DECODE[np.frombuffer(f, np.uint8)] for f in frames]).astype(float)
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    bin_hz = 8000 / len(pcm)
    around = spectrum[int((hz - 20) / bin_hz) : int((hz + 20) / bin_hz)]
    return float(around.max() / np.median(spectrum))


async def test_listening_in_the_staff_phone_hears_both_sides_and_says_nothing(
    pbx: AsteriskSandbox, pool: asyncpg.Pool
) -> None:
    # The caller sends 440 Hz, the agent 1000 Hz: the staff phone must hear both; what it
    # sends (2000 Hz) must not reach the call (whisper none).
    await seed(pool, load_hotel_config(ROOT / "config" / "hotel.yaml"), horizon_days=2)
    loop = asyncio.get_running_loop()
    ear_port = free_port() & ~1
    transport, ear = await loop.create_datagram_endpoint(_Ear, local_addr=("127.0.0.1", ear_port))
    try:
        async with (
            running_app(pbx, pool, lambda arrival: _Humming(), (42260, 42279)) as run,
            staff_phone(
                pbx, "2001", "staff_answers_media.xml", ("-set", "media_port", str(ear_port))
            ) as desk,
            calling(pbx, ECHO_NUMBER, wait_for_audio=True) as caller,
        ):
            caller.speak(_tone_frames(12.0, CALLER_HZ))
            async with asyncio.timeout(20):
                while not (run.app.calls and all(c.ready for c in run.app.calls)):
                    await asyncio.sleep(0.05)
            [call] = run.app.calls
            await StasisCallControl(run.app).listen_in(call.session.id, "2001")
            talking = asyncio.create_task(ear.talk(), name="staff-ear-talks")
            listened = time.monotonic()
            await asyncio.sleep(4.0)
            talking.cancel()
            heard = list(ear.heard)
            snoops = [n for n in _channels(pbx) if n.startswith("Snoop/")]
            assert len(snoops) == 1, _channels(pbx)
            live = run.app.services.call_log.live.get(call.session.id)
            assert live is not None and live.listeners == ("2001",)
            # the caller still hears the agent, and not the member of staff
            said = [p for t, p in caller.heard if t > listened + 0.5]
            assert _strength(said, AGENT_HZ) > 200
            assert _strength(said, STAFF_HZ) < 20, "the staff phone's voice reached the call"
    finally:
        transport.close()
    assert desk.answered, desk.said
    assert len(heard) > 100, f"the staff phone got {len(heard)} packets"
    loud = heard[25:]  # after the bridge settles
    caller_side, agent_side = _strength(loud, CALLER_HZ), _strength(loud, AGENT_HZ)
    assert caller_side > 200, f"the staff phone does not hear the caller ({caller_side:.0f})"
    assert agent_side > 200, f"the staff phone does not hear the agent ({agent_side:.0f})"
