"""Resampling keeps the signal: frequency, level, and chunked == whole."""

from __future__ import annotations

import numpy as np
import pytest

from app.media.resample import Resampler, resample


def _tone(rate: int, freq: float, seconds: float = 1.0, level: float = 0.5) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * level * 32767).astype("<i2").tobytes()


def _peak_hz(pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def _snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    noise = reference - test
    return float(10 * np.log10(np.sum(reference**2) / max(np.sum(noise**2), 1e-9)))


@pytest.mark.parametrize(
    ("src", "dst"), [(8000, 16000), (8000, 24000), (24000, 8000), (16000, 8000)]
)
def test_a_tone_keeps_its_pitch_and_level(src: int, dst: int) -> None:
    out = resample(_tone(src, 1000), src, dst)
    assert abs(len(out) // 2 - dst) <= dst * 0.01
    assert abs(_peak_hz(out, dst) - 1000) < 5
    level = np.abs(np.frombuffer(out, "<i2")[dst // 10 : -dst // 10]).max()
    assert 0.45 * 32767 < level < 0.55 * 32767


def test_round_trip_is_clean() -> None:
    original = _tone(8000, 440, 2.0)
    back = resample(resample(original, 8000, 24000), 24000, 8000)
    a = np.frombuffer(original, "<i2").astype(np.float64)[800:-800]
    b = np.frombuffer(back, "<i2").astype(np.float64)[800:-800]
    assert _snr_db(a, b) > 40


def test_streaming_in_20ms_chunks_matches_the_whole() -> None:
    signal = _tone(8000, 700, 1.0)
    whole = resample(signal, 8000, 16000)
    stream = Resampler(8000, 16000)
    chunks = [stream.process(signal[i : i + 320]) for i in range(0, len(signal), 320)]
    chunked = b"".join(chunks) + stream.flush()
    a = np.frombuffer(whole, "<i2").astype(np.float64)
    b = np.frombuffer(chunked, "<i2").astype(np.float64)
    assert len(a) == len(b)
    assert _snr_db(a[1600:-1600], b[1600:-1600]) > 60


def test_same_rate_passes_through_and_bad_rates_are_refused() -> None:
    assert Resampler(8000, 8000).process(b"\x01\x02") == b"\x01\x02"
    with pytest.raises(ValueError, match="rates must be among"):
        Resampler(8000, 12345)
