"""bench/conversation: whole booking calls with troublesome callers, end to end through the
offline engine.

Each call is a caller who wants a room, with a persona (dates, nights, guests, a room, a
name) and a temperament: one who gives everything at once, one whose dates come out
misheard, one who answers the question before the one asked, one who asks "repeat that",
one who starts over, one who picks "the first one", one who gives up and asks for a person,
one who speaks Spanish. The caller listens to what the agent says (its transcript, as a
person hears words) and answers as that person would; its lines are spoken by a voice unlike
the engine's (espeak-ng, flite), with telephone noise, through 8 kHz μ-law, to the offline
engine over its real WebSocket protocol; the tools are the real ones on a throwaway
PostgreSQL database.

Reported: task success (booked, or properly escalated: a transfer to a person or a callback
arranged after the agent offered it), turns per booking, loops (the agent asking the same
question three times in a row), time to book, and the engine's reaction time (speech end →
first agent audio) per turn. With --pbx, each caller is a SIP phone through the real Asterisk
into the app as `frontdesk run` wires it, and the latency is voice-to-voice at the phone.

    .venv/bin/python bench/conversation.py [--calls N] [--seed S] [--pbx]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import throwaway_database

from app.calls.engine_port import (
    AgentAudio,
    AgentTranscript,
    CallContext,
    CallerTranscript,
    EngineSession,
    FunctionCall,
    ResponseDone,
    SpeechStopped,
)
from app.engines.local import server
from app.engines.local.server import CAPABILITIES
from app.engines.realtime_client import RealtimeConnector
from app.hotel.config import load_hotel_config
from app.hotel.errors import ToolError
from app.hotel.tools.registry import Hangup, ToolContext, Transfer
from app.main import (
    build_destinations,
    build_tools,
    destination_rules,
    start_local_engine,
)
from app.media import g711
from app.media.resample import resample
from app.settings import load_settings
from app.storage.db import create_pool

ROOT = Path(__file__).resolve().parent.parent
TURN_TIMEOUT = 60.0
QUIET = 1.2  # seconds without an event after a response: the agent has finished its turn
SHOW_ALL = False  # --show: every call's conversation, not only the failed ones
MAX_CALLER_TURNS = 24  # a caller gives up after this many answers

# Caller voices: none is the engine's own (flite slt / Piper).
VOICES: dict[str, Callable[[str, str], list[str]]] = {
    "espeak-ng en-us": lambda text, out: ["espeak-ng", "-v", "en-us", "-s", "150", "-w", out, text],
    "flite kal": lambda text, out: ["flite", "-voice", "kal", "-t", text, "-o", out],
    "espeak-ng en-gb": lambda text, out: ["espeak-ng", "-v", "en-gb", "-s", "145", "-w", out, text],
    "flite awb": lambda text, out: ["flite", "-voice", "awb", "-t", text, "-o", out],
}
SPANISH_VOICE: Callable[[str, str], list[str]] = lambda text, out: [  # noqa: E731
    "espeak-ng", "-v", "es", "-s", "145", "-w", out, text,
]  # fmt: skip


def line_audio(
    voice: Callable[[str, str], list[str]], text: str, rng: random.Random, noisy: bool = True
) -> bytes:
    """The caller's words as a phone sends them: 8 kHz, telephone band noise at 20–30 dB SNR,
    μ-law, with a little silence before and the silence after that ends the turn. Not
    `noisy`: the words alone (a SIP phone adds its line's noise and silence)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "say.wav")
        subprocess.run(voice(text, out), check=True, capture_output=True)
        with wave.open(out) as reader:
            pcm = resample(reader.readframes(reader.getnframes()), reader.getframerate(), 8000)
    if not noisy:
        return g711.ulaw_encode(pcm)
    speech = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    samples = np.concatenate([np.zeros(1600), speech, np.zeros(8000)])
    level = float(np.sqrt(np.mean(speech**2))) / (10 ** (rng.uniform(20, 30) / 20))
    noise = np.random.default_rng(rng.randrange(1 << 30)).standard_normal(len(samples))
    spectrum = np.fft.rfft(noise)
    spectrum[
        (np.fft.rfftfreq(len(noise), 1 / 8000) < 300)
        | (np.fft.rfftfreq(len(noise), 1 / 8000) > 3400)
    ] = 0
    band = np.fft.irfft(spectrum, len(noise))
    samples += band / (np.std(band) or 1) * level
    return g711.ulaw_encode(np.clip(samples, -32768, 32767).astype("<i2").tobytes())


# --- what the agent just asked, as a caller understands it ----------------------------------
QUESTIONS: list[tuple[str, re.Pattern[str]]] = [
    ("offer", re.compile(r"(put you through|someone from|a person|call you back|callback|front desk|la recepción|alguien|le llam)")),
    ("arrival", re.compile(r"(what date|which date|arrive|arrival|check in on|qué día|fecha|llegar|llegada)")),
    ("nights", re.compile(r"(how many nights|nights will|how long|until when|cuántas noches|noches)")),
    ("guests", re.compile(r"(how many adults|adults|guests|people|cuántos adultos|cuántas personas|adultos)")),
    ("room", re.compile(r"(which would you like|which room|which one|would you like me to book the|cuál prefiere|qué habitación|cuál le)")),
    ("name", re.compile(r"(your name|what name|name for the booking|a nombre|su nombre|cómo se llama)")),
    ("phone", re.compile(r"(number you're calling from|what number|phone number|número desde|qué número|teléfono)")),
    ("confirm", re.compile(r"(shall i book|go ahead and book|book it\?|lo reservo|la reservo|confirmo|reservar\?)")),
    ("payment", re.compile(r"(payment link|secure link|pay now|enlace|pagar)")),
    ("more", re.compile(r"(anything else|algo más)")),
    ("change", re.compile(r"(what would you like to change|qué le gustaría cambiar|qué quiere cambiar)")),
    # "Sorry, I didn't catch that": the caller says their last line again
    ("again", re.compile(r"(say it again|say that again|didn't catch|puede repetirlo|no le he oído)")),
]  # fmt: skip


def plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()


def asked(agent_text: str) -> str | None:
    """The question at the end of what the agent said (its last sentence with a '?')."""
    lowered = agent_text.lower()
    questions = [s for s in re.split(r"(?<=[.!?])\s+", lowered) if "?" in s] or [lowered]
    if re.search(r"(prefer|prefiere)", questions[-1]):  # "a person, or a call back: which?"
        return "offer"
    for kind, pattern in QUESTIONS:
        if pattern.search(questions[-1]) or pattern.search(plain(questions[-1])):
            return kind
    return None


@dataclass
class Persona:
    language: str  # "en" or "es"
    temperament: str
    voice: str
    arrival: dt.date
    nights: int
    adults: int
    room: str  # a room type's name, or "first"
    name: str


ORDINAL = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
           "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
           "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth", "twenty-first",
           "twenty-second", "twenty-third", "twenty-fourth", "twenty-fifth", "twenty-sixth",
           "twenty-seventh", "twenty-eighth", "twenty-ninth", "thirtieth", "thirty-first"]  # fmt: skip
