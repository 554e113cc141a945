"""Streaming resampling of 16-bit mono PCM between telephone and engine rates (soxr)."""

from __future__ import annotations

import numpy as np
import soxr

RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000)


class Resampler:
    """Keeps the filter state between chunks, so a stream cut into 20 ms frames sounds the same
    as the whole signal resampled at once (no clicks at chunk edges)."""

    def __init__(self, in_rate: int, out_rate: int, quality: str = "HQ") -> None:
        if in_rate not in RATES or out_rate not in RATES:
            raise ValueError(f"rates must be among {RATES}, got {in_rate} → {out_rate}")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._stream = (
            None
            if in_rate == out_rate
            else soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16", quality=quality)
        )

    def process(self, pcm: bytes, last: bool = False) -> bytes:
        if self._stream is None:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2")
        out = self._stream.resample_chunk(samples, last=last)
        return np.asarray(out, dtype="<i2").tobytes()

    def flush(self) -> bytes:
        """The samples still inside the filter, at the end of a stream."""
        return self.process(b"", last=True)


def resample(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    """A whole buffer at once."""
    resampler = Resampler(in_rate, out_rate)
    return resampler.process(pcm, last=True)
