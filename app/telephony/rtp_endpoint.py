"""One UDP socket per call carrying the call's audio to and from Asterisk (externalMedia).

Inbound: RTP parsed, the first valid source latched (later strangers dropped), our own SSRC
ignored (a loop), frames reordered and concealed by the jitter buffer, then put on a bounded
queue the call's consumer reads. Outbound: frames go through the pacer, leave on absolute
20 ms deadlines with continuous sequence numbers and timestamps.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from app.log import get_logger
from app.media.jitter import JitterBuffer
from app.media.pacer import Pacer, PacingScheduler
from app.telephony.rtp import PT_PCMU, RtpError, RtpPacket, build, parse

log = get_logger(__name__)

SAMPLES_PER_FRAME = 160  # 20 ms at 8 kHz


class NoFreePort(Exception):
    """Every port of the RTP range is taken."""


class PortPool:
    """Even ports of a configured range (RTP convention), handed out and taken back."""

    def __init__(self, first: int, last: int) -> None:
        if not 1024 <= first < last <= 65535:
            raise ValueError(f"bad RTP port range {first}-{last}")
        start = first + (first % 2)
        self._free = list(range(start, last + 1, 2))
        self._used: set[int] = set()
        self.size = len(self._free)

    def take(self) -> int:
        if not self._free:
            raise NoFreePort(f"all {self.size} RTP ports are in use")
        port = self._free.pop(0)
        self._used.add(port)
        return port

    def give_back(self, port: int) -> None:
        if port in self._used:
            self._used.remove(port)
            self._free.append(port)

    @property
    def in_use(self) -> int:
        return len(self._used)


@dataclass
class RtpCounters:
    packets_in: int = 0
    packets_out: int = 0
    malformed: int = 0
    strangers: int = 0
    own_ssrc: int = 0
    wrong_payload_type: int = 0
    queue_overflow: int = 0
    no_remote: int = 0


class RtpEndpoint(asyncio.DatagramProtocol):
    def __init__(
        self,
        scheduler: PacingScheduler,
        *,
        payload_type: int = PT_PCMU,
        queue_frames: int = 250,
        on_sent: Callable[[bytes], None] | None = None,
        on_received: Callable[[bytes], None] | None = None,
        name: str = "rtp",
    ) -> None:
        self.payload_type = payload_type
        self.counters = RtpCounters()
        self.frames: asyncio.Queue[bytes] = asyncio.Queue(maxsize=queue_frames)
        self.jitter = JitterBuffer()
        self.remote: tuple[str, int] | None = None
        self.latched = False
        self.last_received: float | None = None
        self.local: tuple[str, int] | None = None
        self._clock = scheduler.clock
        self._transport: asyncio.DatagramTransport | None = None
        self._ssrc = random.getrandbits(32)
        self._sequence = random.getrandbits(16)
        self._timestamp = random.getrandbits(32)
        self._first = True
        self._on_sent = on_sent
        self._on_received = on_received
        self.pacer = Pacer(self._send_frame, scheduler)
        self.name = name

    # --- lifecycle ---------------------------------------------------------------------------
    async def open(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.bind((host, port))
        await loop.create_datagram_endpoint(lambda: self, sock=sock)

    async def close(self) -> None:
        self.pacer.close()
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (the selector loop's datagram transport is not a DatagramTransport subclass)
        self._transport = cast(asyncio.DatagramTransport, transport)
        self.local = transport.get_extra_info("sockname")[:2]

    # --- inbound -------------------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        source = (str(addr[0]), int(str(addr[1])))
        try:
            packet = parse(data)
        except RtpError:
            self.counters.malformed += 1
            return
        if packet.ssrc == self._ssrc:
            self.counters.own_ssrc += 1
            return
        if self.latched and source != self.remote:
            self.counters.strangers += 1
            return
        if packet.payload_type != self.payload_type:
            self.counters.wrong_payload_type += 1  # e.g. RFC 2833 events: DTMF comes via ARI
            return
        if not self.latched:
            self.remote, self.latched = source, True  # symmetric RTP: answer where it came from
        self.counters.packets_in += 1
        self.last_received = self._clock.now()
        for frame in self.jitter.push(packet.sequence, packet.payload):
            if self._on_received is not None:
                self._on_received(frame)
            if self.frames.full():
                self.frames.get_nowait()  # a stalled consumer loses the oldest audio, not the newest
                self.counters.queue_overflow += 1
            self.frames.put_nowait(frame)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: the peer is gone or not yet there. Not fatal.
        pass

    # --- outbound ------------------------------------------------------------------------------
    def set_remote(self, host: str, port: int) -> None:
        """Where to send before the first packet arrives (Asterisk's UNICASTRTP address)."""
        if not self.latched:
            self.remote = (host, port)

    def send_audio(self, frame: bytes) -> None:
        """Queue one 20 ms frame (160 bytes of G.711) for paced sending."""
        self.pacer.enqueue(frame)

    def flush(self) -> int:
        """Barge-in: drop queued agent audio at once; returns the frames dropped."""
        return self.pacer.flush()

    def _send_frame(self, frame: bytes, skipped: int) -> None:
        if self.remote is None or self._transport is None:
            self.counters.no_remote += 1
            return
        self._sequence = (self._sequence + 1) & 0xFFFF
        if not self._first:
            self._timestamp = (self._timestamp + SAMPLES_PER_FRAME * (1 + skipped)) & 0xFFFFFFFF
        marker = self._first or skipped > 0
        packet = RtpPacket(
            self.payload_type, self._sequence, self._timestamp, self._ssrc, frame, marker=marker
        )
        self._first = False
        self._transport.sendto(build(packet), self.remote)
        if marker:  # the agent starts talking: when its first packet left (the reply's latency)
            log.debug("talkspurt sent", endpoint=self.name, sequence=self._sequence)
        self.counters.packets_out += 1
        if self._on_sent is not None:
            self._on_sent(frame)

    @property
    def ssrc(self) -> int:
        return self._ssrc
