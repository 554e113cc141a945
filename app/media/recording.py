"""Call recording: caller on the left channel, agent on the right, on one 20 ms timeline.

Frames are kept as μ-law (8 KB/s per side) and turned into a 16-bit stereo WAV only at the
end, in a worker thread. While paused (the caller is giving card details: the call's
CardGuard says so) both sides record silence; pausing also blanks the seconds just recorded,
since a card number is only recognised once the caller has said it.
"""

from __future__ import annotations

import io
import wave

import numpy as np

from app.media.clock import Clock
from app.media.g711 import ULAW_DECODE, ULAW_SILENCE

FRAME = 160  # bytes of μ-law in 20 ms
FRAME_SECONDS = 0.020


class StereoRecorder:
    def __init__(self, clock: Clock, max_seconds: float) -> None:
        self._clock = clock
        self._start = clock.now()
        self._max_bytes = int(max_seconds / FRAME_SECONDS) * FRAME
        self._sides = (bytearray(), bytearray())  # caller, agent
        self.paused = False

    def caller(self, frame: bytes) -> None:
        self._place(0, frame)

    def agent(self, frame: bytes) -> None:
        self._place(1, frame)

    def pause(self, rewind: float = 0.0) -> None:
        """Record silence from now on, and over the last `rewind` seconds already recorded
        (what the caller said before it was known to be card details)."""
        self.paused = True
        slot = int((self._clock.now() - rewind - self._start) / FRAME_SECONDS) * FRAME
        for buffer in self._sides:
            start = max(0, slot)
            if start < len(buffer):
                buffer[start:] = bytes([ULAW_SILENCE]) * (len(buffer) - start)

    def resume(self) -> None:
        self.paused = False

    def _place(self, side: int, frame: bytes) -> None:
        buffer = self._sides[side]
        slot = int((self._clock.now() - self._start) / FRAME_SECONDS) * FRAME
        if slot > self._max_bytes:
            return
        if len(buffer) < slot:  # silence until now on this side
            buffer.extend(bytes([ULAW_SILENCE]) * (slot - len(buffer)))
        buffer.extend(bytes([ULAW_SILENCE]) * len(frame) if self.paused else frame)

    @property
    def duration_ms(self) -> int:
        return max(len(side) for side in self._sides) // 8

    def wav(self) -> bytes:
        """The stereo WAV (8 kHz, 16-bit). CPU work: run it in a thread."""
        length = max(len(side) for side in self._sides)
        stereo = np.empty((length, 2), dtype="<i2")
        for index, side in enumerate(self._sides):
            padded = bytes(side) + bytes([ULAW_SILENCE]) * (length - len(side))
            stereo[:, index] = ULAW_DECODE[np.frombuffer(padded, dtype=np.uint8)]
        out = io.BytesIO()
        with wave.open(out, "wb") as writer:
            writer.setnchannels(2)
            writer.setsampwidth(2)
            writer.setframerate(8000)
            writer.writeframes(stereo.tobytes())
        return out.getvalue()
