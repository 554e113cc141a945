"""A member of staff joining one call from their phone: listen-in and take-over.

Both ring the staff member's extension by originating `PJSIP/<extension>` into our app with
`appArgs=staff,<why>` and a channel id of ours (claimed before the request, so no event is
lost); the leg enters Stasis when the phone answers (tests/fixtures/ari/listen-in.json).
- **Listen-in**: a snoop channel on the caller (`spy=both`, `whisper=none`: it hears both
  sides of the call, says nothing) and the staff leg in a mixing bridge of their own.
- **Take-over**: the agent is stopped, the caller is added to a new bridge with the staff leg
  (a channel added to another bridge moves: take-over.json), then the agent's media goes
  (externalMedia channel, its bridge, the RTP port). A member of staff who was listening in
  keeps the same leg: no second ring.

What Asterisk says when the phone is not there: originate answers 500 "Allocation failed"
(not registered), or the leg is destroyed before it entered Stasis (cause 19 "User alerting,
no answer" after the ring timeout; 17 busy): staff-unavailable.json. The caller then stays
with the agent, untouched.

Everything runs in tasks the call owns (an action outlives the console's request that
asked for it) and events arrive through the call's own ordered inbox. The call's teardown
hangs up every leg and snoop and destroys their bridges.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.aio import cancel_and_wait
from app.calls.control import ActionRefused, CallNotLive, StaffPhoneUnavailable
from app.calls.records import CallState, Outcome
from app.log import bind_call, get_logger
from app.telephony.ari.models import (
    AriEvent,
    ChannelDestroyed,
    StasisEnd,
    StasisStart,
    event_channel_ids,
)
from app.telephony.errors import TelephonyError

if TYPE_CHECKING:
    from app.telephony.call import TelephonyCall

log = get_logger(__name__)

STAFF_ARG = "staff"  # appArgs of the legs we ring staff phones with: staff,<listen|takeover>
LEG_PREFIX = "fdv-staff-"
SNOOP_PREFIX = "fdv-snoop-"
ENTER_SECONDS = 5.0  # a snoop channel entering Stasis (it does at once: listen-in.json)

_CAUSES = {17: "is busy", 19: "did not answer", 20: "is not registered", 21: "refused the call"}


def _unavailable(extension: str, what: str) -> StaffPhoneUnavailable:
    return StaffPhoneUnavailable(
        f"Your phone ({extension}) {what}. The caller stays with the receptionist."
    )


@dataclass
class _Listening:
    extension: str
    leg: str | None = None
    snoop: str | None = None
    bridge: str | None = None
    stopped: bool = False  # stopped (they hung up, the call ended) while being set up
    announced: bool = False  # the console was told they listen


class StaffLegs:
    """The staff phones on one call (owned by its TelephonyCall)."""

    def __init__(self, call: TelephonyCall) -> None:
        self._call = call
        self._ringing: dict[str, asyncio.Future[None]] = {}  # leg -> answered
        self._entering: dict[str, asyncio.Future[None]] = {}  # snoop -> in Stasis
        self._legs: set[str] = set()  # staff legs and snoops we made that may still be up
        self._listening: dict[str, _Listening] = {}  # by extension
        self._tasks: set[asyncio.Task[None]] = set()
        self.taking_over: str | None = None  # the extension ringing for a take-over
        self.taken_over_by: str | None = None
        self.leg: str | None = None  # the staff leg the caller is bridged with
        self.bridge: str | None = None  # caller + staff
        self.closed = False

    @property
    def has_caller(self) -> bool:
        """The caller is with staff (the agent is gone)."""
        return self.taken_over_by is not None

    # --- actions (from the console) --------------------------------------------------------
    async def listen_in(self, extension: str) -> None:
        self._check_live()
        if self.has_caller:
            raise ActionRefused(
                f"This call is already with staff (extension {self.taken_over_by})."
            )
        if extension in self._listening:
            raise ActionRefused(f"Extension {extension} is already listening in to this call.")
        if self.taking_over is not None:
            raise ActionRefused(f"Extension {self.taking_over} is taking this call over.")
        listening = _Listening(extension)
        self._listening[extension] = listening
        await self._owned(self._listen(listening), f"listen-{extension}")

    async def take_over(self, extension: str) -> None:
        self._check_live()
        if self.has_caller:
            raise ActionRefused(
                f"This call is already with staff (extension {self.taken_over_by})."
            )
        if self.taking_over is not None:
            raise ActionRefused(f"Extension {self.taking_over} is already taking this call over.")
        if self._call.session.state is CallState.TRANSFERRING:
            raise CallNotLive("The receptionist is putting this call through already.")
        listening = self._listening.get(extension)
        if listening is not None and listening.bridge is None:
            raise ActionRefused(
                "Your phone is ringing to listen in: answer it, then take the call over."
            )
        self.taking_over = extension
        # cleared when the take-over's task ends, not when the request does: a console
        # request cancelled mid-ring leaves the take-over running, and still guarded
        await self._owned(self._take_over(extension), f"takeover-{extension}", self._took_over)

    def _took_over(self) -> None:
        self.taking_over = None

    # --- events (from the call's inbox, in order) -----------------------------------------------
    def handle(self, event: AriEvent) -> bool:
        """True when the event was about one of our legs (and so not about the caller)."""
        ids = event_channel_ids(event)
        if not ids or not (ids[0] in self._legs or ids[0] in self._ringing):
            return False
        channel = ids[0]
        if isinstance(event, StasisStart):
            for waiting in (self._ringing.get(channel), self._entering.get(channel)):
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
        elif isinstance(event, ChannelDestroyed) and channel in self._ringing:
            waiting = self._ringing[channel]
            if not waiting.done():
                waiting.set_exception(_CauseError(event.cause, event.cause_txt))
            self._gone(channel)
        elif isinstance(event, StasisEnd | ChannelDestroyed):
            self._gone(channel)
            if channel == self.leg:
                log.info("staff hung up a call they took over", extension=self.taken_over_by)
                self._call.staff_hung_up()
            for listening in list(self._listening.values()):
                if channel == listening.leg:  # they hung up: stop listening
                    self._spawn(self._stop_listening(listening), f"unlisten-{listening.extension}")
        return True

    # --- inside ------------------------------------------------------------------------------
    def _check_live(self) -> None:
        if self.closed or not self._call.is_live():
            raise CallNotLive("That call has already ended.")
        if not self._call.ready:
            raise ActionRefused("That call is still connecting; try again in a moment.")

    def _gone(self, channel: str) -> None:
        self._legs.discard(channel)
        self._call.services.routes.release_channel(channel)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        # started from a console request's handler: the task copies the request's context,
        # so the call's id is bound here for every line the action logs
        loop = asyncio.get_running_loop()
        with bind_call(str(self._call.session.id)):
            task = loop.create_task(coro, name=f"{name}-{self._call.channel.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _owned(
        self,
        coro: Coroutine[Any, Any, None],
        name: str,
        when_done: Callable[[], None] | None = None,
    ) -> None:
        """Run an action in a task of the call's: whoever asked may go away (a closed
        browser tab) without leaving the caller half-way between the agent and staff.
        `when_done` runs when the task ends, however it ends (even cancelled unstarted)."""
        task = self._spawn(coro, name)
        if when_done is not None:
            task.add_done_callback(lambda _: when_done())
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and not (current is not None and current.cancelling()):
                raise CallNotLive("That call ended.") from None  # the call's teardown
            raise

    async def _ring(self, extension: str, why: str) -> str:
        """The staff phone rung and answered: its leg, in Stasis."""
        client, routes = self._call.services.client, self._call.services.routes
        leg = f"{LEG_PREFIX}{uuid.uuid4().hex[:16]}"
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ringing[leg] = answered
        routes.claim_channel(leg, self._call)
        caller = self._call.session.caller_e164 or "anonymous"
        label = "Listen in" if why == "listen" else "Take over"
        ring = self._call.services.limits.staff_ring_seconds
        try:
            try:
                await client.originate(
                    f"PJSIP/{extension}",
                    app_args=f"{STAFF_ARG},{why}",
                    channel_id=leg,
                    caller_id=f'"{label}" <{caller}>',
                    timeout=ring,
                )
            except TelephonyError as exc:
                routes.release_channel(leg)
                log.warning("staff phone not rung", extension=extension, error=str(exc))
                if exc.status == 500:  # "Allocation failed": no contact for the endpoint
                    raise _unavailable(extension, "is not registered (sign in on it)") from None
                raise _unavailable(extension, "could not be rung") from None
            self._legs.add(leg)
            if self.closed:  # the call ended while we rang
                await self._hang_up(leg)
                raise CallNotLive("That call ended before your phone answered.")
            try:
                async with asyncio.timeout(ring + 5):
                    await answered
            except _CauseError as exc:
                raise _unavailable(
                    extension, _CAUSES.get(exc.cause, f"did not answer ({exc.text})")
                ) from None
            except TimeoutError:
                await self._hang_up(leg)
                raise _unavailable(extension, "did not answer") from None
        finally:
            self._ringing.pop(leg, None)
        return leg

    async def _listen(self, listening: _Listening) -> None:
        client, routes = self._call.services.client, self._call.services.routes
        caller = self._call.channel.id
        try:
            listening.leg = await self._ring(listening.extension, "listen")
            self._check_live()
            if listening.leg not in self._legs:
                raise _unavailable(listening.extension, "hung up as it answered")
            if self.has_caller or self.taking_over is not None:  # while it rang
                raise ActionRefused(
                    f"This call went to staff (extension {self.taken_over_by or self.taking_over}) "
                    "while your phone rang."
                )
            snoop = f"{SNOOP_PREFIX}{uuid.uuid4().hex[:16]}"
            entered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._entering[snoop] = entered
            self._legs.add(snoop)
            routes.claim_channel(snoop, self._call)
            try:
                await client.snoop(caller, spy="both", whisper="none", snoop_id=snoop)
                listening.snoop = snoop
                self._still_wanted(listening)
                # in Stasis before it can be bridged (422 otherwise, as for externalMedia)
                await asyncio.wait_for(entered, ENTER_SECONDS)
            except TimeoutError:
                log.warning("listen-in snoop never entered the app", snoop=snoop)
                raise ActionRefused("Listening in did not work this time; try again.") from None
            finally:
                self._entering.pop(snoop, None)
            bridge = await client.create_bridge(f"listen-{caller}")
            listening.bridge = bridge.id
            routes.claim_bridge(bridge.id, self._call)
            self._still_wanted(listening)
            await client.add_to_bridge(bridge.id, snoop, listening.leg)
            self._still_wanted(listening)
        except TelephonyError as exc:
            await self._stop_listening(listening)
            log.warning("listen-in failed", extension=listening.extension, error=str(exc))
            if exc.not_found:
                raise CallNotLive("That call ended before you could listen in.") from None
            raise ActionRefused("Listening in did not work this time; try again.") from None
        except BaseException:
            await self._stop_listening(listening)
            raise
        listening.announced = True
        self._call.services.call_log.listening(self._call.session.id, listening.extension, True)
        log.info("staff listening in", extension=listening.extension)

    @staticmethod
    def _still_wanted(listening: _Listening) -> None:
        """Between the steps of setting up: stopped meanwhile, what was just made goes too."""
        if listening.stopped:
            raise ActionRefused("You hung up before the listening began.")

    async def _stop_listening(self, listening: _Listening, *, keep_leg: bool = False) -> None:
        """Free whatever of it exists, as often as asked: it may run while `_listen` is still
        making the snoop and bridge (the phone was put down), and again when `_listen` sees
        that and gives up."""
        listening.stopped = True
        if self._listening.get(listening.extension) is listening:
            del self._listening[listening.extension]
        snoop, listening.snoop = listening.snoop, None
        bridge, listening.bridge = listening.bridge, None
        if snoop is not None:
            await self._hang_up(snoop)
        if bridge is not None:
            await self._destroy(bridge)
        if listening.leg is not None and not keep_leg:
            await self._hang_up(listening.leg)
        if listening.announced:  # the console showed them listening
            listening.announced = False
            self._call.services.call_log.listening(
                self._call.session.id, listening.extension, False
            )

    async def _take_over(self, extension: str) -> None:
        client, routes = self._call.services.client, self._call.services.routes
        listening = self._listening.get(extension)
        if listening is not None and listening.bridge is not None and listening.leg in self._legs:
            leg = listening.leg  # they are on the line already: the same leg
            await self._stop_listening(listening, keep_leg=True)
        else:
            leg = await self._ring(extension, "takeover")
        try:
            self._check_live()
            if self._call.session.state is CallState.TRANSFERRING:
                raise CallNotLive("The receptionist put this call through while your phone rang.")
        except CallNotLive:
            await self._hang_up(leg)
            raise
        if leg not in self._legs:  # answered and hung up at once: the agent keeps the caller
            raise _unavailable(extension, "hung up as it answered")
        # From here the caller is staff's: the agent stops first (it must not put the caller
        # through meanwhile), then the caller moves to the staff member's bridge.
        await self._call.stop_agent()
        if not self._call.is_live():
            await self._hang_up(leg)
            raise CallNotLive("The caller hung up as your phone answered.")
        self.leg, self.taken_over_by = leg, extension
        try:
            bridge = await client.create_bridge(f"staff-{self._call.channel.id}")
            self.bridge = bridge.id
            routes.claim_bridge(bridge.id, self._call)
            await client.add_to_bridge(bridge.id, self._call.channel.id, leg)
        except TelephonyError as exc:
            # The agent is gone and the caller is not with staff: the front desk takes them.
            log.error("take-over failed after the agent stopped", error=str(exc))
            self.leg = self.taken_over_by = None
            await self._hang_up(leg)
            self._call.take_over_failed()
            raise ActionRefused(
                "The call could not be moved to your phone; it went to the front desk."
            ) from None
        await self._call.release_agent_media()
        self._call.session.achieved(Outcome.TAKEN_OVER)
        self._call.services.call_log.taken_over(self._call.session.id, extension)
        log.info("call taken over by staff", extension=extension)

    async def _hang_up(self, channel: str) -> None:
        if channel not in self._legs:
            return
        self._gone(channel)
        with contextlib.suppress(TelephonyError):
            await self._call.services.client.hangup(channel)

    async def _destroy(self, bridge: str) -> None:
        self._call.services.routes.release_bridge(bridge)
        with contextlib.suppress(TelephonyError):
            await self._call.services.client.destroy_bridge(bridge)

    async def close(self) -> None:
        """The call is over: every action stopped, every leg hung up, every bridge gone."""
        self.closed = True
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                await cancel_and_wait(task)
        for waiting in self._ringing.values():
            waiting.cancel()
        for listening in list(self._listening.values()):
            await self._stop_listening(listening)
        for channel in list(self._legs):
            await self._hang_up(channel)
        if self.bridge is not None:
            bridge, self.bridge = self.bridge, None
            await self._destroy(bridge)


class _CauseError(Exception):
    """A staff leg destroyed before it answered (Asterisk's hang-up cause)."""

    def __init__(self, cause: int, text: str) -> None:
        super().__init__(text)
        self.cause = cause
        self.text = text
