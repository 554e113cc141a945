"""A transfer nobody answers, through the real dialplan: the caller goes to
[frontdesk-departments], the department's phone is unavailable, and the same channel comes
back into Stasis(frontdesk,agent,unanswered,<extension>) to the agent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from app.calls.arrival import Arrival
from app.calls.conversation import CallIO, Conversation
from app.calls.session import CallSession
from app.hotel.config import load_hotel_config
from app.pbx.sandbox import AsteriskSandbox
from app.storage.seed import seed
from app.telephony.ari.models import AriEvent, StasisEnd, StasisStart
from app.telephony.controller import StasisApp
from tests.live.keypad import calling, staff_phone
from tests.live.running import running_app
from tests.live.test_calls_live import ECHO_NUMBER, _sipp

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Scripted:
    """First visit: put the caller through to extension 3100. Back again: note why, hang up."""

    args: list[str]
    log: list[list[str]] = field(default_factory=list)
    whisper: str | None = None  # a warm transfer: what staff hear first
    destination: str = "3100"

    def prepare(self, session: CallSession) -> None:
        pass

    async def run(self, io: CallIO, session: CallSession) -> None:
        self.log.append(self.args)
        if not self.args:
            await asyncio.sleep(0.5)
            await io.transfer("frontdesk-departments", self.destination, whisper=self.whisper)
            return
        await asyncio.sleep(1.0)
        await io.hangup("agent_goodbye")

    def on_dtmf(self, digit: str) -> None:
        pass

    async def discard(self) -> None:
        pass


@dataclass
class Rig:
    pbx: AsteriskSandbox
    app: StasisApp
    pool: asyncpg.Pool
    visits: list[list[str]]
    seen: list[AriEvent]


@pytest.fixture
async def rig(pbx: AsteriskSandbox, pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    await seed(pool, load_hotel_config(ROOT / "config" / "hotel.yaml"), horizon_days=2)
    visits: list[list[str]] = []

    def conversation(arrival: Arrival) -> Conversation:
        return Scripted(list(arrival.path), visits)

    async with running_app(pbx, pool, conversation, (42060, 42079)) as run:
        yield Rig(pbx, run.app, pool, visits, run.seen)


async def test_an_unanswered_transfer_comes_back_to_the_agent_on_the_same_channel(
    rig: Rig,
) -> None:
    code, out = await _sipp(rig.pbx, "caller_waits_for_bye.xml", "-rtp_echo")
    assert code == 0, out  # the caller stayed on until the agent's goodbye
    assert rig.visits == [[], ["unanswered", "3100"]]
    starts = [e for e in rig.seen if isinstance(e, StasisStart) and e.args[:1] != []]
    callers = [e for e in starts if e.channel.technology == "PJSIP"]
    assert len(callers) == 2 and callers[0].channel.id == callers[1].channel.id
    assert callers[1].args == ["agent", "unanswered", "3100", ""]  # no menu property: the AI
    async with asyncio.timeout(10):
        while rig.app.calls:
            await asyncio.sleep(0.05)
    async with asyncio.timeout(5):
        while True:
            rows = await rig.pool.fetch(
                "SELECT * FROM calls WHERE channel_id = $1 ORDER BY started_at",
                callers[0].channel.id,
            )
            if len(rows) == 2 and rows[1]["state"] == "ended":
                break
            await asyncio.sleep(0.05)
    assert [r["end_reason"] for r in rows] == ["transferred", "agent_goodbye"]
    assert rows[0]["transferred_to"] == "frontdesk-departments,3100"
    assert [r["property_id"] for r in rows] == ["harborview", "harborview"]


async def test_a_blind_transfer_answered_by_the_department_phone_bridges_both_legs(
    rig: Rig,
) -> None:
    # The agent puts the caller through to 3100 (the restaurant); its phone is registered and
    # answers; the caller hears the member of staff, and the agent is not called back.
    async with (
        staff_phone(rig.pbx, "3100") as restaurant,
        calling(rig.pbx, ECHO_NUMBER, wait_for_audio=False) as caller,
    ):
        picked_up = await restaurant.picks_up(rig.pbx)
        answered = time.monotonic()
        await asyncio.sleep(3.0)
        heard = caller.level(answered + 0.5, answered + 3.0)
        bridges = rig.pbx.cli("bridge show all")
    assert picked_up and restaurant.answered, restaurant.said
    assert heard > 300, f"the caller heard {heard:.0f} from the department"
    # one Asterisk bridge holds both channels: the caller's and the phone's
    assert any(line.split()[2:3] == ["2"] for line in bridges.splitlines()[1:]), bridges
    assert rig.visits == [[]]  # the agent ran once: nobody came back


SUMMARY = (
    "Ava here, with a caller for the restaurant. They would like a table for two tonight "
    "at eight. Putting them through now."
)


@pytest.mark.parametrize(
    ("destination", "phone"),
    [("3100", "3100"), ("queue-front-desk", "2001")],
    ids=["phone", "queue"],
)
async def test_a_warm_transfer_tells_staff_first_then_bridges_the_caller(
    pbx: AsteriskSandbox, pool: asyncpg.Pool, destination: str, phone: str
) -> None:
    # The agent puts the caller through warm: the restaurant's phone answers and first hears
    # the summary (the caller meanwhile hears hold music); only then are the two bridged.
    await seed(pool, load_hotel_config(ROOT / "config" / "hotel.yaml"), horizon_days=2)
    visits: list[list[str]] = []

    def conversation(arrival: Arrival) -> Conversation:
        return Scripted(list(arrival.path), visits, whisper=SUMMARY, destination=destination)

    async with (
        running_app(pbx, pool, conversation, (42080, 42099)),
        staff_phone(pbx, phone) as staff,
        calling(pbx, ECHO_NUMBER, wait_for_audio=False) as caller,
    ):
        assert await staff.picks_up(pbx)
        answered = time.monotonic()
        async with asyncio.timeout(30):
            while not any(
                line.split()[2:3] == ["2"] for line in pbx.cli("bridge show all").splitlines()[1:]
            ):
                await asyncio.sleep(0.2)
        bridged = time.monotonic()
        on_hold = caller.level(answered, bridged)
        await asyncio.sleep(3.0)
        staff_heard = caller.level(bridged + 0.5, bridged + 3.0)
    assert staff.answered, staff.said
    assert bridged - answered > 4.0  # the summary (about 7 s of speech) came first
    assert on_hold > 300, f"hold music while staff listened: {on_hold:.0f}"
    assert staff_heard > 300, f"the caller heard {staff_heard:.0f} from staff"
    assert visits == [[]]


@pytest.fixture
async def queue_rig(pbx: AsteriskSandbox, pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    """The agent puts every caller through to the front desk's queue."""
    await seed(pool, load_hotel_config(ROOT / "config" / "hotel.yaml"), horizon_days=2)
    visits: list[list[str]] = []

    def conversation(arrival: Arrival) -> Conversation:
        return Scripted(list(arrival.path), visits, destination="queue-front-desk")

    async with running_app(pbx, pool, conversation, (42140, 42159)) as run:
        yield Rig(pbx, run.app, pool, visits, run.seen)


