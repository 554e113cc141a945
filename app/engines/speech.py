"""Speech engines behind small interfaces, so another can be added (Piper, OpenAI TTS, …).

Both are blocking and CPU-bound: callers run them in a worker thread, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None = None


class SpeechToText(Protocol):
    def transcribe(
        self, pcm16: bytes, rate: int, language: str | None = None, expecting: str | None = None
    ) -> Transcript:
        """Text of an utterance; with language None the engine decides (and says which).
        `expecting`: the kind of answer the question just asked invites ("Three nights. Two
        adults."), which an engine may use to hear short answers better."""
        ...


@runtime_checkable
class DetectsLanguage(Protocol):
    def detect_language(self, pcm16: bytes, rate: int) -> tuple[str, float] | None:
        """The language spoken and how sure; None when this engine cannot tell."""
        ...


class TextToSpeech(Protocol):
    rate: int

    def synthesize(self, text: str) -> bytes:
        """16-bit mono PCM at `rate`."""
        ...
