"""A warm transfer's summary as a sound file for Asterisk, kept only minutes."""

from __future__ import annotations

import os
import time
import wave
from pathlib import Path

import numpy as np

from app.telephony.whisper import KEEP_SECONDS, WhisperFiles


def _tone(text: str) -> bytes:
    # stands in for the TTS: one second of a tone per word
    seconds = len(text.split())
    t = np.arange(8000 * seconds) / 8000
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16).tobytes()


async def test_the_summary_becomes_a_wav_asterisk_can_play(tmp_path: Path) -> None:
    files = WhisperFiles(tmp_path / "whisper", _tone)
    played = await files.render("a caller for the restaurant")
    assert not played.endswith(".wav")  # Asterisk adds the extension itself
    with wave.open(played + ".wav") as sound:
        assert (sound.getframerate(), sound.getnchannels(), sound.getsampwidth()) == (8000, 1, 2)
        assert sound.getnframes() == 5 * 8000
    assert not list((tmp_path / "whisper").glob("*.partial"))


async def test_old_summaries_are_removed_when_a_new_one_is_made(tmp_path: Path) -> None:
    files = WhisperFiles(tmp_path, _tone)
    old = Path(await files.render("old news")).with_suffix(".wav")
    stale = time.time() - KEEP_SECONDS - 60
    os.utime(old, (stale, stale))
    fresh = Path(await files.render("fresh")).with_suffix(".wav")
    assert not old.exists() and fresh.exists()
