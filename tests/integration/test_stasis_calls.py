"""Calls through the Stasis app against the recorded-ARI fake, with real RTP and PostgreSQL.

The fake replays what Asterisk 22 sent (tests/fakes/ari.py); the test plays Asterisk's RTP
side with a real UDP socket, and the call history lands in a real database.
"""

from __future__ import annotations

import asyncio
import io
import socket
import uuid
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import asyncpg
import numpy as np
import pytest
from pyrage import x25519

from app.calls.call_log import CallLog
from app.calls.records import TurnRole
from app.calls.write_behind import WriteBehind
from app.hotel.config import load_hotel_config
from app.main import build_telephony
from app.media.g711 import ULAW_DECODE
from app.settings import load_settings
from app.storage.calls_repo import CallRepository
from app.storage.errors import is_transient
from app.storage.recordings import (
    LocalStorage,
    RecordingArchive,
    RecordingRepository,
    RecordingService,
    open_recording,
)
from app.storage.seed import seed
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.call_services import CallLimits
from app.telephony.controller import StasisApp
from app.telephony.errors import TelephonyError
from app.telephony.rtp import RtpPacket, build, parse
from tests.fakes.ari import FakeAri, FakeCall

ROOT = Path(__file__).resolve().parents[2]


class AsteriskRtp(asyncio.DatagramProtocol):
    """Asterisk's end of externalMedia: sends the caller's audio, records what we send."""

    def __init__(self) -> None:
        self.received: list[RtpPacket] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.received.append(parse(data))

    def send(self, to: str, seq: int, payload: bytes) -> None:
        host, port = to.rsplit(":", 1)
        assert self.transport is not None
        self.transport.sendto(
            build(RtpPacket(0, seq, seq * 160, 0x5EED, payload)), (host, int(port))
        )


@dataclass
class Rig:
    fake: FakeAri
    app: StasisApp
    events: EventStream
    rtp: AsteriskRtp
    pool: asyncpg.Pool
    writes: WriteBehind
    client: AriClient


