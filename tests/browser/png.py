"""A small PNG reader (8-bit RGB/RGBA, not interlaced: what chromium's screenshots are), so
the tests can look at a screenshot's pixels without an imaging library."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(data: bytes) -> npt.NDArray[np.uint8]:
    """The image as an array of shape (height, width, channels)."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG")
    pos, idat, header = len(_SIGNATURE), b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without a header")
    width, height, depth, colour, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour})")
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        if kind == 0:
            cur = row
        elif kind == 2:
            cur = (row + prev) & 0xFF
        elif kind in (1, 3, 4):  # depend on the pixel to the left: one pixel at a time
            cur = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                left = int(cur[x - channels]) if x >= channels else 0
                up = int(prev[x])
                if kind == 1:
                    pred = left
                elif kind == 3:
                    pred = (left + up) // 2
                else:
                    upleft = int(prev[x - channels]) if x >= channels else 0
                    pred = _paeth(left, up, upleft)
                cur[x] = (int(row[x]) + pred) & 0xFF
        else:
            raise ValueError(f"bad PNG filter {kind}")
        out[y] = cur
        prev = cur
    return out.astype(np.uint8).reshape(height, width, channels)
