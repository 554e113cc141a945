"""Speech or silence: webrtcvad per frame, smoothed into segments with start and end times."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import webrtcvad

from app.media.levels import frame_level


@dataclass(frozen=True)
class Segment:
    kind: str  # "speech" | "silence"
    start_ms: int
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


class SpeechDetector:
    """Frame-by-frame speech state with hysteresis, as a phone line needs it: speech starts
    after `start_ms` of mostly voiced frames and ends after `end_ms` of mostly unvoiced ones,
    so a click does not start a turn and a breath does not end one.

    `quiet_run` says how long the voice has really been quiet: frames since the last one
    webrtcvad called speech *and* within `quiet_below` of the utterance's loudest (0.02:
    34 dB). webrtcvad goes on calling frames speech for 100-200 ms after the voice stops
    (its own hangover, even on digital silence), so `unvoiced_run` starts counting late.
    The turn still ends on webrtcvad's word (end_ms of mostly unvoiced frames); `quiet_run`
    is for work that may start before that (app/engines/local/early.py). Cutting the turn
    on it measured more callers cut off between two sentences (bench/README.md)."""

    def __init__(
        self,
        sample_rate: int = 8000,
        frame_ms: int = 20,
        aggressiveness: int = 2,
        start_ms: int = 100,
        end_ms: int = 400,
        quiet_below: float | None = 0.02,
    ) -> None:
        if sample_rate not in (8000, 16000, 32000, 48000):
            raise ValueError("webrtcvad takes 8, 16, 32 or 48 kHz")
        if frame_ms not in (10, 20, 30):
            raise ValueError("webrtcvad takes 10, 20 or 30 ms frames")
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self.frame_bytes = sample_rate * frame_ms // 1000 * 2
        self._vad = webrtcvad.Vad(aggressiveness)
        self.start_frames = max(1, start_ms // frame_ms)
        self.end_frames = max(1, end_ms // frame_ms)
        self._window: deque[bool] = deque(maxlen=max(self.start_frames, self.end_frames))
        self.speaking = False
        self.unvoiced_run = 0  # frames since webrtcvad last called one speech
        self.quiet_run = 0  # frames since the last loud speech (unvoiced_run without the gate)
        self.quiet_below = quiet_below
        self._loudest = 0.0  # the current utterance's loudest speech frame

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != self.frame_bytes:
            raise ValueError(
                f"a {self.frame_ms} ms frame at {self.sample_rate} Hz is {self.frame_bytes} bytes"
            )
        return bool(self._vad.is_speech(frame, self.sample_rate))

    def push(self, frame: bytes) -> str | None:
        """Feed one PCM16 frame; returns "start" or "end" when the state changes."""
        voiced = self.is_speech(frame)
        self.unvoiced_run = 0 if voiced else self.unvoiced_run + 1
        loud = voiced
        if voiced and self.quiet_below is not None:
            level = frame_level(frame)
            self._loudest = max(self._loudest, level)
            loud = level >= self._loudest * self.quiet_below
        self.quiet_run = 0 if loud else self.quiet_run + 1
        self._window.append(voiced)
        recent = list(self._window)
        if not self.speaking:
            tail = recent[-self.start_frames :]
            if len(tail) == self.start_frames and sum(tail) >= 0.8 * self.start_frames:
                self.speaking = True
                return "start"
        else:
            tail = recent[-self.end_frames :]
            if len(tail) == self.end_frames and sum(tail) <= 0.1 * self.end_frames:
                self.speaking = False
                self._loudest = 0.0
                return "end"
        return None


def segments(pcm: bytes, sample_rate: int = 8000, **options: int) -> list[Segment]:
    """Speech and silence segments of a whole recording, in order, covering all of it."""
    detector = SpeechDetector(sample_rate=sample_rate, **options)
    step = detector.frame_bytes
    frame_ms = detector.frame_ms
    start_lag = detector.start_frames * frame_ms  # the detector decides a little late
    end_lag = detector.end_frames * frame_ms
    result: list[Segment] = []
    kind, since = "silence", 0
    total_ms = round(len(pcm) / 2 / sample_rate * 1000)  # a partial last frame counts too
    for index in range(0, len(pcm) - step + 1, step):
        change = detector.push(pcm[index : index + step])
        now = (index // step + 1) * frame_ms
        if change is None:
            continue
        at = max(since, now - (start_lag if change == "start" else end_lag))
        if at > since:
            result.append(Segment(kind, since, at))
        kind, since = ("speech" if change == "start" else "silence"), at
    if total_ms > since:
        result.append(Segment(kind, since, total_ms))
    return result
