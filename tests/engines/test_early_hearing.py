"""The offline engine hears a turn before it is over (app/engines/local/early.py): over its
real protocol, with real VAD on espeak-ng speech sent in real time, and ears that write down
what they were given."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import wave
from pathlib import Path

import numpy as np
from structlog.testing import capture_logs

from app.engines.local.flite import FliteTextToSpeech
from app.engines.speech import TextToSpeech, Transcript
from app.media.g711 import ulaw_decode, ulaw_encode
from app.media.levels import SILENCE_FLOOR
from app.media.resample import resample
from tests.engines.test_local_engine import Client, NotedVoices, _connected


class _Flite(NotedVoices):
    """flite's slt for every voice: the voice whose ~200 ms of leading silence is trimmed."""

    def __call__(self, name: str) -> TextToSpeech:
        return FliteTextToSpeech("slt")


BYTES_PER_MS = 16  # 16-bit PCM at 8 kHz, as the engine hands it to speech-to-text


class Ears:
    """Speech-to-text that answers with how much audio it was given, and keeps each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str | None]] = []  # (PCM bytes, language asked for)

    def transcribe(
        self, pcm16: bytes, rate: int, language: str | None = None, expecting: str | None = None
    ) -> Transcript:
        self.calls.append((len(pcm16), language))
        return Transcript(f"heard {len(pcm16)}", language or "en")


class DetectingEars(Ears):
    def __init__(self) -> None:
        super().__init__()
        self.detected: list[int] = []  # PCM bytes each detection was given

    def detect_language(self, pcm16: bytes, rate: int) -> tuple[str, float] | None:
        self.detected.append(len(pcm16))
        return "en", 0.9


def _words(text: str, tmp: Path) -> bytes:
    """The words at 8 kHz without espeak-ng's own silence before and after them."""
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(tmp / "say.wav"), text], check=True
    )
    with wave.open(str(tmp / "say.wav")) as reader:
        pcm = resample(reader.readframes(reader.getnframes()), reader.getframerate(), 8000)
    samples = np.frombuffer(pcm, "<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_FLOOR)
    return samples[loud[0] : loud[-1] + 1].tobytes()


def _quiet(ms: int) -> bytes:
    return b"\x00\x00" * (8 * ms)


async def _in_real_time(client: Client, pcm: bytes) -> None:
    """40 ms appends on a 40 ms clock, as a call sends them."""
    ulaw = ulaw_encode(pcm)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n, offset in enumerate(range(0, len(ulaw), 320)):
        await asyncio.sleep(max(0.0, start + n * 0.04 - loop.time()))
        chunk = base64.b64encode(ulaw[offset : offset + 320]).decode()
        await client.send({"type": "input_audio_buffer.append", "audio": chunk})


async def test_a_turn_is_transcribed_during_the_pause_that_ends_it(tmp_path: Path) -> None:
    ears = Ears()
    async with _connected(ears) as client:
        with capture_logs() as logs:
            await _in_real_time(
                client, _quiet(300) + _words("Where can I park my car?", tmp_path) + _quiet(1000)
            )
            heard = await client.until("conversation.item.input_audio_transcription.completed")
            await client.until("response.done")
    assert len(ears.calls) == 1  # one transcription for the turn: the one started early
    given, _ = ears.calls[0]
    assert heard["transcript"] == f"heard {given}"
    # It was started before the VAD's window closed: on less audio than the whole turn
    # (which ends 400 ms into the silence), EARLY_TRANSCRIPT_MS of quiet after the words.
    whole = round(heard["usage"]["seconds"] * 16000)
    assert given <= whole - 150 * BYTES_PER_MS
    timing = next(e for e in logs if e["event"] == "reply timing")
    assert {"hangover_ms", "quiet_ms", "stt_ms", "tts_ms", "to_first_audio_ms"} <= set(timing)
    assert timing["quiet_ms"] >= timing["hangover_ms"]  # quiet counted from the voice's end


async def test_a_caller_who_goes_on_after_a_pause_is_heard_whole(tmp_path: Path) -> None:
    ears = Ears()
    async with _connected(ears) as client:
        # A 300 ms pause: long enough to start a transcript, too short to end the turn.
        words = _words("Yes.", tmp_path) + _quiet(300) + _words("Please.", tmp_path)
        await _in_real_time(client, _quiet(300) + words + _quiet(1000))
        heard = await client.until("conversation.item.input_audio_transcription.completed")
        await client.until("response.done")
    stopped = [e for e in client.events if e["type"] == "input_audio_buffer.speech_stopped"]
    assert len(stopped) == 1  # one turn
    assert len(ears.calls) == 2  # a guess in the pause (thrown away), then the whole turn
    (early, _), (final, _) = ears.calls
    assert early < final - len(_words("Please.", tmp_path))  # the guess missed "Please."
    assert heard["transcript"] == f"heard {final}"


async def test_the_first_turns_language_is_found_while_the_caller_speaks(
    tmp_path: Path,
) -> None:
    ears = DetectingEars()
    words = _words("I would like to book a room for Friday, please.", tmp_path)
    async with _connected(ears) as client:
        await _in_real_time(client, _quiet(300) + words + _quiet(1000))
        await client.until("response.done")
        await _in_real_time(client, _words("Two nights.", tmp_path) + _quiet(1000))
        await client.until("conversation.item.input_audio_transcription.completed")
        await client.until("response.done")
    assert len(ears.detected) == 1  # once a call, on the first turn
    assert 1500 * BYTES_PER_MS <= ears.detected[0] < len(words)  # mid-sentence
    # Every transcript was asked in the language found, none left to detect it again.
    assert {language for _, language in ears.calls} == {"en"}


async def test_a_reply_starts_with_its_first_word_not_the_voices_silence() -> None:
    async with _connected(Ears(), _Flite()) as client:
        await client.send(
            {
                "type": "response.create",
                "response": {"instructions": 'Say exactly: "And how many nights?"'},
            }
        )
        done = await client.until("response.done")

    pcm = np.frombuffer(ulaw_decode(client.audio(done["response"]["id"])), "<i2")
    first_sound = int(np.flatnonzero(np.abs(pcm.astype(np.int32)) > SILENCE_FLOOR)[0])
    assert first_sound <= 8 * 25  # flite puts ~200 ms of silence first; 20 ms are kept
