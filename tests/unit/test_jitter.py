"""Reordering, loss concealment, late and duplicate packets, sequence wrap-around."""

from __future__ import annotations

from app.media.g711 import ULAW_SILENCE
from app.media.jitter import JitterBuffer


def _frame(n: int) -> bytes:
    return bytes([n % 200]) * 160


def _feed(buffer: JitterBuffer, seqs: list[int]) -> list[bytes]:
    out: list[bytes] = []
    for seq in seqs:
        out += buffer.push(seq & 0xFFFF, _frame(seq))
    return out


def test_in_order_frames_pass_straight_through() -> None:
    buffer = JitterBuffer(depth=3)
    for seq in range(10):
        assert buffer.push(seq, _frame(seq)) == [_frame(seq)]  # no added delay


def test_reordered_frames_come_out_in_order() -> None:
    buffer = JitterBuffer(depth=3)
    out = _feed(buffer, [0, 2, 1, 3, 5, 4, 6])
    assert out == [_frame(n) for n in range(7)]
    assert buffer.stats.reordered == 2 and buffer.stats.concealed == 0


def test_a_lost_frame_is_concealed_once_later_frames_prove_it_lost() -> None:
    buffer = JitterBuffer(depth=3)
    out = _feed(buffer, [0, 1, 3, 4])
    assert out == [_frame(0), _frame(1)]  # still waiting for 2
    out = _feed(buffer, [5])
    assert len(out) == 4 and out[1:] == [_frame(3), _frame(4), _frame(5)]
    assert out[0] not in (_frame(1), bytes([ULAW_SILENCE]) * 160)  # attenuated repeat
    assert buffer.stats.concealed == 1


def test_a_long_loss_turns_into_silence_and_a_late_frame_is_dropped() -> None:
    buffer = JitterBuffer(depth=2)
    out = _feed(buffer, [0, 4, 5, 6])
    silence = bytes([ULAW_SILENCE]) * 160
    assert out[0] == _frame(0) and out[2:4] == [silence, silence]
    assert out[4:] == [_frame(4), _frame(5), _frame(6)]
    assert _feed(buffer, [2]) == [] and buffer.stats.late == 1


def test_duplicates_are_dropped() -> None:
    buffer = JitterBuffer(depth=3)
    assert _feed(buffer, [0, 2, 2]) == [_frame(0)]
    assert buffer.stats.duplicate == 1


def test_sequence_numbers_wrap_around() -> None:
    buffer = JitterBuffer(depth=3)
    seqs = [65533, 65534, 0, 65535, 1, 2]
    out = _feed(buffer, seqs)
    assert out == [_frame(s) for s in [65533, 65534, 65535, 0, 1, 2]]
    assert buffer.stats.concealed == 0


def test_a_jump_in_sequence_numbers_is_a_new_stream_not_a_loss() -> None:
    buffer = JitterBuffer(depth=3, max_gap=50)
    assert _feed(buffer, [0, 1, 2]) == [_frame(0), _frame(1), _frame(2)]
    assert _feed(buffer, [2000, 2001]) == [_frame(2000), _frame(2001)]
    assert buffer.stats.resyncs == 1 and buffer.stats.concealed == 0
    assert _feed(buffer, [1999]) == [] and buffer.stats.late == 1