NUMBER = ["zero", "one", "two", "three", "four", "five", "six", "seven"]
NUMBER_ES = ["cero", "una", "dos", "tres", "cuatro", "cinco", "seis", "siete"]
MONTH_ES = ["", "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
            "septiembre", "octubre", "noviembre", "diciembre"]  # fmt: skip
NAMES = ["Maria Gonzalez", "John Smith", "Priya Patel", "Tom Baker", "Anna Novak", "Luis Moreno"]


@dataclass
class Caller:
    """Answers what the agent asks, as the persona would, with its temperament's quirks."""

    persona: Persona
    rng: random.Random
    said_quirk: set[str] = field(default_factory=set)

    def _en_date(self, day: dt.date) -> str:
        return f"{day.strftime('%B')} {ORDINAL[day.day]}"

    def first_words(self) -> str:
        p = self.persona
        if p.language == "es":
            return "Hola, quisiera reservar una habitación, por favor."
        if p.temperament == "all_at_once":
            depart = p.arrival + dt.timedelta(days=p.nights)
            return (
                f"Hi, I'd like to book a room from {self._en_date(p.arrival)} to "
                f"{self._en_date(depart)} for {NUMBER[p.adults]} adult{'s' if p.adults > 1 else ''}."
            )
        if p.temperament == "misheard":
            depart = p.arrival + dt.timedelta(days=p.nights)
            return (
                f"Hi, I'm checking in on {self._en_date(p.arrival)} and leave them in "
                f"{self._en_date(depart)}."
            )
        if p.temperament == "name_first":
            return f"Hello, my name is {p.name} and I'd like to book a room."
        return "Hi, I'd like to book a room, please."

    last_line: str = ""  # what the caller said last, for "could you say it again?"

    def answer(self, question: str | None) -> str:
        if question == "again" and self.last_line:
            return self.last_line
        self.last_line = self._answer(question)
        return self.last_line

    def asked_repeat(self, line: str) -> bool:
        """The caller's line asked the agent to say its last thing again."""
        return line.startswith(("Sorry, could you repeat", "¿Puede repetir"))

    def _answer(self, question: str | None) -> str:
        p = self.persona
        if p.language == "es":
            return self._answer_es(question)
        quirk = p.temperament
        if (
            quirk == "repeat"
            and question in ("nights", "guests")
            and question not in self.said_quirk
        ):
            self.said_quirk.add(question)
            return "Sorry, could you repeat that?"
        if quirk == "wrong_answer" and question == "nights" and "nights" not in self.said_quirk:
            self.said_quirk.add("nights")
            return f"The {p.room}, please." if p.room != "first" else "A king room, please."
        if quirk == "start_over" and question == "room" and "room" not in self.said_quirk:
            self.said_quirk.add("room")
            return "Actually, let's start over."
        if quirk == "person" and question == "guests":
            return "This is taking too long. Let me talk to someone."
        if question == "offer":
            return "The front desk, please."
        if question == "arrival":
            return f"We'd arrive on {self._en_date(p.arrival)}."
        if question == "nights":
            return f"{NUMBER[p.nights].capitalize()} nights."
        if question == "guests":
            return (
                f"{NUMBER[p.adults].capitalize()} adult{'s' if p.adults > 1 else ''}, no children."
            )
        if question == "room":
            return "The first one, please." if p.room == "first" else f"The {p.room}, please."
        if question == "name":
            return f"My name is {p.name}."
        if question == "phone":
            return "Yes, use this number."
        if question in ("confirm", "change"):
            return self.check_read_back()
        if question == "payment":
            return "No thanks, I'll pay at check-in."
        if question == "more":
            return "No, that's all. Goodbye."
        return "I'd like to book a room, please."

    read_back: str = ""  # the booking as the agent last read it back, and what it said since

    def listen(self, said: str) -> None:
        """A new read-back replaces the last; anything else ("Thank you, Luis Moreno. Shall
        I go ahead?") adds to what the caller knows of the booking."""
        full = re.search(r"(under the name|a nombre de)", said.lower())
        self.read_back = said if full else f"{self.read_back} {said}"

    def check_read_back(self) -> str:
        """A caller listens to the read-back and corrects what is wrong, as people do."""
        p, heard = self.persona, plain(self.read_back)
        if plain(p.name) not in heard:  # "Don Smith" for John Smith is corrected too
            return f"No, the name is {p.name}."
        if f"{p.arrival.strftime('%B').lower()} {p.arrival.day}" not in heard:
            return f"No, we arrive on {self._en_date(p.arrival)}."
        if f"{p.nights} night" not in heard and f"{NUMBER[p.nights]} night" not in heard:
            return f"No, it's {NUMBER[p.nights]} nights."
        if p.room != "first" and plain(p.room) not in heard:
            return f"No, I wanted the {p.room}."
        return "Yes, please book it."

    def _answer_es(self, question: str | None) -> str:
        p = self.persona
        if question == "offer":
            return "Sí, por favor."
        if question == "arrival":
            return f"Llegamos el {p.arrival.day} de {MONTH_ES[p.arrival.month]}."
        if question == "nights":
            return f"{NUMBER_ES[p.nights].capitalize()} noches."
        if question == "guests":
            return f"Somos {NUMBER_ES[p.adults]} adultos."
        if question == "room":
            return "La primera, por favor."
        if question == "name":
            return f"Me llamo {p.name}."
        if question == "phone":
            return "Sí, este número."
        if question == "confirm":
            return "Sí, resérvela por favor."
        if question == "payment":
            return "No, gracias, pago al llegar."
        if question == "more":
            return "No, eso es todo. Adiós."
        return "Quisiera reservar una habitación."


