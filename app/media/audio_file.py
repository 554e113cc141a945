"""Reading and writing audio files in the formats a phone system meets: WAV, raw 16-bit PCM,
raw μ-law and A-law — the pipeline's own tool for looking at bad audio (`frontdesk audio`)."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.media import g711
from app.media.resample import RATES, resample

FORMATS = ("wav", "pcm", "ulaw", "alaw")
_BY_SUFFIX = {
    ".wav": "wav",
    ".pcm": "pcm",
    ".raw": "pcm",
    ".sln": "pcm",
    ".sln16": "pcm",
    ".ulaw": "ulaw",
    ".ul": "ulaw",
    ".pcmu": "ulaw",
    ".alaw": "alaw",
    ".al": "alaw",
    ".pcma": "alaw",
}


class AudioFileError(Exception):
    """The file is not audio we can read, or the options do not fit it."""


@dataclass(frozen=True)
class Audio:
    pcm: bytes  # 16-bit little-endian mono
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.rate

    @property
    def peak_dbfs(self) -> float:
        samples = np.frombuffer(self.pcm, "<i2").astype(np.float64)
        peak = np.abs(samples).max() if samples.size else 0.0
        return float(20 * np.log10(peak / 32768)) if peak else float("-inf")

    @property
    def rms_dbfs(self) -> float:
        samples = np.frombuffer(self.pcm, "<i2").astype(np.float64)
        rms = np.sqrt(np.mean(samples**2)) if samples.size else 0.0
        return float(20 * np.log10(rms / 32768)) if rms else float("-inf")


def guess_format(path: Path) -> str:
    found = _BY_SUFFIX.get(path.suffix.lower())
    if found is None:
        raise AudioFileError(
            f"{path.name}: cannot tell the format from the name; give --in-format/--out-format "
            f"({', '.join(FORMATS)})"
        )
    return found


def load(path: Path, fmt: str | None = None, rate: int = 8000) -> Audio:
    fmt = fmt or guess_format(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AudioFileError(f"{path}: {exc.strerror}") from None
    if fmt == "wav":
        return _read_wav(path, data)
    if rate not in RATES:
        raise AudioFileError(f"rate {rate} is not one of {RATES}")
    if fmt == "pcm":
        if len(data) % 2:
            raise AudioFileError(f"{path.name}: odd number of bytes for 16-bit PCM")
        return Audio(data, rate)
    if fmt == "ulaw":
        return Audio(g711.ulaw_decode(data), rate)
    if fmt == "alaw":
        return Audio(g711.alaw_decode(data), rate)
    raise AudioFileError(f"unknown format {fmt!r} ({', '.join(FORMATS)})")


def _read_wav(path: Path, data: bytes) -> Audio:
    try:
        with wave.open(io.BytesIO(data)) as reader:
            channels, width, rate = (
                reader.getnchannels(),
                reader.getsampwidth(),
                reader.getframerate(),
            )
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFileError(f"{path.name}: not a PCM WAV file ({exc})") from None
    if width != 2:
        raise AudioFileError(f"{path.name}: {8 * width}-bit samples; only 16-bit WAV is read")
    samples = np.frombuffer(frames, "<i2").reshape(-1, channels)
    mono = (
        samples[:, 0] if channels == 1 else samples.mean(axis=1).astype("<i2")
    )  # a stereo call recording: both sides
    audio = Audio(mono.astype("<i2").tobytes(), rate)
    if rate not in RATES:
        raise AudioFileError(f"{path.name}: {rate} Hz; supported rates are {RATES}")
    return audio


def convert(audio: Audio, rate: int) -> Audio:
    if rate not in RATES:
        raise AudioFileError(f"rate {rate} is not one of {RATES}")
    return audio if rate == audio.rate else Audio(resample(audio.pcm, audio.rate, rate), rate)


def write_wav(path: Path, audio: Audio) -> None:
    """16-bit mono WAV, written whole and then renamed: a reader (Asterisk) never sees half."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(encode(audio, "wav"))
    partial.replace(path)


def encode(audio: Audio, fmt: str) -> bytes:
    if fmt == "wav":
        out = io.BytesIO()
        with wave.open(out, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(audio.rate)
            writer.writeframes(audio.pcm)
        return out.getvalue()
    if fmt == "pcm":
        return audio.pcm
    if fmt == "ulaw":
        return g711.ulaw_encode(audio.pcm)
    if fmt == "alaw":
        return g711.alaw_encode(audio.pcm)
    raise AudioFileError(f"unknown format {fmt!r} ({', '.join(FORMATS)})")
