"""Records, from the real Asterisk, what the app hears of a caller it put through to a queue:
the caller has left Stasis, but the app subscribed to their channel first
(`POST /applications/frontdesk/subscription?eventSource=channel:<id>`), so the channel's
events still come. What tests/fakes/ari.py replays for calls.queue_wait_ms. Run it when
Asterisk changes:

    .venv/bin/python -m tests.live.record_queue_wait [OUT_DIR]   (default tests/fixtures/ari)

| file                     | what happens                                                    |
|--------------------------|-----------------------------------------------------------------|
| queue-answered.json      | the AI's caller (answered, externalMedia, bridged) is subscribed |
|                          | to, its media removed, `continue`d to queue-front-desk; desk     |
|                          | phone 2001 rings 3 s (meanwhile GET /applications/frontdesk and  |
|                          | GET /channels/<caller>), answers; the caller is bridged with it; |
|                          | the phone hangs up                                              |
| queue-caller-hangs-up.json | the same transfer, no phone registered: the caller waits,     |
|                          | then hangs up in the queue                                      |
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from app.pbx.sandbox import CONFIG_DIR, AsteriskSandbox, Ports
from app.pbx.secrets import staff_auth_names
from tests.live.keypad import calling, staff_phone
from tests.live.record_staff_legs import ECHO_NUMBER, ROOT, Entry, Recorder, _ai_leg, _is


async def _to_queue(rec: Recorder) -> tuple[str, str]:
    """The AI's caller, subscribed to, then put through to the front desk's queue."""
    caller, name, media, bridge = await _ai_leg(rec)
    await rec.rest(
        "POST", "/applications/frontdesk/subscription", {"eventSource": f"channel:{caller}"}
    )
    await rec.rest("DELETE", f"/channels/{media}")
    await rec.rest("DELETE", f"/bridges/{bridge}")
    await rec.rest(
        "POST",
        f"/channels/{caller}/continue",
        {"context": "frontdesk-departments", "extension": "queue-front-desk", "priority": "1"},
    )
    return caller, name


async def record_answered(pbx: AsteriskSandbox, rec: Recorder) -> list[Entry]:
    async with (
        staff_phone(pbx, "2001", "staff_answers_late.xml") as phone,
        calling(pbx, ECHO_NUMBER, wait_for_audio=False),
    ):
        caller, _ = await _to_queue(rec)
        await asyncio.sleep(1.0)
        # waiting in the queue: still listed in the app (subscribed), its dialplan app Queue
        await rec.rest("GET", "/applications/frontdesk")
        await rec.rest("GET", f"/channels/{caller}")
        # Queue() connects them: BRIDGEPEER becomes the desk phone (no ChannelEnteredBridge
        # comes for a bridge the app is not subscribed to)
        await rec.event(
            lambda e: (
                _is("ChannelVarset", caller)(e)
                and e["variable"] == "BRIDGEPEER"
                and e["value"].startswith("PJSIP/2001-")
            ),
            timeout=40,
        )
        await asyncio.sleep(1.5)
        for line in (await asyncio.to_thread(pbx.cli, "core show channels concise")).splitlines():
            if line.startswith("PJSIP/2001-"):
                await asyncio.to_thread(pbx.cli, f"channel request hangup {line.split('!')[0]}")
        await rec.event(_is("ChannelDestroyed", caller), timeout=10)
        await asyncio.sleep(0.5)
    assert phone.answered, phone.said
    return rec.cut()


async def record_caller_hangs_up(pbx: AsteriskSandbox, rec: Recorder) -> list[Entry]:
    async with calling(pbx, ECHO_NUMBER, wait_for_audio=False):
        caller, name = await _to_queue(rec)
        await asyncio.sleep(3.0)
        await asyncio.to_thread(pbx.cli, f"channel request hangup {name}")
        await rec.event(_is("ChannelDestroyed", caller), timeout=10)
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
                rec.cut()
                for name, record in (
                    ("queue-answered.json", record_answered),
                    ("queue-caller-hangs-up.json", record_caller_hangs_up),
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
