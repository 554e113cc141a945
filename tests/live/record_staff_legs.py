"""Records, from the real Asterisk, the ARI traffic of a member of staff joining a call: what
tests/fakes/ari.py replays for listen-in and take-over. Run it when Asterisk changes:

    .venv/bin/python -m tests.live.record_staff_legs [OUT_DIR]   (default tests/fixtures/ari)

It starts the sandbox (our asterisk-config/ and dialplan/), places a caller with SIPp into
Stasis, plays the controller itself on raw ARI (answer, mixing bridge, externalMedia to a
UDP socket of its own, bridged), and registers SIPp staff phones with their real passwords.
Every REST request with its answer and every event goes into the file, as the recordings of
shared/fixtures/ari/ (the same format: entries with `t`, `kind` ws/event/rest).

| file                   | what happens                                                      |
|------------------------|-------------------------------------------------------------------|
| listen-in.json         | originate to 2001 (answers), snoop spy=both on the caller, a      |
|                        | mixing bridge of snoop + staff leg; the staff phone hangs up; the |
|                        | app removes the snoop and that bridge; the caller hangs up         |
| listen-in-caller-leaves.json | the same listen-in; the caller hangs up while staff listen;  |
|                        | the app hangs up the staff leg and destroys the listen bridge      |
| take-over.json         | originate to 2001 (answers); a new bridge, the caller added while  |
|                        | still in the AI's bridge (it moves), the staff leg added; the app  |
|                        | hangs up externalMedia, destroys the AI's bridge; the staff phone  |
|                        | hangs up; the app hangs up the caller, destroys the staff bridge   |
| take-over-caller-leaves.json | the same take-over; then the caller hangs up, and the app   |
|                        | hangs up the staff leg and destroys the staff bridge               |
| staff-unavailable.json | originate to 3300 (not registered); to 3200 that rings unanswered  |
|                        | (ring timeout 3 s); a snoop on a channel that does not exist       |
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp

from app.pbx.sandbox import CONFIG_DIR, AsteriskSandbox, Ports
from app.pbx.secrets import staff_auth_names
from app.telephony.ari_health import basic_auth
from tests.live.keypad import calling, free_port, staff_phone

ROOT = Path(__file__).resolve().parents[2]
ECHO_NUMBER = "+15550100199"

Entry = dict[str, Any]


class Recorder:
    """The Stasis app `frontdesk` on raw ARI, writing down everything it sends and receives."""

    def __init__(self, pbx: AsteriskSandbox) -> None:
        self.pbx = pbx
        self.entries: list[Entry] = []
        self.events: list[dict[str, Any]] = []
        self._t0 = time.monotonic()
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    def _t(self) -> float:
        return round(time.monotonic() - self._t0, 3)

    def cut(self) -> list[Entry]:
        """What was recorded since the last cut (one file's worth)."""
        taken, self.entries = self.entries, []
        return taken

    @contextlib.asynccontextmanager
    async def connected(self) -> AsyncIterator[Recorder]:
        headers = {"Authorization": basic_auth(self.pbx.ari_user, self.pbx.ari_password)}
        async with aiohttp.ClientSession(headers=headers) as http:
            self._http = http
            url = self.pbx.ari_url.replace("http", "ws") + "/events?app=frontdesk"
            ws = await http.ws_connect(url)
            self.entries.append({"t": self._t(), "kind": "ws", "note": "connected"})
            self._task = asyncio.create_task(self._listen(ws), name="recorder-events")
            try:
                yield self
            finally:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
                await ws.close()

    async def _listen(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            event = message.json()
            self.events.append(event)
            self.entries.append({"t": self._t(), "kind": "event", "event": event})

    async def rest(
        self, method: str, path: str, params: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        assert self._http is not None
        async with self._http.request(
            method, f"{self.pbx.ari_url}{path}", params=params or {}
        ) as response:
            text = await response.text()
            body = json.loads(text) if text else None
        self.entries.append(
            {
                "t": self._t(),
                "kind": "rest",
                "method": method,
                "path": path,
                "params": params or {},
                "status": response.status,
                "body": body,
            }
        )
        return response.status, body

    async def event(self, match: Callable[[dict[str, Any]], bool], timeout: float = 30) -> Any:
        """The first event (received so far or later) that matches."""
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if match(event):
                        return event
                await asyncio.sleep(0.02)


def _is(kind: str, channel: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == kind and e.get("channel", {}).get("id") == channel


class _Sink(asyncio.DatagramProtocol):
    """Our end of externalMedia: takes the caller's RTP, sends nothing."""


async def _ai_leg(rec: Recorder) -> tuple[str, str, str, str]:
    """As the controller does: answer the caller, mixing bridge, externalMedia, bridged.
    (caller id, caller name, externalMedia id, bridge id)"""
    start = await rec.event(lambda e: e["type"] == "StasisStart" and e["args"][:1] == ["echo"])
    caller, name = start["channel"]["id"], start["channel"]["name"]
    await rec.rest("POST", f"/channels/{caller}/answer")
    _, bridge = await rec.rest("POST", "/bridges", {"type": "mixing", "name": f"call-{caller}"})
    port = free_port()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_Sink, local_addr=("127.0.0.1", port))
    rec.sinks.append(transport)  # type: ignore[attr-defined]
    _, media = await rec.rest(
        "POST",
        "/channels/externalMedia",
        {
            "app": "frontdesk",
            "external_host": f"127.0.0.1:{port}",
            "format": "ulaw",
            "direction": "both",
        },
    )
    await rec.event(_is("StasisStart", media["id"]))
    await rec.rest(
        "POST", f"/bridges/{bridge['id']}/addChannel", {"channel": f"{caller},{media['id']}"}
    )
    return caller, name, media["id"], bridge["id"]


async def _originate(
    rec: Recorder, extension: str, leg: str, why: str, timeout: int
) -> tuple[int, Any]:
    return await rec.rest(
        "POST",
        "/channels",
        {
            "endpoint": f"PJSIP/{extension}",
            "app": "frontdesk",
            "appArgs": f"staff,{why}",
            "channelId": leg,
            "callerId": '"Front desk console" <+15550100100>',
            "timeout": str(timeout),
        },
    )


async def _staff_leg(rec: Recorder, leg: str, why: str) -> None:
    """The app rings desk phone 2001 for the console (listen or takeover); it answers."""
    await _originate(rec, "2001", leg, why, 20)
    await rec.event(_is("StasisStart", leg))


async def _listening(rec: Recorder, caller: str, leg: str, snoop_id: str) -> tuple[str, str]:
    """A snoop on the caller (hears both ways, says nothing) and the staff leg in a bridge of
    their own: the snoop's and that bridge's ids."""
    _, snoop = await rec.rest(
        "POST",
        f"/channels/{caller}/snoop",
        {
            "app": "frontdesk",
            "spy": "both",
            "whisper": "none",
            "appArgs": "snoop",
            "snoopId": snoop_id,
        },
    )
    await rec.event(_is("StasisStart", snoop["id"]))
    _, listen = await rec.rest("POST", "/bridges", {"type": "mixing", "name": f"listen-{caller}"})
    await rec.rest(
        "POST", f"/bridges/{listen['id']}/addChannel", {"channel": f"{snoop['id']},{leg}"}
    )
    return snoop["id"], listen["id"]


async def _taking_over(rec: Recorder, caller: str, leg: str, media: str, bridge: str) -> str:
    """The caller and the staff leg in a new bridge, the AI's media and bridge gone: the new
    bridge's id."""
    _, staff_bridge = await rec.rest(
        "POST", "/bridges", {"type": "mixing", "name": f"staff-{caller}"}
    )
    # the caller is still in the AI's bridge: added to another, it moves
    await rec.rest(
        "POST", f"/bridges/{staff_bridge['id']}/addChannel", {"channel": f"{caller},{leg}"}
    )
    await rec.rest("DELETE", f"/channels/{media}")
    await rec.event(_is("ChannelDestroyed", media))
    await rec.rest("DELETE", f"/bridges/{bridge}")
    return str(staff_bridge["id"])


async def record_listen_in(pbx: AsteriskSandbox, rec: Recorder) -> list[Entry]:
    async with (
        staff_phone(pbx, "2001", "staff_answers_then_hangs_up.xml") as phone,
        calling(pbx, ECHO_NUMBER, wait_for_audio=False),
    ):
        caller, name, media, bridge = await _ai_leg(rec)
        leg = "fdv-staff-listen-1"
        await _staff_leg(rec, leg, "listen")
        snoop, listen = await _listening(rec, caller, leg, "fdv-snoop-1")
        await rec.event(_is("StasisEnd", leg), timeout=20)  # the staff phone hangs up (6 s)
        await rec.rest("DELETE", f"/channels/{snoop}")
        await rec.rest("DELETE", f"/bridges/{listen}")
        await rec.event(_is("StasisEnd", snoop))  # no ChannelDestroyed: it left the app
        await asyncio.to_thread(pbx.cli, f"channel request hangup {name}")  # the caller hangs up
        await rec.event(_is("StasisEnd", caller))
        await rec.rest("DELETE", f"/channels/{media}")
        await rec.rest("DELETE", f"/bridges/{bridge}")
        await rec.event(_is("ChannelDestroyed", media))
        await asyncio.sleep(0.5)
    assert phone.answered, phone.said
    return rec.cut()


async def record_listen_caller_leaves(pbx: AsteriskSandbox, rec: Recorder) -> list[Entry]:
    async with (
        staff_phone(pbx, "2001") as phone,
        calling(pbx, ECHO_NUMBER, wait_for_audio=False),
    ):
        caller, name, media, bridge = await _ai_leg(rec)
        leg = "fdv-staff-listen-2"
        await _staff_leg(rec, leg, "listen")
        snoop, listen = await _listening(rec, caller, leg, "fdv-snoop-2")
        await asyncio.sleep(2.0)
        await asyncio.to_thread(pbx.cli, f"channel request hangup {name}")  # the caller hangs up
        await rec.event(_is("StasisEnd", caller))
        await asyncio.sleep(0.5)
        await rec.rest("DELETE", f"/channels/{snoop}")
        await rec.rest("DELETE", f"/channels/{leg}")
        await rec.event(_is("ChannelDestroyed", leg))
        await rec.rest("DELETE", f"/bridges/{listen}")
        await rec.rest("DELETE", f"/channels/{media}")
        await rec.rest("DELETE", f"/bridges/{bridge}")
        await rec.event(_is("ChannelDestroyed", media))
        await rec.rest("GET", "/channels")
        await asyncio.sleep(0.5)
    assert phone.answered, phone.said
    return rec.cut()


async def record_take_over(pbx: AsteriskSandbox, rec: Recorder) -> list[Entry]:
    async with (
        staff_phone(pbx, "2001", "staff_answers_then_hangs_up.xml") as phone,
        calling(pbx, ECHO_NUMBER, wait_for_audio=False),
    ):
        caller, _, media, bridge = await _ai_leg(rec)
        leg = "fdv-staff-takeover-1"
        await _staff_leg(rec, leg, "takeover")
        staff_bridge = await _taking_over(rec, caller, leg, media, bridge)
        await rec.rest("GET", "/bridges")
        await rec.event(_is("StasisEnd", leg), timeout=20)  # the staff phone hangs up (6 s)
        await rec.rest("DELETE", f"/channels/{caller}")
        await rec.event(_is("StasisEnd", caller))
        await rec.rest("DELETE", f"/bridges/{staff_bridge}")
        await rec.rest("GET", "/channels")
        await asyncio.sleep(0.5)
    assert phone.answered, phone.said
    return rec.cut()


async def record_caller_leaves(pbx: AsteriskSandbox, rec: Recorder) -> list[Entry]:
    async with (
        staff_phone(pbx, "2001") as phone,
        calling(pbx, ECHO_NUMBER, wait_for_audio=False),
    ):
        caller, name, media, bridge = await _ai_leg(rec)
        leg = "fdv-staff-takeover-2"
        await _staff_leg(rec, leg, "takeover")
        staff_bridge = await _taking_over(rec, caller, leg, media, bridge)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(pbx.cli, f"channel request hangup {name}")  # the caller hangs up
        await rec.event(_is("StasisEnd", caller))
        await rec.rest("DELETE", f"/channels/{leg}")
        await rec.event(_is("ChannelDestroyed", leg))
        await rec.rest("DELETE", f"/bridges/{staff_bridge}")
        await rec.rest("GET", "/channels")
        await asyncio.sleep(0.5)
    assert phone.answered, phone.said
    return rec.cut()


async def record_unavailable(pbx: AsteriskSandbox, rec: Recorder) -> list[Entry]:
    # 3300 has no phone registered
    await _originate(rec, "3300", "fdv-staff-unregistered-1", "takeover", 20)
    with contextlib.suppress(TimeoutError):
        await rec.event(_is("ChannelDestroyed", "fdv-staff-unregistered-1"), timeout=10)
    # 3200 rings and nobody picks up: Asterisk gives up after the ring timeout
    async with staff_phone(pbx, "3200", "staff_rings.xml"):
        await asyncio.sleep(0.5)
        await _originate(rec, "3200", "fdv-staff-unanswered-1", "takeover", 3)
        await rec.event(_is("ChannelDestroyed", "fdv-staff-unanswered-1"), timeout=20)
    await rec.rest(
        "POST",
        "/channels/no-such-channel/snoop",
        {"app": "frontdesk", "spy": "both", "whisper": "none", "appArgs": "snoop"},
    )
    await asyncio.sleep(0.5)
    return rec.cut()


async def main(out: Path) -> None:
    staff = {name: os.urandom(8).hex() for name in staff_auth_names(CONFIG_DIR / "pjsip.conf")}
    with tempfile.TemporaryDirectory(prefix="frontdesk-record-") as tmp:
        pbx = AsteriskSandbox(
            Path(tmp),
            ari_user="frontdesk",
            ari_password=os.urandom(12).hex(),
            ports=Ports.free(20000 + (os.getpid() % 200) * 50, carrier=True),
            sip_passwords=staff,
        )
        pbx.start()
        try:
            rec = Recorder(pbx)
            rec.sinks = []  # type: ignore[attr-defined]
            async with rec.connected():
                await asyncio.sleep(0.2)
                rec.cut()  # the connection itself is in every file's first entry below
                for name, record in (
                    ("listen-in.json", record_listen_in),
                    ("listen-in-caller-leaves.json", record_listen_caller_leaves),
                    ("take-over.json", record_take_over),
                    ("take-over-caller-leaves.json", record_caller_leaves),
                    ("staff-unavailable.json", record_unavailable),
                ):
                    rec.events.clear()
                    try:
                        got = await record(pbx, rec)
                    except BaseException:
                        (out / f"{name}.failed").write_text(json.dumps(rec.cut(), indent=1))
                        raise
                    entries = [{"t": 0.0, "kind": "ws", "note": "connected"}, *got]
                    (out / name).write_text(json.dumps(entries, indent=1) + "\n")
                    print(f"{name}: {len(entries)} entries")
            for sink in rec.sinks:  # type: ignore[attr-defined]
                sink.close()
        finally:
            pbx.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/fixtures/ari"))
