"""The caller's first words decide the call's language among those the engine converses in:
short Spanish through the narrow band is often taken for another language."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import pytest

from app.engines.local.whisper import WhisperSpeechToText
from app.media.g711 import ulaw_decode, ulaw_encode
from app.media.resample import resample

HOTEL_LANGUAGES = WhisperSpeechToText(languages={"en", "es"})  # as `frontdesk run` makes it


def _spanish(text: str, tmp: Path) -> bytes:
    subprocess.run(
        ["espeak-ng", "-v", "es", "-s", "140", "-w", str(tmp / "es.wav"), text], check=True
    )
    with wave.open(str(tmp / "es.wav")) as reader:
        pcm = resample(reader.readframes(reader.getnframes()), reader.getframerate(), 8000)
    return ulaw_decode(ulaw_encode(b"\x00\x00" * 2000 + pcm + b"\x00\x00" * 4000))


@pytest.mark.parametrize(
    "said",
    # unrestricted, the second is taken for Japanese (the first, said without the silence
    # before it, for Italian)
    ["¿Tienen aparcamiento?", "Me llamo María González."],
)
def test_short_spanish_is_heard_as_spanish_among_the_hotels_languages(
    said: str, tmp_path: Path
) -> None:
    transcript = HOTEL_LANGUAGES.transcribe(_spanish(said, tmp_path), 8000)
    assert transcript.language == "es", transcript
    assert HOTEL_LANGUAGES.uses["base"] >= 1  # heard by the multilingual model, in Spanish
