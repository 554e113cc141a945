"""Inbound reordering with loss concealment for RTP audio frames.

Frames are released in sequence order as soon as they are contiguous, so a clean stream gets
no added delay. A gap is waited for while fewer than `depth` later frames have arrived; after
that the missing frame is declared lost and concealed (the last frame repeated at lower level
once, then silence), and a frame arriving after its slot was played is dropped as late.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.media.g711 import ULAW_DECODE, ULAW_ENCODE, ULAW_SILENCE

SEQ_MOD = 1 << 16


@dataclass
class JitterStats:
    received: int = 0
    released: int = 0
    reordered: int = 0
    concealed: int = 0
    late: int = 0
    duplicate: int = 0
    overflow: int = 0
    resyncs: int = 0


def _attenuate_ulaw(frame: bytes, factor: float = 0.5) -> bytes:
    pcm = ULAW_DECODE[np.frombuffer(frame, dtype=np.uint8)].astype(np.float32) * factor
    return ULAW_ENCODE[pcm.astype(np.int16).view(np.uint16)].tobytes()


class JitterBuffer:
    def __init__(
        self, depth: int = 3, capacity: int = 50, frame_bytes: int = 160, max_gap: int = 50
    ) -> None:
        self.depth = depth
        self.max_gap = max_gap  # a jump further than this is a new stream, not a loss
        self.capacity = capacity
        self.frame_bytes = frame_bytes
        self.stats = JitterStats()
        self._pending: dict[int, bytes] = {}
        self._next: int | None = None  # extended sequence number expected next
        self._highest: int | None = None
        self._last_played: bytes | None = None
        self._concealed_run = 0

    def _extend(self, seq: int) -> int:
        """16-bit sequence number → monotonically growing one, across wrap-around."""
        if self._highest is None:
            return seq
        base = self._highest - (self._highest % SEQ_MOD)
        candidate = base + seq
        if candidate - self._highest > SEQ_MOD // 2:
            candidate -= SEQ_MOD
        elif self._highest - candidate > SEQ_MOD // 2:
            candidate += SEQ_MOD
        return candidate

    def push(self, seq: int, payload: bytes) -> list[bytes]:
        """Add a frame; returns the frames now ready to play, in order."""
        self.stats.received += 1
        ext = self._extend(seq)
        if self._next is None:
            self._next = ext
        if ext < self._next:
            self.stats.late += 1
            return []
        if ext in self._pending:
            self.stats.duplicate += 1
            return []
        if ext - self._next > self.max_gap:
            # The sender jumped (restarted, a new source after a re-INVITE): what is pending
            # plays as it is and the stream starts afresh, instead of seconds of concealment.
            self.stats.resyncs += 1
            out = [self._pending[k] for k in sorted(self._pending)]
            self._pending.clear()
            self._next = ext
            self._highest = ext
            self._pending[ext] = payload
            released = out + self._release()
            self.stats.released += len(out)
            return released
        if self._highest is not None and ext < self._highest:
            self.stats.reordered += 1
        self._highest = ext if self._highest is None else max(self._highest, ext)
        self._pending[ext] = payload
        return self._release()

    def _release(self) -> list[bytes]:
        out: list[bytes] = []
        assert self._next is not None and self._highest is not None
        while True:
            frame = self._pending.pop(self._next, None)
            if frame is not None:
                out.append(frame)
                self._last_played = frame
                self._concealed_run = 0
            elif self._highest - self._next >= self.depth or len(self._pending) > self.capacity:
                if len(self._pending) > self.capacity:
                    self.stats.overflow += 1
                out.append(self._conceal())
            else:
                break
            self._next += 1
        self.stats.released += len(out)
        return out

    def _conceal(self) -> bytes:
        self.stats.concealed += 1
        self._concealed_run += 1
        if self._last_played is not None and self._concealed_run == 1:
            return _attenuate_ulaw(self._last_played)
        return bytes([ULAW_SILENCE]) * self.frame_bytes
