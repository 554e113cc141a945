"""What talks to the caller once the call is up: the port between telephony and the brain.

The telephony side gives a conversation a `CallIO` (caller audio in, agent audio out, prompts,
hang-up, transfer); the conversation never sees ARI or RTP.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from app.calls.session import CallSession


class CallIO(Protocol):
    @property
    def caller_audio(self) -> asyncio.Queue[bytes]:
        """μ-law, 20 ms (160 bytes) frames from the caller, in order."""
        ...

    def send_audio(self, frame: bytes) -> None: ...

    def flush_audio(self) -> int: ...

    def audio_pending(self) -> int:
        """Frames of agent audio queued and not yet sent to the caller."""
        ...

    async def play(self, media: str) -> None: ...

    async def hangup(self, reason: str) -> None: ...

    async def transfer(self, context: str, extension: str, whisper: str | None = None) -> None:
        """The caller leaves us into the dialplan; `whisper`: words staff hear first (warm)."""
        ...

    async def hold(self, on: bool) -> None:
        """Hold music for the caller (on) or back to the conversation (off)."""
        ...


class Conversation(Protocol):
    def prepare(self, session: CallSession) -> None:
        """The call has arrived and is being answered: get ready (connect early)."""
        ...

    async def run(self, io: CallIO, session: CallSession) -> None: ...

    def on_dtmf(self, digit: str) -> None: ...

    async def discard(self) -> None:
        """The call is over: release whatever prepare or run still holds."""
        ...


class EchoConversation:
    """Test mode (`Stasis(frontdesk,echo)`): a prompt, then the caller hears themselves.
    Proves audio both ways end to end; not a product feature."""

    def __init__(self, prompt: str | None = "sound:frontdesk/echo-test") -> None:
        self._prompt = prompt
        self.digits: list[str] = []

    async def run(self, io: CallIO, session: CallSession) -> None:
        if self._prompt:
            await io.play(self._prompt)
        while True:
            io.send_audio(await io.caller_audio.get())

    def prepare(self, session: CallSession) -> None:
        pass

    async def discard(self) -> None:
        pass

    def on_dtmf(self, digit: str) -> None:
        self.digits.append(digit)


class FallbackConversation:
    """When no conversation engine can take the call: straight to the dialplan's fallback,
    which apologises and rings the front desk (dialplan/extensions.conf). Never dead air."""

    def __init__(self, context: str, extension: str) -> None:
        self._context = context
        self._extension = extension

    async def run(self, io: CallIO, session: CallSession) -> None:
        await io.transfer(self._context, self._extension)

    def prepare(self, session: CallSession) -> None:
        pass

    async def discard(self) -> None:
        pass

    def on_dtmf(self, digit: str) -> None:
        pass
