"""Placing calls: a callback is originated into Stasis(frontdesk,callback), by default as a
Local channel into the dialplan's [frontdesk-callback-out], which checks the number again and
dials the trunk (settings.callback_endpoint).

The channel id we choose (fdv-out-<callback id>-<attempt>) lets the controller recognise the
channel's end when nobody answers: it then never enters Stasis, and only ChannelDestroyed
(cause "No answer", "User busy"…) tells us. With a Local channel, that id is its first half,
the one that enters Stasis once the guest answers; Asterisk names the second half (which runs
the dialplan) "<id>;2" and tells us of its end too, with the same cause: that one is ignored,
so a call nobody answered is reported once.
"""

from __future__ import annotations

import uuid

from app.hotel.callbacks import DueCallback
from app.telephony.ari.client import AriClient
from app.telephony.controller import OUTBOUND_PREFIX
from app.telephony.errors import TelephonyError


class DialFailed(Exception):
    """Asterisk refused to place the call (no such endpoint, trunk down)."""


def outbound_channel_id(callback_id: uuid.UUID, attempt: int) -> str:
    return f"{OUTBOUND_PREFIX}{callback_id}-{attempt}"


def callback_of(channel_id: str) -> uuid.UUID | None:
    """The callback a channel we placed belongs to, or None for any other channel."""
    if not channel_id.startswith(OUTBOUND_PREFIX) or ";" in channel_id:
        return None
    try:
        return uuid.UUID(channel_id[len(OUTBOUND_PREFIX) :].rsplit("-", 1)[0])
    except ValueError:
        return None


class AriDialer:
    def __init__(
        self,
        client: AriClient,
        endpoint: str,  # e.g. PJSIP/{number}@twilio-trunk
        caller_id: dict[str, str],  # property id -> caller ID to present
        ring_seconds: int = 30,
    ) -> None:
        self._client = client
        self._endpoint = endpoint
        self._caller_id = caller_id
        self._ring = ring_seconds

    async def dial(self, callback: DueCallback) -> None:
        try:
            await self._client.originate(
                self._endpoint.format(number=callback.phone_e164),
                app_args=f"callback,{callback.id},{callback.property_id}",
                caller_id=self._caller_id.get(callback.property_id),
                timeout=self._ring,
                channel_id=outbound_channel_id(callback.id, callback.attempts),
            )
        except TelephonyError as exc:
            raise DialFailed(str(exc)) from exc
