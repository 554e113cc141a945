"""The stereo recorder: timeline, both sides, pause for card digits, the WAV it writes."""

from __future__ import annotations

import io
import wave

import numpy as np

from app.media.clock import VirtualClock
from app.media.g711 import ULAW_DECODE
from app.media.recording import StereoRecorder


def _read(wav: bytes) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(io.BytesIO(wav)) as reader:
        params = reader.getparams()
        samples = np.frombuffer(reader.readframes(params.nframes), "<i2").reshape(-1, 2)
    return params, samples


def test_caller_left_agent_right_on_one_timeline() -> None:
    clock = VirtualClock()
    recorder = StereoRecorder(clock, max_seconds=60)
    for n in range(50):  # one second of caller audio
        recorder.caller(bytes([0x20 + n % 8]) * 160)
        if 25 <= n < 35:  # the agent talks from 0.5 s to 0.7 s
            recorder.agent(b"\x90" * 160)
        clock._now += 0.02
    params, samples = _read(recorder.wav())
    assert (params.nchannels, params.sampwidth, params.framerate) == (2, 2, 8000)
    assert samples.shape == (8000, 2) and recorder.duration_ms == 1000
    assert samples[0, 0] == ULAW_DECODE[0x20] and samples[160, 0] == ULAW_DECODE[0x21]
    right = samples[:, 1]
    assert np.all(right[:4000] == 0) and np.all(right[4000:5600] == ULAW_DECODE[0x90])
    assert np.all(right[5600:] == 0)


def test_paused_means_silence_on_both_sides() -> None:
    clock = VirtualClock()
    recorder = StereoRecorder(clock, max_seconds=60)
    recorder.pause()
    recorder.caller(b"\x11" * 160)
    recorder.agent(b"\x22" * 160)
    recorder.resume()
    clock._now += 0.02
    recorder.caller(b"\x33" * 160)
    _, samples = _read(recorder.wav())
    assert np.all(samples[:160] == 0)
    assert np.all(samples[160:, 0] == ULAW_DECODE[0x33])


def test_nothing_past_the_limit_is_kept() -> None:
    clock = VirtualClock()
    recorder = StereoRecorder(clock, max_seconds=1)
    for _ in range(100):
        recorder.caller(b"\x40" * 160)
        clock._now += 0.02
    assert recorder.duration_ms <= 1020


def test_pausing_blanks_what_was_just_recorded_and_what_follows() -> None:
    # The card guard only knows a caller read card digits once they are said: pausing goes
    # back over the last seconds, on both sides.
    clock = VirtualClock()
    recorder = StereoRecorder(clock, max_seconds=60)
    for n in range(150):  # 3 s: the caller talks throughout, the agent for the first second
        if n == 100:
            recorder.pause(rewind=1.0)  # at 2 s: card digits since 1 s
        recorder.caller(b"\x20" * 160)
        if n < 75:
            recorder.agent(b"\x90" * 160)
        clock._now += 0.02
    recorder.resume()
    recorder.caller(b"\x20" * 160)
    _, samples = _read(recorder.wav())
    caller, agent = samples[:, 0], samples[:, 1]
    voice = ULAW_DECODE[0x20]
    assert (caller[:8000] == voice).all()  # before the card: kept
    assert (caller[8000:24000] != voice).all()  # from 1 s on: silence, rewound and paused
    assert (caller[24000:] == voice).all()  # resumed
    assert (agent[:8000] == ULAW_DECODE[0x90]).all()
    assert (agent[8000:] != ULAW_DECODE[0x90]).all()
