"""The recorded sequences of staff phones joining a call, cut from tests/fixtures/ari/
(listen-in*.json, take-over*.json, staff-unavailable.json: real Asterisk 22.10.1 traffic,
recorded by tests/live/record_staff_legs.py) into templates the fake ARI fills in.

Each recorded id (the caller's channel, the staff leg, the snoop, the bridges, the numbers)
becomes a token such as `{LEG}`; `fill` puts the simulated call's ids in their place.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ari"

Event = dict[str, Any]


def _load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())
    return data


def _rest(entries: list[dict[str, Any]], method: str, pattern: str) -> dict[str, Any]:
    return next(
        e
        for e in entries
        if e["kind"] == "rest" and e["method"] == method and re.fullmatch(pattern, e["path"])
    )


class _Cut:
    """One recording with its ids turned into tokens."""

    def __init__(self, name: str) -> None:
        self.entries = _load(name)
        self.events: list[Event] = [e["event"] for e in self.entries if e["kind"] == "event"]
        start = next(
            e for e in self.events if e["type"] == "StasisStart" and e["args"][:1] == ["echo"]
        )
        tokens: dict[str, str] = {
            start["channel"]["id"]: "{CALLER}",
            start["channel"]["name"]: "{CALLER_NAME}",
            "+14155550123": "{CALLER_NUMBER}",
            "+15550100199": "{EXTEN}",
        }
        originate = _rest(self.entries, "POST", "/channels")["body"]
        tokens[originate["id"]] = "{LEG}"
        tokens[originate["name"]] = "{LEG_NAME}"
        for entry in self.entries:
            if entry["kind"] != "rest" or entry["status"] >= 300:
                continue
            if entry["path"].endswith("/snoop"):
                tokens[entry["body"]["id"]] = "{SNOOP}"
                tokens[entry["body"]["name"]] = "{SNOOP_NAME}"
            elif entry["method"] == "POST" and entry["path"] == "/bridges":
                kind = entry["params"]["name"].split("-", 1)[0]
                tokens[entry["body"]["id"]] = "{OLD_BRIDGE}" if kind == "call" else "{BRIDGE}"
        self._tokens = dict(sorted(tokens.items(), key=lambda kv: -len(kv[0])))
        self.leg = originate["id"]

    def tokenised(self, event: Event) -> str:
        text = json.dumps(event)
        for recorded, token in self._tokens.items():
            text = text.replace(recorded, token)
        return text

    def about(self, channel: str) -> list[tuple[int, Event]]:
        """Events naming `channel` (as the channel or a Dial's peer), with their index."""
        return [
            (i, e)
            for i, e in enumerate(self.events)
            if channel in (e.get("channel", {}).get("id"), e.get("peer", {}).get("id"))
        ]


def _first(events: list[tuple[int, Event]], kind: str, start: int = 0) -> int:
    return next(n for n, (_, e) in enumerate(events) if n >= start and e["type"] == kind)


class RecordedStaff:
    def __init__(self) -> None:
        listen = _Cut("listen-in.json")
        snoop_id = _rest(listen.entries, "POST", r"/channels/[^/]+/snoop")["body"]["id"]
        leg = listen.about(listen.leg)
        up = next(
            n
            for n, (_, e) in enumerate(leg)
            if e["type"] == "ChannelStateChange" and e["channel"]["state"] == "Up"
        )
        entered = _first(leg, "StasisStart")
        self.originate_body = listen.tokenised(_rest(listen.entries, "POST", "/channels")["body"])
        self.ringing = [listen.tokenised(e) for _, e in leg[:up]]
        self.answered = [listen.tokenised(e) for _, e in leg[up : entered + 1]]
        hang = _first(leg, "ChannelHangupRequest")
        self.staff_hangs_up = [
            listen.tokenised(e) for _, e in leg[hang : _first(leg, "ChannelDestroyed", hang) + 1]
        ]
        snoop = listen.about(snoop_id)
        self.snoop_body = listen.tokenised(
            _rest(listen.entries, "POST", r"/channels/[^/]+/snoop")["body"]
        )
        self.snoop_start = listen.tokenised(snoop[_first(snoop, "StasisStart")][1])
        self.entered = {
            "leg": listen.tokenised(leg[_first(leg, "ChannelEnteredBridge")][1]),
            "snoop": listen.tokenised(snoop[_first(snoop, "ChannelEnteredBridge")][1]),
        }
        s_hang = _first(snoop, "ChannelHangupRequest")
        self.snoop_deleted = [
            listen.tokenised(e) for _, e in snoop[s_hang : _first(snoop, "StasisEnd", s_hang) + 1]
        ]

        leaves = _Cut("listen-in-caller-leaves.json")
        caller_end = next(
            i
            for i, e in enumerate(leaves.events)
            if e["type"] == "StasisEnd" and e["channel"]["name"].startswith("PJSIP/trunk")
        )
        snoop2 = [
            (i, e)
            for i, e in leaves.about(
                _rest(leaves.entries, "POST", r"/channels/[^/]+/snoop")["body"]["id"]
            )
            if i > caller_end
        ]
        self.snoop_target_gone = [leaves.tokenised(e) for _, e in snoop2]
        leg2 = [(i, e) for i, e in leaves.about(leaves.leg) if i > caller_end]
        self.leg_deleted = [
            leaves.tokenised(e)
            for _, e in leg2[
                _first(leg2, "ChannelHangupRequest") : _first(leg2, "ChannelDestroyed") + 1
            ]
        ]
        self.snoop_not_found = _rest(
            _load("staff-unavailable.json"), "POST", "/channels/no-such-channel/snoop"
        )

        take = _Cut("take-over.json")
        caller = next(
            e["channel"]["id"]
            for e in take.events
            if e["type"] == "StasisStart" and e["args"][:1] == ["echo"]
        )
        moved = [
            e
            for _, e in take.about(caller)
            if e["type"] in ("ChannelLeftBridge", "ChannelEnteredBridge")
        ]
        self.caller_moved = [take.tokenised(e) for e in moved[1:3]]  # out of the AI bridge, in
        self.caller_entered = take.tokenised(moved[2])

        unavailable = _load("staff-unavailable.json")
        self.allocation_failed = _rest(unavailable, "POST", "/channels")
        unanswered_leg = next(
            e["body"]["id"]
            for e in unavailable
            if e["kind"] == "rest" and e["path"] == "/channels" and e["status"] == 200
        )
        unanswered_name = next(
            e["body"]["name"]
            for e in unavailable
            if e["kind"] == "rest" and e["path"] == "/channels" and e["status"] == 200
        )
        events = [e["event"] for e in unavailable if e["kind"] == "event"]
        gone = next(
            e
            for e in events
            if e["type"] == "ChannelDestroyed" and e["channel"]["id"] == unanswered_leg
        )
        self.no_answer = (
            json.dumps(gone).replace(unanswered_name, "{LEG_NAME}").replace(unanswered_leg, "{LEG}")
        )


def fill(template: str, **values: str) -> Event:
    """A recorded event with the simulated call's ids in place of the tokens."""
    text = template
    for token, value in values.items():
        text = text.replace("{" + token + "}", value)
    event: Event = json.loads(text)
    return event


STAFF = RecordedStaff()
