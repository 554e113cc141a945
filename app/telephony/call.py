"""One call on the Asterisk side: the caller's channel, our mixing bridge, the externalMedia
channel and the RTP endpoint between them — set up, watched, and torn down completely.

Every event about this call is handled in order by one task reading the call's inbox.
Asterisk does not remove the externalMedia channel or the bridge when the caller hangs up:
we do, on every way out (see shared/fixtures/ari/).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from app import printable
from app.aio import cancel_and_wait
from app.calls.agent import MAX_KEYED  # one keyed entry: the same cap as the agent's
from app.calls.arrival import Arrival, Why
from app.calls.conversation import Conversation
from app.calls.languages import base_language
from app.calls.records import CallState, Direction, NewCall, Outcome, TurnRole
from app.calls.session import CallSession
from app.log import bind_call, get_logger
from app.media.recording import StereoRecorder
from app.telephony.ari.models import (
    AriEvent,
    Channel,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
)
from app.telephony.call_services import CallServices
from app.telephony.errors import TelephonyError
from app.telephony.ivr_wait import ivr_wait_ms
from app.telephony.queue_waits import is_queue
from app.telephony.rtp_endpoint import RtpEndpoint
from app.telephony.staff_legs import StaffLegs

log = get_logger(__name__)

# Why a call can end that is our fault, not the caller's or staff's (a shutdown's drain sends
# callers to the front desk on purpose: not one of them).
FAULTS = frozenset({"setup_failed", "error", "media_lost", "failed", "lost_while_disconnected"})

KEYPAD_PAUSE = 2.0  # seconds without a key that end a keyed-in entry
MAX_DIGITS = 512  # digits kept for the whole call


@dataclass(frozen=True)
class CallLost:
    """Not an ARI event: the call vanished while we were not listening (WebSocket down)."""

    reason: str
    type: str = "CallLost"


@dataclass(frozen=True)
class StopCall:
    """Not an ARI event: we are shutting down; the caller goes to the fallback (front desk)."""

    reason: str
    type: str = "StopCall"


class CallGone(Exception):
    """The caller hung up (or the call was lost) while we were still setting up."""


class TelephonyCall:
    def __init__(
        self,
        services: CallServices,
        channel: Channel,
        arrival: Arrival,
        conversation: Conversation,
        reached_at: str = "",
    ) -> None:
        self.services = services
        self.reached_at = reached_at  # the StasisStart's timestamp (Asterisk's clock)
        self.channel = channel
        self.arrival = arrival
        self.mode = arrival.mode
        self.conversation = conversation
        # A call we placed (a callback) has the guest at the other end; the conversation
        # learns their number from the callback itself.
        self.outbound = arrival.outbound
        self.session = CallSession(
            id=uuid.uuid4(),
            property_id="",
            mode=arrival.mode,
            arrival=arrival,
            caller_e164=None if self.outbound else services.normalise_number(channel.caller.number),
            dialled_e164=None
            if self.outbound
            else services.normalise_number(channel.dialplan.exten),
        )
        self.inbox: asyncio.Queue[AriEvent | CallLost | StopCall] = asyncio.Queue(maxsize=512)
        self.bridge_id: str | None = None
        self.media_channel_id: str | None = None
        self.endpoint: RtpEndpoint | None = None
        self.port: int | None = None
        self.task: asyncio.Task[None] | None = None
        self._conversation_task: asyncio.Task[None] | None = None
        self._watchdog_task: asyncio.Task[None] | None = None
        self._caller_left = False  # the caller is no longer in our Stasis app
        self._stop = False  # leave the event loop and tear down
        self._media_up = asyncio.Event()
        self._playbacks: dict[str, asyncio.Future[None]] = {}
        self.end_reason = "unknown"
        self.transferred_to: str | None = None
        self.recorder: StereoRecorder | None = None
        self._keyed: list[str] = []
        self._keyed_capped = False
        self._keyed_flush: asyncio.TimerHandle | None = None
        self.done = asyncio.Event()
        self.session.cards.listener = self._card_context
        self.staff = StaffLegs(self)  # staff phones listening in or taking the call over

    # --- the call's own task --------------------------------------------------------------
    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"call-{self.channel.id}")

    async def _run(self) -> None:
        with bind_call(str(self.session.id)):
            try:
                await self._setup()
                self._conversation_task = asyncio.create_task(
                    self._converse(), name=f"conversation-{self.channel.id}"
                )
                self._watchdog_task = asyncio.create_task(
                    self._watchdog(), name=f"watchdog-{self.channel.id}"
                )
                while not self._stop:
                    self._handle(await self.inbox.get())
            except CallGone:
                pass
            except (TelephonyError, TimeoutError) as exc:
                log.error("call setup failed", error=str(exc) or type(exc).__name__)
                self.end_reason = "setup_failed"
            except Exception:
                # A bug of ours: its traceback in the log and "error" on the call's row; the
                # teardown hands the caller to the fallback, as for any other failure.
                log.exception("call failed")
                if self.end_reason == "unknown":
                    self.end_reason = "error"
            finally:
                await self._teardown()

    async def _setup(self) -> None:
        services = self.services
        arrival = self.arrival
        returning = arrival.why is Why.UNANSWERED  # the menu's wait was counted the first time
        if arrival.outbound and arrival.property_id:
            prop = arrival.property_id
        elif (back := services.transferred.take(self.channel.id)) is not None:
            prop = back  # back from a transfer nobody answered
            returning = True
        elif arrival.why is Why.UNANSWERED and arrival.property_id:
            # a department the caller chose in the menu: the dialplan says whose it was
            prop = services.known_property(arrival.property_id) or services.property_for(
                self.session.dialled_e164
            )
        else:
            prop = services.property_for(self.session.dialled_e164)
        self.session.property_id = prop
        self.session.language = base_language(self.channel.language)
        log.info(
            "call arrived",
            channel=self.channel.id,
            mode=self.mode,
            caller=self.session.caller_e164,
            dialled=self.session.dialled_e164,
        )
        services.call_log.started(
            NewCall(
                id=self.session.id,
                property_id=prop,
                direction=Direction.OUTBOUND if self.outbound else Direction.INBOUND,
                channel_id=self.channel.id,
                caller_e164=self.session.caller_e164,
                caller_name=printable.caller_name(self.channel.caller.name),
                dialled_e164=self.session.dialled_e164,
                mode=self.mode,
                engine=services.engine_label if self.mode in ("agent", "callback") else None,
                language=self.session.language,
                # how the dialplan brought the caller (menu-reservations, after-hours, …)
                ivr_path=arrival.ivr_path,
                after_hours=self._after_hours(prop),
                ivr_wait_ms=None
                if self.outbound or returning
                else ivr_wait_ms(self.channel.channelvars, self.reached_at),
            ),
            self.session.started_at,
        )
        self.conversation.prepare(self.session)  # e.g. connect to the engine while answering
        await services.client.answer(self.channel.id)
        self._move(CallState.ANSWERED)
        bridge = await services.client.create_bridge(f"call-{self.channel.id}")
        self.bridge_id = bridge.id
        services.routes.claim_bridge(bridge.id, self)

        if services.recordings is not None:
            self.recorder = services.recordings.new_recorder(services.limits.max_duration + 60)
        self.endpoint = RtpEndpoint(
            services.pacing,
            name=f"rtp-{self.channel.id}",
            on_received=self.recorder.caller if self.recorder else None,
            on_sent=self.recorder.agent if self.recorder else None,
        )
        self.port = await self._open_endpoint(self.endpoint)
        media = await services.client.external_media(f"{services.media.advertise_host}:{self.port}")
        self.media_channel_id = media.id
        services.routes.claim_channel(media.id, self)
        variables = media.channelvars or {}
        if "UNICASTRTP_LOCAL_ADDRESS" in variables:
            self.endpoint.set_remote(
                variables["UNICASTRTP_LOCAL_ADDRESS"], int(variables["UNICASTRTP_LOCAL_PORT"])
            )
        # The externalMedia channel must have entered Stasis before it can be bridged
        # (else 422 "Channel not in Stasis application", seen in the recordings).
        await self._wait_for(lambda e: isinstance(e, StasisStart) and e.channel.id == media.id)
        await services.client.add_to_bridge(bridge.id, self.channel.id, media.id)
        self._move(CallState.TALKING)
        self._media_up.set()

    def _after_hours(self, prop: str) -> bool | None:
        """Whether a caller rang outside the property's staffed hours (calls we place: None)."""
        check = self.services.after_hours
        if check is None or self.outbound:
            return None
        try:
            return check(prop, self.session.started_at)
        except (KeyError, ValueError):  # a property hotel.yaml no longer has: not known
            log.warning("after-hours not known", property=prop)
            return None

    async def _open_endpoint(self, endpoint: RtpEndpoint) -> int:
        """Our RTP socket on a port of the range that is really free: another program on the
        host may hold one, which then goes to the back of the queue while the next is tried."""
        ports = self.services.ports
        for _ in range(ports.size):
            port = ports.take()
            try:
                await endpoint.open(self.services.media.bind_host, port)
                return port
            except OSError as exc:
                ports.give_back(port)
                log.warning("RTP port busy, trying the next", port=port, error=str(exc))
        raise TelephonyError(0, "no port of the RTP range could be opened")

    async def _wait_for(
        self, match: Callable[[AriEvent | CallLost | StopCall], bool], timeout: float = 5.0
    ) -> None:
        async with asyncio.timeout(timeout):
            while True:
                event = await self.inbox.get()
                self._handle(event)
                if match(event):
                    return
                if self._stop:
                    raise CallGone

    def _handle(self, event: AriEvent | CallLost | StopCall) -> None:
        if not isinstance(event, StopCall | CallLost) and self.staff.handle(event):
            return  # about a staff phone's leg or a snoop, not the caller
        if isinstance(event, StopCall):
            self.end_reason = event.reason
            self._stop = True
        elif isinstance(event, CallLost):
            self.end_reason = event.reason
            self._caller_left = self._stop = True
        elif isinstance(event, ChannelDtmfReceived) and event.channel.id == self.channel.id:
            self.session.cards.key(event.digit)  # before anyone acts on it
            if len(self.session.digits) < MAX_DIGITS:
                self.session.digits.append(event.digit)
            if len(self._keyed) < MAX_KEYED:
                self._keyed.append(event.digit)
            elif not self._keyed_capped:  # said once per entry
                self._keyed_capped = True
                log.warning("keyed entry too long, further keys dropped", limit=MAX_KEYED)
            if self._keyed_flush is not None:
                self._keyed_flush.cancel()
            self._keyed_flush = asyncio.get_running_loop().call_later(KEYPAD_PAUSE, self._log_keyed)
            self.conversation.on_dtmf(event.digit)
        elif isinstance(event, ChannelHangupRequest) and event.channel.id == self.channel.id:
            if self.end_reason == "unknown":
                self.end_reason = "caller_hangup"
        elif isinstance(event, StasisEnd) and event.channel.id == self.channel.id:
            # The caller left our app: hung up, or continued into the dialplan by us.
            if self.end_reason == "unknown":
                self.end_reason = "caller_hangup"
            self._caller_left = self._stop = True
        elif isinstance(event, StasisEnd) and event.channel.id == self.media_channel_id:
            # Someone else removed our media leg: the call cannot go on here; teardown hands
            # the caller to the front desk.
            log.error("externalMedia channel ended under a live call")
            self.media_channel_id = None
            self.end_reason = "media_lost"
            self._stop = True
        elif isinstance(event, PlaybackFinished):
            waiter = self._playbacks.pop(event.playback.id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def _take_queued_events(self) -> None:
        """Handle what arrived while we were not reading the inbox (e.g. during setup)."""
        while not self.inbox.empty():
            self._handle(self.inbox.get_nowait())

    def _log_keyed(self) -> None:
        """Keys pressed in one go become one turn, with card digits masked (the card guard
        has seen every key, so it knows an entry that continues a card read in groups)."""
        if self._keyed_flush is not None:
            self._keyed_flush.cancel()
            self._keyed_flush = None
        if self._keyed:
            stored = self.session.cards.keyed_turn(" ".join(self._keyed))
            self.services.call_log.turn(self.session.id, TurnRole.DTMF, stored)
            self._keyed.clear()
        self._keyed_capped = False

    def _card_context(self, on: bool, rewind: float) -> None:
        """The caller started or stopped giving card details: the recording pauses (blanking
        what was just recorded of it, before anyone could know) or resumes; turns stored
        since the caller started saying it lose their numbers too (a card read in groups is
        only known for one once several groups are in)."""
        if on:
            self.services.call_log.mask_turns(self.session.id, rewind)
        if self.recorder is None:
            return
        if on:
            self.recorder.pause(rewind)
        else:
            self.recorder.resume()
        log.info("recording paused for card details" if on else "recording resumed")

    def _move(self, state: CallState) -> None:
        if self.session.move(state):
            self.services.call_log.state(self.session.id, state)

    # --- what the conversation can do (CallIO) ---------------------------------------------
    @property
    def caller_audio(self) -> asyncio.Queue[bytes]:
        assert self.endpoint is not None
        return self.endpoint.frames

    def send_audio(self, frame: bytes) -> None:
        if self.endpoint is not None:
            self.endpoint.send_audio(frame)

    def flush_audio(self) -> int:
        return self.endpoint.flush() if self.endpoint is not None else 0

    def audio_pending(self) -> int:
        return self.endpoint.pacer.queued if self.endpoint is not None else 0

    async def play(self, media: str) -> None:
        """Play an Asterisk sound into the call and wait until it has finished."""
        if self.bridge_id is None or self._caller_left:
            return
        playback_id = f"pb-{uuid.uuid4().hex[:12]}"
        finished = asyncio.get_running_loop().create_future()
        self._playbacks[playback_id] = finished
        try:
            await self.services.client.play_on_bridge(self.bridge_id, media, playback_id)
            await asyncio.wait_for(finished, timeout=120)
        except TelephonyError as exc:
            log.warning("prompt not played", media=media, error=str(exc))
        finally:
            self._playbacks.pop(playback_id, None)

    async def hangup(self, reason: str) -> None:
        if self.end_reason == "unknown":
            self.end_reason = reason
        if reason == GOODBYE and self._asks_survey():
            try:  # the caller leaves Stasis to be asked; the call ends here as a goodbye
                await self._release_media()
                await self.services.client.continue_in_dialplan(self.channel.id, *SURVEY_DIALPLAN)
                return
            except TelephonyError as exc:
                log.warning("survey not offered, hanging up", error=str(exc))
        with contextlib.suppress(TelephonyError):
            await self.services.client.hangup(self.channel.id)

    def _asks_survey(self) -> bool:
        """The property asks callers to rate the call after the agent's goodbye (hotel.yaml
        end_of_call_survey); never a call we placed or one staff took."""
        survey_for = self.services.survey_for
        if survey_for is None or self.outbound or self.staff.has_caller or self._caller_left:
            return False
        try:
            return survey_for(self.session.property_id)
        except KeyError:
            return False

    async def hold(self, on: bool) -> None:
        """Hold music on the call's bridge: the caller hears it (so does our media leg, which
        the conversation ignores while on hold)."""
        if self.bridge_id is None:
            return
        if on:
            self._move(CallState.ON_HOLD)
            await self.services.client.start_bridge_moh(self.bridge_id, self.services.moh_class)
        else:
            await self.services.client.stop_bridge_moh(self.bridge_id)
            self._move(CallState.TALKING)

    async def transfer(self, context: str, extension: str, whisper: str | None = None) -> None:
        """The caller leaves Stasis into the dialplan (a queue, an extension). Warm: with
        `whisper`, staff hear it before the caller joins (dialplan [frontdesk-whisper]); if it
        cannot be prepared, the transfer goes ahead blind."""
        self._move(CallState.TRANSFERRING)
        if whisper:  # as text too: browser phones show it (dialplan [frontdesk-summary-header])
            try:
                await self.services.client.set_variable(
                    self.channel.id, "FRONTDESK_SUMMARY", summary_for_dialplan(whisper)
                )
            except Exception as exc:
                log.warning("warm transfer summary text not set", error=str(exc))
        if whisper and self.services.whisper is not None:
            try:
                path = await self.services.whisper.render(whisper)
                await self.services.client.set_variable(self.channel.id, "FRONTDESK_WHISPER", path)
            except Exception as exc:  # flite, the disk, ARI: the caller still goes through
                log.warning(
                    "warm transfer summary not prepared, transferring blind", error=str(exc)
                )
        if self.end_reason == "unknown":  # keep why we got here (setup_failed, shutdown, …)
            self.end_reason = "transferred"
        self.transferred_to = f"{context},{extension}"
        self.services.transferred.remember(self.channel.id, self.session.property_id)
        if is_queue(extension):
            await self._hear_queue_wait()
        await self._release_media()
        await self.services.client.continue_in_dialplan(self.channel.id, context, extension)

    async def _hear_queue_wait(self) -> None:
        """The caller's channel keeps reporting to the app once in the queue, outside Stasis
        (app/telephony/queue_waits.py); without it the transfer goes ahead, unmeasured."""
        waits = self.services.queue_waits
        waits.watch(self.channel.id, self.session.id)
        try:
            await self.services.client.subscribe_channel(self.channel.id)
        except TelephonyError as exc:
            waits.forget(self.channel.id)
            log.warning("queue wait not measured: no subscription", error=str(exc))

    # --- what staff legs need of the call (app/telephony/staff_legs.py) ----------------------------
    @property
    def ready(self) -> bool:
        """The caller is through to the agent (set up): staff may listen in or take over."""
        return self._media_up.is_set() or self.staff.has_caller

    def is_live(self) -> bool:
        """The caller is still ours: in Stasis, not leaving, not put through."""
        return (
            not self._stop
            and not self._caller_left
            and self.transferred_to is None
            and self.session.active
        )

    async def stop_agent(self) -> None:
        """The agent stops talking to the caller (staff take over); its media stays until
        release_agent_media, so the caller is never left in no bridge at all."""
        if asyncio.current_task() is not self._conversation_task:
            await cancel_and_wait(self._conversation_task)
        await self.conversation.discard()
        if self.session.state is CallState.ON_HOLD:
            self._move(CallState.TALKING)  # the hold was the agent's

    async def release_agent_media(self) -> None:
        await self._release_media()

    def staff_hung_up(self) -> None:
        """The member of staff who took the call over hung up: the call is over (called from
        the call's own event handling)."""
        if self.end_reason == "unknown":
            self.end_reason = "staff_hangup"
        self._stop = True

    def take_over_failed(self) -> None:
        """The agent was stopped but the caller could not be moved to staff: the teardown
        hands them to the front desk."""
        self._put_nowait(StopCall("takeover_failed"))

    def _put_nowait(self, event: AriEvent | CallLost | StopCall) -> None:
        try:
            self.inbox.put_nowait(event)
        except asyncio.QueueFull:
            self._stop = True  # read as soon as the loop next wakes
            log.error("call inbox full, stop noted directly")

    # --- background work of the call ----------------------------------------------------------
    async def _converse(self) -> None:
        try:
            await self.conversation.run(self, self.session)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("conversation failed")
            self.session.achieved(Outcome.FAILED)
            await self._send_caller_to_fallback()

    async def _watchdog(self) -> None:
        """No RTP for too long → hang up; too long a call → goodbye, then hang up."""
        limits = self.services.limits
        started = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(limits.check_every)
            now = asyncio.get_running_loop().time()
            assert self.endpoint is not None
            heard = self.endpoint.last_received or started
            if now - heard > limits.rtp_inactivity:
                log.warning(
                    "no audio from the caller, hanging up", silent_for=round(now - heard, 1)
                )
                await self.hangup("rtp_timeout")
                return
            if now - started > limits.max_duration:
                log.info("maximum call duration reached")
                self.end_reason = "max_duration"
                await self.play(limits.goodbye_prompt)
                await self.hangup("max_duration")
                return

    async def _send_caller_to_fallback(self) -> None:
        if self._caller_left or self.transferred_to is not None:
            return
        context, extension = self.services.fallback
        try:
            await self.transfer(context, extension)
        except TelephonyError as exc:
            log.error("could not hand the caller to the fallback", error=str(exc))
            await self.hangup("failed")

    async def _release_media(self) -> None:
        """Take our media out of the call: externalMedia channel, bridge, RTP port."""
        await cancel_and_wait(self._watchdog_task)
        client = self.services.client
        if self.media_channel_id is not None:
            # Forget it before asking: its StasisEnd may be handled while the request is in
            # flight, and must not read as "someone else removed our media" (media_lost).
            media, self.media_channel_id = self.media_channel_id, None
            with contextlib.suppress(TelephonyError):
                await client.hangup(media)
            self.services.routes.release_channel(media)
        if self.bridge_id is not None:
            with contextlib.suppress(TelephonyError):
                await client.destroy_bridge(self.bridge_id)
            self.services.routes.release_bridge(self.bridge_id)
            self.bridge_id = None
        if self.endpoint is not None:
            await self.endpoint.close()
            self.endpoint = None
        if self.port is not None:
            self.services.ports.give_back(self.port)
            self.port = None

    async def _teardown(self) -> None:
        if asyncio.current_task() is not self._conversation_task:
            await cancel_and_wait(self._conversation_task)
        await self.conversation.discard()
        for waiter in self._playbacks.values():
            waiter.cancel()
        self._take_queued_events()  # a caller who hung up during setup needs no fallback
        await self.staff.close()  # staff phones' legs and snoops, their bridges
        if not self._caller_left and self.staff.has_caller:
            await self.hangup("staff_hangup")  # staff had the caller: the call is over
        elif not self._caller_left:
            try:
                await self._send_caller_to_fallback()  # media lost, a crash, or shutting down
            except Exception:
                # Whatever went wrong, the teardown must finish: row ended, call forgotten.
                log.exception("fallback failed")
                await self.hangup("failed")
        await self._release_media()
        self._log_keyed()
        if self.end_reason == "transferred":
            self.session.achieved(Outcome.TRANSFERRED)
        elif self.end_reason in FAULTS:
            self.session.achieved(Outcome.FAILED)
        if self.session.end(self.end_reason):
            self.services.call_log.ended(
                self.session.id,
                self.end_reason,
                transferred_to=self.transferred_to,
                outcome=self.session.outcome,
            )
        if self.recorder is not None and self.services.recordings is not None:
            try:
                await self.services.recordings.save(self.session, self.recorder)
            except Exception:
                log.exception("recording not saved")
            self.recorder = None
        self.services.routes.forget(self)
        log.info(
            "call ended",
            reason=self.end_reason,
            seconds=round((dt.datetime.now(dt.UTC) - self.session.started_at).total_seconds(), 1),
        )
        self.done.set()


GOODBYE = "agent_goodbye"  # the end_call tool's reason (app/hotel/tools/registry.py Hangup)
# where the survey is asked: one key, back into Stasis(frontdesk,survey,<key>) when 1 to 5
SURVEY_DIALPLAN = ("frontdesk-survey", "s")

SUMMARY_MAX_CHARS = 400


def summary_for_dialplan(text: str) -> str:
    """A warm transfer's summary as FRONTDESK_SUMMARY: one line, at most SUMMARY_MAX_CHARS,
    percent-encoded UTF-8 (only letters, digits and %-._~), so that neither the dialplan's
    argument parsing nor a SIP header can misread it (X-Frontdesk-Summary)."""
    line = " ".join(text.split())
    if len(line) > SUMMARY_MAX_CHARS:
        line = line[: SUMMARY_MAX_CHARS - 1] + "…"
    return quote(line, safe="")
