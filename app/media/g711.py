"""G.711 μ-law and A-law by lookup tables, bit-exact with the ITU/Sun reference (as in audioop).

Tables are built once with numpy from the reference algorithm; encoding a 20 ms frame is then
one indexed read. PCM is 16-bit signed little-endian, mono.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF], dtype=np.int32)

ULAW_SILENCE = 0xFF
ALAW_SILENCE = 0xD5

Pcm = npt.NDArray[np.int16]


def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 2  # the reference works on 14 bits
    negative = pcm < 0
    magnitude = np.minimum(np.where(negative, -pcm, pcm), 8159) + (0x84 >> 2)
    segment = np.searchsorted(_ULAW_SEG_END, magnitude, side="left")
    value = (segment << 4) | ((magnitude >> (np.minimum(segment, 7) + 1)) & 0x0F)
    value = np.where(segment >= 8, 0x7F, value)
    encoded = value ^ np.where(negative, 0x7F, 0xFF)
    # Index by the sample's bits read as unsigned: int16 -32768..-1 → 32768..65535.
    return np.roll(encoded.astype(np.uint8), -32768)


def _ulaw_decode_table() -> npt.NDArray[np.int16]:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 3  # the reference works on 13 bits
    negative = pcm < 0
    mask = np.where(negative, 0x55, 0xD5)
    magnitude = np.where(negative, -pcm - 1, pcm)
    segment = np.searchsorted(_ALAW_SEG_END, magnitude, side="left")
    shift = np.where(segment < 2, 1, np.minimum(segment, 7))
    value = (segment << 4) | ((magnitude >> shift) & 0x0F)
    value = np.where(segment >= 8, 0x7F, value)
    return np.roll((value ^ mask).astype(np.uint8), -32768)


def _alaw_decode_table() -> npt.NDArray[np.int16]:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    t = (a & 0x0F) << 4
    segment = (a & 0x70) >> 4
    t = np.where(segment == 0, t + 8, t + 0x108)
    t = np.where(segment > 1, t << np.maximum(segment - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


ULAW_ENCODE = _ulaw_encode_table()
ULAW_DECODE = _ulaw_decode_table()
ALAW_ENCODE = _alaw_encode_table()
ALAW_DECODE = _alaw_decode_table()


def _as_pcm(pcm: bytes | Pcm) -> Pcm:
    if isinstance(pcm, bytes | bytearray | memoryview):
        return np.frombuffer(pcm, dtype="<i2")
    return pcm


def ulaw_encode(pcm: bytes | Pcm) -> bytes:
    return ULAW_ENCODE[_as_pcm(pcm).view(np.uint16)].tobytes()


def ulaw_decode(data: bytes) -> bytes:
    return ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()


def alaw_encode(pcm: bytes | Pcm) -> bytes:
    return ALAW_ENCODE[_as_pcm(pcm).view(np.uint16)].tobytes()


def alaw_decode(data: bytes) -> bytes:
    return ALAW_DECODE[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()


def ulaw_decode_array(data: bytes) -> Pcm:
    """Decoded samples as an array (no bytes round trip), for VAD and recording."""
    decoded: Pcm = ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]
    return decoded
