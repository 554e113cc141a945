"""The pacer on a virtual clock: exact 20 ms deadlines, flush, talkspurts, stalls."""

from __future__ import annotations

import asyncio

import pytest

from app.media.clock import VirtualClock
from app.media.pacer import Pacer


class Sink:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, bytes, int]] = []

    def __call__(self, frame: bytes, skipped: int) -> None:
        self.sent.append((round(self.clock.now(), 6), frame, skipped))


@pytest.fixture
async def rig() -> tuple[VirtualClock, Sink, Pacer]:
    clock = VirtualClock(start=100.0)
    sink = Sink(clock)
    pacer = Pacer(sink, clock)
    pacer.start()
    await asyncio.sleep(0)
    yield clock, sink, pacer
    await pacer.stop()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_frames_leave_on_absolute_20ms_deadlines(
    rig: tuple[VirtualClock, Sink, Pacer],
) -> None:
    clock, sink, pacer = rig
    for n in range(5):
        pacer.enqueue(bytes([n]) * 160)
    await _settle()
    assert [t for t, _, _ in sink.sent] == [100.0]  # the first goes at once
    await clock.advance(0.1)
    await _settle()
    assert [t for t, _, _ in sink.sent] == [100.0, 100.02, 100.04, 100.06, 100.08]
    assert [f[0] for _, f, _ in sink.sent] == [0, 1, 2, 3, 4]
    assert all(skipped == 0 for _, _, skipped in sink.sent)


async def test_flush_drops_everything_queued_at_once(rig: tuple[VirtualClock, Sink, Pacer]) -> None:
    clock, sink, pacer = rig
    for n in range(50):
        pacer.enqueue(bytes([n]) * 160)
    await _settle()
    await clock.advance(0.04)
    await _settle()
    assert len(sink.sent) == 3
    assert pacer.flush() == 47
    await clock.advance(0.2)
    await _settle()
    assert len(sink.sent) == 3 and pacer.queued == 0
    assert pacer.stats.flushed == 47


async def test_after_silence_a_new_talkspurt_reports_the_skipped_slots(
    rig: tuple[VirtualClock, Sink, Pacer],
) -> None:
    clock, sink, pacer = rig
    pacer.enqueue(b"a" * 160)
    await _settle()
    await clock.advance(1.0)  # a second of nothing to say
    pacer.enqueue(b"b" * 160)
    pacer.enqueue(b"c" * 160)
    await _settle()
    await clock.advance(0.02)
    await _settle()
    times = [t for t, _, _ in sink.sent]
    assert times == [100.0, 101.0, 101.02]
    assert [s for _, _, s in sink.sent] == [0, 49, 0]


async def test_a_stalled_loop_resyncs_instead_of_bursting() -> None:
    clock = VirtualClock(start=0.0)
    sink = Sink(clock)
    pacer = Pacer(sink, clock, max_lateness_frames=5)
    for n in range(20):
        pacer.enqueue(bytes([n]) * 160)
    pacer.start()
    await _settle()
    # the loop "stalls": time jumps 300 ms with no chance for the pacer to run in between
    clock._now += 0.3
    await clock.advance(0.0)
    await _settle()
    await clock.advance(0.1)
    await _settle()
    await pacer.stop()
    gaps = [round(b - a, 3) for (a, _, _), (b, _, _) in zip(sink.sent, sink.sent[1:], strict=False)]
    assert pacer.stats.late_resyncs >= 1
    assert gaps.count(0.0) <= 1  # at most the one frame already due; no burst of 15
