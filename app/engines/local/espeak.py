"""Text-to-speech with Debian's espeak-ng: the offline engine's Spanish voice.

No Spanish Piper voice ships as a package and flite has no Spanish, so a Spanish call is
answered by espeak-ng (formant synthesis: robotic, but every word is there; bench/README.md
compares its variants). The same program says the phone menu's Spanish prompts.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from app.media.resample import resample

SPANISH = "es-419"  # Latin American Spanish: most Spanish-speaking callers of a US hotel


class EspeakTextToSpeech:
    family = "espeak-ng"

    def __init__(self, voice: str = SPANISH, words_per_minute: int = 160, rate: int = 8000) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
        self._binary = binary
        self.voice = voice
        self._speed = words_per_minute
        self.rate = rate

    def synthesize(self, text: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "speech.wav"
            subprocess.run(
                [
                    self._binary,
                    "-v",
                    self.voice,
                    "-s",
                    str(self._speed),
                    "-w",
                    str(out),
                    "--",
                    text,
                ],
                check=True,
                capture_output=True,
                timeout=30,
            )
            with wave.open(str(out)) as reader:
                rate = reader.getframerate()
                pcm = reader.readframes(reader.getnframes())
        return pcm if rate == self.rate else resample(pcm, rate, self.rate)
