"""The AI receptionist on a call: fake ARI (recorded), real RTP, a real database, and each call
test twice: against the offline engine over its real WebSocket protocol (the agent's voice is
the offline voice: Piper or flite, espeak-ng's Spanish voice in Spanish), and against the strict
OpenAI Realtime (GA) double (tests/fakes/ga_realtime.py, the offline dialog as its model, its
voice a tone). The caller's voice is espeak-ng."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import subprocess
import uuid
import wave
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from app.calls.agent import AgentConversation
from app.calls.arrival import Arrival
from app.calls.call_log import CallLog
from app.calls.conversation import Conversation
from app.calls.engine_port import PastTurn
from app.calls.write_behind import WriteBehind
from app.engines.local.server import CAPABILITIES, SOCKETS, create_engine_app
from app.engines.local.voice import sentences
from app.engines.local.whisper import WhisperSpeechToText
from app.engines.realtime_client import RealtimeConnector
from app.hotel.callbacks import NewCallback
from app.hotel.config import load_hotel_config
from app.main import (
    build_destinations,
    build_engine,
    build_telephony,
    build_tools,
    destination_rules,
)
from app.media.g711 import ulaw_decode, ulaw_encode
from app.media.resample import resample
from app.settings import load_settings
from app.storage.callbacks_repo import CallbackRepository
from app.storage.calls_repo import CallRepository
from app.storage.errors import is_transient
from app.storage.seed import seed
from app.storage.tools_repo import ToolInvocationRepository
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.call_services import CallLimits
from app.telephony.controller import StasisApp
from tests.engines.test_local_engine import local_tts
from tests.fakes.ari import FakeAri, FakeCall
from tests.fakes.ga_realtime import DialogBrain, GaRealtime, Reply, ScriptedBrain
from tests.integration.test_stasis_calls import AsteriskRtp

ROOT = Path(__file__).resolve().parents[2]
STT = WhisperSpeechToText()


def _speech(text: str, tmp: Path, voice: str = "en-us") -> list[bytes]:
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "-w", str(tmp / "say.wav"), text], check=True
    )
    with wave.open(str(tmp / "say.wav")) as reader:
        pcm = resample(reader.readframes(reader.getnframes()), reader.getframerate(), 8000)
    ulaw = ulaw_encode(pcm + b"\x00\x00" * 8000)  # and a second of silence after
    return [ulaw[i : i + 160] for i in range(0, len(ulaw) - 159, 160)]


@dataclass
class Rig:
    fake: FakeAri
    app: StasisApp
    rtp: AsteriskRtp
    pool: asyncpg.Pool
    engine: TestServer
    sockets: Callable[[], list[web.WebSocketResponse]]  # the engine's open connections
    double: GaRealtime | None  # the GA double, when it is the engine


@pytest.fixture(params=["offline", "ga"])
async def rig(
    request: pytest.FixtureRequest,
    pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Rig]:
    async with _rig(pool, monkeypatch, tmp_path_factory, request.param) as rig:
        yield rig


@contextlib.asynccontextmanager
async def _rig(
    pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
    kind: str = "offline",
) -> AsyncIterator[Rig]:
    """A call's whole path, wired as `frontdesk run` wires it."""
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    await seed(pool, hotel, horizon_days=10)
    double: GaRealtime | None = None
    if kind == "offline":
        # as `frontdesk run` starts it: with the offline voices and DEFAULT_LANGUAGE
        default_language = load_settings().default_language
        engine = TestServer(
            create_engine_app(hotel, STT, local_tts, default_language), host="127.0.0.1"
        )
        await engine.start_server()
        engine_url = f"ws://127.0.0.1:{engine.port}/v1/realtime"

        def sockets() -> list[web.WebSocketResponse]:
            return list(engine.app[SOCKETS])
    else:
        double = GaRealtime(
            lambda property_id: DialogBrain(
                hotel.get_property(property_id or hotel.default_property.id), STT
            )
        )
        engine_url = await double.start()
        engine, sockets = double.server, double.sockets
    loop = asyncio.get_running_loop()
    _, rtp = await loop.create_datagram_endpoint(AsteriskRtp, local_addr=("127.0.0.1", 0))
    assert rtp.transport is not None
    fake = FakeAri(rtp_address=rtp.transport.get_extra_info("sockname")[:2])
    url = await fake.start()
    monkeypatch.setenv("RTP_PORT_MIN", "41100")
    monkeypatch.setenv("RTP_PORT_MAX", "41119")
    monkeypatch.setenv("WHISPER_DIR", str(tmp_path_factory.mktemp("whisper")))
    settings = load_settings(
        asterisk_ari_url=url,
        asterisk_ari_password="secret",
        engine="local",
        local_engine_url=f"ws://127.0.0.1:{engine.port}/v1/realtime",
    )
    http = aiohttp.ClientSession()
    client = AriClient(http, url, "frontdesk", "secret")
    writes = WriteBehind(is_transient)
    call_log = CallLog(CallRepository(pool), writes, ToolInvocationRepository(pool))
    tools = build_tools(
        pool, call_log, build_destinations(destination_rules(settings), hotel, pool)
    )
    if kind == "offline":
        # the offline engine as the composition root connects to it (its languages by property)
        connector = build_engine(settings, hotel, http, tools)
    else:  # the offline dialog is the double's model: what it can do is the offline engine's
        connector = RealtimeConnector(
            http, engine_url, tools=tools.schemas(), capabilities=CAPABILITIES
        )
    app = build_telephony(
        settings,
        hotel,
        client,
        call_log,
        engine=connector,
        tools=tools,
        callbacks=CallbackRepository(pool),
    )
    app.services = replace(
        app.services, limits=CallLimits(rtp_inactivity=30, max_duration=120, check_every=0.1)
    )
    events = EventStream(http, client, app.deliver, app.on_connected, backoff_min=0.05)
    tasks = [asyncio.create_task(writes.run()), asyncio.create_task(events.run())]
    await asyncio.wait_for(events.connected.wait(), 5)
    try:
        yield Rig(fake, app, rtp, pool, engine, sockets, double)
        if double is not None:
            # Nothing our client sent was refused, but for the races the service resolves
            # (a response.create crossing its own response; a cancel as a response ends).
            races = {"conversation_already_has_active_response", "response_cancel_not_active"}
            refused = [e for s in double.sessions for e in s.errors() if e["code"] not in races]
            assert refused == [], refused
    finally:  # a test that failed inside `async with _rig(…)` is cleaned up too
        await app.stop(drain_seconds=0)
        await writes.drain(5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.close()
        await fake.stop()
        await engine.close()
        rtp.transport.close()


async def _until(condition: object, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def _quiet(rig: Rig, seconds: float = 0.4) -> None:
    """Wait until the agent has stopped talking (no RTP for a while)."""
    while True:
        before = len(rig.rtp.received)
        await asyncio.sleep(seconds)
        if len(rig.rtp.received) == before:
            return


async def _say(rig: Rig, call: FakeCall, frames: list[bytes], start_seq: int = 1000) -> None:
    """Send the caller's frames on a steady 20 ms clock, as a phone does (sleeping 20 ms after
    each would drift slower than real time and starve the jitter buffer under load)."""
    assert call.media_host is not None
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n, frame in enumerate(frames):
        await asyncio.sleep(max(0.0, start + n * 0.02 - loop.time()))
        rig.rtp.send(call.media_host, start_seq + n, frame)


async def _ended(rig: Rig, call: FakeCall, timeout: float = 20.0) -> asyncpg.Record:
    """The call's row once its end is written: the call log writes behind the call, so the
    row can lag the hang-up on a loaded machine."""
    async with asyncio.timeout(timeout):
        while (
            row := await rig.pool.fetchrow(
                "SELECT * FROM calls WHERE channel_id = $1 AND state = 'ended'", call.caller_id
            )
        ) is None:
            await asyncio.sleep(0.05)
    return row


async def _turns(rig: Rig, call: FakeCall) -> list[tuple[str, str, int | None]]:
    rows = await rig.pool.fetch(
        """SELECT t.role, t.text, t.latency_ms FROM turns t JOIN calls c ON c.id = t.call_id
           WHERE c.channel_id = $1 ORDER BY t.seq""",
        call.caller_id,
    )
    return [(r["role"], r["text"], r["latency_ms"]) for r in rows]


async def test_a_caller_asks_a_question_and_then_for_a_person(rig: Rig, tmp_path: Path) -> None:
    call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
    await _until(lambda: len(rig.rtp.received) > 50)  # the greeting is being spoken
    await _quiet(rig)
    greeting_frames = len(rig.rtp.received)

    await _say(rig, call, _speech("Do you have free wifi?", tmp_path))
    await _until(lambda: len(rig.rtp.received) > greeting_frames + 50)  # the answer
    await _quiet(rig)
    turns = await _turns(rig, call)
    assert turns[0][0] == "agent" and "Harborview Hotel" in turns[0][1]
    assert turns[1][0] == "caller" and "wi" in turns[1][1].lower().replace("-", "")
    assert turns[2][0] == "agent" and "Wi-Fi is free" in turns[2][1]
    assert turns[2][2] is not None and turns[2][2] > 0  # end of speech → first agent audio, stored

    await _say(
        rig, call, _speech("I would like to talk to the front desk.", tmp_path), start_seq=3000
    )
    await _until(lambda: rig.fake.continued_to == ("frontdesk-departments", "queue-front-desk"))
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    row = await _ended(rig, call)  # written behind the call: waited for
    assert row["end_reason"] == "transferred" and row["outcome"] == "transferred"
    # A warm transfer: before it continued the caller, the controller left Asterisk the
    # summary staff hear first (dialplan [frontdesk-whisper]): the caller's own words.
    whisper = Path(call.variables["FRONTDESK_WHISPER"] + ".wav")
    with wave.open(str(whisper)) as summary:
        assert summary.getframerate() == 8000
        assert summary.getnframes() / 8000 > 3.0  # "Ava here, with a caller for the front desk…"
    with wave.open(str(whisper)) as summary:
        heard = STT.transcribe(summary.readframes(summary.getnframes()), 8000).text.lower()
    assert "front desk" in heard, heard
    # …and the same summary as text, for a browser phone's screen: percent-encoded, so the
    # dialplan can hand it to the INVITE's X-Frontdesk-Summary header unharmed.
    text = call.variables["FRONTDESK_SUMMARY"]
    assert re.fullmatch(r"[A-Za-z0-9%._~-]+", text), text
    assert unquote(text).startswith("Ava here, with a caller for the front desk."), unquote(text)


async def test_barge_in_stops_the_agent_and_truncates_to_what_was_heard(
    rig: Rig, tmp_path: Path
) -> None:
    call = await rig.fake.incoming_call(["agent"])
    await _until(lambda: len(rig.rtp.received) > 60)  # 1.2 s into the greeting
    conversation = next(iter(rig.app.calls)).conversation
    assert isinstance(conversation, AgentConversation)
    await _say(rig, call, _speech("Stop, I need a room.", tmp_path)[:60])
    await _until(lambda: conversation.truncations)
    await asyncio.sleep(0.3)
    heard = [p for p in rig.rtp.received]
    truncation = conversation.truncations[0]
    # Truncated at what was actually played: every frame sent reached the caller.
    sent_ms = len([p for p in heard if p.timestamp < heard[0].timestamp + 160 * 1000]) * 20
    assert abs(truncation.audio_end_ms - sent_ms) <= 60, (truncation, sent_ms)
    assert truncation.audio_end_ms == min(truncation.played_ms, truncation.received_ms)
    assert truncation.played_ms < truncation.received_ms  # the rest was flushed, never played


async def test_an_agent_turn_cut_off_by_the_caller_is_stored_interrupted_with_clean_text(
    rig: Rig, tmp_path: Path
) -> None:
    call = await rig.fake.incoming_call(["agent"])
    await _until(lambda: len(rig.rtp.received) > 60)  # 1.2 s into the greeting
    conversation = next(iter(rig.app.calls)).conversation
    assert isinstance(conversation, AgentConversation)
    await _say(rig, call, _speech("Stop, I need a room.", tmp_path)[:60])
    await _until(lambda: conversation.truncations)

    async def greeting() -> asyncpg.Record | None:
        return await rig.pool.fetchrow(
            """SELECT t.text, t.interrupted FROM turns t JOIN calls c ON c.id = t.call_id
               WHERE c.channel_id = $1 AND t.role = 'agent' ORDER BY t.seq LIMIT 1""",
            call.caller_id,
        )

    async with asyncio.timeout(20):
        while (row := await greeting()) is None:
            await asyncio.sleep(0.05)
    assert row["interrupted"] is True
    assert "Harborview Hotel" in row["text"] and "interrupted" not in row["text"], row["text"]


async def test_no_engine_means_the_front_desk_not_dead_air(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    await seed(pool, hotel, horizon_days=2)
    fake = FakeAri(rtp_address=("127.0.0.1", 9))
    url = await fake.start()
    settings = load_settings(asterisk_ari_url=url, asterisk_ari_password="secret")
    async with aiohttp.ClientSession() as http:
        client = AriClient(http, url, "frontdesk", "secret")
        writes = WriteBehind(is_transient)
        nowhere = RealtimeConnector(http, "ws://127.0.0.1:9/v1/realtime")  # nothing listens there
        app = build_telephony(
            settings, hotel, client, CallLog(CallRepository(pool), writes), engine=nowhere
        )
        events = EventStream(http, client, app.deliver, app.on_connected, backoff_min=0.05)
        task = asyncio.create_task(events.run())
        await asyncio.wait_for(events.connected.wait(), 5)
        await fake.incoming_call(["agent"])
        async with asyncio.timeout(10):
            while fake.continued_to != ("frontdesk-fallback", "s") or app.calls:
                await asyncio.sleep(0.02)
        assert fake.leftovers() == {"channels": [], "bridges": []}
        await app.stop(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await fake.stop()


async def test_the_engine_dropping_mid_call_sends_the_caller_to_the_front_desk(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["agent"])
    await _until(lambda: len(rig.rtp.received) > 20)  # the agent is talking
    telephony_call = next(iter(rig.app.calls))
    conversation = telephony_call.conversation
    assert isinstance(conversation, AgentConversation)
    assert [t for t in asyncio.all_tasks() if t.get_name() == "engine-reader"]
    await rig.engine.close()  # the engine goes away under the call (its process died)
    await _until(lambda: rig.fake.continued_to == ("frontdesk-fallback", "s"))
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    row = await _ended(rig, call)  # written behind the call: waited for
    # put through to the front desk, but the call failed: the analytics count it so
    assert row["end_reason"] == "transferred" and row["outcome"] == "failed"


async def test_keys_pressed_during_the_conversation_reach_the_agent(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["agent"])
    await _until(lambda: len(rig.rtp.received) > 50)
    await _quiet(rig)
    await rig.fake.press(call, "2")  # the front desk's key in hotel.yaml
    await _until(lambda: rig.fake.continued_to == ("frontdesk-departments", "queue-front-desk"))
    await _until(lambda: not rig.app.calls)
    turns = await _turns(rig, call)
    agent = [text for role, text, _ in turns if role == "agent"]
    assert len(agent) == 2 and "put you through" in agent[1]  # no second greeting
    assert ("dtmf", "2", None) in turns
    row = await rig.pool.fetchrow("SELECT engine FROM calls WHERE channel_id = $1", call.caller_id)
    assert row["engine"] == "local"


async def test_a_dropped_engine_connection_is_reopened_with_the_conversation_so_far(
    rig: Rig, tmp_path: Path
) -> None:
    # Mid-booking the engine drops this call's socket. The new session is told the
    # conversation so far: the caller's next answer completes the stay with the dates they
    # gave only before the drop.
    call = await rig.fake.incoming_call(["agent"])
    heard = await _book_until_guests(rig, call, tmp_path)
    conversation = next(iter(rig.app.calls)).conversation
    assert isinstance(conversation, AgentConversation)
    for ws in rig.sockets():  # the engine drops this call's socket, and only that
        await ws.close()
    await _until(lambda: conversation.reconnects == 1)
    await _say(rig, call, _speech("We are two adults.", tmp_path), start_seq=5000)
    await _agent_says(rig, call, "dollars", heard)  # the quote, on the new session
    await _stay_asked_for_friday_two_nights(rig, call)
    assert rig.app.calls  # still on the line: no transfer


async def _book_until_guests(rig: Rig, call: FakeCall, tmp_path: Path) -> int:
    """The caller gives the dates of a stay; the agent asks for the guests. Agent turns so far."""
    _, heard = await _agent_says(rig, call, "Harborview", 0)  # the greeting
    script = [
        ("I would like to book a room for Friday.", "how many nights"),
        ("Two nights.", "how many adults"),
    ]
    for n, (words, expected) in enumerate(script):
        await _say(rig, call, _speech(words, tmp_path), start_seq=1000 + 1000 * n)
        _, heard = await _agent_says(rig, call, expected, heard)
    return heard


async def _stay_asked_for_friday_two_nights(rig: Rig, call: FakeCall) -> None:
    rows = await rig.pool.fetch(
        """SELECT t.name, t.arguments FROM tool_invocations t JOIN calls c ON c.id = t.call_id
           WHERE c.channel_id = $1 ORDER BY t.id""",
        call.caller_id,
    )
    assert [r["name"] for r in rows] == ["check_availability"], rows
    arguments = rows[0]["arguments"]
    arguments = json.loads(arguments) if isinstance(arguments, str) else arguments
    assert dt.date.fromisoformat(arguments["check_in"]).weekday() == 4, arguments
    assert arguments.get("nights") == 2 and arguments["adults"] == 2, arguments


async def _agent_says(
    rig: Rig, call: FakeCall, expected: str, after: int, quiet: bool = True
) -> tuple[str, int]:
    """Wait for an agent turn (after the first `after` ones) containing `expected`; that turn's
    text and index, once the agent has stopped talking (unless `quiet` is False)."""
    try:
        async with asyncio.timeout(30):
            while True:
                agent = [t for role, t, _ in await _turns(rig, call) if role == "agent"]
                found = [
                    i for i in range(after, len(agent)) if expected.lower() in agent[i].lower()
                ]
                if found:
                    break
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"agent never said {expected!r}: {await _turns(rig, call)}") from None
    if quiet:
        await _quiet(rig)
    return agent[found[0]], found[0] + 1


async def test_a_room_is_booked_by_voice_from_greeting_to_confirmation_code(
    rig: Rig, tmp_path: Path
) -> None:
    call = await rig.fake.incoming_call(["agent"], exten="+15550100100", caller="+14155550134")
    _, heard = await _agent_says(rig, call, "Harborview", 0)  # the greeting
    script = [
        ("I would like to book a room for Friday.", "how many nights"),
        ("Two nights.", "how many adults"),
        ("We are two adults.", "dollars"),  # "Let me check that for you", then the quote
        ("I will take the double queen.", "your name"),
        ("My name is John Smith.", "the number you're calling from"),
        ("Yes, please.", "Shall I book it"),
        ("Yes, please.", "confirmation code"),
    ]
    for n, (words, expected) in enumerate(script):
        await _say(rig, call, _speech(words, tmp_path), start_seq=1000 + 1000 * n)
        said, heard = await _agent_says(rig, call, expected, heard)
        if expected == "dollars":
            assert "Double Queen" in said, said
    row = await rig.pool.fetchrow(
        """SELECT r.*, rt.code FROM reservations r JOIN room_types rt ON rt.id = r.room_type_id
           JOIN calls c ON c.id = r.call_id WHERE c.channel_id = $1""",
        call.caller_id,
    )
    assert row is not None
    assert row["code"] == "double-queen" and row["status"] == "confirmed"
    assert (row["check_out"] - row["check_in"]).days == 2 and row["check_in"].weekday() == 4
    assert row["guest_phone_e164"] == "+14155550134" and row["guest_name"] == "John Smith"
    assert ", ".join(row["confirmation_code"]) in said
    tools = await rig.pool.fetch(
        """SELECT t.name, t.status FROM tool_invocations t JOIN calls c ON c.id = t.call_id
           WHERE c.channel_id = $1 ORDER BY t.id""",
        call.caller_id,
    )
    assert [(t["name"], t["status"]) for t in tools] == [
        ("check_availability", "ok"),
        ("create_reservation", "ok"),
    ]
    await rig.fake.caller_hangs_up(call)
    async with asyncio.timeout(10):
        while not await rig.pool.fetchval(
            "SELECT outcome FROM calls WHERE channel_id = $1 AND state = 'ended'", call.caller_id
        ):
            await asyncio.sleep(0.05)
    outcome = await rig.pool.fetchval(
        "SELECT outcome FROM calls WHERE channel_id = $1", call.caller_id
    )
    assert outcome == "booked"


async def test_an_answered_callback_opens_with_why_we_are_calling(rig: Rig) -> None:
    repo = CallbackRepository(rig.pool)
    due = dt.datetime.now(dt.UTC)
    callback_id = await repo.add(
        NewCallback("pinecrest", "+14155550134", due, "your booking enquiry")
    )
    await repo.claim_due(due)
    # What Asterisk does when the guest answers our originate (tests/fixtures/ari:
    # originate-callback.json): the channel enters Stasis with our appArgs.
    call = await rig.fake.incoming_call(["callback", str(callback_id), "pinecrest"])
    said, _ = await _agent_says(rig, call, "calling you back about your booking enquiry", 0)
    prop = load_hotel_config(ROOT / "config" / "hotel.yaml").get_property("pinecrest")
    assert said.startswith(f"Hello, this is {prop.agent.name} from the {prop.name}")
    row = await rig.pool.fetchrow("SELECT * FROM callbacks WHERE id = $1", callback_id)
    assert row["status"] == "completed"
    outbound = await rig.pool.fetchrow("SELECT * FROM calls WHERE channel_id = $1", call.caller_id)
    assert outbound["direction"] == "outbound" and outbound["property_id"] == "pinecrest"
    async with asyncio.timeout(10):  # linked once the call's own row is written
        while (
            await rig.pool.fetchval(
                "SELECT outbound_call_id FROM callbacks WHERE id = $1", callback_id
            )
            != outbound["id"]
        ):
            await asyncio.sleep(0.05)


async def test_a_callback_nobody_knows_is_hung_up(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["callback", str(uuid.uuid4()), "harborview"])
    row = await _ended(rig, call)
    assert row["end_reason"] == "unknown_callback"
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}


async def test_the_engine_session_is_renewed_at_a_quiet_moment_and_remembers(
    rig: Rig, tmp_path: Path
) -> None:
    factory = rig.app._conversations

    def short_lived(arrival: Arrival) -> Conversation:
        conversation = factory(arrival)
        if isinstance(conversation, AgentConversation):
            conversation.renew_after = 2.0  # as if the session's hour were always nearly up
        return conversation

    rig.app._conversations = short_lived
    call = await rig.fake.incoming_call(["agent"])
    await _until(lambda: rig.app.calls)
    conversation = next(iter(rig.app.calls)).conversation
    assert isinstance(conversation, AgentConversation)
    heard = await _book_until_guests(rig, call, tmp_path)
    renewed = conversation.renewals
    # A fresh session after the dates were given, and only then the guests.
    await _until(lambda: conversation.renewals > renewed, timeout=30)
    conversation.renew_after = None
    await _say(rig, call, _speech("We are two adults.", tmp_path), start_seq=5000)
    await _agent_says(rig, call, "dollars", heard)
    await _stay_asked_for_friday_two_nights(rig, call)
    assert conversation.reconnects == conversation.renewals  # every renewal was a new session
    assert rig.app.calls  # still on the line


async def test_a_department_that_does_not_answer_sends_the_caller_back_to_the_agent(
    rig: Rig,
) -> None:
    # The Pinecrest's front desk is extension 4100 (hotel.yaml); the keypad's 0 asks for it.
    call = await rig.fake.incoming_call(["agent"], exten="+15550100200")
    await _until(lambda: len(rig.rtp.received) > 50)
    await _quiet(rig)
    await rig.fake.press(call, "0")
    await _until(lambda: rig.fake.continued_to == ("frontdesk-departments", "4100"))
    await _until(lambda: not rig.app.calls)
    # [frontdesk-departments]: Dial(PJSIP/4100) unanswered → Stasis(frontdesk,agent,unanswered,4100)
    await rig.fake.returns(call, ["agent", "unanswered", "4100"])
    await _until(lambda: rig.app.calls)
    prop = load_hotel_config(ROOT / "config" / "hotel.yaml").get_property("pinecrest")
    async with asyncio.timeout(30):
        while True:
            rows = await rig.pool.fetch(
                """SELECT c.property_id, t.text FROM turns t JOIN calls c ON c.id = t.call_id
                   WHERE c.channel_id = $1 AND t.role = 'agent' ORDER BY c.started_at, t.seq""",
                call.caller_id,
            )
            if rows and "could take your call" in rows[-1]["text"]:
                break
            await asyncio.sleep(0.05)
    assert rows[-1]["text"].startswith(
        f"I'm sorry, nobody at {prop.departments['front_desk'].name} could take your call"
    )
    assert rows[-1]["property_id"] == "pinecrest"


async def test_keys_typed_in_a_row_reach_the_agent_as_one_entry(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["agent"])
    await _until(lambda: len(rig.rtp.received) > 50)
    await _quiet(rig)
    for digit in "415":
        await rig.fake.press(call, digit)
        await asyncio.sleep(0.2)
    await _agent_says(rig, call, "Thank you. How can I help you?", 1)
    await asyncio.sleep(2.0)  # no second answer follows: the three keys were one entry
    agent = [t for role, t, _ in await _turns(rig, call) if role == "agent"]
    assert len(agent) == 2, agent
    assert ("dtmf", "4 1 5", None) in await _turns(rig, call)


async def test_a_keyed_entry_reaches_the_agent_capped(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["agent"])
    await _until(lambda: len(rig.rtp.received) > 50)
    await _quiet(rig)
    conversation = next(iter(rig.app.calls)).conversation
    assert isinstance(conversation, AgentConversation)
    # A caller leaning on the star key (digits this long would be card context, withheld
    # from the engine whatever their length: tests/engines/test_card_calls.py).
    for _ in range(100):
        await rig.fake.press(call, "*")

    def keyed() -> list[str]:
        past = conversation.history
        return [p.text for p in past if isinstance(p, PastTurn) and "keyed" in p.text]

    await _until(keyed)
    await asyncio.sleep(2.0)  # the rest of the keys, had they not been dropped
    assert keyed() == [f"The caller keyed {'*' * 32} on the telephone keypad."]


@pytest.mark.parametrize(
    ("why", "opening"),
    [
        (["closed", "3200"], "The concierge is closed right now"),
        (["callback"], "You asked for a call back"),
    ],
    ids=["closed-department", "call-back-key"],
)
async def test_the_menu_key_that_brought_the_caller_shapes_the_first_words(
    rig: Rig, why: list[str], opening: str
) -> None:
    # dialplan/hotel.conf: a closed department's key, or the call-back key, reach the agent
    # as Stasis(frontdesk,agent,<why>); the call records how the caller came.
    call = await rig.fake.incoming_call(["agent", *why, ""], exten="+15550100100")
    await _agent_says(rig, call, opening, 0)
    path = await rig.pool.fetchval(
        "SELECT ivr_path FROM calls WHERE channel_id = $1", call.caller_id
    )
    assert path == why


async def test_a_caller_back_from_a_menu_department_is_answered_for_its_property(
    rig: Rig,
) -> None:
    # [frontdesk-departments] passes the property: the extension (4100) is not a number.
    call = await rig.fake.incoming_call(["agent", "unanswered", "4100", "pinecrest"], exten="4100")
    await _agent_says(rig, call, "could take your call", 0)
    row = await rig.pool.fetchrow(
        "SELECT property_id FROM calls WHERE channel_id = $1", call.caller_id
    )
    assert row["property_id"] == "pinecrest"


def _heard(rig: Rig, since: int = 0) -> bytes:
    """What the caller heard from us (our RTP), from the `since`-th packet on: 8 kHz μ-law."""
    return b"".join(p.payload for p in rig.rtp.received[since:])


def _language_heard(ulaw: bytes) -> str:
    """The language an independent ear (Whisper's detection) hears in what the caller heard."""
    detected = STT.detect_language(ulaw_decode(ulaw), 8000)
    assert detected is not None, "the multilingual model is not installed"
    return detected[0]


async def _call_language(rig: Rig, call: FakeCall) -> str:
    language = await rig.pool.fetchval(
        "SELECT language FROM calls WHERE channel_id = $1", call.caller_id
    )
    return str(language)


@pytest.mark.parametrize("rig", ["offline"], indirect=True)
async def test_a_caller_speaking_spanish_is_answered_in_spanish_and_the_call_records_it(
    rig: Rig, tmp_path: Path
) -> None:
    call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
    _, heard = await _agent_says(rig, call, "Harborview", 0)  # the greeting, in English
    assert await _call_language(rig, call) == "en"
    greeted = len(rig.rtp.received)
    spanish = "Hola, quisiera reservar una habitación para el viernes."
    await _say(rig, call, _speech(spanish, tmp_path, voice="es"))
    reply, _ = await _agent_says(rig, call, "", heard)
    rows = await rig.pool.fetch(
        """SELECT t.text, t.language FROM turns t JOIN calls c ON c.id = t.call_id
           WHERE c.channel_id = $1 AND t.role = 'caller'""",
        call.caller_id,
    )
    assert [r["language"] for r in rows] == ["es"] and "reservar" in rows[0]["text"].lower()
    async with asyncio.timeout(5):  # the call's row follows its caller's language
        while await _call_language(rig, call) != "es":
            await asyncio.sleep(0.05)
    # The reply reached the caller in espeak-ng's Spanish voice (200 ms of it, byte for byte;
    # from 200 ms in: the engine trims the voice's leading silence).
    first = ulaw_encode(local_tts("es").synthesize(sentences(reply)[0]))[1600:3200]
    assert len(first) == 1600 and first in _heard(rig, greeted), reply


@pytest.mark.parametrize("rig", ["offline"], indirect=True)
async def test_a_caller_who_chose_spanish_in_the_menu_is_greeted_in_spanish(rig: Rig) -> None:
    # dialplan/extensions.conf [frontdesk-language]: 2 sets CHANNEL(language)=es
    call = await rig.fake.incoming_call(["agent", "menu"], exten="+15550100100", language="es")
    greeting, _ = await _agent_says(rig, call, "", 0)
    assert _language_heard(_heard(rig)) == "es", greeting
    assert await _call_language(rig, call) == "es"  # from the start


async def test_default_language_sets_the_greeting_when_the_caller_chose_none(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "es-ES")
    async with _rig(pool, monkeypatch, tmp_path_factory) as rig:
        call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
        greeting, _ = await _agent_says(rig, call, "", 0)
        assert _language_heard(_heard(rig)) == "es", greeting


@pytest.mark.parametrize("rig", ["ga"], indirect=True)
async def test_the_function_calls_of_one_response_are_answered_together(rig: Rig) -> None:
    # One response, two tools: both results go back, then one response.create (the service
    # refuses a second while the first one's response is in progress).
    assert rig.double is not None
    brain = ScriptedBrain()
    rig.double.brain_for = lambda _property: brain
    lookups = [("get_hotel_info", {"topic": "parking"}), ("get_hotel_info", {"topic": "wifi"})]
    brain.replies.extend(
        [
            Reply("Harborview Hotel, how can I help?"),
            Reply("Let me look both up.", calls=lookups),
            Reply("Parking is by valet, and the Wi-Fi is free."),
        ]
    )
    call = await rig.fake.incoming_call(["agent"])
    _, heard = await _agent_says(rig, call, "how can I help", 0)
    await rig.fake.press(call, "1")
    await _agent_says(rig, call, "Wi-Fi is free", heard)
    [session] = rig.double.sessions
    assert len(session.responses()) == 3 and len(brain.turns) == 3
    answered = [i for i in brain.turns[2].new if i["type"] == "function_call_output"]
    asked = [i["call_id"] for i in session.items if i["type"] == "function_call"]
    assert [i["call_id"] for i in answered] == asked and len(asked) == 2
    tools = await rig.pool.fetch(
        """SELECT t.name, t.status FROM tool_invocations t JOIN calls c ON c.id = t.call_id
           WHERE c.channel_id = $1 ORDER BY t.id""",
        call.caller_id,
    )
    assert [(t["name"], t["status"]) for t in tools] == [("get_hotel_info", "ok")] * 2


@pytest.mark.parametrize("rig", ["ga"], indirect=True)
async def test_an_engine_refusing_the_session_settings_sends_the_caller_to_the_front_desk(
    rig: Rig,
) -> None:
    # Both sides on different audio formats would be noise or silence for the caller.
    assert rig.double is not None
    rig.double.reject_update = "session.audio.input.format"
    call = await rig.fake.incoming_call(["agent"])
    await _until(lambda: rig.fake.continued_to == ("frontdesk-fallback", "s"))
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    [session] = rig.double.sessions
    assert [e["param"] for e in session.errors()] == ["session.audio.input.format"]
    assert not [e for e in session.received if e["type"] != "session.update"]  # no audio sent
    row = await _ended(rig, call)
    assert row["end_reason"] == "transferred"
    rig.double.sessions.clear()  # the refusal was this test's doing


async def test_a_caller_hanging_up_closes_the_engine_session_and_its_tasks(rig: Rig) -> None:
    call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
    await _until(lambda: len(rig.rtp.received) > 50)  # the greeting is being spoken
    assert len(rig.sockets()) == 1
    await rig.fake.caller_hangs_up(call)  # the conversation is cancelled mid-turn
    await _until(lambda: not rig.app.calls)
    # Every task of the conversation cancelled and done, keys included, and the engine told
    # the session is over (its socket closed), not left to the garbage collector.
    await _until(lambda: len(rig.sockets()) == 0, timeout=5)
    left = [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("engine-")]
    assert left == []