@dataclass
class CallResult:
    persona: Persona
    outcome: str = "failed"  # booked, escalated, failed
    agent_turns: int = 0
    caller_turns: int = 0
    loops: int = 0
    seconds_to_book: float | None = None
    reaction_ms: list[int] = field(default_factory=list)
    agent_said: list[str] = field(default_factory=list)
    error: str = ""
    wrong: str = ""  # what a booking got wrong
    offered: bool = False  # the agent offered a person or a callback
    questions: list[str | None] = field(default_factory=list)  # what the agent asked, in turn


def answer_to(caller: Caller, result: CallResult, line: str, said: str) -> str:
    """The caller's next line, having said `line` and heard `said`; what was asked is counted
    for loops. The question said again because the caller asked for it is not asked a new
    time: "repeat that" is the caller's to say (the issue); a loop is the agent's."""
    question = asked(said)
    caller.listen(said)
    result.offered = (
        result.offered or question == "offer" or bool(QUESTIONS[0][1].search(said.lower()))
    )
    if not caller.asked_repeat(line) and question != "again":
        result.questions.append(question)
        if question is not None and result.questions[-3:] == [question] * 3:
            result.loops += 1
    return caller.answer(question)


def settled(result: CallResult) -> CallResult:
    """The call's outcome as the benchmark counts it."""
    if result.wrong:
        result.error = f"booked wrong: {result.wrong}"
    if (
        result.outcome == "escalated"
        and not result.offered
        and result.persona.temperament != "person"
    ):
        # put through unasked, before the agent had offered it: not a proper escalation
        result.outcome = "failed"
        result.error = result.error or "transferred without being asked or offering it"
    return result


