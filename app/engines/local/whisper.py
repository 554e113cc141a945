"""Speech-to-text with faster-whisper and models that ship as packages (nothing downloaded).

English goes to the packaged tiny.en model: fast (≈0.4 s an utterance here) and, with beam
search and a prompt of the hotel's vocabulary, good on telephone audio. When the multilingual
base model is installed, a caller speaking anything but English (the language given, or
detected on their first words) is transcribed by the base model in that language, every
turn; in Spanish with a prompt of its own.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np

from app.engines.local.models import whisper_base, whisper_tiny_en
from app.engines.speech import Transcript
from app.log import get_logger
from app.media.resample import resample

log = get_logger(__name__)

# Whisper continues the prompt's style and vocabulary: booking words and numbers said the way
# callers say them ("two adults", "my name is") are misheard far less often with it.
HOTEL_PROMPT = (
    "A caller phoning a hotel: I would like to book a room. Is there Wi-Fi? Two nights for two "
    "adults, the king, the double queen, a suite, check-in, check-out, breakfast, parking, the "
    "front desk. Yes, please."
)
# The same for Spanish callers on the base model. Without it, espeak-ng's Spanish through
# μ-law was heard as "No, no, ok." for "Dos noches" and "y por favor" for "Sí, por favor";
# with it, right (booking lines word for word: 5 of 10 with it, 2 without; bench/README.md).
SPANISH_PROMPT = (
    "Una persona llama a un hotel: quisiera reservar una habitación. ¿Tienen wifi? Dos noches "
    "para dos adultos, la Harbor King, la Double Queen, una suite, la entrada, la salida, el "
    "desayuno, el aparcamiento, la recepción. Sí, por favor."
)
PROMPTS = {"es": SPANISH_PROMPT}  # the multilingual model's prompt by language (English: `prompt`)


# On line noise, a breath or a click Whisper may write words of its prompt back: "Yes,
# please." from noise, "A caller phoning a hotel." from a click. A "yes" the caller never said
# must not confirm a booking or send a text. Such segments are doubtful (average
# log-probability -0.88 to -1.19 with the hints, near -0.96 without) or look like no speech
# (no-speech probability over 0.5 with a log-probability under -0.5); speech heard right
# measured -0.01 to -0.65. A dropped segment only makes the agent ask again.
DOUBTFUL = -0.75
NO_SPEECH = 0.4
NO_SPEECH_DOUBTFUL = -0.5


def _not_speech(segment: Any, strict: bool = False) -> bool:
    """`strict` (the base model): a segment that looks like no speech is dropped however sure
    its words. With the Spanish hints it once wrote "Dos noches, por favor." from a thud at
    -0.37 (no-speech 0.49: on doubtful audio faster-whisper falls back to sampling, so not
    every run); espeak-ng's Spanish measured no-speech 0.00-0.02, noise and thuds 0.43-0.57."""
    if strict and segment.no_speech_prob > NO_SPEECH:
        return True
    return bool(
        segment.avg_logprob < DOUBTFUL
        or (segment.no_speech_prob > NO_SPEECH and segment.avg_logprob < NO_SPEECH_DOUBTFUL)
    )


