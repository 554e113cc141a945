"""Cutting an audio stream that arrives in chunks of any size into fixed 20 ms frames."""

from __future__ import annotations


class FrameChunker:
    """Engines send audio in chunks of any length; RTP wants exactly one frame per packet.
    Keeps the remainder between pushes; `flush` pads the last partial frame with silence."""

    def __init__(self, frame_bytes: int = 160, silence: int = 0xFF) -> None:
        if frame_bytes <= 0:
            raise ValueError("frame_bytes must be positive")
        self.frame_bytes = frame_bytes
        self._silence = silence
        self._pending = bytearray()

    def push(self, data: bytes) -> list[bytes]:
        self._pending.extend(data)
        whole = len(self._pending) - len(self._pending) % self.frame_bytes
        frames = [
            bytes(self._pending[i : i + self.frame_bytes])
            for i in range(0, whole, self.frame_bytes)
        ]
        del self._pending[:whole]
        return frames

    def flush(self) -> list[bytes]:
        if not self._pending:
            return []
        frame = bytes(self._pending) + bytes([self._silence]) * (
            self.frame_bytes - len(self._pending)
        )
        self._pending.clear()
        return [frame]

    def clear(self) -> None:
        """Barge-in: what was not yet a frame is dropped with the rest."""
        self._pending.clear()

    @property
    def pending(self) -> int:
        return len(self._pending)