def booking_mismatch(persona: Persona, arguments: dict[str, object], rooms: dict[str, str]) -> str:
    """What the reservation made differs in from what the caller asked ('' when nothing)."""
    wrong = []
    if arguments.get("check_in") != persona.arrival.isoformat():
        wrong.append(f"arrival {arguments.get('check_in')} != {persona.arrival}")
    departure = (persona.arrival + dt.timedelta(days=persona.nights)).isoformat()
    if arguments.get("nights") not in (None, persona.nights) or arguments.get("check_out") not in (
        None,
        departure,
    ):
        wrong.append(
            f"length {arguments.get('nights') or arguments.get('check_out')} != {persona.nights} nights"
        )
    if arguments.get("adults") != persona.adults:
        wrong.append(f"adults {arguments.get('adults')} != {persona.adults}")
    if persona.room != "first" and rooms.get(str(arguments.get("room_type"))) != persona.room:
        wrong.append(f"room {arguments.get('room_type')} != {persona.room}")
    if plain(str(arguments.get("guest_name", ""))) != plain(persona.name):
        wrong.append(f"name {arguments.get('guest_name')!r} != {persona.name!r}")
    return "; ".join(wrong)


async def one_call(
    engine: EngineSession, persona: Persona, tools, context, greeting, rng, rooms
) -> CallResult:  # type: ignore[no-untyped-def]
    result = CallResult(persona)
    caller = Caller(persona, rng)
    voice = SPANISH_VOICE if persona.language == "es" else VOICES[persona.voice]
    started = time.monotonic()

    async def agent_turn() -> str | None:
        """Run the agent's turn and its tools; what it said, or None when the call left it."""
        said: list[str] = []
        pending: list[FunctionCall] = []
        stopped: float | None = None
        done = False  # a response has ended: the turn is over once the agent stays quiet
        while True:
            try:
                event = await asyncio.wait_for(engine.next_event(), QUIET if done else TURN_TIMEOUT)
            except TimeoutError:
                if done:
                    return " ".join(said)
                raise
            if not isinstance(event, (SpeechStopped, CallerTranscript)):
                # the agent goes on; a caller's turn with no answer (a noise the engine
                # ignores) does not keep the turn open
                done = False
            if isinstance(event, SpeechStopped):
                stopped = time.monotonic()
            elif isinstance(event, AgentAudio) and stopped is not None:
                result.reaction_ms.append(int((time.monotonic() - stopped) * 1000))
                stopped = None
            elif isinstance(event, CallerTranscript):
                result.agent_said.append(f"(heard)  {event.text}")
            elif isinstance(event, AgentTranscript):
                result.agent_turns += 1
                said.append(event.text)
                result.agent_said.append(event.text)
            elif isinstance(event, FunctionCall):
                pending.append(event)
            elif isinstance(event, ResponseDone):
                if not pending:
                    done = True  # a second reply may follow (the caller paused mid-sentence)
                    continue
                for call in pending:
                    try:
                        out = await tools.invoke(call.name, call.arguments, context)
                    except ToolError as exc:
                        engine.function_output(call.call_id, {"error": str(exc)})
                        continue
                    if call.name == "create_reservation":
                        # booked as the caller asked, or it is no success
                        result.wrong = booking_mismatch(persona, call.arguments, rooms)
                        result.outcome = "wrong" if result.wrong else "booked"
                        result.seconds_to_book = time.monotonic() - started
                    if call.name == "schedule_callback" and result.outcome != "booked":
                        result.outcome = "escalated"
                    if isinstance(out.action, Transfer):
                        if result.outcome != "booked":
                            result.outcome = "escalated"
                        return None
                    if isinstance(out.action, Hangup):
                        return None
                    engine.function_output(call.call_id, out.output)
                pending.clear()
                engine.respond()

    engine.say(greeting)
    try:
        await agent_turn()
        line = caller.last_line = caller.first_words()
        while result.caller_turns < MAX_CALLER_TURNS:
            audio = await asyncio.to_thread(line_audio, voice, line, rng)
            for start in range(0, len(audio), 320):
                engine.append_audio(audio[start : start + 320])
            result.caller_turns += 1
            result.agent_said.append(f"(caller) {line}")
            said = await agent_turn()
            if said is None:
                break
            line = answer_to(caller, result, line, said)
    except TimeoutError:
        result.error = f"the engine said nothing for {TURN_TIMEOUT:.0f} s"
    return settled(result)


