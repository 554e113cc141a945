"""`frontdesk audio` and the VAD on real synthetic speech (Debian's flite, sox)."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from app.media.audio_file import AudioFileError, convert, encode, load
from app.media.vad import SpeechDetector, segments

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def utterance(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """One second of silence, a sentence spoken by flite, one second of silence; 8 kHz."""
    tmp = tmp_path_factory.mktemp("audio")
    subprocess.run(
        [
            "flite",
            "-voice",
            "kal",
            "-t",
            "Do you have a double room for Friday night",
            "-o",
            str(tmp / "speech.wav"),
        ],
        check=True,
    )
    subprocess.run(
        [
            "sox",
            str(tmp / "speech.wav"),
            "-r",
            "8000",
            str(tmp / "speech8.wav"),
            "silence",
            "1",
            "0.02",
            "0.5%",
            "reverse",
            "silence",
            "1",
            "0.02",
            "0.5%",
            "reverse",
        ],
        check=True,
    )  # trim flite's own leading/trailing silence
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            str(tmp / "quiet.wav"),
            "trim",
            "0",
            "1",
        ],
        check=True,
    )
    out = tmp / "call.wav"
    subprocess.run(
        ["sox", str(tmp / "quiet.wav"), str(tmp / "speech8.wav"), str(tmp / "quiet.wav"), str(out)],
        check=True,
    )
    with wave.open(str(tmp / "speech8.wav")) as reader:
        spoken = reader.getnframes() / reader.getframerate()
    return out, spoken


def test_speech_is_found_between_the_silences(utterance: tuple[Path, float]) -> None:
    path, spoken = utterance
    audio = load(path)
    parts = segments(audio.pcm, audio.rate)
    assert [p.kind for p in parts] == ["silence", "speech", "silence"]
    speech = parts[1]
    assert abs(speech.start_ms - 1000) <= 150
    assert abs(speech.end_ms - (1000 + spoken * 1000)) <= 300
    assert parts[0].start_ms == 0 and parts[-1].end_ms == round(audio.seconds * 1000)


def test_the_detector_says_start_and_end_once(utterance: tuple[Path, float]) -> None:
    audio = load(utterance[0])
    detector = SpeechDetector()
    changes = [
        change
        for i in range(0, len(audio.pcm) - 319, 320)
        if (change := detector.push(audio.pcm[i : i + 320])) is not None
    ]
    assert changes == ["start", "end"]
    with pytest.raises(ValueError, match="bytes"):
        detector.push(b"\x00" * 100)


@pytest.mark.parametrize("fmt", ["ulaw", "alaw"])
def test_g711_round_trip_keeps_the_speech(
    utterance: tuple[Path, float], tmp_path: Path, fmt: str
) -> None:
    original = load(utterance[0])
    target = tmp_path / f"call.{fmt}"
    target.write_bytes(encode(original, fmt))
    back = load(target)
    a = np.frombuffer(original.pcm, "<i2").astype(np.float64)
    b = np.frombuffer(back.pcm, "<i2").astype(np.float64)
    snr = 10 * np.log10(np.sum(a**2) / np.sum((a - b) ** 2))
    assert snr > 30


def test_the_cli_converts_and_reports(utterance: tuple[Path, float], tmp_path: Path) -> None:
    out = tmp_path / "wideband.wav"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "audio",
            str(utterance[0]),
            "--out",
            str(out),
            "--out-rate",
            "16000",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "speech" in result.stdout and "in 1 segments" in result.stdout
    with wave.open(str(out)) as reader:
        assert reader.getframerate() == 16000
        assert abs(reader.getnframes() / 16000 - load(utterance[0]).seconds) < 0.01
    raw = tmp_path / "raw.pcm"
    raw.write_bytes(convert(load(utterance[0]), 8000).pcm)
    assert (
        subprocess.run(
            [sys.executable, "-m", "app.cli", "audio", str(raw)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        ).returncode
        == 0
    )


def test_bad_audio_gets_a_clear_error(tmp_path: Path) -> None:
    odd = tmp_path / "odd.pcm"
    odd.write_bytes(b"\x00\x01\x02")
    with pytest.raises(AudioFileError, match="odd number of bytes"):
        load(odd)
    with pytest.raises(AudioFileError, match="cannot tell the format"):
        load(tmp_path / "x.mp3")
    fake = tmp_path / "fake.wav"
    fake.write_bytes(b"not a wav at all")
    with pytest.raises(AudioFileError, match="not a PCM WAV"):
        load(fake)
    eight = tmp_path / "eight.wav"
    with wave.open(str(eight), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(1)
        writer.setframerate(8000)
        writer.writeframes(b"\x80" * 800)
    with pytest.raises(AudioFileError, match="only 16-bit"):
        load(eight)
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "audio", str(tmp_path / "missing.wav")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1 and "No such file" in result.stderr
