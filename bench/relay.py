"""bench/relay: N concurrent calls through our RTP endpoint, jitter buffer and pacer.

Each call is an RtpEndpoint on loopback whose caller audio is echoed back through the pacer,
as the echo test does. A separate process plays Asterisk: it sends every call's RTP every
20 ms, the calls spread over the period as real calls are, so the CPU measured here is ours.

Reported per loop (asyncio's default, uvloop) and number of calls:
- CPU per call (% of one core) and the calls one core could carry at that cost;
- added latency: packet in → frame handed to the consumer, and frame queued → packet out
  (for frames with no backlog ahead of them: a backlog is audio waiting its turn, by design);
- pacing jitter: |interval between consecutive packets of a talkspurt − 20 ms|;
- a baseline in the same process: a bare UDP echo (no RTP parsing, jitter buffer or pacer),
  and our CPU as a multiple of it.

    .venv/bin/python bench/relay.py --calls 50 100 200 --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.media.clock import LoopClock
from app.media.pacer import PacingScheduler
from app.telephony.rtp_endpoint import RtpEndpoint

FRAME = b"\x55" * 160


# --- the Asterisk side, in its own process ------------------------------------------------------
def _asterisk(
    targets: list[tuple[str, int]], seconds: float, ready: multiprocessing.synchronize.Event
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, sock=sock)
        ready.set()
        start = loop.time()
        # Real calls do not start in step: each has its own phase within the 20 ms period.
        # The calls are spread over ten 2 ms slots of the period.
        slots = [targets[i::10] for i in range(10)]
        tick = 0
        while loop.time() - start < seconds:
            header = struct.pack(
                "!BBHII", 0x80, 0, tick & 0xFFFF, (tick * 160) & 0xFFFFFFFF, 0xA57E815C
            )
            for index, group in enumerate(slots):
                await asyncio.sleep(max(0.0, start + tick * 0.02 + index * 0.002 - loop.time()))
                for target in group:
                    transport.sendto(header + FRAME, target)
            tick += 1
        transport.close()

    asyncio.run(main())


# --- our side ---------------------------------------------------------------------------------
@dataclass
class Measures:
    inbound_ms: list[float] = field(default_factory=list)
    outbound_ms: list[float] = field(default_factory=list)
    jitter_ms: list[float] = field(default_factory=list)
    frames: int = 0


class TimedEndpoint(RtpEndpoint):
    """Stamps times (perf_counter, whatever the loop's clock resolution) to measure what we add."""

    def __init__(self, measures: Measures, scheduler: PacingScheduler) -> None:
        super().__init__(scheduler, name="bench")
        self.measures = measures
        self.arrivals: list[float] = []
        self.queued: list[tuple[float, bool]] = []  # (when, the pacer was empty)
        self.last_sent: float | None = None

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.arrivals.append(time.perf_counter())
        super().datagram_received(data, addr)

    def send_audio(self, frame: bytes) -> None:
        self.queued.append((time.perf_counter(), self.pacer.queued == 0))
        super().send_audio(frame)

    def _send_frame(self, frame: bytes, skipped: int) -> None:
        now = time.perf_counter()
        queued, was_idle = self.queued.pop(0)
        if was_idle:  # no backlog ahead of it: all the wait is ours
            self.measures.outbound_ms.append((now - queued) * 1000)
        if self.last_sent is not None and skipped == 0:
            self.measures.jitter_ms.append(abs((now - self.last_sent) - 0.020) * 1000)
        self.last_sent = now
        super()._send_frame(frame, skipped)


async def _echo(endpoint: TimedEndpoint) -> None:
    while True:
        frame = await endpoint.frames.get()
        if endpoint.arrivals:
            endpoint.measures.inbound_ms.append(
                (time.perf_counter() - endpoint.arrivals.pop(0)) * 1000
            )
        endpoint.measures.frames += 1
        endpoint.send_audio(frame)


async def _ours(calls: int, seconds: float) -> tuple[float, Measures]:
    measures = Measures()
    scheduler = PacingScheduler(LoopClock())
    endpoints = []
    for _ in range(calls):
        endpoint = TimedEndpoint(measures, scheduler)
        await endpoint.open("127.0.0.1", 0)
        endpoints.append(endpoint)
    tasks = [asyncio.create_task(_echo(e)) for e in endpoints]
    cpu = await _drive([e.local for e in endpoints if e.local], seconds)
    for task in tasks:
        task.cancel()
    for endpoint in endpoints:
        await endpoint.close()
    return cpu, measures


class BareEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.transport.sendto(data, addr)  # type: ignore[attr-defined]


async def _baseline(calls: int, seconds: float) -> float:
    loop = asyncio.get_running_loop()
    transports = [
        (await loop.create_datagram_endpoint(BareEcho, local_addr=("127.0.0.1", 0)))[0]
        for _ in range(calls)
    ]
    cpu = await _drive([t.get_extra_info("sockname")[:2] for t in transports], seconds)
    for transport in transports:
        transport.close()
    return cpu


async def _drive(targets: list[tuple[str, int]], seconds: float) -> float:
    ready = multiprocessing.Event()
    peer = multiprocessing.Process(target=_asterisk, args=(targets, seconds, ready))
    peer.start()
    await asyncio.to_thread(ready.wait)
    before = time.process_time()
    await asyncio.sleep(seconds)
    used = time.process_time() - before
    await asyncio.to_thread(peer.join)
    return used / seconds  # cores busy


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(loop_name: str, counts: list[int], seconds: float) -> list[str]:
    if loop_name == "uvloop":
        import uvloop  # noqa: PLC0415  (optional: the bench extra)

        runner = uvloop.run
    else:
        runner = asyncio.run
    rows = []
    for calls in counts:
        cpu, m = runner(_ours(calls, seconds))
        base = runner(_baseline(calls, seconds))
        per_call = cpu / calls * 100
        rows.append(
            f"| {loop_name} | {calls} | {per_call:.3f} % | {100 / per_call:.0f} | {base / calls * 100:.3f} % | "
            f"{cpu / base:.1f}× | {_pct(m.inbound_ms, 50):.3f} / {_pct(m.inbound_ms, 99):.3f} | "
            f"{_pct(m.outbound_ms, 50):.3f} / {_pct(m.outbound_ms, 99):.3f} | "
            f"{_pct(m.jitter_ms, 50):.3f} / {_pct(m.jitter_ms, 99):.3f} | {m.frames} |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument(
        "--loops", nargs="+", default=["asyncio", "uvloop"], choices=["asyncio", "uvloop"]
    )
    args = parser.parse_args()
    print(f"bench/relay on {os.cpu_count()} cores, {args.seconds:g} s per run")
    print(
        "| loop | calls | CPU per call | calls per core | baseline CPU per call | ours ÷ baseline | "
        "in → consumer ms p50 / p99 | queued → sent (no backlog) ms p50 / p99 | pacing jitter ms p50 / p99 | frames echoed |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for loop_name in args.loops:
        run(loop_name, args.calls, args.seconds)


if __name__ == "__main__":
    main()