TEMPERAMENTS = ["plain", "all_at_once", "misheard", "name_first", "repeat", "wrong_answer",
                "start_over", "first_room", "person"]  # fmt: skip


def personas(count: int, rng: random.Random, today: dt.date, rooms: list[str]) -> list[Persona]:
    people = []
    voices = list(VOICES)
    for n in range(count):
        spanish = n % 10 == 9  # one call in ten in Spanish
        temperament = "plain" if spanish else TEMPERAMENTS[n % len(TEMPERAMENTS)]
        people.append(
            Persona(
                language="es" if spanish else "en",
                temperament=temperament,
                voice="espeak-ng es" if spanish else voices[n % len(voices)],
                arrival=today + dt.timedelta(days=rng.randint(10, 60)),
                nights=rng.randint(2, 5),
                adults=rng.randint(1, 2),
                room="first" if temperament in ("first_room",) or spanish else rng.choice(rooms),
                name=NAMES[n % len(NAMES)],
            )
        )
    return people


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def main(calls: int, seed: int) -> None:
    settings = load_settings()
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    prop = hotel.get_property("harborview")
    rng = random.Random(seed)
    async with throwaway_database(hotel) as url:
        pool = await create_pool(url, min_size=1, max_size=4)
        http = aiohttp.ClientSession()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        runner = await start_local_engine(hotel, "127.0.0.1", port)
        try:
            destinations = build_destinations(destination_rules(settings), hotel, pool)
            tools = build_tools(pool, None, destinations, settings, http)
            connector = RealtimeConnector(
                http,
                f"ws://127.0.0.1:{port}/v1/realtime",
                tools=tools.schemas(),
                capabilities=CAPABILITIES,
            )
            today = dt.datetime.now(prop.zone).date()
            results: list[CallResult] = []
            for persona in personas(calls, rng, today, [r.name for r in prop.room_types]):
                caller = f"+1415555{rng.randrange(10000):04d}"
                language = persona.language
                session = await connector.open(CallContext(prop.id, caller, language=language))
                try:
                    context = ToolContext(prop, None, caller)
                    rooms = {r.code: r.name for r in prop.room_types}
                    result = await one_call(
                        session, persona, tools, context, prop.greeting_words, rng, rooms
                    )
                finally:
                    await session.close()
                results.append(result)
                print(
                    f"{persona.language} {persona.temperament:12} {persona.voice:16} → {result.outcome:9} "
                    f"turns {result.caller_turns:2} loops {result.loops} {result.error}",
                    flush=True,
                )
        finally:
            await runner.cleanup()
            await http.close()
            await pool.close()
    report(results)


