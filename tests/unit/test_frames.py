"""Chunks of any size become whole 20 ms frames, nothing lost, nothing invented."""

from __future__ import annotations

import os

import pytest

from app.media.frames import FrameChunker


def test_any_chunking_gives_the_same_frames() -> None:
    stream = os.urandom(160 * 25 + 37)
    for sizes in ([1], [159], [160], [161], [1000], [7, 300, 13]):
        chunker = FrameChunker()
        frames: list[bytes] = []
        position, index = 0, 0
        while position < len(stream):
            size = sizes[index % len(sizes)]
            frames += chunker.push(stream[position : position + size])
            position += size
            index += 1
        assert b"".join(frames) == stream[: 160 * 25] and all(len(f) == 160 for f in frames)
        assert chunker.pending == 37
        tail = chunker.flush()
        assert tail == [stream[160 * 25 :] + b"\xff" * 123] and chunker.flush() == []


def test_clear_drops_the_partial_frame() -> None:
    chunker = FrameChunker(frame_bytes=320, silence=0)
    assert chunker.push(b"\x01" * 100) == []
    chunker.clear()
    assert chunker.push(b"\x02" * 320) == [b"\x02" * 320]
    with pytest.raises(ValueError):
        FrameChunker(frame_bytes=0)
