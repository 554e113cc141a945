"""A warm transfer's summary, as a sound file Asterisk plays to the member of staff.

The controller speaks the summary (offline TTS, in a thread) into WHISPER_DIR and gives Asterisk
its path in FRONTDESK_WHISPER; the dialplan plays it to whoever answers before the caller
joins ([frontdesk-whisper]). Asterisk must see the same path (same host, or a volume mounted
at the same place). Summaries say who is calling and why, so they are kept only minutes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from app.media.audio_file import Audio, write_wav

KEEP_SECONDS = 15 * 60
RATE = 8000


class WhisperFiles:
    def __init__(self, directory: Path, synthesize: Callable[[str], bytes]) -> None:
        """`synthesize`: text -> 8 kHz 16-bit mono PCM (e.g. flite)."""
        self.directory = directory
        self._synthesize = synthesize

    async def render(self, text: str) -> str:
        """The summary as a WAV file; what Asterisk plays: its path without the extension."""
        return await asyncio.to_thread(self._render, text)

    def _render(self, text: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o755)  # Asterisk reads it
        self._prune()
        stem = self.directory / f"whisper-{uuid.uuid4().hex}"
        write_wav(stem.with_suffix(".wav"), Audio(self._synthesize(text), RATE))
        return str(stem)

    def _prune(self) -> None:
        cutoff = time.time() - KEEP_SECONDS
        for old in self.directory.glob("whisper-*"):
            try:
                if old.stat().st_mtime < cutoff:
                    old.unlink()
            except FileNotFoundError:
                pass