# --- through the real PBX: a SIP phone calls the hotel ---------------------------------------
PBX_NOISE_DBFS = -45.0  # the line's noise, added by the phone to everything it sends


async def pbx_main(calls: int, seed: int) -> None:
    """The same callers, each on a SIP phone through the sandbox Asterisk into the app as
    `frontdesk run` wires it (bench/phone_latency.py's rig): what the caller hears is the
    agent's words as the call log stores them, and the latency is the phone's own, from the
    end of the caller's speech to the first agent audio it receives."""
    import phone_latency as rig  # noqa: PLC0415

    rig.watch_logs()
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    prop = hotel.get_property("harborview")
    rng = random.Random(seed)
    rooms = {r.code: r.name for r in prop.room_types}
    results: list[CallResult] = []
    async with throwaway_database(hotel) as url, contextlib.AsyncExitStack() as stack:
        engine_port = rig._free_port()
        runner = await start_local_engine(hotel, "127.0.0.1", engine_port)
        stack.push_async_callback(runner.cleanup)
        # as an engine that has been up a while: its fixed lines rendered before the calls
        await runner.app[server.RENDERED].wait()
        _, address = await rig.pbx_and_app(stack, hotel, url, engine_port)
        pool = await create_pool(url, min_size=1, max_size=2)
        stack.push_async_callback(pool.close)
        today = dt.datetime.now(prop.zone).date()
        for persona in personas(calls, rng, today, list(rooms.values())):
            result = await pbx_call(rig, pool, address, persona, rng, rooms)
            results.append(result)
            print(
                f"{persona.language} {persona.temperament:12} {persona.voice:16} → {result.outcome:9} "
                f"turns {result.caller_turns:2} loops {result.loops} {result.error}",
                flush=True,
            )
    report(results, at_the_phone=True)


async def pbx_call(rig, pool, address, persona: Persona, rng, rooms) -> CallResult:  # type: ignore[no-untyped-def]
    result = CallResult(persona)
    caller = Caller(persona, rng)
    voice = SPANISH_VOICE if persona.language == "es" else VOICES[persona.voice]
    phone = rig.SipPhone(address, noise_dbfs=PBX_NOISE_DBFS)
    await phone.open()
    peer = phone.rtp
    seen = -1  # the last turn of the call's log read
    call_id = None
    try:
        before = await pool.fetchval("SELECT count(*) FROM calls")
        await phone.call(rig.AI_NUMBER)
        started = time.monotonic()
        for _ in range(100):  # the call's row, as the app opens it
            if await pool.fetchval("SELECT count(*) FROM calls") > before:
                break
            await asyncio.sleep(0.05)
        call_id = await pool.fetchval("SELECT id FROM calls ORDER BY started_at DESC LIMIT 1")

        async def heard_since() -> str:
            """What the agent said since the caller last listened (the call log's turns)."""
            nonlocal seen
            said: list[str] = []
            for _ in range(30):  # the log is written as the turn ends: a moment behind
                rows = await pool.fetch(
                    "SELECT seq, role, text FROM turns WHERE call_id = $1 AND seq > $2 "
                    "ORDER BY seq",
                    call_id,
                    seen,
                )
                for row in rows:
                    seen = row["seq"]
                    if row["role"] == "agent":
                        said.append(row["text"])
                        result.agent_turns += 1
                        result.agent_said.append(row["text"])
                    elif row["role"] == "caller":
                        result.agent_said.append(f"(heard)  {row['text']}")
                if said:
                    return " ".join(said)
                await asyncio.sleep(0.1)
            return ""

        async def outcome() -> bool:
            """The call's tools so far decide it: True when the call is over for the agent."""
            tools = await pool.fetch(
                "SELECT name, arguments, status FROM tool_invocations WHERE call_id = $1 "
                "ORDER BY id",
                call_id,
            )
            over = False
            for tool in tools:
                if tool["status"] != "ok":
                    continue
                if tool["name"] == "create_reservation" and result.outcome not in (
                    "booked",
                    "wrong",
                ):
                    arguments = (
                        json.loads(tool["arguments"])
                        if isinstance(tool["arguments"], str)
                        else tool["arguments"]
                    )
                    result.wrong = booking_mismatch(persona, arguments, rooms)
                    result.outcome = "wrong" if result.wrong else "booked"
                    result.seconds_to_book = time.monotonic() - started
                elif tool["name"] in ("transfer_call", "schedule_callback"):
                    if result.outcome not in ("booked", "wrong"):
                        result.outcome = "escalated"
                    over = over or tool["name"] == "transfer_call"
                elif tool["name"] == "end_call":
                    over = True
            return over

        await rig._agent_quiet(peer, lambda: phone.hung_up)
        await heard_since()  # the greeting
        line = caller.last_line = caller.first_words()
        while result.caller_turns < MAX_CALLER_TURNS and not phone.hung_up:
            await asyncio.sleep(rig.REACTION)
            spoken = await peer.say(line_audio(voice, line, rng, noisy=False))
            result.caller_turns += 1
            result.agent_said.append(f"(caller) {line}")
            heard_at = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TURN_TIMEOUT):
                    while (heard_at := rig._speech_after(peer, spoken.speech_end)) is None:
                        if phone.hung_up:
                            break
                        await asyncio.sleep(0.02)
            if heard_at is not None:
                result.reaction_ms.append(int((heard_at - spoken.speech_end) * 1000))
            await rig._agent_quiet(peer, lambda: phone.hung_up)
            said = await heard_since()
            if await outcome() or phone.hung_up:
                break
            line = answer_to(caller, result, line, said)
        await outcome()
    except TimeoutError:
        result.error = f"the agent said nothing for {TURN_TIMEOUT:.0f} s"
    finally:
        await phone.close()
        await asyncio.sleep(1.0)  # the call's teardown
    return settled(result)


