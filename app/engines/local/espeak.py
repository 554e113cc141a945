"""Text-to-speech with Debian's espeak-ng: the offline engine's Spanish voice.

No Spanish Piper voice ships as a package and flite has no Spanish, so a Spanish call is
answered by espeak-ng (formant synthesis: robotic, but every word is there; bench/README.md
compares its variants). The same program says the phone menu's Spanish prompts.
"""

from __future__ import annotations

import shutil

from app.engines.local.command_tts import speak

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
        # "--": a sentence starting with "-" is words, not an option
        return speak(
            lambda out: [
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
            self.rate,
        )