class WhisperSpeechToText:
    def __init__(
        self,
        threads: int = 2,
        prompt: str = HOTEL_PROMPT,
        multilingual: bool = True,
        languages: Collection[str] | None = None,
    ) -> None:
        """`languages`: what detection chooses among (those the engine converses in); None:
        any. Short Spanish through μ-law is often taken for another language: "¿Tienen
        aparcamiento?" for Italian, "Me llamo María González" for Japanese (espeak-ng es)."""
        self._threads = threads
        self._languages = frozenset(languages) if languages else None
        self._prompt = prompt
        self._multilingual = multilingual
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()
        # What ran, for the benchmark and the tests: "detect", "tiny.en", "base".
        self.uses: Counter[str] = Counter()

    def _model(self, which: str) -> Any:
        with self._lock:
            if which not in self._models:
                from faster_whisper import WhisperModel  # noqa: PLC0415  (heavy: first use only)

                path: Path | None = whisper_tiny_en() if which == "en" else whisper_base()
                if path is None:
                    return None
                self._models[which] = WhisperModel(
                    str(path), device="cpu", compute_type="int8", cpu_threads=self._threads
                )
            return self._models[which]

    def warm_up(self) -> None:
        """Load the models now (blocking) rather than on the first caller's first words."""
        self._model("en")
        if self._multilingual:
            self._model("multi")

    def detect_language(self, pcm16: bytes, rate: int) -> tuple[str, float] | None:
        """The language spoken, by the multilingual model; None when it is not installed."""
        return self._detect(self._samples(pcm16, rate))

    def _detect(self, samples: np.ndarray) -> tuple[str, float] | None:
        model = self._model("multi") if self._multilingual else None
        if model is None:
            return None
        if self._languages is not None and len(self._languages) == 1:
            return next(iter(self._languages)), 1.0  # one to choose from: no need to listen
        self.uses["detect"] += 1
        language, probability, every = model.detect_language(audio=samples)
        if self._languages is not None and language not in self._languages:
            allowed = [(code, p) for code, p in every if code in self._languages]
            if allowed:
                language, probability = max(allowed, key=lambda candidate: candidate[1])
        return str(language), float(probability)

    def transcribe(
        self, pcm16: bytes, rate: int, language: str | None = None, expecting: str | None = None
    ) -> Transcript:
        started = time.monotonic()
        samples = self._samples(pcm16, rate)  # once, for detection and decoding alike
        if language is None:
            detected = self._detect(samples)
            language = detected[0] if detected else "en"
        detected_at = time.monotonic()
        multi = self._model("multi") if language != "en" and self._multilingual else None
        model = multi or self._model("en")
        self.uses["base" if multi else "tiny.en"] += 1
        # What the agent just asked for goes last in the prompt, nearest the answer: short
        # answers ("four nights", "the bay suite") are misheard far less often with it
        # (bench/README.md, answers in context). A language without a prompt of its own gets
        # the hints alone.
        heard_as = language if multi else "en"
        prompt = PROMPTS.get(language, "") if multi else self._prompt
        segments, _ = model.transcribe(
            samples,
            language=heard_as,
            beam_size=5,
            initial_prompt=f"{prompt} {expecting or ''}".strip() or None,
            vad_filter=False,
            # An utterance is one short segment: without timestamp tokens the beam is left to
            # the words. tiny.en misheard a third fewer on espeak-ng through μ-law (23.2 % →
            # 15.6 % WER, bench/README.md 2026-11-25) and took 0.30 s, not 0.33. The
            # multilingual path was not measured either way.
            without_timestamps=True,
        )
        strict = multi is not None
        text = " ".join(s.text.strip() for s in segments if not _not_speech(s, strict)).strip()
        log.debug(
            "transcribed",
            audio_ms=len(pcm16) * 500 // rate,
            language_ms=round((detected_at - started) * 1000),
            decode_ms=round((time.monotonic() - detected_at) * 1000),
        )
        return Transcript(text, heard_as)

    def transcribe_with_base(self, pcm16: bytes, rate: int, language: str) -> Transcript:
        """The multilingual base model in a given language, prompt included (for measuring
        it against tiny.en: bench/engine.py)."""
        model = self._model("multi")
        if model is None:
            raise RuntimeError("the multilingual base model is not installed")
        segments, _ = model.transcribe(
            self._samples(pcm16, rate),
            language=language,
            beam_size=5,
            initial_prompt=self._prompt,
            vad_filter=False,
            without_timestamps=True,
        )
        return Transcript(" ".join(s.text.strip() for s in segments).strip(), language)

    @staticmethod
    def _samples(pcm16: bytes, rate: int) -> np.ndarray:
        audio = pcm16 if rate == 16000 else resample(pcm16, rate, 16000)
        return np.frombuffer(audio, "<i2").astype(np.float32) / 32768.0
