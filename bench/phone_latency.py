"""bench/phone_latency: voice-to-voice latency at the caller's end of a call, through the PBX.

A SIP phone (bench/sip_phone.py) calls the hotel's AI receptionist through the real Asterisk
(the sandbox with this repository's asterisk-config/ and dialplan/, as the live tests run
it), speaks a booking line by line (espeak-ng or flite kal, 8 kHz μ-law on a 20 ms clock) and
records what it hears. The app is built by the composition root as `frontdesk run` builds it:
ARI, Stasis app, RTP endpoints, the agent, the real tools on a throwaway database, and the
offline engine over its WebSocket.

Latency of a turn = the end of the caller's speech (the last frame with speech in it that the
phone sent) → the first frame with agent speech in it that the phone received. The app runs
in this process, so its logs (same monotonic clock) break each turn down:

    vad         caller's last speech → the engine's speech_stopped: Asterisk → our endpoint →
                engine (a millisecond or two: see pbx_out), webrtcvad's own hangover, and our
                silence window (`window`: frames since webrtcvad's last speech frame)
    stt         speech-to-text (language detection included: `lang` is its share)
    dialog      the rest of the engine's time to its first audio (dialog, waiting for a thread)
    tts         rendering the reply's first piece
    to_rtp      engine's first audio → WebSocket → agent → pacer → first RTP packet out
    pbx_out     our first packet → Asterisk → the phone
    lead        the voice's leading silence: first packet heard → first speech heard

    .venv/bin/python bench/phone_latency.py [--calls N] [--configs before after] [--direct]
                                            [--noise DBFS] [--show] [--vad]

--configs runs N calls of each configuration, taking turns, in one process: `before` (every
cut below off), `after` (all on), `as-is` (the code as it is), or cuts joined by `+`
(lead, gate, early, language: see CUTS). --direct leaves the PBX out: a fake ARI
(tests/fakes/ari.py, recorded from Asterisk) and the phone's RTP straight to our endpoint.
--noise adds line noise to what the phone sends. --vad only reports, on the test speech, the
callers a shorter silence window would cut off and the early transcripts thrown away.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import throwaway_database
from sip_phone import RtpPeer, SipPhone, level

from app.calls.call_log import CallLog
from app.calls.write_behind import WriteBehind
from app.engines.local import early, server
from app.hotel.config import HotelConfig, load_hotel_config
from app.log import configure_logging
from app.main import (
    ari_client,
    build_destinations,
    build_engine,
    build_telephony,
    build_tools,
    destination_rules,
    start_local_engine,
    taking_calls,
)
from app.media.g711 import ulaw_encode
from app.media.levels import frame_level
from app.media.resample import resample
from app.media.vad import SpeechDetector
from app.settings import Settings, load_settings
from app.storage.callbacks_repo import CallbackRepository
from app.storage.calls_repo import CallRepository
from app.storage.db import create_pool
from app.storage.errors import is_transient
from app.storage.tools_repo import ToolInvocationRepository

ROOT = Path(__file__).resolve().parent.parent
# A number hotel.yaml does not list: straight to the AI receptionist (dialplan [from-pstn]),
# which answers for the first property; no menu in front of it.
AI_NUMBER = "+15550100177"
SCRIPT = [
    "I would like to book a room for Friday.",
    "Two nights.",
    "We are two adults.",
    "I will take the double queen.",
    "My name is John Smith.",
    "Yes, please.",
    "Yes, please.",
    "Thank you, that is all, goodbye.",
]
VOICES: dict[str, Callable[[str, str], list[str]]] = {
    "espeak-ng en-us": lambda text, out: ["espeak-ng", "-v", "en-us", "-s", "150", "-w", out, text],
    "flite kal": lambda text, out: ["flite", "-voice", "kal", "-t", text, "-o", out],
}
NOISE_DBFS: float | None = None  # --noise: line noise on what the phone sends
QUIET = 1.5  # seconds without agent speech: its turn is over
REACTION = 0.3  # the caller's pause before answering
TURN_TIMEOUT = 20.0
# The cuts (bench/README.md), each switchable, so that before and after run in one process,
# calls alternating: (module, setting, its value when the cut is off).
CUTS: dict[str, list[tuple[Any, str, Any]]] = {
    "lead": [(server, "LEAD_IN_KEPT_MS", None)],  # the voice's leading silence trimmed
    # the guess starts on quiet by level (vad.py quiet_run), not after webrtcvad's hangover
    "gate": [(server, "VAD_QUIET_BELOW", None)],
    "early": [(early, "EARLY_TRANSCRIPT_MS", None)],  # transcribed during the pause
    "language": [(early, "EARLY_LANGUAGE_MS", None)],  # first turn's language while speaking
    # partial transcripts from 4 s of speech, not 2 s (one held back the early transcript)
    "partials": [(server, "FIRST_PARTIAL_MS", 2000)],
}
DEFAULTS = {
    (module, name): getattr(module, name) for cuts in CUTS.values() for module, name, _ in cuts
}


def configure(config: str) -> None:
    """'before' (no cut), 'after' (all), 'as-is' (the code's own settings), or cuts joined
    by '+' ('lead+gate')."""
    on = set(CUTS) if config == "after" else set() if config == "before" else set(config.split("+"))
    if config == "as-is":
        on = set(CUTS)
    for cut, settings in CUTS.items():
        for module, name, off in settings:
            setattr(module, name, DEFAULTS[(module, name)] if cut in on else off)


STAGES = ["vad", "window", "stt", "dialog", "tts", "to_rtp", "pbx_out", "lead"]


# --- the app's own timestamps, from its logs ------------------------------------------------
@dataclass
class Mark:
    at: float
    event: str
    fields: dict[str, Any]


MARKS: list[Mark] = []
WATCHED = {"reply timing", "transcribed", "talkspurt sent", "turn heard"}


def _capture(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
    if event.get("event") in WATCHED:
        MARKS.append(Mark(time.monotonic(), str(event["event"]), dict(event)))
    return event


def watch_logs() -> None:
    configure_logging("console", os.environ.get("LOG_LEVEL", "WARNING"))
    processors = structlog.get_config()["processors"]
    structlog.configure(processors=[_capture, *processors])


# --- the caller ------------------------------------------------------------------------------
def caller_line(voice: str, text: str, tmp: Path) -> bytes:
    out = tmp / "line.wav"
    subprocess.run(VOICES[voice](text, str(out)), check=True, capture_output=True)
    with wave.open(str(out)) as reader:
        pcm = resample(reader.readframes(reader.getnframes()), reader.getframerate(), 8000)
    return ulaw_encode(pcm)


@dataclass
class Turn:
    call: int
    line: str
    latency_ms: float | None = None
    stages: dict[str, float] = field(default_factory=dict)
    language_ms: float | None = None
    guessed: bool | None = None  # its transcript was the one started during the pause
    wasted: int = 0  # early transcripts the call had thrown away by then
    overlapped: bool = False
    first: bool = False  # the call's first caller turn (its language is detected)


def _speech_after(peer: RtpPeer, after: float) -> float | None:
    for heard in peer.heard:
        if heard.at > after and level(heard.payload) > peer.speech_level:
            return heard.at
    return None


async def _agent_quiet(peer: RtpPeer, hung_up: Callable[[], bool]) -> None:
    """Until the agent has said nothing for QUIET seconds."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not hung_up():
        last = max((h.at for h in peer.heard if level(h.payload) > peer.speech_level), default=0.0)
        if time.monotonic() - last >= QUIET:
            return
        await asyncio.sleep(0.1)


def _breakdown(turn: Turn, speech_end: float, heard_at: float, peer: RtpPeer) -> None:
    reply = next(
        (m for m in MARKS if m.event == "reply timing" and speech_end < m.at <= heard_at), None
    )
    if reply is None:
        return
    f = reply.fields
    stopped = reply.at - f["to_first_audio_ms"] / 1000
    spurt = next((m for m in MARKS if m.event == "talkspurt sent" and m.at >= reply.at), None)
    stt = [m for m in MARKS if m.event == "transcribed" and stopped - 0.005 <= m.at <= reply.at]
    s = turn.stages
    s["vad"] = (stopped - speech_end) * 1000
    s["window"] = float(f["hangover_ms"])
    s["stt"] = float(f.get("stt_ms", 0))
    s["tts"] = float(f["tts_ms"])
    s["dialog"] = f["to_first_audio_ms"] - s["stt"] - s["tts"]
    heard = [m for m in MARKS if m.event == "turn heard" and stopped - 0.005 <= m.at <= reply.at]
    if heard:
        turn.guessed = bool(heard[-1].fields["guessed"])
        turn.wasted = int(heard[-1].fields["wasted"])
    if stt:
        turn.language_ms = float(stt[-1].fields["language_ms"])
    if spurt is not None:
        s["to_rtp"] = (spurt.at - reply.at) * 1000
        arrived = next((h.at for h in peer.heard if h.at >= spurt.at), None)
        if arrived is not None:
            s["pbx_out"] = (arrived - spurt.at) * 1000
            s["lead"] = (heard_at - arrived) * 1000


async def converse(
    index: int, peer: RtpPeer, voice: str, hung_up: Callable[[], bool], show: bool
) -> tuple[list[Turn], float | None]:
    """The booking, line by line; the greeting's delay from the answer, and each turn."""
    with tempfile.TemporaryDirectory(prefix="phone-") as folder:
        return await _converse(index, peer, voice, hung_up, show, Path(folder))


async def _converse(
    index: int,
    peer: RtpPeer,
    voice: str,
    hung_up: Callable[[], bool],
    show: bool,
    tmp: Path,
) -> tuple[list[Turn], float | None]:
    answered = time.monotonic()
    greeting = None
    async with asyncio.timeout(TURN_TIMEOUT):
        while (greeting := _speech_after(peer, answered)) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    turns: list[Turn] = []
    for n, text in enumerate(SCRIPT):
        await _agent_quiet(peer, hung_up)
        if hung_up():
            break
        await asyncio.sleep(REACTION)
        turn = Turn(index, text, first=n == 0)
        spoken = await peer.say(caller_line(voice, text, tmp))
        turn.overlapped = any(
            spoken.started - 0.3 < h.at <= spoken.speech_end
            and level(h.payload) > peer.speech_level
            for h in peer.heard
        )
        heard_at = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(TURN_TIMEOUT):
                while (heard_at := _speech_after(peer, spoken.speech_end)) is None:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
        if heard_at is not None:
            turn.latency_ms = (heard_at - spoken.speech_end) * 1000
            _breakdown(turn, spoken.speech_end, heard_at, peer)
        turns.append(turn)
        if show:
            stages = " ".join(f"{k}={v:.0f}" for k, v in turn.stages.items())
            lang = f" lang={turn.language_ms:.0f}" if turn.language_ms else ""
            print(
                f"  call {index} {text!r}: "
                f"{'-' if turn.latency_ms is None else f'{turn.latency_ms:.0f} ms'}"
                f"{' (overlapped)' if turn.overlapped else ''}  {stages}{lang}",
                flush=True,
            )
    return turns, None if greeting is None else (greeting - answered) * 1000


# --- the app, as `frontdesk run` wires it ---------------------------------------------------
def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def the_app(settings: Settings, hotel: HotelConfig, url: str) -> AsyncIterator[None]:
    pool = await create_pool(url, min_size=1, max_size=4)
    async with aiohttp.ClientSession() as http, contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(pool.close)
        writes = WriteBehind(is_transient)
        writer = asyncio.create_task(writes.run(), name="bench-writes")

        async def stop_writer() -> None:
            await writes.drain(5)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

        stack.push_async_callback(stop_writer)
        call_log = CallLog(CallRepository(pool), writes, ToolInvocationRepository(pool))
        destinations = build_destinations(destination_rules(settings), hotel, pool)
        tools = build_tools(pool, call_log, destinations, settings, http)
        client = ari_client(settings, http)
        app = build_telephony(
            settings,
            hotel,
            client,
            call_log,
            None,
            build_engine(settings, hotel, http, tools),
            tools,
            CallbackRepository(pool),
        )
        calls = await stack.enter_async_context(taking_calls(settings, app, client, http))
        await asyncio.wait_for(calls.events.connected.wait(), 10)
        yield


def _settings(ari: tuple[str, str, str], engine_port: int) -> Settings:
    return load_settings(
        asterisk_ari_url=ari[0],
        asterisk_ari_user=ari[1],
        asterisk_ari_password=ari[2],
        engine="local",
        local_engine_url=f"ws://127.0.0.1:{engine_port}/v1/realtime",
        rtp_bind_host="127.0.0.1",
        rtp_advertise_host="127.0.0.1",
        rtp_port_min=43000,
        rtp_port_max=43019,
        drain_seconds=0,
        whisper_dir=str(Path(tempfile.gettempdir()) / "frontdesk-bench-whisper"),
    )


Result = tuple[list[Turn], float | None]  # a call's turns, and its greeting's delay


async def run(
    calls: int, configs: list[str], direct: bool, show: bool, warm: bool = False
) -> dict[str, list[Result]]:
    """`calls` calls per configuration, the configurations taking turns (a noisy machine
    then weighs on each alike)."""
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    results: dict[str, list[Result]] = {config: [] for config in configs}
    async with throwaway_database(hotel) as url, contextlib.AsyncExitStack() as stack:
        engine_port = _free_port()
        runner = await start_local_engine(hotel, "127.0.0.1", engine_port)
        stack.push_async_callback(runner.cleanup)
        phrases = runner.app[server.PHRASES]
        if warm:  # as a hotel's engine that has been up a while: its fixed lines rendered
            await runner.app[server.RENDERED].wait()
        greetings = set(phrases._audio)  # rendered at start, as in production
        place = await (_direct if direct else _through_pbx)(stack, hotel, url, engine_port)
        for index in range(calls * len(configs)):
            config = configs[index % len(configs)]
            configure(config)
            # Every call renders its replies afresh (the greetings stay cached, as when the
            # engine starts; with --warm the fixed lines too): a reply the call before cached
            # must not flatter the next one.
            for key in set(phrases._audio) - greetings:
                del phrases._audio[key]
            voice = list(VOICES)[index // len(configs) % len(VOICES)]
            if show:
                print(f"call {index} ({config}, {voice})", flush=True)
            results[config].append(await place(index, voice, show))
    return results


Place = Callable[[int, str, bool], Awaitable[Result]]


async def pbx_and_app(
    stack: contextlib.AsyncExitStack, hotel: HotelConfig, url: str, engine_port: int
) -> tuple[Any, tuple[str, int]]:
    """The sandbox Asterisk with this repository's configuration, and the app taking its
    calls (on `stack`): the sandbox, and the SIP address a phone calls."""
    from app.pbx.sandbox import AsteriskSandbox, Ports  # noqa: PLC0415

    tmp = Path(tempfile.mkdtemp(prefix="frontdesk-asterisk-"))
    stack.callback(shutil.rmtree, tmp, ignore_errors=True)  # after Asterisk has stopped
    pbx = AsteriskSandbox(
        tmp,
        ari_user="frontdesk",
        ari_password=os.urandom(12).hex(),
        ports=Ports.free(24000 + os.getpid() % 100 * 50),
    )
    await asyncio.to_thread(pbx.start)
    stack.callback(pbx.stop)
    settings = _settings((pbx.ari_url, pbx.ari_user, pbx.ari_password), engine_port)
    await stack.enter_async_context(the_app(settings, hotel, url))
    host, port = pbx.sip_address.rsplit(":", 1)
    return pbx, (host, int(port))


async def _through_pbx(
    stack: contextlib.AsyncExitStack, hotel: HotelConfig, url: str, engine_port: int
) -> Place:
    pbx, address = await pbx_and_app(stack, hotel, url, engine_port)

    async def place(index: int, voice: str, show: bool) -> Result:
        phone = SipPhone(address, noise_dbfs=NOISE_DBFS)
        await phone.open()
        try:
            await phone.call(AI_NUMBER)
            if index == 0:  # what Asterisk bridges the call with (its technology adds delay)
                await asyncio.sleep(1.0)
                print((await asyncio.to_thread(pbx.cli, "bridge show all")).strip(), flush=True)
            return await converse(index, phone.rtp, voice, lambda: phone.hung_up, show)
        finally:
            await phone.close()
            await asyncio.sleep(1.0)  # the call's teardown

    return place


async def _direct(
    stack: contextlib.AsyncExitStack, hotel: HotelConfig, url: str, engine_port: int
) -> Place:
    from tests.fakes.ari import FakeAri  # noqa: PLC0415

    loop = asyncio.get_running_loop()

    async def place(index: int, voice: str, show: bool) -> Result:
        _, peer = await loop.create_datagram_endpoint(
            lambda: RtpPeer(noise_dbfs=NOISE_DBFS), local_addr=("127.0.0.1", 0)
        )
        fake = FakeAri(rtp_address=("127.0.0.1", peer.port))
        ari = await fake.start()
        settings = _settings((ari, "frontdesk", "secret"), engine_port)
        try:
            async with the_app(settings, hotel, url):
                call = await fake.incoming_call(["agent"], exten=AI_NUMBER, caller="+14155550123")
                async with asyncio.timeout(10):
                    while call.media_host is None:  # noqa: ASYNC110
                        await asyncio.sleep(0.01)
                host, port = call.media_host.rsplit(":", 1)
                peer.remote = (host, int(port))
                peer.start()
                try:
                    return await converse(index, peer, voice, lambda: False, show)
                finally:
                    await fake.caller_hangs_up(call)
                    await asyncio.sleep(0.5)
                    await peer.stop()
        finally:
            await fake.stop()

    return place


# --- the VAD on the test speech: callers cut off, guesses thrown away -----------------------
VAD_LINES = [
    *SCRIPT,
    "Hi, I'd like to book a room, for two adults, arriving on Friday.",
    "Yes. My name is Maria Gonzalez, and my number is five five five, one two three four.",
    "Hello. I would like to book a room. Two nights, for two adults, please.",
    "Well, let me think. The king room, please.",
    "No, not the suite. The double queen, the cheaper one.",
    "Do you have a king room available next Friday?",
    "Can I check out late on Sunday?",
    "Is breakfast included in the rate?",
    "Please send me a payment link by text message.",
    "My phone number is five five five one two three four.",
]


class GatedDecision(SpeechDetector):
    """The turn ended on quiet by level (vad.py's quiet_run) instead of webrtcvad's: what a
    shorter wait would have done."""

    def __init__(self, end_ms: int) -> None:
        super().__init__(end_ms=end_ms)
        self._peak = 0.0

    def is_speech(self, frame: bytes) -> bool:
        voiced = super().is_speech(frame)
        level = frame_level(frame)
        if voiced:
            self._peak = max(self._peak, level)
        return voiced and (not self.speaking or level >= self._peak * 0.02)


def vad_report() -> None:
    """Per voice: lines the VAD cut in two (a false end of turn) by silence window, with
    webrtcvad deciding (as the engine does) or quiet by level; and the early transcripts a
    line would throw away (a pause long enough to start one, then more words), by trigger."""
    with tempfile.TemporaryDirectory(prefix="vad-") as folder:
        _vad_report(Path(folder))


def _vad_report(tmp: Path) -> None:
    from app.media.g711 import ulaw_decode  # noqa: PLC0415

    print(
        f"{len(VAD_LINES)} lines per voice (espeak-ng and flite put 300-360 ms between sentences)"
    )
    print("| voice | decided by | end 400 ms | 300 ms | 250 ms | quiet at the end (mean) |")
    print("|---|---|---|---|---|---|")
    stale: dict[str, dict[int, int]] = {}
    for voice in VOICES:
        audio = [caller_line(voice, text, tmp) + b"\xff" * 8000 for text in VAD_LINES]
        frames = [[ulaw_decode(u[i : i + 160]) for i in range(0, len(u) - 159, 160)] for u in audio]
        for label, make in (("webrtcvad", SpeechDetector), ("quiet by level", GatedDecision)):
            cut = {}
            quiet_at_end: list[int] = []
            for end_ms in (400, 300, 250):
                cut[end_ms] = 0
                for line in frames:
                    detector = make(end_ms=end_ms)
                    ends = [f for f in line if detector.push(f) == "end"]
                    cut[end_ms] += len(ends) > 1
                    if end_ms == 400 and label == "webrtcvad":
                        quiet_at_end.append(_quiet_at_end(line))
            mean = f"{np.mean(quiet_at_end):.0f} ms" if quiet_at_end else ""
            print(f"| {voice} | {label} | {cut[400]} | {cut[300]} | {cut[250]} | {mean} |")
        stale[voice] = {t: 0 for t in (60, 100, 120, 160, 200)}
        for line in frames:
            detector, before = SpeechDetector(), 0
            for frame in line:
                if detector.push(frame) == "end":
                    break
                if detector.speaking and detector.quiet_run == 0 and before:
                    for trigger in stale[voice]:
                        stale[voice][trigger] += before * 20 >= trigger
                before = detector.quiet_run
    print("\nearly transcripts thrown away per line, by the quiet that starts one:")
    for voice, counts in stale.items():
        per = ", ".join(f"{t} ms: {n / len(VAD_LINES):.2f}" for t, n in counts.items())
        print(f"  {voice}: {per}")


def _quiet_at_end(frames: list[bytes]) -> int:
    detector = SpeechDetector()
    for frame in frames:
        if detector.push(frame) == "end":
            return detector.quiet_run * 20
    return 0


# --- the report -------------------------------------------------------------------------------
def _pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.0f}" if values else "-"


def report(results: list[Result], label: str) -> list[float]:
    turns = [t for turns, _ in results for t in turns]
    timed = [t for t in turns if t.latency_ms is not None and not t.overlapped]
    lat = [t.latency_ms for t in timed if t.latency_ms is not None]
    first = [t.latency_ms for t in timed if t.first and t.latency_ms is not None]
    greetings = [g for _, g in results if g is not None]
    print(f"\n{label}: {len(results)} calls, {len(turns)} caller turns, {len(timed)} timed")
    print(
        f"  end of caller speech → first agent speech at the phone: p50 {_pct(lat, 50)} ms, "
        f"p95 {_pct(lat, 95)} ms (min {_pct(lat, 0)}, max {_pct(lat, 100)})"
    )
    print(f"  first caller turn of each call: {', '.join(f'{v:.0f}' for v in first)} ms")
    print(f"  answer → greeting heard: p50 {_pct(greetings, 50)} ms")
    print("  | stage | p50 ms | p95 ms | first turn p50 ms |")
    print("  |---|---|---|---|")
    for stage in STAGES:
        values = [t.stages[stage] for t in timed if stage in t.stages]
        firsts = [t.stages[stage] for t in timed if stage in t.stages and t.first]
        print(f"  | {stage} | {_pct(values, 50)} | {_pct(values, 95)} | {_pct(firsts, 50)} |")
    guessed = [t.guessed for t in timed if t.guessed is not None]
    if guessed:
        wasted = sum(max((t.wasted for t in turns), default=0) for turns, _ in results)
        print(
            f"  transcript started during the pause used: {sum(guessed)} of {len(guessed)} "
            f"turns; {wasted} started and thrown away (the caller went on)"
        )
    langs = [t.language_ms for t in timed if t.language_ms]
    if langs:
        print(f"  (language detection inside stt, first turns: p50 {_pct(langs, 50)} ms)")
    missed = [t for t in turns if t.latency_ms is None]
    if missed:
        print(f"  no agent speech after: {[t.line for t in missed]}")
    return lat


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2)
    parser.add_argument("--direct", action="store_true", help="no PBX: a fake ARI, RTP direct")
    parser.add_argument("--show", action="store_true", help="print every turn")
    parser.add_argument(
        "--configs",
        nargs="+",
        default=["as-is"],
        help="before, after, as-is, or cuts joined by + (" + ", ".join(CUTS) + ")",
    )
    parser.add_argument("--noise", type=float, help="line noise, dBFS RMS (e.g. -50)")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="call once the engine has rendered its fixed lines (as one that has been up a while)",
    )
    parser.add_argument(
        "--vad", action="store_true", help="only: callers cut off and guesses thrown away"
    )
    args = parser.parse_args()
    if args.vad:
        vad_report()
        return
    global NOISE_DBFS  # noqa: PLW0603  (one setting for the run)
    NOISE_DBFS = args.noise
    watch_logs()
    results = asyncio.run(run(args.calls, args.configs, args.direct, args.show, args.warm))
    where = "direct (no PBX)" if args.direct else "through Asterisk"
    if args.noise is not None:
        where += f", line noise {args.noise:g} dBFS"
    p50 = {}
    for config, calls in results.items():
        lat = report(calls, f"{config}, {where}")
        p50[config] = float(np.percentile(lat, 50)) if lat else float("nan")
    if len(p50) > 1:
        base = next(iter(p50))
        print(f"\np50 against {base}, same process, calls alternating:")
        for config, value in p50.items():
            print(f"  {config}: {value:.0f} ms, {value / p50[base]:.2f}×")


if __name__ == "__main__":
    main()
