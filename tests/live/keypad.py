"""Live-test parts for the phone menu: a caller with a keypad, staff phones, an ARI watcher.

The caller's signalling is SIPp (tests/live/sipp/keypad_caller.xml); its media is our own UDP
socket, so a test can press keys (RFC 4733 events, as a phone sends them) at the moment it
chooses and measure what the caller hears (the prompts, hold music). Staff phones are SIPp
too: one process registers with the extension's password, another answers the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from app.media.g711 import ULAW_DECODE
from app.pbx.sandbox import AsteriskSandbox
from app.telephony.ari_health import basic_auth
from app.telephony.rtp import RtpPacket, build, parse

SIPP = Path(__file__).parent / "sipp"
SILENCE = b"\xff" * 160
DTMF_EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
PT_EVENT = 101


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Media(asyncio.DatagramProtocol):
    def __init__(self, caller: KeypadCaller) -> None:
        self.caller = caller

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        with contextlib.suppress(ValueError):
            packet = parse(data)
            if packet.payload_type == 0:
                self.caller.heard.append((time.monotonic(), packet.payload))
                self.caller.remote = addr


@dataclass
class KeypadCaller:
    """The caller's phone: sends silence every 20 ms, keys when told, keeps what it hears."""

    heard: list[tuple[float, bytes]] = field(default_factory=list)
    remote: tuple[str, int] | None = None
    port: int = 0
    _transport: asyncio.DatagramTransport | None = None
    _sequence: int = field(default_factory=lambda: random.randrange(1 << 16))
    _timestamp: int = 0
    _ssrc: int = field(default_factory=lambda: random.randrange(1 << 32))
    _task: asyncio.Task[None] | None = None
    _speech: list[bytes] = field(default_factory=list)

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Media(self), local_addr=("127.0.0.1", 0)
        )
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        self._task = asyncio.create_task(self._talk(), name="keypad-caller-rtp")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._transport is not None:
            self._transport.close()

    def _send(self, payload_type: int, payload: bytes, marker: bool = False) -> None:
        if self._transport is None or self.remote is None:
            return
        self._sequence += 1
        packet = RtpPacket(
            payload_type, self._sequence, self._timestamp, self._ssrc, payload, marker
        )
        self._transport.sendto(build(packet), self.remote)

    async def _talk(self) -> None:
        while True:
            await asyncio.sleep(0.02)
            self._timestamp += 160
            self._send(0, self._speech.pop(0) if self._speech else SILENCE)

    def speak(self, frames: list[bytes]) -> None:
        """Say these μ-law frames (20 ms each) instead of silence, from the next frame on."""
        self._speech.extend(frames)

    @property
    def speaking(self) -> bool:
        return bool(self._speech)

    async def answered(self, timeout: float = 15) -> None:
        """Until Asterisk's audio arrives (it answered and plays something)."""
        async with asyncio.timeout(timeout):
            while self.remote is None:
                await asyncio.sleep(0.05)

    async def press(self, key: str) -> None:
        """One key, as a phone sends it: events of growing duration, then three end packets."""
        event = DTMF_EVENTS[key]
        start = self._timestamp
        for step in range(1, 6):
            self._send(PT_EVENT, struct.pack("!BBH", event, 10, step * 160), marker=step == 1)
            await asyncio.sleep(0.02)
        for _ in range(3):
            self._send(PT_EVENT, struct.pack("!BBH", event, 0x80 | 10, 6 * 160))
        self._timestamp = start + 6 * 160
        await asyncio.sleep(0.2)

    def level(self, since: float, until: float | None = None) -> float:
        """Mean loudness of what was heard between two monotonic times."""
        frames = [p for t, p in self.heard if t >= since and (until is None or t <= until)]
        if not frames:
            return 0.0
        pcm = ULAW_DECODE[np.frombuffer(b"".join(frames), np.uint8)].astype(np.float64)
        return float(np.abs(pcm).mean())


async def sipp(
    pbx: AsteriskSandbox, scenario: str, *extra: str, timeout: float = 90, calls: int | None = 1
) -> tuple[int, str]:
    """SIPp with a scenario of tests/live/sipp/: (exit code, the end of what it printed)."""
    count = ["-m", str(calls)] if calls is not None else []
    with tempfile.TemporaryDirectory(prefix="sipp-") as tmp:
        errors = Path(tmp) / "errors.log"
        proc = await asyncio.create_subprocess_exec(
            "sipp",
            pbx.sip_address,
            "-sf",
            str(SIPP / scenario),
            *count,
            "-nostdin",
            "-timeout",
            f"{int(timeout)}s",
            "-timeout_error",
            "-trace_err",
            "-error_file",
            str(errors),
            *extra,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=tmp,
        )
        try:
            await asyncio.wait_for(proc.wait(), timeout + 10)
        finally:
            if proc.returncode is None:  # cancelled or stuck: never leave a SIPp behind
                proc.kill()
                await proc.wait()
        assert proc.returncode is not None
        said = errors.read_text(errors="replace")[-1500:] if errors.exists() else ""
    return proc.returncode, f"{scenario} exited with {proc.returncode}: {said}"


@contextlib.asynccontextmanager
async def calling(
    pbx: AsteriskSandbox, number: str, *, wait_for_audio: bool = True
) -> AsyncIterator[KeypadCaller]:
    """A call to `number` from the trunk; the caller's phone is yielded once Asterisk's audio
    arrives (or at once). When the block ends, the call is hung up (if nothing else did)."""
    caller = KeypadCaller()
    await caller.open()
    call = asyncio.create_task(
        sipp(
            pbx,
            "keypad_caller.xml",
            "-s",
            number,
            "-i",
            "127.0.0.1",
            "-p",
            str(free_port()),
            "-set",
            "media_port",
            str(caller.port),
        ),
        name="keypad-caller-sipp",
    )
    try:
        if wait_for_audio:
            await caller.answered()
        yield caller
    finally:
        await asyncio.sleep(0.3)
        if not call.done():
            pbx.cli("channel request hangup all")
        code, out = await call
        await caller.close()
        assert code == 0, out


