"""Text-to-speech with Debian's espeak-ng: the offline engine's Spanish voice (flite has none).

The same voice says the phone menu's Spanish prompts (app/pbx/sounds.py), so a caller who
pressed 2 hears one voice from the menu to the agent.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from app.media.resample import resample

SPANISH = "es+f3"


class EspeakTextToSpeech:
    rate = 8000

    def __init__(self, voice: str = SPANISH, words_per_minute: int = 150) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
        self._binary = binary
        self.voice = voice
        self._speed = words_per_minute

    def synthesize(self, text: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "speech.wav"
            # "--" : a sentence starting with "-" is words, not an option
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
