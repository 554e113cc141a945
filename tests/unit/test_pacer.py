"""Pacing on a virtual clock: exact 20 ms deadlines, flush, talkspurts, stalls, many calls."""

from __future__ import annotations

import itertools

import pytest

from app.media.clock import VirtualClock
from app.media.pacer import Pacer, PacingScheduler


class Sink:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, bytes, int]] = []

    def __call__(self, frame: bytes, skipped: int) -> None:
        self.sent.append((round(self.clock.now(), 6), frame, skipped))

    @property
    def times(self) -> list[float]:
        return [t for t, _, _ in self.sent]


@pytest.fixture
def rig() -> tuple[VirtualClock, Sink, Pacer]:
    clock = VirtualClock(start=100.0)
    sink = Sink(clock)
    return clock, sink, Pacer(sink, PacingScheduler(clock))


def test_frames_leave_on_absolute_20ms_deadlines(rig: tuple[VirtualClock, Sink, Pacer]) -> None:
    clock, sink, pacer = rig
    for n in range(5):
        pacer.enqueue(bytes([n]) * 160)
    clock.advance(0)
    assert sink.times == [100.0]  # the first goes at once
    clock.advance(0.1)
    assert sink.times == [100.0, 100.02, 100.04, 100.06, 100.08]
    assert [f[0] for _, f, _ in sink.sent] == [0, 1, 2, 3, 4]
    assert all(skipped == 0 for _, _, skipped in sink.sent)


def test_flush_drops_everything_queued_at_once(rig: tuple[VirtualClock, Sink, Pacer]) -> None:
    clock, sink, pacer = rig
    for n in range(50):
        pacer.enqueue(bytes([n]) * 160)
    clock.advance(0.04)
    assert len(sink.sent) == 3
    assert pacer.flush() == 47
    clock.advance(0.2)
    assert len(sink.sent) == 3 and pacer.queued == 0 and pacer.stats.flushed == 47
    pacer.enqueue(b"z" * 160)  # and it carries on afterwards
    clock.advance(0.02)
    assert len(sink.sent) == 4


def test_after_silence_a_new_talkspurt_reports_the_skipped_slots(
    rig: tuple[VirtualClock, Sink, Pacer],
) -> None:
    clock, sink, pacer = rig
    pacer.enqueue(b"a" * 160)
    clock.advance(1.0)  # a second of nothing to say
    pacer.enqueue(b"b" * 160)
    pacer.enqueue(b"c" * 160)
    clock.advance(0.02)
    assert sink.times == [100.0, 101.0, 101.02]
    assert [s for _, _, s in sink.sent] == [0, 49, 0]


def test_audio_arriving_just_in_time_stays_one_talkspurt(
    rig: tuple[VirtualClock, Sink, Pacer],
) -> None:
    clock, sink, pacer = rig
    for _ in range(10):  # an engine delivering each frame as its slot comes up
        pacer.enqueue(b"x" * 160)
        clock.advance(0.02)
    assert [s for _, _, s in sink.sent] == [0] * 10
    assert [round(b - a, 6) for a, b in itertools.pairwise(sink.times)] == [0.02] * 9


def test_a_stalled_loop_resyncs_instead_of_bursting() -> None:
    clock = VirtualClock(start=0.0)
    sink = Sink(clock)
    pacer = Pacer(sink, PacingScheduler(clock), max_lateness_frames=5)
    for n in range(20):
        pacer.enqueue(bytes([n]) * 160)
    clock.advance(0)
    clock.jump(0.3)  # the loop stalls for 300 ms
    clock.advance(0.1)
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(sink.times)]
    assert pacer.stats.late_resyncs == 1
    assert gaps.count(0.0) == 0 and gaps[0] == 0.3  # no burst of the 15 overdue frames
    assert sink.sent[1][2] == 14  # the RTP layer is told how many slots the stall took


def test_one_timer_serves_every_call() -> None:
    clock = VirtualClock()
    scheduler = PacingScheduler(clock)
    sinks = [Sink(clock) for _ in range(100)]
    pacers = [Pacer(sink, scheduler) for sink in sinks]
    for index, pacer in enumerate(pacers):
        clock.advance(0.0001 * (index % 7))  # calls start at slightly different moments
        for _ in range(3):
            pacer.enqueue(b"y" * 160)
    clock.advance(0.1)
    assert all(len(sink.sent) == 3 for sink in sinks)
    for sink in sinks:  # each on its own grid (to within the scheduler's 0.2 ms slack)
        assert [round(b - a, 3) for a, b in itertools.pairwise(sink.times)] == [0.02, 0.02]
    assert scheduler.waiting == 0
    pacers[0].close()
    pacers[0].enqueue(b"q" * 160)
    clock.advance(0.1)
    assert len(sinks[0].sent) == 3