@dataclass
class StaffPhone:
    extension: str
    answered: bool = False
    said: str = ""

    async def picks_up(self, pbx: AsteriskSandbox, timeout: float = 40) -> bool:
        """Until this phone is in an answered call (False if it never is)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in (
                await asyncio.to_thread(pbx.cli, "core show channels concise")
            ).splitlines():
                fields = line.split("!")
                if fields[0].startswith(f"PJSIP/{self.extension}-") and fields[4:5] == ["Up"]:
                    return True
            await asyncio.sleep(0.2)
        return False


async def register(
    pbx: AsteriskSandbox, extension: str, port: int, *, expires: int, address: str = "127.0.0.1"
) -> tuple[int, str]:
    """A staff phone's REGISTER (expires 0: logs out) from address:port, with its password."""
    return await sipp(
        pbx,
        "staff_register.xml",
        "-s",
        extension,
        "-au",
        extension,
        "-ap",
        pbx.sip_passwords[extension],
        "-i",
        address,
        "-p",
        str(port),
        "-set",
        "contact_port",
        str(port),
        "-set",
        "expires",
        str(expires),
        timeout=15,
    )


@contextlib.asynccontextmanager
async def staff_phone(
    pbx: AsteriskSandbox,
    extension: str,
    scenario: str = "staff_answers.xml",
    extra: tuple[str, ...] = (),
) -> AsyncIterator[StaffPhone]:
    """A staff phone registered with its real password, ready to answer one call. On exit
    (after the test's call) it says whether it rang and was answered. Another `scenario`:
    staff_answers_then_hangs_up.xml (hangs up itself after 6 s), staff_rings.xml (nobody
    picks up; `answered` then means it rang until Asterisk gave up)."""
    phone = StaffPhone(extension)
    port = free_port()
    # Register from the port that will answer: Asterisk rewrites the contact to the address
    # a REGISTER came from (rewrite_contact, for phones behind NAT).
    code, out = await register(pbx, extension, port, expires=300)
    answer = asyncio.create_task(
        sipp(
            pbx,
            scenario,
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mp",
            str(free_port() & ~1),
            *extra,  # e.g. -set media_port N (staff_answers_media.xml)
            timeout=60,
            calls=None,  # qualify OPTIONS come and go; the scenario stops after the call
        ),
        name=f"staff-{extension}-answers",
    )
    assert code == 0, f"phone {extension} could not register: {out}"
    try:
        yield phone
        # The scenario stops SIPp (exit code 97, "internal command") right after the call's
        # BYE; anything else (no INVITE, a failed call, the timeout) is a phone that did not
        # answer.
        code, out = await asyncio.wait_for(asyncio.shield(answer), 75)
        phone.answered = code == 97
        phone.said = out
    finally:
        if not answer.done():
            answer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await answer
        await register(pbx, extension, port, expires=0)  # logged out: the next test starts clean


class AriWatch:
    """Stands in for the controller on the ARI app: records each StasisStart, can read a
    channel's variables, and hangs up (an AI "answer" is enough for a menu test)."""

    def __init__(self, pbx: AsteriskSandbox) -> None:
        self.pbx = pbx
        self.started: list[dict[str, Any]] = []
        self._taken = 0
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": basic_auth(self.pbx.ari_user, self.pbx.ari_password)}

    async def __aenter__(self) -> AriWatch:
        self._session = aiohttp.ClientSession(headers=self._headers)
        ws_url = self.pbx.ari_url.replace("http", "ws") + "/events?app=frontdesk"
        ws = await self._session.ws_connect(ws_url)
        self._task = asyncio.create_task(self._listen(ws), name="ari-watch")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _listen(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            event = message.json()
            if event.get("type") == "StasisStart":
                self.started.append(event)
                # answer, as the controller would (a caller straight from the trunk is still
                # ringing), so the caller's phone hears the call is up
                assert self._session is not None
                channel = event["channel"]["id"]
                async with self._session.post(f"{self.pbx.ari_url}/channels/{channel}/answer"):
                    pass

    async def next_start(self, timeout: float = 30) -> dict[str, Any]:
        """The next StasisStart not yet taken (it may have come already)."""
        async with asyncio.timeout(timeout):
            while len(self.started) == self._taken:
                await asyncio.sleep(0.05)
        self._taken += 1
        return self.started[self._taken - 1]

    async def variable(self, channel_id: str, name: str) -> str:
        assert self._session is not None
        async with self._session.get(
            f"{self.pbx.ari_url}/channels/{channel_id}/variable", params={"variable": name}
        ) as response:
            return str((await response.json()).get("value", ""))

    async def continue_in_dialplan(self, channel_id: str, context: str, extension: str) -> None:
        """The caller leaves Stasis into the dialplan, as the controller sends it on."""
        assert self._session is not None
        async with self._session.post(
            f"{self.pbx.ari_url}/channels/{channel_id}/continue",
            params={"context": context, "extension": extension, "priority": "1"},
        ) as response:
            assert response.status == 204, await response.text()

    async def hang_up(self, channel_id: str) -> None:
        assert self._session is not None
        async with self._session.delete(f"{self.pbx.ari_url}/channels/{channel_id}"):
            pass
