"""`frontdesk audio` and the VAD on real synthetic speech (Debian's flite, sox)."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from app.media.audio_file import AudioFileError, convert, encode, load
from app.media.levels import frame_level, lead_trimmed
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


def _end(pcm: bytes, detector: SpeechDetector) -> tuple[int, int, int]:
    """Feed 20 ms frames until the detector says "end": (frame index, unvoiced_run, quiet_run)."""
    for n, i in enumerate(range(0, len(pcm) - 319, 320)):
        if detector.push(pcm[i : i + 320]) == "end":
            return n, detector.unvoiced_run, detector.quiet_run
    raise AssertionError("the detector never said end")


def test_quiet_is_counted_from_when_the_voice_stopped(utterance: tuple[Path, float]) -> None:
    audio = load(utterance[0])
    frames = [audio.pcm[i : i + 320] for i in range(0, len(audio.pcm) - 319, 320)]
    last_loud = max(n for n, f in enumerate(frames) if frame_level(f) > 100)
    at, unvoiced, quiet = _end(audio.pcm, SpeechDetector())
    # webrtcvad goes on calling frames speech after the voice has stopped: its silence
    # count starts late; the quiet by level starts at the voice's last loud frame.
    assert abs((at - quiet) - last_loud) <= 2
    assert quiet > unvoiced
    # The turn itself still ends on webrtcvad's word: the same frame as without the gate.
    assert _end(audio.pcm, SpeechDetector(quiet_below=None))[0] == at


def test_on_a_noisy_line_quiet_is_webrtcvads_own(utterance: tuple[Path, float]) -> None:
    audio = load(utterance[0])
    samples = np.frombuffer(audio.pcm, "<i2").astype(np.float64)
    noise = np.random.default_rng(7).normal(0, 0.04 * np.abs(samples).max(), samples.size)
    noisy = np.clip(samples + noise, -32768, 32767).astype("<i2").tobytes()
    detector = SpeechDetector()
    for i in range(0, len(noisy) - 319, 320):
        detector.push(noisy[i : i + 320])
        if detector.speaking:  # noise above the floor: quiet is never ahead of webrtcvad
            assert detector.quiet_run <= detector.unvoiced_run + 1


def test_a_voices_leading_silence_is_trimmed_to_a_breath() -> None:
    rate = 8000
    tone = (np.cos(np.arange(800) / 3) * 8000).astype("<i2").tobytes()
    pcm = b"\x00\x00" * 2000 + tone  # 250 ms of silence, then sound
    trimmed = lead_trimmed(pcm, rate, keep_ms=20)
    assert len(trimmed) == len(tone) + 2 * 160  # 20 ms of the silence kept: no clipped onset
    assert trimmed.endswith(tone)
    assert lead_trimmed(tone, rate) == tone  # nothing to trim
    silence = b"\x00\x00" * 800
    assert lead_trimmed(silence, rate) == silence  # all silence: left as it is


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
