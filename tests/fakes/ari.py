"""A fake Asterisk REST Interface that answers and emits what a real Asterisk 22 did.

Nothing here is invented: every REST answer and every event is taken from the recordings in
tests/fixtures/ari/ (real traffic from Asterisk 22.10.1), with the ids, names and addresses
of the simulated call substituted. What the fake decides is only *which* recorded sequence
an action triggers:

| action                                   | recorded sequence replayed                     |
|------------------------------------------|------------------------------------------------|
| a call arrives                           | the caller's StasisStart                       |
| POST /channels/{caller}/answer           | ChannelStateChange (Up)                        |
| POST /channels/externalMedia             | 200 + Dial … StasisStart of the UnicastRTP leg |
| POST /bridges/{id}/addChannel            | ChannelEnteredBridge per channel, or 422 when  |
|                                          | a channel has not entered Stasis yet           |
| the caller presses a key                 | ChannelDtmfReceived                            |
| the caller hangs up                      | ChannelHangupRequest … StasisEnd (caller)      |
| DELETE /channels/{externalMedia}         | ChannelHangupRequest … ChannelDestroyed        |
| DELETE /channels/{caller}                | ChannelHangupRequest … StasisEnd (app hangup)  |
| DELETE /bridges/{id}                     | ChannelLeftBridge for those left, BridgeDestroyed |
| POST /channels/{caller}/continue         | StasisEnd (transfer)                           |
| POST /applications/{app}/subscription    | 200 (queue-answered.json)                      |
| continue into queue-<name>, subscribed   | the caller's events outside Stasis, recorded   |
|                                          | by tests/live/record_queue_wait.py: StasisEnd … |
|                                          | QUEUEWAIT_MS … ChannelDestroyed; `queue_ending` |
|                                          | "answered" (a desk phone answers) or "hangs_up" |
|                                          | or "waiting" (until the answer: then the caller |
|                                          | is listed in GET /applications, and GET of the  |
|                                          | channel shows dialplan app Queue, as recorded)  |
| POST /channels/{caller}/variable         | 204 (404 for a channel not in Stasis)          |
| POST /bridges/{id}/play                  | 201 + PlaybackStarted, later PlaybackFinished  |
| bad requests                             | the recorded 404 / 400 / 422 / 500 answers     |
| `answer_fails` set                       | POST /answer gets the recorded 500             |

Staff phones joining a call (tests/fakes/ari_staff.py cuts listen-in*.json, take-over*.json
and staff-unavailable.json, recorded by tests/live/record_staff_legs.py):

| action                                   | recorded sequence replayed                     |
|------------------------------------------|------------------------------------------------|
| POST /channels (originate PJSIP/<ext>)   | 200 + Ringing; `staff_phones[ext]` "answers":  |
|                                          | Up … StasisStart (appArgs); "rings": after the |
|                                          | ring timeout ChannelDestroyed cause 19; no     |
|                                          | phone: 500 Allocation failed                   |
| POST /channels/{caller}/snoop            | 200 + StasisStart (snoop); 404 unknown channel |
| addChannel of a channel in another bridge | ChannelLeftBridge (old) + ChannelEnteredBridge |
| DELETE /channels/{leg or snoop}          | HangupRequest … StasisEnd (… ChannelDestroyed) |
| the staff phone hangs up                 | HangupRequest … StasisEnd, ChannelDestroyed    |
| the caller leaves with a snoop on it     | the snoop's ChannelLeftBridge, StasisEnd       |
| DELETE of the bridge a caller moved out of | its BridgeDestroyed when the caller leaves   |

A ringing leg the app hangs up is not in the recordings: it answers 204 and stays silent.
Faults made of recorded pieces, for the races: a phone that answers and hangs up at once
(`answers_and_hangs_up`: the answer, then the recorded hang-up), a slow snoop request
(`snoop_after`), and a snoop whose StasisStart never comes (`snoops_enter = False`).

The live suite (tests/live) checks these same sequences against a running Asterisk.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.ari_staff import STAFF, fill

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ari"
NOISE = {"ChannelVarset"}  # replayed too, but never used to find a sequence's edges


def _load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())
    return data


def _events(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["event"] for e in entries if e["kind"] == "event"]


def _rest(
    entries: list[dict[str, Any]], method: str, pattern: str, status: int | None = None
) -> dict[str, Any]:
    for entry in entries:
        if (
            entry["kind"] == "rest"
            and entry["method"] == method
            and re.fullmatch(pattern, entry["path"])
            and (status is None or entry["status"] == status)
        ):
            return entry
    raise LookupError(f"no recorded {method} {pattern}")


class Recorded:
    """The sequences, cut once from the recordings, with the recorded ids to substitute."""

    def __init__(self) -> None:
        hangup = _load("caller-hangup.json")
        by_app = _load("hangup-by-app.json")
        transfer = _load("transfer.json")
        self.caller_id = "1795502758.0"
        self.media_id = "1795502758.1"
        self.bridge_id = "992ea5a4-07a5-4c88-85b7-82b07e55e1f0"
        self.caller_name = "PJSIP/trunk-00000000"
        self.media_name = "UnicastRTP/127.0.0.1:40002-0x7fd85000a580"
        self.media_host = "127.0.0.1:40002"
        events = _events(hangup)

        def index(pred: Any, start: int = 0) -> int:
            return next(i for i, e in enumerate(events) if i >= start and pred(e))

        def chan(e: dict[str, Any]) -> str:
            return str(e.get("channel", {}).get("id", ""))

        first = index(lambda e: e["type"] == "StasisStart")
        self.stasis_start = events[first]
        self.answered = next(
            e for e in events if e["type"] == "ChannelStateChange" and chan(e) == self.caller_id
        )
        dial = index(lambda e: e["type"] == "Dial")
        media_start = index(lambda e: e["type"] == "StasisStart" and chan(e) == self.media_id)
        self.media_created = [
            e for e in events[dial : media_start + 1] if chan(e) != self.caller_id
        ]
        self.entered = {chan(e): e for e in events if e["type"] == "ChannelEnteredBridge"}
        self.dtmf = next(e for e in events if e["type"] == "ChannelDtmfReceived")
        hang = index(lambda e: e["type"] == "ChannelHangupRequest" and chan(e) == self.caller_id)
        end = index(lambda e: e["type"] == "StasisEnd" and chan(e) == self.caller_id, hang)
        self.caller_hangup = [e for e in events[hang : end + 1] if chan(e) in ("", self.caller_id)]
        m_hang = index(lambda e: e["type"] == "ChannelHangupRequest" and chan(e) == self.media_id)
        m_end = index(
            lambda e: e["type"] == "ChannelDestroyed" and chan(e) == self.media_id, m_hang
        )
        self.media_hangup = [
            e
            for e in events[m_hang : m_end + 1]
            if chan(e) == self.media_id and e["type"] != "ChannelLeftBridge"
        ]
        self.left_bridge = next(e for e in events if e["type"] == "ChannelLeftBridge")
        self.bridge_destroyed = next(e for e in events if e["type"] == "BridgeDestroyed")
        self.playback_started = next(e for e in events if e["type"] == "PlaybackStarted")
        self.playback_finished = next(e for e in events if e["type"] == "PlaybackFinished")
        self.bridge_body = _rest(hangup, "POST", "/bridges")["body"]
        self.media_body = _rest(hangup, "POST", "/channels/externalMedia", 200)["body"]
        self.play_body = _rest(hangup, "POST", r"/bridges/[^/]+/play")["body"]
        self.app_body = _rest(hangup, "GET", "/applications/frontdesk")["body"]
        # Answers to bad requests, exactly as Asterisk gave them.
        self.not_found_channel = _rest(hangup, "POST", "/channels/does-not-exist/answer")
        self.not_found_bridge = _rest(hangup, "POST", "/bridges/does-not-exist/addChannel")
        self.no_external_host = _rest(hangup, "POST", "/channels/externalMedia", 400)
        self.bad_format = _rest(hangup, "POST", "/channels/externalMedia", 500)
        self.not_in_stasis = _rest(by_app, "POST", r"/bridges/[^/]+/addChannel", 422)
        # The app hangs the caller up: hangup-by-app.json (caller id …769.7 there).
        app_events = _events(by_app)
        app_caller = "1795502769.7"
        start = next(
            i
            for i, e in enumerate(app_events)
            if e["type"] == "ChannelHangupRequest" and chan(e) == app_caller
        )
        stop = next(
            i
            for i, e in enumerate(app_events)
            if i > start and e["type"] == "StasisEnd" and chan(e) == app_caller
        )
        self.app_hangup = [e for e in app_events[start : stop + 1] if chan(e) == app_caller]
        self.app_hangup_ids = {app_caller: "caller", "PJSIP/trunk-00000001": "caller_name"}
        # The app continues the caller into the dialplan: transfer.json (…780.14 there).
        t_events = _events(transfer)
        t_caller = "1795502780.14"
        self.continued = [e for e in t_events if e["type"] == "StasisEnd" and chan(e) == t_caller]
        self.continued_ids = {t_caller: "caller", "PJSIP/trunk-00000002": "caller_name"}
        # Setting a channel variable (a warm transfer's summary): set-variable.json.
        variables = _load("set-variable.json")
        self.variable_set = _rest(variables, "POST", r"/channels/\d+\.\d+/variable")
        self.variable_unknown = _rest(variables, "POST", "/channels/no-such-channel/variable")
        # A caller continued into a queue after the app subscribed to their channel: what
        # comes from their StasisEnd to ChannelDestroyed (tests/live/record_queue_wait.py).
        self.queue: dict[str, tuple[list[dict[str, Any]], dict[str, str]]] = {}
        for ending, name, q_caller, q_name in (
            ("answered", "queue-answered.json", "1796306545.0", "PJSIP/trunk-00000000"),
            ("hangs_up", "queue-caller-hangs-up.json", "1796306556.3", "PJSIP/trunk-00000002"),
        ):
            q_events = [e for e in _events(_load(name)) if chan(e) == q_caller]
            left = next(i for i, e in enumerate(q_events) if e["type"] == "StasisEnd")
            self.queue[ending] = (q_events[left:], {q_caller: "caller", q_name: "caller_name"})
        answered = _load("queue-answered.json")
        self.subscribed = _rest(answered, "POST", r"/applications/.*")
        self.queued_channel = _rest(answered, "GET", r"/channels/\d+\.\d+")["body"]


RECORDED = Recorded()
_media_numbers = itertools.count(5001)
_numbers = itertools.count(1)


@dataclass
class FakeCall:
    caller_id: str
    caller_name: str
    caller_number: str
    exten: str
    args: list[str]
    in_stasis: bool = True
    in_queue: bool = False  # continued into a queue (subscribed), nobody has answered yet
    answered: bool = False
    media_id: str | None = None
    media_name: str | None = None
    media_host: str | None = None
    media_in_stasis: bool = False
    bridge_id: str | None = None
    alive: set[str] = field(default_factory=set)
    variables: dict[str, str] = field(default_factory=dict)  # set by the app
    moved_from: str | None = None  # the bridge the caller was moved out of (take-over)
    late_destroyed: list[str] = field(default_factory=list)  # BridgeDestroyed still owed


@dataclass
class FakeLeg:
    """A channel the app made for staff: a leg rung to a staff phone, or a snoop."""

    id: str
    name: str
    kind: str  # "staff" or "snoop"
    call: FakeCall | None = None  # the call it spies on (snoop) or is bridged into
    in_stasis: bool = False
    ringing: asyncio.Task[None] | None = None


class FakeAri:
    """Serves /ari REST and /ari/events; drive calls with the methods below."""

    def __init__(
        self,
        user: str = "frontdesk",
        password: str = "secret",
        app: str = "frontdesk",
        rtp_address: tuple[str, int] = ("127.0.0.1", 20024),
    ) -> None:
        self.user, self.password, self.app_name = user, password, app
        self.rtp_address = rtp_address
        self.calls: dict[str, FakeCall] = {}
        self.bridges: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.emitted: list[dict[str, Any]] = []
        self.subscriptions: set[str] = set()  # channels the app subscribed to
        self.playback_seconds = 0.2
        self.answer_fails = False  # answers POST /answer with Asterisk's recorded 500
        # (bridge, class) for each hold music start, (bridge, None) for each stop
        self.moh: list[tuple[str, str | None]] = []
        # extension -> "answers" | "rings" (nobody picks up) | "answers_and_hangs_up" (picks up
        # and puts it down at once); not here: not registered
        self.staff_phones: dict[str, str] = {}
        self.staff_answer_after = 0.05  # seconds a phone rings before it is picked up
        self.staff_answer_after_for: dict[str, float] = {}  # the same, for one extension
        self.snoops_enter = True  # False: a snoop's StasisStart never comes
        self.snoop_after = 0.0  # seconds POST /snoop takes to answer
        self.snoop_requested = asyncio.Event()
        self.legs: dict[str, FakeLeg] = {}
        self.originated: list[dict[str, str]] = []  # the params of each POST /channels
        self.bridge_calls: dict[str, FakeCall] = {}  # listen-/staff- bridges, by call
        self.bridge_names: dict[str, str] = {}  # every bridge the app made, by id
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()

    # --- server ------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/ari/events", self._events)
        app.router.add_route("*", "/ari/{path:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}/ari"

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"message": "Authentication required"}, status=401)
        return await handler(request)

    async def _events(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self.connected.set()
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
        self.sockets.remove(ws)
        if not self.sockets:
            self.connected.clear()
        return ws

    async def drop_websockets(self) -> None:
        """As when the network blips: the events socket closes, calls stay up."""
        for ws in list(self.sockets):
            await ws.close()

    # --- emitting recorded events --------------------------------------------------------------
    def _substitute(
        self,
        event: dict[str, Any],
        call: FakeCall,
        extra: dict[str, str] | None = None,
        bridge: str | None = None,
    ) -> dict[str, Any]:
        text = json.dumps(event)
        mapping = {
            RECORDED.caller_id: call.caller_id,
            RECORDED.caller_name: call.caller_name,
            RECORDED.media_id: call.media_id or RECORDED.media_id,
            RECORDED.media_name: call.media_name or RECORDED.media_name,
            RECORDED.bridge_id: bridge or call.bridge_id or RECORDED.bridge_id,
            RECORDED.media_host: call.media_host or RECORDED.media_host,
            "+15555550123": call.caller_number,
            "+15551234567": call.exten,
        }
        for recorded, role in (extra or {}).items():
            mapping[recorded] = call.caller_id if role == "caller" else call.caller_name
        for old, new in mapping.items():
            text = text.replace(old, new)
        result: dict[str, Any] = json.loads(text)
        return result

    async def _emit(
        self,
        events: list[dict[str, Any]],
        call: FakeCall,
        extra: dict[str, str] | None = None,
        bridge: str | None = None,
    ) -> None:
        await self._send([self._substitute(event, call, extra, bridge) for event in events])

    async def _send(self, events: list[dict[str, Any]]) -> None:
        for data in events:
            bridge = data.get("bridge")
            if isinstance(bridge, dict) and bridge.get("id") in self.bridge_names:
                bridge["name"] = self.bridge_names[bridge["id"]]  # as the app named it
            self.emitted.append(data)
            for ws in list(self.sockets):
                if not ws.closed:
                    await ws.send_str(json.dumps(data))

    def _staff_ids(self, call: FakeCall | None, leg: FakeLeg | None, **more: str) -> dict[str, str]:
        """What the staff recordings' tokens stand for, on this simulated call."""
        values = (
            {"LEG": leg.id, "LEG_NAME": leg.name} if leg is not None and leg.kind == "staff" else {}
        )
        if leg is not None and leg.kind == "snoop":
            values.update(SNOOP=leg.id, SNOOP_NAME=leg.name)
        if call is not None:
            values.update(
                CALLER=call.caller_id,
                CALLER_NAME=call.caller_name,
                CALLER_NUMBER=call.caller_number,
                EXTEN=call.exten,
                OLD_BRIDGE=call.bridge_id or "",
            )
        values.update(more)
        return values

    def _holding(self, channel_id: str) -> str | None:
        """The bridge a channel is in."""
        return next((b for b, ids in self.bridges.items() if channel_id in ids), None)

    def _caller_leaves(
        self, call: FakeCall, events: list[dict[str, Any]], extra: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """A caller leaving the app, from whichever bridge holds it: the recorded events
        with that bridge, the BridgeDestroyed still owed (a bridge it moved out of), and
        the snoops on it ending with it."""
        holding = self._holding(call.caller_id)
        if holding is not None:
            self.bridges[holding].remove(call.caller_id)
        else:
            events = [e for e in events if e["type"] != "ChannelLeftBridge"]
        out = [self._substitute(e, call, extra, holding) for e in events]
        for bridge_id in call.late_destroyed:
            destroyed = copy.deepcopy(RECORDED.bridge_destroyed)
            destroyed["bridge"]["id"] = bridge_id
            out.insert(len(out) - 1, destroyed)  # before the caller's StasisEnd, as recorded
        call.late_destroyed.clear()
        for leg in list(self.legs.values()):
            if leg.kind == "snoop" and leg.call is call and leg.in_stasis:
                leg.in_stasis = False
                bridge = self._holding(leg.id)
                if bridge is not None:
                    self.bridges[bridge].remove(leg.id)
                out += [
                    fill(e, **self._staff_ids(call, leg, BRIDGE=bridge or ""))
                    for e in STAFF.snoop_target_gone
                ]
        return out

    # --- what a test does as the caller ------------------------------------------------------------
    async def incoming_call(
        self,
        args: list[str] | None = None,
        caller: str = "+15555550123",
        exten: str = "+15550100100",
        caller_name: str = "",
        language: str = "en",  # CHANNEL(language): the dialplan's "es" when 2 was pressed
        channelvars: dict[str, str]
        | None = None,  # ari.conf's channelvars, as the dialplan set them
    ) -> FakeCall:
        n = next(_numbers)
        call = FakeCall(
            caller_id=f"18000000{n:02d}.{2 * n}",
            caller_name=f"PJSIP/trunk-{n:08x}",
            caller_number=caller,
            exten=exten,
            args=args or ["echo"],
        )
        self.calls[call.caller_id] = call
        start = copy.deepcopy(RECORDED.stasis_start)
        start["args"] = call.args
        start["channel"]["caller"]["name"] = caller_name  # the SIP display name (recorded: "")
        start["channel"]["language"] = language
        if channelvars is not None:
            start["channel"]["channelvars"] = channelvars
        await self._emit([start], call)
        return call

    async def returns(self, call: FakeCall, args: list[str]) -> None:
        """The caller left Stasis (continue) and the dialplan brings the same channel back
        into Stasis (a transfer nobody answered): the same channel id, new args, as the live
        suite sees it (tests/live/test_transfers_live.py)."""
        call.in_stasis, call.answered = True, True
        call.media_id = call.media_name = call.bridge_id = call.media_host = None
        call.media_in_stasis = False
        call.args = args
        start = copy.deepcopy(RECORDED.stasis_start)
        start["args"] = args
        await self._emit([start], call)

    async def press(self, call: FakeCall, digit: str) -> None:
        event = copy.deepcopy(RECORDED.dtmf)
        event["digit"] = digit
        await self._emit([event], call)

    async def caller_hangs_up(self, call: FakeCall) -> None:
        call.in_stasis = False
        await self._send(self._caller_leaves(call, list(RECORDED.caller_hangup)))

    async def staff_hangs_up(self, leg_id: str) -> None:
        """The member of staff puts their phone down."""
        leg = self.legs[leg_id]
        leg.in_stasis = False
        bridge = self._holding(leg.id)
        if bridge is not None:
            self.bridges[bridge].remove(leg.id)
        await self._send(
            [
                fill(e, **self._staff_ids(leg.call, leg, BRIDGE=bridge or ""))
                for e in STAFF.staff_hangs_up
            ]
        )

    def staff_leg(self, extension: str) -> FakeLeg | None:
        """The leg rung to an extension that is in the app (answered), if any."""
        return next(
            (
                leg
                for leg in self.legs.values()
                if leg.kind == "staff"
                and leg.in_stasis
                and leg.name.startswith(f"PJSIP/{extension}-")
            ),
            None,
        )

    # --- REST -----------------------------------------------------------------------------------
    def _call_for(self, channel_id: str) -> FakeCall | None:
        for call in self.calls.values():
            if channel_id in (call.caller_id, call.media_id):
                return call
        return None

    def _later(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _answer(entry: dict[str, Any]) -> web.Response:
        if entry["body"] is None:  # 204: no body
            return web.Response(status=entry["status"])
        return web.json_response(entry["body"], status=entry["status"])

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        params = dict(request.query)
        self.requests.append((request.method, path, params))
        method = request.method
        if method == "GET" and path == f"/applications/{self.app_name}":
            body = copy.deepcopy(RECORDED.app_body)
            body["channel_ids"] = [
                c
                for call in self.calls.values()
                for c in ([call.caller_id] if call.in_stasis or call.in_queue else [])
                + ([call.media_id] if call.media_id and call.media_in_stasis else [])
            ] + [leg.id for leg in self.legs.values() if leg.in_stasis]
            body["bridge_ids"] = list(self.bridges)
            return web.json_response(body)
        if method == "POST" and path == f"/applications/{self.app_name}/subscription":
            source = params.get("eventSource", "")
            if source.startswith("channel:"):
                self.subscriptions.add(source.removeprefix("channel:"))
            return self._answer(RECORDED.subscribed)
        if method == "POST" and path == "/channels/externalMedia":
            return await self._external_media(params)
        if method == "POST" and path == "/channels":
            return await self._originate(params)
        if method == "GET" and path == "/bridges":
            return web.json_response([self._bridge_body(b) for b in self.bridges])
        if method == "POST" and path == "/bridges":
            return await self._create_bridge(params)
        match = re.fullmatch(r"/channels/([^/]+)(/[a-zA-Z]+)?", path)
        if match:
            return await self._channel(method, match.group(1), match.group(2) or "", params)
        match = re.fullmatch(r"/bridges/([^/]+)(/[a-zA-Z]+)?", path)
        if match:
            return await self._bridge(method, match.group(1), match.group(2) or "", params)
        return web.json_response({"message": "Invalid method"}, status=405)

    async def _channel(
        self, method: str, channel_id: str, action: str, params: dict[str, str]
    ) -> web.Response:
        if channel_id in self.legs:
            return await self._leg_channel(method, self.legs[channel_id], action)
        call = self._call_for(channel_id)
        is_caller = call is not None and channel_id == call.caller_id
        live = call is not None and (
            (is_caller and call.in_stasis) or (not is_caller and call.media_in_stasis)
        )
        if call is not None and is_caller and call.in_queue and method == "GET" and action == "":
            ids = RECORDED.queue["answered"][1]
            return web.json_response(self._substitute(RECORDED.queued_channel, call, ids))
        if call is None or not live:
            if method == "POST" and action == "/variable":
                return self._answer(RECORDED.variable_unknown)
            if method == "POST" and action == "/snoop":
                return self._answer(STAFF.snoop_not_found)
            return self._answer(RECORDED.not_found_channel)
        if method == "POST" and action == "/snoop" and is_caller:
            return await self._snoop(call, params)
        if method == "POST" and action == "/variable":
            call.variables[params["variable"]] = params.get("value", "")
            return self._answer(RECORDED.variable_set)
        if method == "POST" and action == "/answer":
            if self.answer_fails:
                return self._answer(RECORDED.bad_format)  # the recorded 500 "internal error"
            call.answered = True
            self._later(self._emit([RECORDED.answered], call))
            return web.Response(status=204)
        if method == "GET" and action == "":
            event = RECORDED.stasis_start if is_caller else RECORDED.media_created[-1]
            return web.json_response(self._substitute(event, call)["channel"])
        if method == "DELETE" and action == "" and not is_caller:
            call.media_in_stasis = False
            if call.bridge_id and channel_id in self.bridges.get(call.bridge_id, []):
                self.bridges[call.bridge_id].remove(channel_id)
                left = self._substitute(RECORDED.left_bridge, call)
                left["channel"] = self._substitute(RECORDED.media_created[-1], call)["channel"]
                events = [RECORDED.media_hangup[0], left, *RECORDED.media_hangup[1:]]
            else:
                events = list(RECORDED.media_hangup)
            self._later(self._emit(events, call))
            return web.Response(status=204)
        if method == "DELETE" and action == "":
            call.in_stasis = False
            if self._holding(channel_id) is not None:
                # the bridged shape of a hang-up
                self._later(self._send(self._caller_leaves(call, list(RECORDED.caller_hangup))))
            else:
                self._later(
                    self._send(
                        self._caller_leaves(call, RECORDED.app_hangup, RECORDED.app_hangup_ids)
                    )
                )
            return web.Response(status=204)
        if method == "POST" and action == "/continue":
            call.in_stasis = False
            continued = self._continued(call, params.get("extension", ""))
            if call.bridge_id and channel_id in self.bridges.get(call.bridge_id, []):
                self.bridges[call.bridge_id].remove(channel_id)
                continued.insert(0, self._substitute(RECORDED.left_bridge, call))
            self._later(self._send(continued))
            self.continued_to = (params.get("context"), params.get("extension"))
            return web.Response(status=204)
        return web.json_response({"message": "Invalid method"}, status=405)

    continued_to: tuple[str | None, str | None] = (None, None)
    # what a caller continued into a queue lives through: "answered", "hangs_up", or
    # "waiting" (the answered recording until a phone answers, then nothing more)
    queue_ending = "answered"

    def _continued(self, call: FakeCall, extension: str) -> list[dict[str, Any]]:
        """What the app hears of a caller it continued: the StasisEnd, and for a caller
        in a queue whose channel it subscribed to, everything up to the channel's end."""
        if extension.startswith("queue-") and call.caller_id in self.subscriptions:
            events, ids = RECORDED.queue[
                "answered" if self.queue_ending == "waiting" else self.queue_ending
            ]
            if self.queue_ending == "waiting":
                call.in_queue = True
                events = events[
                    : next(
                        i
                        for i, e in enumerate(events)
                        if e.get("variable") == "QUEUEWAIT_MS" and e.get("value")
                    )
                ]
            return [self._substitute(e, call, ids) for e in events]
        return [self._substitute(e, call, RECORDED.continued_ids) for e in RECORDED.continued]

    async def _external_media(self, params: dict[str, str]) -> web.Response:
        if "external_host" not in params:
            return self._answer(RECORDED.no_external_host)
        if params.get("format") not in ("ulaw", "alaw", "slin16"):
            return self._answer(RECORDED.bad_format)
        # The call it is for: the newest one without media (Asterisk does not know either).
        call = next(
            (c for c in reversed(list(self.calls.values())) if c.media_id is None and c.in_stasis),
            None,
        )
        if call is None:
            return self._answer(RECORDED.bad_format)
        # A fresh id each time, as Asterisk's are (a caller back from a transfer gets a new leg).
        call.media_id = f"{call.caller_id.rsplit('.', 1)[0]}.{next(_media_numbers)}"
        call.media_host = params["external_host"]
        call.media_name = f"UnicastRTP/{params['external_host']}-0x{uuid.uuid4().hex[:12]}"
        body = self._substitute(RECORDED.media_body, call)
        body["channelvars"] = {
            "UNICASTRTP_LOCAL_ADDRESS": self.rtp_address[0],
            "UNICASTRTP_LOCAL_PORT": str(self.rtp_address[1]),
        }

        async def enter() -> None:
            await asyncio.sleep(0.01)  # as recorded: the leg enters Stasis just after the answer
            call.media_in_stasis = True
            await self._emit(RECORDED.media_created, call)

        self._later(enter())
        return web.json_response(body)

    async def _originate(self, params: dict[str, str]) -> web.Response:
        self.originated.append(params)
        endpoint = params.get("endpoint", "")
        extension = endpoint.removeprefix("PJSIP/")
        phone = self.staff_phones.get(extension) if endpoint.startswith("PJSIP/") else None
        if phone is None:  # no phone registered for it
            return self._answer(STAFF.allocation_failed)
        leg = FakeLeg(
            id=params.get("channelId") or str(uuid.uuid4()),
            name=f"PJSIP/{extension}-{next(_numbers):08x}",
            kind="staff",
        )
        self.legs[leg.id] = leg
        args = params.get("appArgs", "").split(",")

        async def ring() -> None:
            await self._send([fill(e, **self._staff_ids(None, leg)) for e in STAFF.ringing])
            if phone in ("answers", "answers_and_hangs_up"):
                await asyncio.sleep(
                    self.staff_answer_after_for.get(extension, self.staff_answer_after)
                )
                leg.in_stasis = True
                answered = [fill(e, **self._staff_ids(None, leg)) for e in STAFF.answered]
                answered[-1]["args"] = args
                await self._send(answered)
                if phone == "answers_and_hangs_up":
                    await self.staff_hangs_up(leg.id)
            else:  # rings until the ring timeout, then Asterisk gives up
                await asyncio.sleep(float(params.get("timeout", "30")))
                del self.legs[leg.id]
                await self._send([fill(STAFF.no_answer, **self._staff_ids(None, leg))])

        leg.ringing = asyncio.get_running_loop().create_task(ring())
        self._tasks.add(leg.ringing)
        leg.ringing.add_done_callback(self._tasks.discard)
        return web.json_response(
            json.loads(
                STAFF.originate_body.replace("{LEG}", leg.id).replace("{LEG_NAME}", leg.name)
            )
        )

    async def _snoop(self, call: FakeCall, params: dict[str, str]) -> web.Response:
        self.snoop_requested.set()
        await asyncio.sleep(self.snoop_after)
        leg = FakeLeg(
            id=params.get("snoopId") or str(uuid.uuid4()),
            name=f"Snoop/{call.caller_id}-{next(_numbers):08x}",
            kind="snoop",
            call=call,
            in_stasis=True,
        )
        self.legs[leg.id] = leg
        self.snooped = (call.caller_id, params.get("spy"), params.get("whisper"))
        if self.snoops_enter:
            self._later(self._send([fill(STAFF.snoop_start, **self._staff_ids(call, leg))]))
        return web.json_response(fill(STAFF.snoop_body, **self._staff_ids(call, leg)))

    snooped: tuple[str, str | None, str | None] | None = None  # (channel, spy, whisper)

    async def _leg_channel(self, method: str, leg: FakeLeg, action: str) -> web.Response:
        if method != "DELETE" or action != "":
            return web.json_response({"message": "Invalid method"}, status=405)
        if not leg.in_stasis:
            if leg.ringing is not None and not leg.ringing.done():
                leg.ringing.cancel()  # hung up while ringing (not in the recordings: silent)
                del self.legs[leg.id]
                return web.Response(status=204)
            return self._answer(RECORDED.not_found_channel)
        leg.in_stasis = False
        bridge = self._holding(leg.id)
        if bridge is not None:
            self.bridges[bridge].remove(leg.id)
        template = STAFF.snoop_deleted if leg.kind == "snoop" else STAFF.leg_deleted
        events = [fill(e, **self._staff_ids(leg.call, leg, BRIDGE=bridge or "")) for e in template]
        if bridge is None:
            events = [e for e in events if e["type"] != "ChannelLeftBridge"]
        self._later(self._send(events))
        return web.Response(status=204)

    def _bridge_body(self, bridge_id: str) -> dict[str, Any]:
        body = copy.deepcopy(RECORDED.bridge_body)
        body["id"] = bridge_id
        body["channels"] = list(self.bridges[bridge_id])
        return body

    async def _create_bridge(self, params: dict[str, str]) -> web.Response:
        bridge_id = str(uuid.uuid4())
        self.bridges[bridge_id] = []
        body = self._bridge_body(bridge_id)
        body["name"] = params.get("name", "")
        self.bridge_names[bridge_id] = body["name"]
        kind, _, of = body["name"].partition("-")
        if kind in ("listen", "staff") and of in self.calls:  # a staff bridge of that call
            self.bridge_calls[bridge_id] = self.calls[of]
            return web.json_response(body)
        call = next((c for c in self.calls.values() if c.bridge_id is None and c.in_stasis), None)
        if call is not None:
            call.bridge_id = bridge_id
        return web.json_response(body)

    async def _bridge(
        self, method: str, bridge_id: str, action: str, params: dict[str, str]
    ) -> web.Response:
        if bridge_id not in self.bridges:
            return self._answer(RECORDED.not_found_bridge)
        call = self.bridge_calls.get(bridge_id) or next(
            (c for c in self.calls.values() if c.bridge_id == bridge_id), None
        )
        assert call is not None
        if method == "POST" and action == "/addChannel":
            ids = params.get("channel", "").split(",")
            for channel_id in ids:
                leg = self.legs.get(channel_id)
                in_stasis = (
                    (channel_id == call.caller_id and call.in_stasis)
                    or (channel_id == call.media_id and call.media_in_stasis)
                    or (leg is not None and leg.in_stasis)
                )
                if not in_stasis:
                    return self._answer(RECORDED.not_in_stasis)
            if bridge_id in self.bridge_calls:
                self._later(self._send(self._enter_staff_bridge(call, bridge_id, ids)))
                return web.Response(status=204)
            self.bridges[bridge_id] += ids
            events = [
                RECORDED.entered[RECORDED.caller_id if c == call.caller_id else RECORDED.media_id]
                for c in ids
            ]
            self._later(self._emit(events, call))
            return web.Response(status=204)
        if method == "POST" and action == "/play":
            body = copy.deepcopy(RECORDED.play_body)
            playback_id = params.get("playbackId", str(uuid.uuid4()))
            body.update(
                id=playback_id, media_uri=params.get("media", ""), target_uri=f"bridge:{bridge_id}"
            )

            async def play() -> None:
                started = copy.deepcopy(RECORDED.playback_started)
                started["playback"].update(id=playback_id, media_uri=params.get("media", ""))
                await self._emit([started], call)
                await asyncio.sleep(self.playback_seconds)
                finished = copy.deepcopy(RECORDED.playback_finished)
                finished["playback"].update(id=playback_id, media_uri=params.get("media", ""))
                await self._emit([finished], call)

            self._later(play())
            return web.json_response(self._substitute(body, call), status=201)
        if action == "/moh" and method in ("POST", "DELETE"):  # 204 either way, as recorded
            self.moh.append((bridge_id, params.get("mohClass") if method == "POST" else None))
            return web.Response(status=204)
        if method == "DELETE" and action == "":
            events: list[dict[str, Any]] = []
            self.bridge_calls.pop(bridge_id, None)
            if call.moved_from == bridge_id and not self.bridges[bridge_id]:
                # the caller moved out of it: its BridgeDestroyed comes when the caller leaves
                del self.bridges[bridge_id]
                call.late_destroyed.append(bridge_id)
                return web.Response(status=204)
            for channel_id in self.bridges.pop(bridge_id):
                if channel_id in self.legs:
                    leg = self.legs[channel_id]
                    left = self._substitute(RECORDED.left_bridge, call, bridge=bridge_id)
                    left["bridge"]["id"] = bridge_id
                    source = STAFF.answered[-1] if leg.kind == "staff" else STAFF.snoop_start
                    left["channel"] = fill(source, **self._staff_ids(call, leg))["channel"]
                    events.append(left)
                    continue
                left = self._substitute(RECORDED.left_bridge, call, bridge=bridge_id)
                source = (
                    RECORDED.stasis_start
                    if channel_id == call.caller_id
                    else RECORDED.media_created[-1]
                )
                left["channel"] = self._substitute(source, call)["channel"]
                events.append(left)
            events.append(RECORDED.bridge_destroyed)
            self._later(self._emit(events, call, bridge=bridge_id))
            return web.Response(status=204)
        return web.json_response({"message": "Invalid method"}, status=405)

    def _enter_staff_bridge(
        self, call: FakeCall, bridge_id: str, ids: list[str]
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for channel_id in ids:
            old = self._holding(channel_id)
            if old is not None:  # added to a second bridge, it moves
                self.bridges[old].remove(channel_id)
                if channel_id == call.caller_id:
                    call.moved_from = old
            self.bridges[bridge_id].append(channel_id)
            leg = self.legs.get(channel_id)
            values = self._staff_ids(call, leg, BRIDGE=bridge_id)
            if leg is not None:
                leg.call = leg.call or call
                events.append(
                    fill(STAFF.entered["snoop" if leg.kind == "snoop" else "leg"], **values)
                )
            elif channel_id == call.caller_id and old is not None:
                values["OLD_BRIDGE"] = old
                events += [fill(e, **values) for e in STAFF.caller_moved]
            elif channel_id == call.caller_id:
                events.append(fill(STAFF.caller_entered, **values))
        return events

    # --- for assertions ---------------------------------------------------------------------------
    def leftovers(self) -> dict[str, list[str]]:
        """What a real Asterisk would still hold: channels in Stasis and bridges."""
        channels = [c.media_id for c in self.calls.values() if c.media_id and c.media_in_stasis]
        channels += [c.caller_id for c in self.calls.values() if c.in_stasis]
        channels += [leg.id for leg in self.legs.values() if leg.in_stasis]
        return {"channels": channels, "bridges": list(self.bridges)}
