"""The per-call RTP endpoint over real UDP sockets on loopback."""

from __future__ import annotations

import asyncio
import itertools
import socket
from typing import cast

import pytest

from app.media.clock import LoopClock
from app.media.pacer import PacingScheduler
from app.telephony.rtp import RtpPacket, build, parse
from app.telephony.rtp_endpoint import NoFreePort, PortPool, RtpEndpoint


class Peer(asyncio.DatagramProtocol):
    """Plays Asterisk's side: a UDP socket that sends and records RTP."""

    def __init__(self) -> None:
        self.received: list[tuple[float, RtpPacket]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.received.append((asyncio.get_running_loop().time(), parse(data)))

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def send(self, to: tuple[str, int], seq: int, payload: bytes, ssrc: int = 1234) -> None:
        assert self.transport is not None
        self.transport.sendto(build(RtpPacket(0, seq, seq * 160, ssrc, payload)), to)


async def _peer() -> Peer:
    loop = asyncio.get_running_loop()
    _, peer = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    return peer


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def endpoint() -> RtpEndpoint:
    ep = RtpEndpoint(PacingScheduler(LoopClock()), name="test")
    await ep.open("127.0.0.1", _free_port())
    yield ep
    await ep.close()


async def _frames(ep: RtpEndpoint, count: int) -> list[bytes]:
    return [await asyncio.wait_for(ep.frames.get(), 2) for _ in range(count)]


async def test_inbound_audio_is_reordered_and_the_first_source_latched(
    endpoint: RtpEndpoint,
) -> None:
    asterisk, stranger = await _peer(), await _peer()
    assert endpoint.local is not None
    for seq in (10, 12, 11, 13):
        asterisk.send(endpoint.local, seq, bytes([seq]) * 160)
        await asyncio.sleep(0.005)
    stranger.send(endpoint.local, 14, b"\x00" * 160, ssrc=999)
    frames = await _frames(endpoint, 4)
    assert [f[0] for f in frames] == [10, 11, 12, 13]
    await asyncio.sleep(0.05)
    assert endpoint.frames.empty()
    assert endpoint.remote == asterisk.address and endpoint.latched
    assert endpoint.counters.strangers == 1 and endpoint.counters.packets_in == 4

    assert endpoint.local is not None
    asterisk.transport.sendto(b"not rtp", endpoint.local)  # type: ignore[union-attr]
    asterisk.send(
        endpoint.local, 15, b"\x01" * 160, ssrc=endpoint.ssrc
    )  # our own audio looped back
    await asyncio.sleep(0.05)
    assert endpoint.counters.malformed == 1 and endpoint.counters.own_ssrc == 1
    for peer in (asterisk, stranger):
        assert peer.transport is not None
        peer.transport.close()


async def test_outbound_audio_is_paced_with_continuous_numbering(endpoint: RtpEndpoint) -> None:
    asterisk = await _peer()
    endpoint.set_remote(*asterisk.address)
    for n in range(25):
        endpoint.send_audio(bytes([n]) * 160)
    await asyncio.sleep(0.7)
    packets = [p for _, p in asterisk.received]
    assert len(packets) == 25
    assert all(len(p.payload) == 160 for p in packets)
    assert [(b.sequence - a.sequence) & 0xFFFF for a, b in itertools.pairwise(packets)] == [1] * 24
    assert [(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in itertools.pairwise(packets)] == [
        160
    ] * 24
    assert packets[0].marker and not any(p.marker for p in packets[1:])
    assert len({p.ssrc for p in packets}) == 1
    times = [t for t, _ in asterisk.received]
    span = times[-1] - times[0]
    assert 0.4 < span < 0.6  # paced over ~480 ms, not burst (loose: this is not a timing test)

    # a pause, then a new talkspurt: marker set, timestamp advanced by the silence
    await asyncio.sleep(0.2)
    endpoint.send_audio(b"\x7f" * 160)
    await asyncio.sleep(0.1)
    last, resumed = asterisk.received[-2][1], asterisk.received[-1][1]
    assert resumed.marker and resumed.sequence == (last.sequence + 1) & 0xFFFF
    assert (resumed.timestamp - last.timestamp) & 0xFFFFFFFF >= 160 * 10
    assert asterisk.transport is not None
    asterisk.transport.close()


async def test_barge_in_flush_stops_audio_at_once(endpoint: RtpEndpoint) -> None:
    asterisk = await _peer()
    endpoint.set_remote(*asterisk.address)
    for n in range(100):
        endpoint.send_audio(bytes([n % 250]) * 160)
    await asyncio.sleep(0.1)
    dropped = endpoint.flush()
    sent_at_flush = endpoint.counters.packets_out
    await asyncio.sleep(0.2)
    assert dropped + sent_at_flush == 100
    assert endpoint.counters.packets_out == sent_at_flush
    assert asterisk.transport is not None
    asterisk.transport.close()


def test_port_pool_hands_out_even_ports_and_takes_them_back() -> None:
    pool = PortPool(40000, 40005)
    ports = [pool.take(), pool.take(), pool.take()]
    assert ports == [40000, 40002, 40004] and pool.in_use == 3
    with pytest.raises(NoFreePort):
        pool.take()
    pool.give_back(40002)
    assert pool.take() == 40002
    with pytest.raises(ValueError):
        PortPool(80, 90)