@pytest.fixture
async def rig(pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    await seed(pool, hotel, horizon_days=3)
    loop = asyncio.get_running_loop()
    _, rtp = await loop.create_datagram_endpoint(AsteriskRtp, local_addr=("127.0.0.1", 0))
    assert rtp.transport is not None
    fake = FakeAri(rtp_address=rtp.transport.get_extra_info("sockname")[:2])
    url = await fake.start()
    monkeypatch.setenv("RTP_PORT_MIN", "41000")
    monkeypatch.setenv("RTP_PORT_MAX", "41019")
    settings = load_settings(asterisk_ari_url=url, asterisk_ari_password="secret")
    http = aiohttp.ClientSession()
    client = AriClient(http, url, "frontdesk", "secret")
    writes = WriteBehind(is_transient, backoff_min=0.05, backoff_max=0.2)
    app = build_telephony(settings, hotel, client, CallLog(CallRepository(pool), writes))
    app.services = replace(
        app.services, limits=CallLimits(rtp_inactivity=5.0, max_duration=60.0, check_every=0.05)
    )
    events = EventStream(
        http, client, app.deliver, app.on_connected, backoff_min=0.05, backoff_max=0.2
    )
    tasks = [
        asyncio.create_task(writes.run(), name="writes"),
        asyncio.create_task(events.run(), name="events"),
    ]
    await asyncio.wait_for(events.connected.wait(), 5)
    yield Rig(fake, app, events, rtp, pool, writes, client)
    await app.stop(drain_seconds=0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await http.close()
    await fake.stop()
    rtp.transport.close()


async def _until(condition: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


def _our_tasks() -> set[str]:
    return {
        t.get_name()
        for t in asyncio.all_tasks()
        if t.get_name().startswith(("call-", "conversation-", "watchdog-", "rtp-"))
    }


async def _call_row(pool: asyncpg.Pool, channel: str) -> asyncpg.Record:
    async with asyncio.timeout(5):
        while True:
            row = await pool.fetchrow("SELECT * FROM calls WHERE channel_id = $1", channel)
            if row is not None and row["state"] == "ended":
                return row
            await asyncio.sleep(0.02)


async def _media_up(rig: Rig, call: FakeCall) -> None:
    await _until(
        lambda: (
            call.bridge_id is not None
            and set(rig.fake.bridges.get(call.bridge_id, [])) == {call.caller_id, call.media_id}
        )
    )


async def test_an_echo_call_end_to_end(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["echo"], caller="+14155550123", exten="+15550100101")
    await _media_up(rig, call)
    assert call.answered and call.media_host is not None
    port = int(call.media_host.rsplit(":", 1)[1])
    assert 41000 <= port <= 41019 and rig.app.ports.in_use == 1

    await asyncio.sleep(rig.fake.playback_seconds + 0.1)  # the prompt plays first
    frames = [bytes([0x10 + n]) * 160 for n in range(10)]
    for seq, frame in enumerate(frames, start=100):
        rig.rtp.send(call.media_host, seq, frame)
        await asyncio.sleep(0.005)
    await _until(lambda: len(rig.rtp.received) >= 10)
    assert [p.payload for p in rig.rtp.received[:10]] == frames  # we heard the caller; they hear us
    await rig.fake.press(call, "5")
    await rig.fake.press(call, "#")
    await _until(lambda: any(c.session.digits == ["5", "#"] for c in rig.app.calls))

    await rig.fake.caller_hangs_up(call)
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    assert rig.app.ports.in_use == 0 and not _our_tasks()
    row = await _call_row(rig.pool, call.caller_id)
    assert row["end_reason"] == "caller_hangup" and row["mode"] == "echo"
    assert row["property_id"] == "harborview" and row["caller_e164"] == "+14155550123"
    assert row["answered_at"] is not None
    turns = await rig.pool.fetch("SELECT role, text FROM turns WHERE call_id = $1", row["id"])
    assert [(t["role"], t["text"]) for t in turns] == [("dtmf", "5 #")]
    deletes = [(m, p) for m, p, _ in rig.fake.requests if m == "DELETE"]
    assert deletes == [
        ("DELETE", f"/channels/{call.media_id}"),
        ("DELETE", f"/bridges/{call.bridge_id}"),
    ]


async def test_a_port_another_program_holds_is_skipped(rig: Rig) -> None:
    # Seen live: a test's SIP phone happened to hold a port of our range. The call takes the
    # next one instead of failing, and the busy port stays in the pool for later.
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    squatter.bind(("127.0.0.1", 41000))
    try:
        call = await rig.fake.incoming_call(["echo"], caller="+14155550123", exten="+15550100101")
        await _media_up(rig, call)
        assert call.media_host is not None
        assert int(call.media_host.rsplit(":", 1)[1]) == 41002
        assert rig.app.ports.in_use == 1
        await rig.fake.caller_hangs_up(call)
        await _until(lambda: not rig.app.calls)
    finally:
        squatter.close()
    assert rig.app.ports.in_use == 0 and rig.app.ports.size == 10


async def test_no_audio_from_the_caller_hangs_up_and_cleans_up(rig: Rig) -> None:
    rig.app.services = replace(
        rig.app.services, limits=CallLimits(rtp_inactivity=0.3, max_duration=60.0, check_every=0.05)
    )
    call = await rig.fake.incoming_call(["echo"])
    await _media_up(rig, call)
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    assert ("DELETE", f"/channels/{call.caller_id}") in [(m, p) for m, p, _ in rig.fake.requests]
    assert (await _call_row(rig.pool, call.caller_id))["end_reason"] == "rtp_timeout"
    assert rig.app.ports.in_use == 0 and not _our_tasks()


async def test_the_longest_call_gets_a_goodbye_then_a_hangup(rig: Rig) -> None:
    rig.app.services = replace(
        rig.app.services, limits=CallLimits(rtp_inactivity=30, max_duration=0.3, check_every=0.05)
    )
    call = await rig.fake.incoming_call(["echo"])
    await _media_up(rig, call)
    await _until(lambda: not rig.app.calls)
    plays = [q.get("media") for m, p, q in rig.fake.requests if p.endswith("/play")]
    assert plays[-1] == "sound:frontdesk/goodbye"
    assert (await _call_row(rig.pool, call.caller_id))["end_reason"] == "max_duration"
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}


async def test_without_an_engine_the_caller_goes_to_the_front_desk_fallback(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["agent"])
    await _until(lambda: rig.fake.continued_to == ("frontdesk-fallback", "s"))
    await _until(lambda: not rig.app.calls)
    assert not [
        p for m, p, q in rig.fake.requests if p.endswith("/play")
    ]  # the dialplan apologises
    assert rig.fake.continued_to == ("frontdesk-fallback", "s")
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    row = await _call_row(rig.pool, call.caller_id)
    assert row["end_reason"] == "transferred" and row["transferred_to"] == "frontdesk-fallback,s"


async def test_an_unknown_mode_goes_straight_to_the_fallback(rig: Rig) -> None:
    await rig.fake.incoming_call(["karaoke"])
    await _until(lambda: rig.fake.continued_to == ("frontdesk-fallback", "s"))
    assert not rig.app.calls and rig.app.ports.in_use == 0


async def test_setup_failure_hands_the_caller_to_the_fallback(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise TelephonyError(500, "An internal error prevented this request from being handled")

    monkeypatch.setattr(rig.client, "external_media", broken)
    call = await rig.fake.incoming_call(["echo"])
    await _until(lambda: rig.fake.continued_to == ("frontdesk-fallback", "s"))
    await _until(lambda: not rig.app.calls)
    assert rig.fake.continued_to == ("frontdesk-fallback", "s")
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    assert (await _call_row(rig.pool, call.caller_id))["end_reason"] == "setup_failed"


async def test_a_bug_in_a_call_hands_the_caller_to_the_fallback(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def buggy(*args: object, **kwargs: object) -> None:
        raise KeyError("a field we did not expect")

    monkeypatch.setattr(rig.client, "external_media", buggy)
    call = await rig.fake.incoming_call(["echo"])
    await _until(lambda: rig.fake.continued_to == ("frontdesk-fallback", "s"))
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    assert (await _call_row(rig.pool, call.caller_id))["end_reason"] == "error"


async def test_the_events_socket_drops_mid_call_and_the_call_goes_on(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["echo"])
    await _media_up(rig, call)
    gone_meanwhile = await rig.fake.incoming_call(["echo"])
    await _media_up(rig, gone_meanwhile)
    connects = rig.events.stats.connects

    await rig.fake.drop_websockets()
    await rig.fake.caller_hangs_up(gone_meanwhile)  # nobody is listening: the events are lost
    await _until(lambda: rig.events.stats.connects > connects and rig.events.connected.is_set())
    # re-adopted: the live call still echoes; the lost one was cleaned up
    await _until(lambda: len(rig.app.calls) == 1)
    assert call.media_host is not None
    rig.rtp.received.clear()
    rig.rtp.send(call.media_host, 1, b"\x42" * 160)
    await _until(lambda: any(p.payload == b"\x42" * 160 for p in rig.rtp.received))
    await rig.fake.caller_hangs_up(call)
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    assert (await _call_row(rig.pool, gone_meanwhile.caller_id))[
        "end_reason"
    ] == "lost_while_disconnected"


async def test_the_database_going_away_does_not_stop_the_call(
    rig: Rig, pg_server: str, db_url: str
) -> None:
    name = db_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        call = await rig.fake.incoming_call(["echo"])
        await _media_up(rig, call)
        assert call.media_host is not None
        rig.rtp.send(call.media_host, 7, b"\x33" * 160)
        await _until(lambda: any(p.payload == b"\x33" * 160 for p in rig.rtp.received))
        await rig.fake.caller_hangs_up(call)
        await _until(lambda: not rig.app.calls)
        await _until(lambda: rig.writes.stats.retried > 0)
        assert rig.writes.pending > 0
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        await admin.close()
    row = await _call_row(rig.pool, call.caller_id)  # the queued writes land once it is back
    assert row["end_reason"] == "caller_hangup"


async def test_shutdown_hands_live_calls_to_the_front_desk(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["echo"])
    await _media_up(rig, call)
    await rig.app.stop(drain_seconds=0.1)
    assert not rig.app.calls
    assert rig.fake.continued_to == ("frontdesk-fallback", "s")
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    await rig.fake.incoming_call(["echo"])  # no new calls while stopping
    await _until(lambda: len([p for m, p, _ in rig.fake.requests if p.endswith("/continue")]) == 2)
    assert not rig.app.calls


async def test_ari_errors_carry_asterisks_words(rig: Rig) -> None:
    with pytest.raises(TelephonyError) as caught:
        await rig.client.answer("does-not-exist")
    assert caught.value.status == 404 and caught.value.message == "Channel not found"
    with pytest.raises(TelephonyError) as caught:
        await rig.client.request(
            "POST", "/channels/externalMedia", {"app": "frontdesk", "format": "ulaw"}
        )
    assert caught.value.status == 400 and "external_host is required" in caught.value.message
    with pytest.raises(TelephonyError) as caught:
        await rig.client.add_to_bridge("does-not-exist", "x")
    assert caught.value.status == 404 and caught.value.message == "Bridge not found"
    wrong = AriClient(rig.client._session, rig.client.base_url, "frontdesk", "wrong")
    with pytest.raises(TelephonyError) as caught:
        await wrong.application()
    assert caught.value.status == 401
    unused = uuid.uuid4().hex  # a closed port
    dead = AriClient(rig.client._session, "http://127.0.0.1:9/ari", "frontdesk", unused)
    with pytest.raises(TelephonyError) as caught:
        await dead.application()
    assert caught.value.status == 0


async def test_a_recorded_call_is_sealed_with_both_sides(rig: Rig, tmp_path: Path) -> None:
    identity = x25519.Identity.generate()
    archive = RecordingArchive(LocalStorage(tmp_path), str(identity.to_public()))
    rig.app.services = replace(
        rig.app.services,
        recordings=RecordingService(archive, RecordingRepository(rig.pool), rig.writes),
    )
    call = await rig.fake.incoming_call(["echo"])
    await _media_up(rig, call)
    assert call.media_host is not None
    for seq in range(50):  # a second of caller audio, echoed back by the echo test
        rig.rtp.send(call.media_host, seq, b"\x25" * 160)
        await asyncio.sleep(0.02)
    await rig.fake.caller_hangs_up(call)
    row = await _call_row(rig.pool, call.caller_id)
    async with asyncio.timeout(5):
        while not (found := await RecordingRepository(rig.pool).for_call(row["id"])):
            await asyncio.sleep(0.05)
    _, stored, duration = found[0]
    with wave.open(io.BytesIO(open_recording(archive.storage, stored, str(identity)))) as reader:
        samples = np.frombuffer(reader.readframes(reader.getnframes()), "<i2").reshape(-1, 2)
    caller, agent = samples[:, 0], samples[:, 1]
    assert (caller == ULAW_DECODE[0x25]).sum() >= 40 * 160  # what the caller said, on the left
    assert (agent == ULAW_DECODE[0x25]).sum() >= 40 * 160  # the echo we sent, on the right
    assert duration is not None and duration >= 1000


async def test_a_card_number_keyed_in_is_never_stored(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["echo"])
    await _media_up(rig, call)
    for digit in "4111111111111111":
        await rig.fake.press(call, digit)
    await rig.fake.press(call, "#")
    await _until(lambda: any(len(c.session.digits) == 17 for c in rig.app.calls))
    await rig.fake.caller_hangs_up(call)
    row = await _call_row(rig.pool, call.caller_id)
    await _until(lambda: rig.writes.pending == 0)
    texts = [
        t["text"]
        for t in await rig.pool.fetch("SELECT text FROM turns WHERE call_id = $1", row["id"])
    ]
    assert texts == ["[card] #"]


async def test_a_caller_gone_before_the_answer_leaves_a_finished_call(rig: Rig) -> None:
    # The caller hangs up the moment the call reaches us: our answer gets Asterisk's recorded
    # 404, the call's teardown still runs to the end (row ended, nothing held in memory).
    call = await rig.fake.incoming_call(["echo"])
    await rig.fake.caller_hangs_up(call)
    answer = ("POST", f"/channels/{call.caller_id}/answer")
    await _until(lambda: answer in [(m, p) for m, p, _ in rig.fake.requests])
    await _until(lambda: not rig.app.calls)
    row = await _call_row(rig.pool, call.caller_id)
    assert row["answered_at"] is None
    assert not _our_tasks() and rig.app.ports.in_use == 0
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}


async def test_an_answer_that_fails_hands_the_caller_to_the_fallback(rig: Rig) -> None:
    # Asterisk refuses the answer (its recorded 500) while the caller is still there: the
    # caller is continued, unanswered, to the front desk and the call's row is ended.
    rig.fake.answer_fails = True
    call = await rig.fake.incoming_call(["echo"])
    await _until(lambda: rig.fake.continued_to == ("frontdesk-fallback", "s"))
    await _until(lambda: not rig.app.calls)
    row = await _call_row(rig.pool, call.caller_id)
    assert row["end_reason"] == "setup_failed" and row["transferred_to"] == "frontdesk-fallback,s"
    assert row["answered_at"] is None
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}


async def test_a_caller_name_with_control_characters_is_stored_clean(rig: Rig) -> None:
    # The display name is whatever the caller's SIP phone sends: terminal escapes, new lines,
    # a bidi override. None of it is kept.
    nasty = "\x1b[2J\x1b]0;pwned\x07Evil\r\n  Corp\u202e\x00"
    call = await rig.fake.incoming_call(["echo"], caller_name=nasty)
    await _media_up(rig, call)
    await rig.fake.caller_hangs_up(call)
    row = await _call_row(rig.pool, call.caller_id)
    assert row["caller_name"] == "[2J ]0;pwned Evil Corp"


async def test_a_keyed_entry_is_capped(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["echo"])
    await _media_up(rig, call)
    for _ in range(100):  # a caller leaning on the keypad: one entry, no pause
        await rig.fake.press(call, "*")
    await rig.fake.press(call, "#")
    await _until(lambda: any(len(c.session.digits) == 101 for c in rig.app.calls))
    await rig.fake.caller_hangs_up(call)
    row = await _call_row(rig.pool, call.caller_id)
    await _until(lambda: rig.writes.pending == 0)
    turns = await rig.pool.fetch("SELECT text FROM turns WHERE call_id = $1", row["id"])
    assert [len(t["text"].split()) for t in turns] == [32]


async def test_a_card_read_in_groups_is_masked_in_the_turns_already_stored(rig: Rig) -> None:
    # No card word: the first group could be anything (a phone number); only the second,
    # said a moment later, makes the run a card. The first is already stored by then.
    call = await rig.fake.incoming_call(["echo"])
    await _media_up(rig, call)
    [ours] = rig.app.calls
    log, cards = rig.app.services.call_log, ours.session.cards
    for said in ("It's 4111 1111 1111", "1111"):  # as the agent stores each caller turn
        log.turn(ours.session.id, TurnRole.CALLER, cards.caller_said(said))
        await asyncio.sleep(0.3)
    await rig.fake.caller_hangs_up(call)
    await _until(lambda: not rig.app.calls and rig.writes.pending == 0)
    rows = await rig.pool.fetch(
        "SELECT text FROM turns WHERE call_id = $1 ORDER BY seq", ours.session.id
    )
    assert [r["text"] for r in rows] == ["It's [card]", "[card]"]
