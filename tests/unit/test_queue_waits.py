"""The queue wait from the caller's recorded events (tests/fixtures/ari/queue-*.json)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from app.telephony.ari.models import parse_event
from app.telephony.queue_waits import QueueWaits, is_queue

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ari"
CALL = uuid.uuid4()


def _caller_events(name: str, caller: str) -> list[dict[str, Any]]:
    """The caller's events from the app's subscription on (when the call starts watching)."""
    entries = json.loads((FIXTURES / name).read_text())
    start = next(i for i, e in enumerate(entries) if "subscription" in e.get("path", ""))
    return [
        e["event"]
        for e in entries[start:]
        if e["kind"] == "event" and e["event"].get("channel", {}).get("id") == caller
    ]


def _fed(events: list[dict[str, Any]], watched: str | None) -> list[tuple[uuid.UUID, int]]:
    got: list[tuple[uuid.UUID, int]] = []
    waits = QueueWaits(lambda call, ms: got.append((call, ms)))
    if watched:
        waits.watch(watched, CALL)
    for event in events:
        waits.seen(parse_event(event))
    assert len(waits) == 0 or not got  # measured once, then let go
    return got


def test_the_wait_ends_when_queue_sets_its_wait_not_at_the_channels_end() -> None:
    events = _caller_events("queue-answered.json", "1796306545.0")
    # StasisEnd at 14:02:25.934, QUEUEWAIT_MS=8000 (the phone answered) at 14:02:33.496
    assert _fed(events, "1796306545.0") == [(CALL, 7562)]


def test_a_caller_hanging_up_in_the_queue_waited_until_then() -> None:
    events = _caller_events("queue-caller-hangs-up.json", "1796306556.3")
    assert _fed(events, "1796306556.3") == [(CALL, 3009)]  # 36.263 to 39.272


def test_a_channel_not_watched_is_not_measured() -> None:
    assert _fed(_caller_events("queue-answered.json", "1796306545.0"), None) == []


def test_a_caller_back_in_stasis_ends_the_wait_and_an_unreadable_time_measures_nothing() -> None:
    events = _caller_events("queue-caller-hangs-up.json", "1796306556.3")
    left = next(i for i, e in enumerate(events) if e["type"] == "StasisEnd")
    entries = json.loads((FIXTURES / "queue-caller-hangs-up.json").read_text())
    start = next(e["event"] for e in entries if e.get("event", {}).get("type") == "StasisStart")
    back = {**start, "args": ["agent", "unanswered", "queue-front-desk", ""]}
    back["timestamp"] = "2026-12-03T14:02:41.263+0000"
    assert _fed([events[left], back], "1796306556.3") == [(CALL, 5000)]
    assert _fed([events[left], {**back, "timestamp": "soon"}], "1796306556.3") == []


def test_only_queue_extensions_are_queues() -> None:
    assert is_queue("queue-front-desk") and not is_queue("3100")
