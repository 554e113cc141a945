"""What one call uses of the process, handed to it explicitly by the Stasis app.

A call (app/telephony/call.py) answers, bridges, plays, transfers and tears down through
these, and claims the channels and bridges it creates in the app's routing table through
`routes`; it never reaches into the Stasis app itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from app.calls.call_log import CallLog
from app.calls.session import CallSession
from app.media.pacer import PacingScheduler
from app.media.recording import StereoRecorder
from app.telephony.ari.client import AriClient
from app.telephony.queue_waits import QueueWaits
from app.telephony.rtp_endpoint import PortPool
from app.telephony.transferred import TransferredCallers
from app.telephony.whisper import WhisperFiles

if TYPE_CHECKING:
    from app.telephony.call import TelephonyCall


@dataclass(frozen=True)
class MediaSettings:
    bind_host: str  # where our RTP sockets listen
    advertise_host: str  # the address *Asterisk* sends RTP to (external_host)


@dataclass(frozen=True)
class CallLimits:
    rtp_inactivity: float = 20.0
    max_duration: float = 30 * 60.0
    check_every: float = 1.0
    goodbye_prompt: str = "sound:frontdesk/goodbye"
    staff_ring_seconds: int = 20  # a staff phone rung to listen in or take over


class RecordingSink(Protocol):
    """Where finished calls' audio goes (encrypted storage); wired by the composition root."""

    def new_recorder(self, max_seconds: float) -> StereoRecorder: ...

    async def save(self, session: CallSession, recorder: StereoRecorder) -> None: ...


class CallRoutes(Protocol):
    """The Stasis app's routing table: events for what a call claims go to that call."""

    def claim_channel(self, channel_id: str, call: TelephonyCall) -> None: ...

    def claim_bridge(self, bridge_id: str, call: TelephonyCall) -> None: ...

    def release_channel(self, channel_id: str) -> None: ...

    def release_bridge(self, bridge_id: str) -> None: ...

    def forget(self, call: TelephonyCall) -> None: ...


@dataclass(frozen=True)
class CallServices:
    client: AriClient
    call_log: CallLog
    routes: CallRoutes
    media: MediaSettings
    ports: PortPool
    pacing: PacingScheduler
    limits: CallLimits
    fallback: tuple[str, str]  # (context, extension) where callers go when we cannot help
    # callers we put through to a department, by channel: they may come back (nobody answered)
    transferred: TransferredCallers
    queue_waits: QueueWaits  # callers put through to a queue, until their wait is known
    normalise_number: Callable[[str], str | None]  # caller ID / extension -> E.164 or None
    property_for: Callable[[str | None], str]  # dialled number -> property id
    known_property: Callable[[str], str | None]  # a property id, if hotel.yaml has it
    recordings: RecordingSink | None = None
    whisper: WhisperFiles | None = None  # warm transfers' summaries (None: always blind)
    moh_class: str = "default"  # asterisk-config/musiconhold.conf
    engine_label: str | None = None  # recorded on agent calls: which engine talked
    # (property id, moment) -> outside its staffed hours; None: not recorded
    after_hours: Callable[[str, dt.datetime], bool] | None = None
    # property id -> the caller is asked to rate the call after the agent's goodbye
    survey_for: Callable[[str], bool] | None = None
