"""The Stasis application `frontdesk`: routes ARI events to calls, one ordered inbox per call.

Routing is by channel (and bridge), never by "the first StasisStart": our own externalMedia
and snoop channels enter Stasis too. An event for a channel nobody has claimed yet is held
briefly, because the externalMedia channel's StasisStart can arrive before the REST answer
that tells us its id.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable, Coroutine
from typing import Any

import phonenumbers

from app.aio import cancel_and_wait
from app.calls.arrival import Arrival
from app.calls.call_log import CallLog
from app.calls.conversation import Conversation
from app.log import get_logger
from app.media.clock import LoopClock
from app.media.pacer import PacingScheduler
from app.telephony.ari.client import AriClient
from app.telephony.ari.models import (
    AriEvent,
    ChannelDestroyed,
    StasisStart,
    event_bridge_id,
    event_channel_ids,
)
from app.telephony.call import CallLost, StopCall, TelephonyCall
from app.telephony.call_services import CallLimits, CallServices, MediaSettings, RecordingSink
from app.telephony.errors import TelephonyError
from app.telephony.queue_waits import QueueWaits
from app.telephony.rtp_endpoint import NoFreePort, PortPool
from app.telephony.staff_legs import LEG_PREFIX, STAFF_ARG
from app.telephony.transferred import TransferredCallers
from app.telephony.whisper import WhisperFiles

log = get_logger(__name__)

PENDING_SECONDS = 5.0
STASIS = "Stasis"  # the dialplan application of a channel that is in our app


ConversationFactory = Callable[[Arrival], Conversation]  # how the call came -> who talks


SURVEY_ARG = "survey"  # Stasis(frontdesk,survey,<key>): the end-of-call survey's answer

# Channels we originate carry ids with this prefix (see app/telephony/dialer.py), so their end
# can be told apart from anything else in the app.
OUTBOUND_PREFIX = "fdv-out-"


class StasisApp:
    def __init__(
        self,
        client: AriClient,
        *,
        media: MediaSettings,
        ports: PortPool,
        conversations: ConversationFactory,
        modes: set[str],
        call_log: CallLog,
        property_for: Callable[[str | None], str],
        fallback: tuple[str, str],
        limits: CallLimits | None = None,
        default_region: str = "US",
        recordings: RecordingSink | None = None,
        pacing: PacingScheduler | None = None,
        engine_label: str | None = None,
        outbound_gone: Callable[[str, str], None] | None = None,
        moh_class: str = "default",
        whisper: WhisperFiles | None = None,
        properties: frozenset[str] = frozenset(),
        after_hours: Callable[[str, dt.datetime], bool] | None = None,
        survey_for: Callable[[str], bool] | None = None,
    ) -> None:
        self.client = client
        # (channel id, cause) for a call we placed that ended before it was answered
        self.outbound_gone = outbound_gone
        self.ports = ports
        self.properties = properties  # the property ids hotel.yaml has
        self.fallback = fallback
        self.pacing = pacing or PacingScheduler(LoopClock())
        self._conversations = conversations
        self._modes = modes
        self._region = default_region
        self._by_channel: dict[str, TelephonyCall] = {}
        self._by_bridge: dict[str, TelephonyCall] = {}
        self._pending: dict[str, list[tuple[float, AriEvent]]] = {}
        self.calls: set[TelephonyCall] = set()
        # Callers we put through to a department, by channel: if nobody answers, the dialplan
        # brings the same channel back into Stasis, and we still know which property it is.
        self.transferred = TransferredCallers()
        # Callers put through to a queue, heard through a channel subscription until their
        # wait there is known (calls.queue_wait_ms)
        self.queue_waits = QueueWaits(call_log.queue_wait)
        self.accepting = True
        self._chores: set[asyncio.Task[None]] = set()
        # What each call is handed (it never reaches back into this app).
        self.services = CallServices(
            client=client,
            call_log=call_log,
            routes=self,
            media=media,
            ports=ports,
            pacing=self.pacing,
            limits=limits or CallLimits(),
            fallback=fallback,
            transferred=self.transferred,
            queue_waits=self.queue_waits,
            normalise_number=self.normalise_number,
            property_for=property_for,
            known_property=self.known_property,
            recordings=recordings,
            whisper=whisper,
            moh_class=moh_class,
            engine_label=engine_label,
            after_hours=after_hours,
            survey_for=survey_for,
        )

    # --- routing (called by the events reader for every event, in order) --------------------
    def deliver(self, event: AriEvent) -> None:
        self.queue_waits.seen(event)  # a caller in a queue has left Stasis: no call owns it
        if isinstance(event, StasisStart) and event.args[:1] == [SURVEY_ARG]:
            # The caller rated the call on the keypad after the goodbye (dialplan
            # [frontdesk-survey]): stored, then the channel is hung up.
            self._background(self._survey_answered(event), "survey-answer")
            return
        if isinstance(event, StasisStart) and self._is_new_call(event):
            # Before ownership: a caller back from a transfer nobody answered re-enters Stasis
            # on the same channel, possibly before its previous visit has finished tearing down.
            self._new_call(event)
            return
        owner = self._owner(event)
        if owner is not None:
            self._put(owner, event)
            return
        if isinstance(event, StasisStart) and event.args[:1] == [STAFF_ARG]:
            # A staff phone answered for a call that has ended meanwhile: nobody is there.
            log.info("staff leg for a call that has ended, hung up", channel=event.channel.id)
            self._background(self._hang_up(event.channel.id), "staff-leg-orphan")
            return
        if (
            isinstance(event, ChannelDestroyed)
            and event.channel.id.startswith(OUTBOUND_PREFIX)
            and self.outbound_gone is not None
        ):
            # A call we placed ended before it reached Stasis: nobody answered (or busy).
            self.outbound_gone(event.channel.id, event.cause_txt or str(event.cause))
            return
        ids = event_channel_ids(event)
        if ids:
            now = time.monotonic()
            self._pending.setdefault(ids[0], []).append((now, event))
            self._expire_pending(now)

    def _owner(self, event: AriEvent) -> TelephonyCall | None:
        for channel_id in event_channel_ids(event):
            if channel_id in self._by_channel:
                return self._by_channel[channel_id]
        bridge_id = event_bridge_id(event)
        return self._by_bridge.get(bridge_id) if bridge_id else None

    def _is_new_call(self, event: StasisStart) -> bool:
        # externalMedia (UnicastRTP/…) and snoop channels are ours: no args / "snoop"; so
        # are the legs we ring staff phones with (staff,<why>: app/telephony/staff_legs.py).
        return (
            bool(event.args)
            and event.args[0] != STAFF_ARG
            and event.channel.technology not in ("UnicastRTP", "Snoop")
        )

    def _put(self, call: TelephonyCall, event: AriEvent | CallLost | StopCall) -> None:
        try:
            call.inbox.put_nowait(event)
        except asyncio.QueueFull:
            log.error("call inbox full, event dropped", event_type=getattr(event, "type", "?"))

    def _expire_pending(self, now: float) -> None:
        for channel_id in [
            c for c, events in self._pending.items() if now - events[-1][0] > PENDING_SECONDS
        ]:
            del self._pending[channel_id]

    def _new_call(self, event: StasisStart) -> None:
        arrival = Arrival.parse(event.args)
        if not self.accepting or arrival.mode not in self._modes:
            reason = "shutting down" if not self.accepting else f"unknown mode {arrival.mode!r}"
            log.warning(
                "call refused, sent to the fallback", reason=reason, channel=event.channel.id
            )
            self._background(self._to_fallback(event.channel.id), "refuse-call")
            return
        try:
            call = TelephonyCall(
                self.services,
                event.channel,
                arrival,
                self._conversations(arrival),
                reached_at=event.timestamp,
            )
        except NoFreePort:
            self._background(self._to_fallback(event.channel.id), "no-port")
            return
        self.calls.add(call)
        self._by_channel[event.channel.id] = call
        call.start()

    def _background(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Short jobs outside any call (refusing a call); owned here, cancelled on stop."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def _survey_answered(self, event: StasisStart) -> None:
        key = event.args[1] if len(event.args) > 1 else ""
        self.services.call_log.survey(event.channel.id, key)
        await self._hang_up(event.channel.id)

    async def _hang_up(self, channel_id: str) -> None:
        with contextlib.suppress(TelephonyError):
            await self.client.hangup(channel_id)

    async def _to_fallback(self, channel_id: str) -> None:
        context, extension = self.fallback
        try:
            await self.client.continue_in_dialplan(channel_id, context, extension)
        except TelephonyError as exc:
            log.error("could not send a caller to the fallback", error=str(exc))

    # --- ownership, as calls set themselves up and tear down ---------------------------------
    def claim_channel(self, channel_id: str, call: TelephonyCall) -> None:
        self._by_channel[channel_id] = call
        for _, event in self._pending.pop(channel_id, []):
            self._put(call, event)

    def claim_bridge(self, bridge_id: str, call: TelephonyCall) -> None:
        self._by_bridge[bridge_id] = call

    def release_channel(self, channel_id: str) -> None:
        self._by_channel.pop(channel_id, None)

    def release_bridge(self, bridge_id: str) -> None:
        self._by_bridge.pop(bridge_id, None)

    def forget(self, call: TelephonyCall) -> None:
        self.calls.discard(call)
        for table in (self._by_channel, self._by_bridge):
            for key in [k for k, v in table.items() if v is call]:
                del table[key]

    def known_property(self, property_id: str) -> str | None:
        """A property id the dialplan passed, if hotel.yaml has it."""
        return property_id if property_id in self.properties else None

    def normalise_number(self, raw: str) -> str | None:
        """A caller ID or dialled extension as E.164, or None (withheld, internal, junk)."""
        if not raw or not any(c.isdigit() for c in raw):
            return None
        try:
            number = phonenumbers.parse(raw, self._region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(number):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    # --- (re)connection: re-adopt what Asterisk still holds for us ---------------------------
    async def on_connected(self, reconnected: bool) -> None:
        application = await self.client.application()
        held = set(application.channel_ids)
        for call in list(self.calls):
            if call.channel.id not in held:
                log.warning("call ended while the events socket was down", channel=call.channel.id)
                self._put(call, CallLost("lost_while_disconnected"))
        ours = set(self._by_channel)
        for channel_id in held - ours:
            await self._clean_orphan_channel(channel_id)
        for bridge_id in set(application.bridge_ids) - set(self._by_bridge):
            with contextlib.suppress(TelephonyError):
                await self.client.destroy_bridge(bridge_id)
                log.info("removed an orphaned bridge", bridge=bridge_id)
        log.info(
            "ari state adopted",
            reconnected=reconnected,
            calls=len(self.calls),
            orphans=len(held - ours),
        )

    async def _clean_orphan_channel(self, channel_id: str) -> None:
        """A channel in our app that no call of this process owns: left by a previous run."""
        try:
            channel = await self.client.get_channel(channel_id)
        except TelephonyError:
            return
        with contextlib.suppress(TelephonyError):
            if channel.technology in ("UnicastRTP", "Snoop") or channel_id.startswith(LEG_PREFIX):
                await self.client.hangup(channel_id)
            elif channel.dialplan.app_name != STASIS:
                # only subscribed to (a caller in a queue: app/telephony/queue_waits.py), out
                # in the dialplan: not stranded, and not ours to move
                return
            else:  # a caller stranded by a restart: the front desk takes them
                await self._to_fallback(channel_id)
        log.info("handled an orphaned channel", channel=channel_id, kind=channel.technology)

    # --- shutdown -------------------------------------------------------------------------
    async def stop(self, drain_seconds: float) -> None:
        """Take no new calls; let calls finish for a while; hand the rest to the front desk."""
        self.accepting = False
        calls = list(self.calls)
        if calls:
            log.info("draining calls", calls=len(calls), seconds=drain_seconds)
            await asyncio.wait(
                [asyncio.ensure_future(c.done.wait()) for c in calls], timeout=drain_seconds
            )
        for call in list(self.calls):
            self._put(call, StopCall("shutdown"))
        for call in list(self.calls):
            if call.task is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(call.task), timeout=10)
                except TimeoutError:
                    await cancel_and_wait(call.task)
        for task in list(self._chores):
            await cancel_and_wait(task)
        self.pacing.close()
