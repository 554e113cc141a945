"""G.711 by tables is bit-exact with the reference codec (CPython's audioop) on every value."""

from __future__ import annotations

import warnings

import numpy as np

from app.media import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # the reference (audioop-lts on Python 3.13+)

ALL_PCM = np.arange(-32768, 32768, dtype="<i2").tobytes()
ALL_CODES = bytes(range(256))


def test_ulaw_encode_every_sample() -> None:
    assert g711.ulaw_encode(ALL_PCM) == audioop.lin2ulaw(ALL_PCM, 2)


def test_ulaw_decode_every_code() -> None:
    assert g711.ulaw_decode(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)


def test_alaw_encode_every_sample() -> None:
    assert g711.alaw_encode(ALL_PCM) == audioop.lin2alaw(ALL_PCM, 2)


def test_alaw_decode_every_code() -> None:
    assert g711.alaw_decode(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)


def test_silence_codes_decode_to_near_zero() -> None:
    assert abs(int(g711.ULAW_DECODE[g711.ULAW_SILENCE])) == 0
    assert abs(int(g711.ALAW_DECODE[g711.ALAW_SILENCE])) <= 8


def test_arrays_and_bytes_agree() -> None:
    pcm = (np.sin(np.arange(160) / 5) * 12000).astype(np.int16)
    assert g711.ulaw_encode(pcm) == g711.ulaw_encode(pcm.astype("<i2").tobytes())
    encoded = g711.ulaw_encode(pcm)
    assert np.array_equal(
        g711.ulaw_decode_array(encoded), np.frombuffer(g711.ulaw_decode(encoded), "<i2")
    )
