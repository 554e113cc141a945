"""How loud audio is, for decisions about speech: frame levels and leading silence."""

from __future__ import annotations

import numpy as np

# 16-bit samples below this are silence to a listener (-54 dBFS): what synthesisers put
# before the first word.
SILENCE_FLOOR = 64


def frame_level(pcm16: bytes) -> float:
    """Mean absolute sample of 16-bit PCM."""
    samples = np.frombuffer(pcm16, "<i2")
    return float(np.abs(samples.astype(np.int32)).mean()) if samples.size else 0.0


def lead_trimmed(pcm16: bytes, rate: int, keep_ms: int = 20, floor: int = SILENCE_FLOOR) -> bytes:
    """The audio without its leading silence, but for `keep_ms` of it before the first sound
    (so the onset is not clipped). All silence stays as it is."""
    samples = np.frombuffer(pcm16, "<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > floor)
    if not loud.size:
        return pcm16
    start = max(0, int(loud[0]) - rate * keep_ms // 1000)
    return pcm16[2 * start :]
