"""Hearing the caller before their turn is over: the transcript is started during the pause
that may end it, and the first utterance's language is found while they are still talking.

Whisper's cost does not depend on how long the utterance is (it always encodes a 30 s
window): about 0.3 s with tiny.en on this project's machine, twice that when the language is
detected first. Started only at the end of the VAD's silence window, all of it came after
the caller stopped; started as soon as they pause (EARLY_TRANSCRIPT_MS of silence), most of
it is done by the time the window closes. If they go on talking, the guess is thrown away
and the turn is transcribed whole at its end, as before (bench/README.md, phone latency).

One speech-to-text job at a time per call, partial transcripts included: a guess waits for
the job before it, so a caller who pauses often cannot pile up work on the CPU.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from app.aio import cancel_and_wait
from app.engines.speech import DetectsLanguage, SpeechToText, Transcript
from app.log import get_logger

log = get_logger(__name__)

T = TypeVar("T")

RATE = 8000
EARLY_TRANSCRIPT_MS: int | None = 120  # quiet after which the turn is transcribed (None: off)
EARLY_LANGUAGE_MS: int | None = 1500  # speech after which the first turn's language is found
MIN_LANGUAGE_MS = 1000  # …or at its first pause after this much (shorter: no guess)


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


class EarlyHearing:
    def __init__(self, stt: SpeechToText) -> None:
        self._stt = stt
        self._jobs = 0  # speech-to-text jobs running in worker threads (cancelled ones too)
        self._lock = threading.Lock()
        self._guess: asyncio.Task[Transcript] | None = None
        self._guess_for: tuple[str | None, str | None] | None = None  # (language, expecting)
        self._stale = False  # the caller spoke again after the guess was started
        self._final: asyncio.Task[Transcript] | None = None  # the ended turn's guess, if good
        self._final_for: tuple[str | None, str | None] | None = None
        self._language: asyncio.Task[str | None] | None = None
        self._detects = isinstance(stt, DetectsLanguage)  # once, not every speech frame
        self.guesses_wasted = 0

    @property
    def busy(self) -> bool:
        return self._jobs > 0

    async def run(self, blocking: Callable[..., T], *args: Any) -> T:
        """A speech-to-text call in a worker thread, counted until the thread is done (a
        cancelled await does not stop the thread)."""
        with self._lock:
            self._jobs += 1

        def job() -> T:
            try:
                return blocking(*args)
            finally:
                with self._lock:
                    self._jobs -= 1

        return await asyncio.to_thread(job)

    def heard(
        self,
        speech: bytearray,
        quiet_ms: int,
        language: str | None,
        expecting: Callable[[], str | None],
    ) -> None:
        """Each frame while the caller's turn goes on: the utterance so far and how long they
        have been quiet (0: this frame was speech)."""
        detects = language is None and self._detects
        if detects and self._language is None:
            # The first turn's language: found once enough has been said, or at its first
            # pause after a little (a short turn); no transcript of the turn detects it again.
            speech_ms = len(speech) // 16  # 16-bit PCM at 8 kHz: 16 bytes a millisecond
            pausing = EARLY_TRANSCRIPT_MS is not None and quiet_ms >= EARLY_TRANSCRIPT_MS
            if EARLY_LANGUAGE_MS is not None and (
                speech_ms >= EARLY_LANGUAGE_MS or (pausing and speech_ms >= MIN_LANGUAGE_MS)
            ):
                self._language = asyncio.create_task(
                    self._detect(bytes(speech)), name="local-engine-language"
                )
        if quiet_ms == 0:
            self._stale = self._guess is not None
            return
        if EARLY_TRANSCRIPT_MS is None or quiet_ms < EARLY_TRANSCRIPT_MS:
            return
        if self._guess is not None and not self._stale:
            return  # this pause's guess is on its way
        if self.busy:
            return  # one job at a time: look again at the next frame
        if detects and self._language is None:
            return  # too little said to tell the language: no guess (it would detect it too)
        if self._guess is not None:
            self._guess.cancel()  # done by now (nothing is busy); its words are outdated
            self.guesses_wasted += 1
        self._guess_for = (language, expecting())
        self._guess = asyncio.create_task(
            self.transcribe(bytes(speech), *self._guess_for), name="local-engine-guess"
        )
        self._guess.add_done_callback(_retrieved)  # a guess thrown away may have failed
        self._stale = False

    def ended(self) -> None:
        """The turn is over (the VAD's window closed): its guess, if nothing was said after
        it, is the turn's transcript; the next turn starts afresh."""
        guess, self._guess = self._guess, None
        if guess is not None and self._stale:
            guess.cancel()
            self.guesses_wasted += 1
            guess = None
        self._final, self._final_for, self._stale = guess, self._guess_for, False

    def drop(self) -> None:
        """The audio so far is discarded (input_audio_buffer.clear)."""
        for task in (self._guess, self._final):
            if task is not None:
                task.cancel()
        self._guess = self._final = None
        self._stale = False

    async def transcript(
        self, pcm16: bytes, language: str | None, expecting: str | None
    ) -> Transcript:
        """The ended turn's words: the guess when it was made for the same question and
        language, else transcribed now."""
        final, self._final = self._final, None
        guessed = final is not None and self._final_for == (language, expecting)
        log.debug("turn heard", guessed=guessed, wasted=self.guesses_wasted)
        if final is not None and guessed:
            return await final
        if final is not None:
            final.cancel()
            self.guesses_wasted += 1
        return await self.transcribe(pcm16, language, expecting)

    async def transcribe(
        self, pcm16: bytes, language: str | None, expecting: str | None
    ) -> Transcript:
        """Speech-to-text now, in the first turn's language once it is known."""
        if language is None and self._language is not None:
            try:
                language = await asyncio.shield(self._language)
            except Exception:
                language = None
        return await self.run(self._stt.transcribe, pcm16, RATE, language, expecting)

    async def _detect(self, pcm16: bytes) -> str | None:
        assert isinstance(self._stt, DetectsLanguage)
        found = await self.run(self._stt.detect_language, pcm16, RATE)
        return None if found is None else found[0]

    async def close(self) -> None:
        for task in (self._guess, self._final, self._language):
            await cancel_and_wait(task)
