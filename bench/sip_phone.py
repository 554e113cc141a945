"""A SIP phone for benchmarks: places one call (UDP, no registration, no authentication, as the
trunk's far end does), speaks the caller's lines as μ-law RTP on a steady 20 ms clock (silence
in between, as a phone sends), and records every packet it hears with its arrival time.

Only what a call into the PBX needs: INVITE (PCMU + RFC 4733 offered), ACK, BYE either way,
200 to OPTIONS. All times are the event loop's monotonic clock (`time.monotonic()`), the same
clock the app's logs are stamped with when both run in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import struct
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from app.media.g711 import ULAW_DECODE, ulaw_decode, ulaw_encode

SILENCE = b"\xff" * 160  # μ-law 0
FRAME_SECONDS = 0.020


def level(frame: bytes) -> float:
    """Mean absolute sample (16-bit scale) of a μ-law frame."""
    return float(np.abs(ULAW_DECODE[np.frombuffer(frame, np.uint8)].astype(np.int32)).mean())


@dataclass
class Heard:
    at: float  # arrival, monotonic seconds
    sequence: int
    marker: bool
    payload: bytes


@dataclass
class Spoken:
    started: float  # the first frame of the line left
    speech_end: float  # the last frame with speech in it left: the end of the caller's speech
    ended: float  # the line's last frame (trailing silence included) left


class RtpPeer(asyncio.DatagramProtocol):
    """The phone's media: sends what it is told to say (silence otherwise) every 20 ms, keeps
    what it receives."""

    def __init__(self, speech_level: float = 100.0, noise_dbfs: float | None = None) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.remote: tuple[str, int] | None = None
        self.heard: list[Heard] = []
        self.speech_level = speech_level
        # (frame, the line's last with speech, the line's future on its last frame)
        self._queue: list[tuple[bytes, bool, asyncio.Future[Spoken] | None]] = []
        self._task: asyncio.Task[None] | None = None
        self._ssrc = random.getrandbits(32)
        self._sequence = random.getrandbits(16)
        self._timestamp = random.getrandbits(32)
        # Line noise on everything the phone sends (speech and silence): a phone's mic in a
        # room, or a noisy line. RMS in dB below full scale; None: a clean line.
        self._noise = None if noise_dbfs is None else 32768 * 10 ** (noise_dbfs / 20)
        self._rng = np.random.default_rng(1)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if len(data) < 12 or data[0] >> 6 != 2 or data[1] & 0x7F != 0:
            return  # not PCMU RTP (RFC 4733 events, RTCP)
        sequence = struct.unpack_from("!H", data, 2)[0]
        offset = 12 + 4 * (data[0] & 0x0F)
        self.heard.append(Heard(time.monotonic(), sequence, bool(data[1] & 0x80), data[offset:]))

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def start(self) -> None:
        self._task = asyncio.create_task(self._send(), name="phone-rtp")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.transport is not None:
            self.transport.close()

    def say(self, ulaw: bytes) -> asyncio.Future[Spoken]:
        """Queue a line (μ-law, any length: cut into 20 ms frames, the last padded). Its
        speech ends with the last frame within 40 dB of its loudest."""
        frames = [ulaw[i : i + 160].ljust(160, b"\xff") for i in range(0, len(ulaw), 160)]
        levels = [level(f) for f in frames]
        floor = max(30.0, max(levels, default=0.0) / 100)
        last = max((n for n, v in enumerate(levels) if v > floor), default=0)
        done: asyncio.Future[Spoken] = asyncio.get_running_loop().create_future()
        for n, frame in enumerate(frames):
            self._queue.append((frame, n == last, done if n == len(frames) - 1 else None))
        return done

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        started: float | None = None
        speech_end: float | None = None
        while True:
            await asyncio.sleep(max(0.0, start + n * FRAME_SECONDS - loop.time()))
            n += 1
            frame, last, done = self._queue.pop(0) if self._queue else (SILENCE, False, None)
            now = time.monotonic()
            if frame is not SILENCE:
                started = now if started is None else started
                if last:
                    speech_end = now
            if self._noise is not None:
                pcm = np.frombuffer(ulaw_decode(frame), "<i2").astype(np.float64)
                pcm += self._rng.normal(0.0, self._noise, pcm.size)
                frame = ulaw_encode(np.clip(pcm, -32768, 32767).astype("<i2").tobytes())
            if self.remote is not None and self.transport is not None:
                self._sequence = (self._sequence + 1) & 0xFFFF
                self._timestamp = (self._timestamp + 160) & 0xFFFFFFFF
                header = struct.pack("!BBHII", 0x80, 0, self._sequence, self._timestamp, self._ssrc)
                self.transport.sendto(header + frame, self.remote)
            if done is not None and not done.done():
                assert started is not None
                done.set_result(Spoken(started, speech_end or started, now))
                started = speech_end = None


class SipError(Exception):
    pass


@dataclass
class _Dialog:
    call_id: str
    local_tag: str
    remote_to: str = ""  # the To header with the far end's tag
    remote_target: str = ""  # its Contact URI
    cseq: int = 1
    responses: asyncio.Queue[tuple[int, str, dict[str, str], str]] = field(
        default_factory=asyncio.Queue
    )
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class SipPhone(asyncio.DatagramProtocol):
    """One call at a time from 127.0.0.1 to a SIP server (the PBX's trunk from the carrier)."""

    def __init__(
        self,
        server: tuple[str, int],
        caller: str = "+14155550123",
        noise_dbfs: float | None = None,
    ) -> None:
        self.server = server
        self.caller = caller
        self.rtp = RtpPeer(noise_dbfs=noise_dbfs)
        self.transport: asyncio.DatagramTransport | None = None
        self.answered_at: float | None = None
        self._dialog: _Dialog | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", 0))
        await loop.create_datagram_endpoint(lambda: self.rtp, local_addr=("127.0.0.1", 0))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    @property
    def _local(self) -> str:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return f"{host}:{port}"

    def _send(self, text: str) -> None:
        assert self.transport is not None
        self.transport.sendto(text.replace("\n", "\r\n").encode(), self.server)

    def _request(self, method: str, uri: str, to: str, cseq: int, body: str = "") -> str:
        assert self._dialog is not None
        content = "Content-Type: application/sdp\n" if body else ""
        return (
            f"{method} {uri} SIP/2.0\n"
            f"Via: SIP/2.0/UDP {self._local};branch=z9hG4bK{uuid.uuid4().hex[:16]};rport\n"
            f"Max-Forwards: 70\n"
            f'From: "Bench Caller" <sip:{self.caller}@{self._local}>;tag={self._dialog.local_tag}\n'
            f"To: {to}\n"
            f"Call-ID: {self._dialog.call_id}\n"
            f"CSeq: {cseq} {method}\n"
            f"Contact: <sip:{self.caller}@{self._local}>\n"
            f"User-Agent: frontdesk-bench-phone\n"
            f"{content}Content-Length: {len(body.replace(chr(10), chr(13) + chr(10)))}\n\n{body}"
        )

    def _sdp(self) -> str:
        return (
            "v=0\n"
            f"o=bench {random.getrandbits(30)} 1 IN IP4 127.0.0.1\n"
            "s=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
            f"m=audio {self.rtp.port} RTP/AVP 0 101\n"
            "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n"
            "a=ptime:20\na=sendrecv\n"
        )

    async def call(self, number: str, timeout: float = 15.0) -> None:
        """INVITE until answered (200 OK), then ACK; media starts at once."""
        host, port = self.server
        self._dialog = dialog = _Dialog(uuid.uuid4().hex, uuid.uuid4().hex[:10])
        uri = f"sip:{number}@{host}:{port}"
        invite = self._request("INVITE", uri, f"<{uri}>", 1, self._sdp())
        self.rtp.start()
        deadline = time.monotonic() + timeout
        provisional = False
        self._send(invite)
        while True:
            try:
                code, _, headers, body = await asyncio.wait_for(
                    dialog.responses.get(), 0.5 if not provisional else 1.0
                )
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise SipError(f"no answer from {host}:{port}") from None
                if not provisional:
                    self._send(invite)  # UDP: retransmit until something comes back
                continue
            if code < 200:
                provisional = True
                continue
            if code >= 300:
                raise SipError(f"call refused: {code}")
            break
        self.answered_at = time.monotonic()
        dialog.remote_to = headers.get("to", "")
        contact = re.search(r"<([^>]+)>", headers.get("contact", "")) or re.search(
            r"(sip:\S+)", headers.get("contact", "")
        )
        dialog.remote_target = contact.group(1) if contact else uri
        media_host = re.search(r"^c=IN IP4 (\S+)", body, re.M)
        media_port = re.search(r"^m=audio (\d+)", body, re.M)
        if media_host is None or media_port is None:
            raise SipError("no audio in the answer")
        self.rtp.remote = (media_host.group(1), int(media_port.group(1)))
        self._ack()

    def _ack(self) -> None:
        assert self._dialog is not None
        self._send(self._request("ACK", self._dialog.remote_target, self._dialog.remote_to, 1))

    async def hangup(self) -> None:
        dialog = self._dialog
        if dialog is None or dialog.ended.is_set():
            return
        dialog.cseq += 1
        self._send(self._request("BYE", dialog.remote_target, dialog.remote_to, dialog.cseq))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3):
                while True:
                    code, method, _, _ = await dialog.responses.get()
                    if method == "BYE" and code >= 200:
                        break
        dialog.ended.set()

    async def close(self) -> None:
        await self.hangup()
        await self.rtp.stop()
        if self.transport is not None:
            self.transport.close()

    @property
    def hung_up(self) -> bool:
        return self._dialog is not None and self._dialog.ended.is_set()

    # --- what the server sends ------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        text = data.decode(errors="replace")
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        first = lines[0]
        if first.startswith("SIP/2.0 "):
            code = int(first.split()[1])
            method = headers.get("cseq", "0 ?").split()[-1]
            if self._dialog is not None:
                if method == "INVITE" and code >= 200 and self.answered_at is not None:
                    self._ack()  # a retransmitted 200: our ACK was lost
                    return
                self._dialog.responses.put_nowait((code, method, headers, body))
            return
        method = first.split()[0]
        reply = (
            "SIP/2.0 200 OK\n"
            + "".join(
                f"{name}: {headers[name.lower()]}\n"
                for name in ("Via", "From", "To", "Call-ID", "CSeq")
                if name.lower() in headers
            )
            + "Content-Length: 0\n\n"
        )
        if method in ("BYE", "OPTIONS", "ACK"):
            if method != "ACK":
                self._send(reply)
            if method == "BYE" and self._dialog is not None:
                self._dialog.ended.set()