def report(results: list[CallResult], at_the_phone: bool = False) -> None:
    done = [r for r in results if r.outcome in ("booked", "escalated")]
    booked = [r for r in results if r.outcome == "booked"]
    reactions = [ms for r in results for ms in r.reaction_ms]
    print(
        "\n| calls | booked | escalated | failed (booked wrong) | success | loops | caller turns per booking (mean) | time to book s p50 | "
        + (
            "voice-to-voice at the phone ms p50 / p95 |"
            if at_the_phone
            else "reaction ms p50 / p95 |"
        )
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(results)} | {len(booked)} | {len(done) - len(booked)} | {len(results) - len(done)} ({sum(r.outcome == 'wrong' for r in results)}) "
        f"| {100 * len(done) / max(1, len(results)):.0f} % | {sum(r.loops for r in results)} "
        f"| {statistics.mean(r.caller_turns for r in booked) if booked else float('nan'):.1f} "
        f"| {pct([r.seconds_to_book or 0 for r in booked], 0.5):.1f} "
        f"| {pct(reactions, 0.5):.0f} / {pct(reactions, 0.95):.0f} |"
    )
    print("\n| temperament | calls | booked | escalated | failed | loops |")
    print("|---|---|---|---|---|---|")
    for temperament in sorted({r.persona.temperament + "/" + r.persona.language for r in results}):
        group = [
            r for r in results if r.persona.temperament + "/" + r.persona.language == temperament
        ]
        counts = {k: sum(r.outcome == k for r in group) for k in ("booked", "escalated")}
        counts["failed"] = len(group) - counts["booked"] - counts["escalated"]  # booked wrong too
        print(
            f"| {temperament} | {len(group)} | {counts['booked']} | {counts['escalated']} | {counts['failed']} | {sum(r.loops for r in group)} |"
        )
    for r in results:
        if r.outcome == "failed" or r.loops or SHOW_ALL:
            print(
                f"\n-- {r.persona.temperament}/{r.persona.language} ({r.persona.voice}) {r.outcome} {r.error}"
            )
            for text in r.agent_said if SHOW_ALL else r.agent_said[-8:]:
                print(
                    f"   {text if text.startswith(('(caller)', '(heard)')) else '(agent)  ' + text}"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--show", action="store_true", help="print every call's conversation")
    parser.add_argument(
        "--pbx", action="store_true", help="each call from a SIP phone through the real Asterisk"
    )
    args = parser.parse_args()
    SHOW_ALL = args.show
    asyncio.run((pbx_main if args.pbx else main)(args.calls, args.seed))
