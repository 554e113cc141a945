"""Every event Asterisk 22 sent in the recordings parses into our models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.telephony.ari.models import (
    ChannelDtmfReceived,
    OtherEvent,
    PlaybackStarted,
    StasisStart,
    event_bridge_id,
    event_channel_ids,
    parse_event,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ari"
ALL_EVENTS = [
    entry["event"]
    for path in sorted(FIXTURES.glob("*.json"))
    for entry in json.loads(path.read_text())
    if entry["kind"] == "event"
]


def test_every_recorded_event_parses() -> None:
    parsed = [parse_event(e) for e in ALL_EVENTS]
    assert len(parsed) > 150
    for raw, event in zip(ALL_EVENTS, parsed, strict=True):
        assert event.type == raw["type"]
    known = {type(e).__name__ for e in parsed if not isinstance(e, OtherEvent)}
    assert {
        "StasisStart",
        "StasisEnd",
        "ChannelDtmfReceived",
        "ChannelHangupRequest",
        "ChannelDestroyed",
        "ChannelEnteredBridge",
        "ChannelLeftBridge",
        "BridgeDestroyed",
        "PlaybackStarted",
        "PlaybackFinished",
    } <= known


def test_the_fields_we_route_on() -> None:
    start = next(parse_event(e) for e in ALL_EVENTS if e["type"] == "StasisStart" and e["args"])
    assert isinstance(start, StasisStart)
    assert start.args == ["agent"] and start.channel.technology == "PJSIP"
    assert start.channel.caller.number.startswith("+") and start.channel.dialplan.exten.startswith(
        "+"
    )
    media = next(parse_event(e) for e in ALL_EVENTS if e["type"] == "StasisStart" and not e["args"])
    assert isinstance(media, StasisStart) and media.channel.technology == "UnicastRTP"
    dtmf = next(parse_event(e) for e in ALL_EVENTS if e["type"] == "ChannelDtmfReceived")
    assert isinstance(dtmf, ChannelDtmfReceived) and dtmf.digit in "123" and dtmf.duration_ms > 0
    playback = next(parse_event(e) for e in ALL_EVENTS if e["type"] == "PlaybackStarted")
    assert isinstance(playback, PlaybackStarted)
    assert (
        event_channel_ids(playback) == []
        and event_bridge_id(playback) == playback.playback.target_uri[7:]
    )


def test_a_malformed_known_event_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_event({"type": "ChannelDtmfReceived", "channel": {"id": "1"}})
    assert isinstance(parse_event({"type": "SomethingNew", "extra": 1}), OtherEvent)
