"""Text-to-speech with Debian's flite: light, quick, always there; the fallback voice."""

from __future__ import annotations

import shutil

from app.engines.local.command_tts import speak

VOICES = ("slt", "kal", "kal16", "awb", "rms")


class FliteTextToSpeech:
    rate = 8000
    family = "flite"

    def __init__(self, voice: str = "slt") -> None:
        binary = shutil.which("flite")
        if binary is None:
            raise RuntimeError("flite is not installed (apt-get install flite)")
        self._binary = binary
        # A voice flite does not have ("joe" when Piper is missing, "es") is said by slt, the
        # fallback voice; flite itself would pick kal without a word.
        self.voice = voice if voice in VOICES else "slt"

    def synthesize(self, text: str) -> bytes:
        return speak(
            lambda out: [self._binary, "-voice", self.voice, "-t", text, "-o", str(out)], self.rate
        )