async def _left_stasis(rig: Rig, timeout: float = 30) -> tuple[float, StasisEnd]:
    """When (our clock) the caller's channel left Stasis for the dialplan, and its event."""
    async with asyncio.timeout(timeout):
        while True:
            for event in rig.seen:
                if isinstance(event, StasisEnd) and event.channel.technology == "PJSIP":
                    return time.monotonic(), event
            await asyncio.sleep(0.02)


async def _queue_wait(rig: Rig, channel_id: str) -> int:
    async with asyncio.timeout(10):
        while True:
            wait = await rig.pool.fetchval(
                "SELECT queue_wait_ms FROM calls WHERE channel_id = $1", channel_id
            )
            if wait is not None:
                return int(wait)
            await asyncio.sleep(0.05)


async def test_the_wait_in_the_front_desk_queue_is_stored_until_a_person_answers(
    queue_rig: Rig,
) -> None:
    # The agent puts the caller through to the front desk's queue; desk phone 2001 rings 3 s
    # before it answers. The caller has left Stasis, but the row gets the wait.
    rig = queue_rig
    async with (
        staff_phone(rig.pbx, "2001", "staff_answers_late.xml") as desk,
        calling(rig.pbx, ECHO_NUMBER, wait_for_audio=False),
    ):
        left, event = await _left_stasis(rig)
        assert await desk.picks_up(rig.pbx)
        measured = (time.monotonic() - left) * 1000
        await asyncio.sleep(1.0)
    assert desk.answered, desk.said
    wait = await _queue_wait(rig, event.channel.id)
    assert wait >= 3000  # at least the ringing
    assert abs(wait - measured) < 1000, (wait, measured)


async def test_the_wait_of_a_caller_who_hangs_up_in_the_queue_is_stored(
    queue_rig: Rig,
) -> None:
    rig = queue_rig
    async with calling(rig.pbx, ECHO_NUMBER, wait_for_audio=False):
        left, event = await _left_stasis(rig)
        await asyncio.sleep(4.0)  # holding on, nobody at the desk
        hung_up = time.monotonic()
        await asyncio.to_thread(rig.pbx.cli, f"channel request hangup {event.channel.name}")
    measured = (hung_up - left) * 1000
    wait = await _queue_wait(rig, event.channel.id)
    assert abs(wait - measured) < 1000, (wait, measured)
    row = await rig.pool.fetchrow(
        "SELECT end_reason, transferred_to FROM calls WHERE channel_id = $1", event.channel.id
    )
    assert row["end_reason"] == "transferred"
    assert row["transferred_to"] == "frontdesk-departments,queue-front-desk"


async def test_a_caller_waiting_in_the_queue_is_listed_in_our_app_and_left_there_on_reconnect(
    queue_rig: Rig,
) -> None:
    # Subscribed to, the waiting caller is listed in our ARI app (as tests/fakes/ari.py
    # replays), out in the dialplan's Queue(); re-adopting after the events socket comes
    # back leaves them there.
    rig = queue_rig
    async with calling(rig.pbx, ECHO_NUMBER, wait_for_audio=False):
        left, event = await _left_stasis(rig)
        await asyncio.sleep(1.5)
        listed = (await rig.app.client.application()).channel_ids
        channel = await rig.app.client.get_channel(event.channel.id)
        await rig.app.on_connected(True)
        await asyncio.sleep(2.0)
        channels = await asyncio.to_thread(rig.pbx.cli, "core show channels concise")
        hung_up = time.monotonic()
        await asyncio.to_thread(rig.pbx.cli, f"channel request hangup {event.channel.name}")
    assert event.channel.id in listed and channel.dialplan.app_name == "Queue"
    where = [
        line.split("!") for line in channels.splitlines() if line.startswith(event.channel.name)
    ]
    assert where and where[0][5] == "Queue", channels  # still holding in the queue
    wait = await _queue_wait(rig, event.channel.id)
    assert abs(wait - (hung_up - left) * 1000) < 1000, wait
