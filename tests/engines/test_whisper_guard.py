"""Noise on the line must not become words: Whisper writes its own prompt back ("Yes,
please.") on noise, and a "yes" the caller never said could confirm a booking."""

from __future__ import annotations

import datetime as dt
import subprocess
import wave
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from app.engines.local.booking_flow import BookingFlow
from app.engines.local.whisper import WhisperSpeechToText, _not_speech
from app.hotel.config import load_hotel_config
from app.media.g711 import ulaw_decode, ulaw_encode
from app.media.resample import resample

STT = WhisperSpeechToText(multilingual=False)
PROP = load_hotel_config(Path(__file__).parents[2] / "config" / "hotel.yaml").get_property(
    "harborview"
)
NIGHTS = "Three nights. Two nights, please. Just one night. A week."


def _line(samples: np.ndarray) -> bytes:
    """8 kHz float samples as the engine gets them: through μ-law."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    return ulaw_decode(ulaw_encode(pcm))


@pytest.mark.parametrize("expecting", [None, NIGHTS])
@pytest.mark.parametrize("level", [0.03, 0.18])
def test_line_noise_is_not_words(level: float, expecting: str | None) -> None:
    noise = np.random.default_rng(1).standard_normal(12000) * level
    assert STT.transcribe(_line(noise), 8000, "en", expecting).text == ""


def test_a_click_is_not_words() -> None:
    click = np.concatenate(
        [np.zeros(3000), np.random.default_rng(1).standard_normal(800) * 0.5, np.zeros(6000)]
    )
    assert STT.transcribe(_line(click), 8000, "en", NIGHTS).text == ""


def _thud(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(3000))
    frequencies = np.fft.rfftfreq(3000, 1 / 8000)
    spectrum[(frequencies < 80) | (frequencies > 1200)] = 0
    thud = np.fft.irfft(spectrum, 3000)
    thud = thud / np.std(thud) * 0.3 * np.exp(-np.linspace(0, 5, 3000))
    return np.concatenate([np.zeros(1400), thud, np.zeros(3200)])


@pytest.mark.parametrize("stage", ["collect", "choose", "phone", "confirm"])
@pytest.mark.parametrize("seed", [103, 104, 117])
def test_a_thud_after_any_question_is_not_words(stage: str, seed: int) -> None:
    flow = BookingFlow(PROP, dt.date(2026, 12, 1), stage=stage)
    flow.options = [{"name": "Harbor King", "bookable": True}]
    assert STT.transcribe(_line(_thud(seed)), 8000, "en", flow.expecting()).text == ""


def test_a_short_answer_is_still_heard(tmp_path: Path) -> None:
    subprocess.run(
        ["flite", "-voice", "kal", "-t", "Yes please", "-o", str(tmp_path / "yes.wav")], check=True
    )
    with wave.open(str(tmp_path / "yes.wav")) as reader:
        pcm = resample(reader.readframes(reader.getnframes()), reader.getframerate(), 8000)
    heard = STT.transcribe(ulaw_decode(ulaw_encode(pcm)), 8000, "en", NIGHTS).text
    assert heard.lower().startswith("yes")


@pytest.mark.parametrize(
    ("no_speech", "logprob", "dropped"),
    [
        (0.957, -0.96, True),  # "Yes, please." from line noise
        (0.545, -0.96, True),  # "A caller phoning a hotel." from a click
        (0.31, -0.83, True),  # "Bye." from a thud
        (0.46, -0.82, True),  # "Oh." from a thud
        (0.077, -0.18, False),  # "No thank you.", said
        (0.02, -0.52, False),  # a phone number, said (partly misheard)
        (0.9, -0.2, False),  # confident words
    ],
)
def test_what_counts_as_not_speech(no_speech: float, logprob: float, dropped: bool) -> None:
    segment = SimpleNamespace(no_speech_prob=no_speech, avg_logprob=logprob)
    assert _not_speech(segment) is dropped


# --- Spanish, on the multilingual base model with its Spanish hints -------------------------
BASE = WhisperSpeechToText()
DOS_NOCHES = "Dos noches. Tres noches, por favor. Solo una noche. Una semana."


def _spanish(text: str, tmp: Path) -> bytes:
    """espeak-ng's Spanish through μ-law, a quarter second of silence before, half after."""
    subprocess.run(
        ["espeak-ng", "-v", "es", "-s", "140", "-w", str(tmp / "es.wav"), text], check=True
    )
    with wave.open(str(tmp / "es.wav")) as reader:
        pcm = resample(reader.readframes(reader.getnframes()), reader.getframerate(), 8000)
    return ulaw_decode(ulaw_encode(b"\x00\x00" * 2000 + pcm + b"\x00\x00" * 4000))


@pytest.mark.parametrize(
    ("said", "heard"),
    [("Sí, por favor.", "sí, por favor"), ("Dos noches.", "dos noches")],
)
def test_a_short_spanish_answer_is_heard_with_the_spanish_hints(
    said: str, heard: str, tmp_path: Path
) -> None:
    # Without a Spanish prompt the base model wrote "y por favor." and "No, no, ok."
    text = BASE.transcribe(_spanish(said, tmp_path), 8000, "es", DOS_NOCHES).text
    assert text.lower().startswith(heard), text


@pytest.mark.parametrize("seed", [103, 104])
@pytest.mark.parametrize("expecting", [None, DOS_NOCHES])
def test_a_thud_or_noise_is_not_spanish_words(seed: int, expecting: str | None) -> None:
    # The Spanish hints invite "Dos noches, por favor." from a thud (see the next test)
    assert BASE.transcribe(_line(_thud(seed)), 8000, "es", expecting).text == ""
    noise = np.random.default_rng(seed).standard_normal(12000) * 0.1
    assert BASE.transcribe(_line(noise), 8000, "es", expecting).text == ""


def test_on_the_base_model_what_looks_like_no_speech_is_dropped_however_sure() -> None:
    # "Dos noches, por favor." from a thud, with the Spanish hints (one run of several)
    thud = SimpleNamespace(no_speech_prob=0.49, avg_logprob=-0.37)
    assert _not_speech(thud, strict=True) and not _not_speech(thud)
    said = SimpleNamespace(no_speech_prob=0.02, avg_logprob=-0.51)  # "Me llamo María González."
    assert not _not_speech(said, strict=True)
