"""Text-to-speech by a command-line synthesiser (flite, espeak-ng): it writes a WAV file,
which is read back as 16-bit PCM at the rate the engine wants."""

from __future__ import annotations

import subprocess
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

from app.media.resample import resample


def speak(command: Callable[[Path], list[str]], rate: int) -> bytes:
    """Run `command(out)`, which writes speech to the WAV file `out`; its PCM at `rate`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(command(out), check=True, capture_output=True, timeout=30)
        with wave.open(str(out)) as reader:
            made_at = reader.getframerate()
            pcm = reader.readframes(reader.getnframes())
    return pcm if made_at == rate else resample(pcm, made_at, rate)
