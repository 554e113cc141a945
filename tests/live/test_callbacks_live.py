"""Callbacks placed through a real Asterisk to a SIPp phone: answered, and declined.

They are dialled as `frontdesk run` dials them, by the default CALLBACK_ENDPOINT: a Local
channel into the dialplan's [frontdesk-callback-out], which checks the number and then dials
the trunk, whose far end here is the guest's phone (a SIPp on the carrier's port). The Local
channel's first half (our channel id) is the one that enters Stasis once the guest answers."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from app.calls.agent import Opening
from app.calls.arrival import Arrival
from app.calls.callbacks import CallbackConversation, CallbackScheduler
from app.calls.conversation import CallIO, Conversation, FallbackConversation
from app.calls.session import CallSession
from app.hotel.callbacks import NewCallback
from app.hotel.config import load_hotel_config
from app.pbx.sandbox import AsteriskSandbox
from app.settings import load_settings
from app.storage.callbacks_repo import CallbackRepository
from app.storage.seed import seed
from app.telephony.ari.models import AriEvent, ChannelDestroyed
from app.telephony.controller import OUTBOUND_PREFIX, StasisApp
from app.telephony.dialer import AriDialer, callback_of
from tests.live.keypad import free_port
from tests.live.running import running_app
from tests.live.test_calls_live import _level, _tone_frames

ROOT = Path(__file__).resolve().parents[2]
SIPP = Path(__file__).parent / "sipp"
GUEST = "+14155550134"
HOTEL = load_hotel_config(ROOT / "config" / "hotel.yaml")


@dataclass
class Greeter:
    """Stands in for the agent: records its opening words, then says goodbye (hangs up)."""

    opening: Opening
    said: str = ""
    heard_frames: int = 0

    def prepare(self, session: CallSession) -> None:
        pass

    async def run(self, io: CallIO, session: CallSession) -> None:
        self.said = self.opening(HOTEL.get_property(session.property_id))
        for frame in _tone_frames(1.0):  # "speaks": the guest's phone (SIPp) echoes it back
            io.send_audio(frame)
        deadline = asyncio.get_running_loop().time() + 3.0
        while asyncio.get_running_loop().time() < deadline:
            try:
                frame = await asyncio.wait_for(io.caller_audio.get(), 0.2)
                self.heard_frames += _level(frame) > 500
            except TimeoutError:
                continue
        await io.hangup("agent_goodbye")

    def on_dtmf(self, digit: str) -> None:
        pass

    async def discard(self) -> None:
        pass


@dataclass
class Rig:
    pbx: AsteriskSandbox
    app: StasisApp
    scheduler: CallbackScheduler
    repo: CallbackRepository
    pool: asyncpg.Pool
    greeters: list[Greeter]
    seen: list[AriEvent]
    sip_port: int
    reports: list[tuple[object, str]]  # (callback id, cause) of each "not answered" report


@pytest.fixture
async def rig(pbx: AsteriskSandbox, pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    await seed(pool, load_hotel_config(ROOT / "config" / "hotel.yaml"), horizon_days=2)
    repo = CallbackRepository(pool)
    greeters: list[Greeter] = []

    def agent(opening: Opening) -> Conversation:
        greeters.append(Greeter(opening))
        return greeters[-1]

    def conversation(arrival: Arrival) -> Conversation:
        if arrival.outbound:
            callback_id = arrival.callback_id
            assert callback_id is not None
            return CallbackConversation(
                callback_id, repo, agent, lambda prop, reason: f"Calling you back about {reason}."
            )
        return FallbackConversation("frontdesk-fallback", "s")

    async with running_app(pbx, pool, conversation, (42040, 42059)) as run:
        assert pbx.ports.carrier is not None
        sip_port = pbx.ports.carrier  # the trunk's contact: the guest's phone answers there
        dialer = AriDialer(
            run.client, load_settings().callback_endpoint, {"harborview": "+15550100100"}
        )
        scheduler = CallbackScheduler(repo, dialer, lambda due: None, poll_seconds=0.2)

        reports: list[tuple[object, str]] = []

        def gone(channel_id: str, cause: str) -> None:
            callback_id = callback_of(channel_id)
            if callback_id is not None:
                reports.append((callback_id, cause))
                scheduler.unanswered(callback_id, cause)

        run.app.outbound_gone = gone
        yield Rig(pbx, run.app, scheduler, repo, pool, greeters, run.seen, sip_port, reports)


async def _guest_phone(rig: Rig, *scenario: str) -> asyncio.subprocess.Process:
    """A SIPp phone waiting on the number we dial (SIPp's own uas answers and echoes RTP)."""
    return await asyncio.create_subprocess_exec(
        "sipp",
        *scenario,
        "-i", "127.0.0.1",
        "-p", str(rig.sip_port),
        "-mp", str(free_port() & ~1),
        "-m", "1",
        "-timeout", "30s",
        "-timeout_error",
        "-nostdin",
        "-trace_err",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=os.environ.get("TMPDIR", "/tmp"),
    )  # fmt: skip


async def _status(
    rig: Rig, callback_id: object, wanted: str, timeout: float = 20
) -> asyncpg.Record:
    async with asyncio.timeout(timeout):
        while True:
            row = await rig.pool.fetchrow("SELECT * FROM callbacks WHERE id = $1", callback_id)
            if row["status"] == wanted:
                return row
            await asyncio.sleep(0.1)


async def test_a_callback_rings_the_guest_who_answers(rig: Rig) -> None:
    phone = await _guest_phone(rig, "-sn", "uas", "-rtp_echo")
    await asyncio.sleep(0.5)  # SIPp is listening
    now = dt.datetime.now(dt.UTC)
    callback_id = await rig.repo.add(NewCallback("harborview", GUEST, now, "your booking enquiry"))
    assert await rig.scheduler.run_once() == 1
    row = await _status(rig, callback_id, "completed")
    out, _ = await asyncio.wait_for(phone.communicate(), 30)
    assert phone.returncode == 0, out.decode(errors="replace")[-1500:]  # it got our BYE
    [greeter] = rig.greeters
    assert greeter.said == "Calling you back about your booking enquiry."
    assert greeter.heard_frames > 20  # our voice went to the guest's phone and came back
    async with asyncio.timeout(10):
        while rig.app.calls:
            await asyncio.sleep(0.05)
    call = await rig.pool.fetchrow("SELECT * FROM calls WHERE id = $1", row["outbound_call_id"])
    assert call["direction"] == "outbound" and call["end_reason"] == "agent_goodbye"
    assert call["channel_id"].startswith(OUTBOUND_PREFIX)


async def test_a_declined_callback_is_tried_again_later(rig: Rig) -> None:
    phone = await _guest_phone(rig, "-sf", str(SIPP / "busy.xml"))
    await asyncio.sleep(0.5)
    now = dt.datetime.now(dt.UTC)
    callback_id = await rig.repo.add(NewCallback("harborview", GUEST, now, "a question"))
    assert await rig.scheduler.run_once() == 1
    row = await _status(rig, callback_id, "scheduled")
    assert row["attempts"] == 1 and row["last_error"]
    assert row["next_attempt_at"] > now + dt.timedelta(minutes=14)
    out, _ = await asyncio.wait_for(phone.communicate(), 30)
    assert phone.returncode == 0, out.decode(errors="replace")[-1500:]
    # What the controller relies on, as the real Asterisk sends it: the placed channel's end,
    # with our channel id and a cause, and no StasisStart before it.
    ours = [
        e
        for e in rig.seen
        if callback_id == callback_of(getattr(getattr(e, "channel", None), "id", ""))
    ]
    assert [type(e).__name__ for e in ours][-1] == "ChannelDestroyed"
    destroyed = ours[-1]
    assert isinstance(destroyed, ChannelDestroyed) and destroyed.cause_txt
    assert not any(type(e).__name__ == "StasisStart" for e in ours)
    assert rig.greeters == []
    # Both halves of the Local channel end, but the callback is reported unanswered once.
    assert rig.reports == [(callback_id, destroyed.cause_txt)]
