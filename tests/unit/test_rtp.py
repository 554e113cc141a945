"""RTP packets: round trip, the optional header parts, and refusal of garbage."""

from __future__ import annotations

import struct

import pytest

from app.telephony.rtp import RtpError, RtpPacket, build, parse


def test_round_trip() -> None:
    packet = RtpPacket(0, 65535, 0xFFFFFFF0, 0xDEADBEEF, b"\xff" * 160, marker=True)
    data = build(packet)
    assert len(data) == 172  # what Asterisk sends on externalMedia: 12 + 160
    assert parse(data) == packet


def test_csrc_extension_and_padding_are_skipped() -> None:
    header = struct.pack("!BBHII", 0x80 | 0x20 | 0x10 | 2, 8, 7, 160, 42)
    csrcs = struct.pack("!II", 1, 2)
    extension = struct.pack("!HH", 0xBEDE, 1) + b"\x00" * 4
    payload = b"\xd5" * 160
    padding = b"\x00\x00\x03"
    packet = parse(header + csrcs + extension + payload + padding)
    assert packet.payload == payload and packet.payload_type == 8 and packet.sequence == 7


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\x00\x00",
        struct.pack("!BBHII", 0x40, 0, 1, 1, 1) + b"x",  # version 1
        struct.pack("!BBHII", 0x80 | 0x0F, 0, 1, 1, 1),  # CSRCs announced, not there
        struct.pack("!BBHII", 0x80 | 0x20, 0, 1, 1, 1) + b"ab\x09",  # padding longer than payload
        struct.pack("!BBHII", 0x90, 0, 1, 1, 1) + b"\x00",  # truncated extension
    ],
)
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(RtpError):
        parse(data)
