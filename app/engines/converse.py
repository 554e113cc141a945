"""A scripted conversation with an engine over its real protocol (`frontdesk engine --converse`).

Each caller line of the script is spoken by espeak-ng (a voice unlike the engine's), sent as
8 kHz μ-law the way a call sends it, and heard by the engine's own speech-to-text; the agent's
replies, its tool calls (run by the real tool registry) and the timings are printed as they
happen. It is the quickest way to see what the receptionist does with a conversation.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

from app.calls.engine_port import (
    AgentAudio,
    AgentTranscript,
    CallerPartial,
    CallerTranscript,
    EngineSession,
    FunctionCall,
    ResponseDone,
    SpeechStopped,
)
from app.hotel.errors import ToolError
from app.hotel.tools.registry import Hangup, ToolContext, ToolRegistry, Transfer
from app.media import g711
from app.media.resample import resample

TURN_TIMEOUT = 60.0


class ConverseError(Exception):
    """The script could not be played (no espeak-ng, the engine went quiet)."""


def caller_voice(text: str) -> bytes:
    """The words as a caller's μ-law: espeak-ng at 8 kHz, with a second of silence after."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "say.wav"
        try:
            subprocess.run(
                ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), text],
                check=True,
                capture_output=True,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise ConverseError(f"espeak-ng could not speak the script: {exc}") from exc
        with wave.open(str(path)) as reader:
            pcm = resample(reader.readframes(reader.getnframes()), reader.getframerate(), 8000)
    return g711.ulaw_encode(b"\x00\x00" * 1600 + pcm + b"\x00\x00" * 8000)


async def converse(
    engine: EngineSession,
    lines: list[str],
    tools: ToolRegistry,
    context: ToolContext,
    greeting: str,
    show: Callable[[str], None] = print,
    voice: Callable[[str], bytes] = caller_voice,
) -> int:
    """Play the script; the number of agent turns heard."""
    started = time.monotonic()
    turns = 0

    def stamp(text: str) -> None:
        show(f"[{time.monotonic() - started:6.2f}s] {text}")

    async def until_the_agent_is_done() -> bool:
        """Run the agent's turn (and its tools) to its end; False when the call is over."""
        nonlocal turns
        pending: list[FunctionCall] = []
        stopped: float | None = None
        first_audio: float | None = None
        while True:
            event = await asyncio.wait_for(engine.next_event(), TURN_TIMEOUT)
            if isinstance(event, SpeechStopped):
                stopped = time.monotonic()
            elif isinstance(event, CallerPartial):
                stamp(f"caller (so far): …{event.delta}")
            elif isinstance(event, CallerTranscript):
                stamp(f"caller (heard as): {event.text}  [{event.language or '?'}]")
            elif isinstance(event, AgentAudio) and first_audio is None:
                first_audio = time.monotonic()
                if stopped is not None:
                    stamp(
                        f"   first agent audio {int((first_audio - stopped) * 1000)} ms after speech end"
                    )
            elif isinstance(event, AgentTranscript):
                turns += 1
                stamp(f"agent: {event.text}")
            elif isinstance(event, FunctionCall):
                pending.append(event)
            elif isinstance(event, ResponseDone):
                if not pending:
                    return True
                for call in pending:
                    clock = time.perf_counter()
                    try:
                        result = await tools.invoke(call.name, call.arguments, context)
                    except ToolError as exc:
                        stamp(f"   tool {call.name} → error: {exc}")
                        engine.function_output(call.call_id, {"error": str(exc)})
                        continue
                    took = int((time.perf_counter() - clock) * 1000)
                    stamp(f"   tool {call.name}({call.arguments}) → ok in {took} ms")
                    if isinstance(result.action, Hangup):
                        stamp("   (the agent hangs up)")
                        return False
                    if isinstance(result.action, Transfer):
                        stamp(f"   (the call goes to {result.action.department})")
                        return False
                    engine.function_output(call.call_id, result.output)
                pending.clear()
                engine.respond()

    engine.say(greeting)
    try:
        if not await until_the_agent_is_done():
            return turns
        for line in lines:
            stamp(f"caller says: {line}")
            audio = await asyncio.to_thread(voice, line)
            for start in range(0, len(audio), 320):  # 40 ms appends, as a call sends them
                engine.append_audio(audio[start : start + 320])
            if not await until_the_agent_is_done():
                break
    except TimeoutError as exc:
        raise ConverseError(f"the engine said nothing for {TURN_TIMEOUT:.0f} s") from exc
    return turns


def read_script(path: Path) -> list[str]:
    """One caller line per line; blank lines and lines starting with # are skipped."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]
