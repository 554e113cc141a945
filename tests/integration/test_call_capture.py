"""What the analytics read, captured as a call arrives: after hours (from the property's
hours in hotel.yaml) and the IVR wait (from the dialplan's mark), through the controller
(recorded ARI, FakeAri) into a real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from app.calls.call_log import CallLog
from app.calls.conversation import CallIO
from app.calls.session import CallSession
from app.calls.write_behind import WriteBehind
from app.hotel.config import BusinessHours, HotelConfig, load_hotel_config
from app.main import build_telephony
from app.settings import load_settings
from app.storage.calls_repo import CallRepository
from app.storage.errors import is_transient
from app.storage.seed import seed
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.controller import ConversationFactory, StasisApp
from app.telephony.ivr_wait import MENU_START
from tests.fakes.ari import RECORDED, FakeAri

ROOT = Path(__file__).resolve().parents[2]
CLOSED = BusinessHours()  # [] every day: nobody at the desk
ALWAYS = BusinessHours(
    **{d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
)


def _with_hours(hotel: HotelConfig, hours: BusinessHours) -> HotelConfig:
    props = [
        p.model_copy(update={"business_hours": hours}) if p.id == "harborview" else p
        for p in hotel.properties
    ]
    return hotel.model_copy(update={"properties": props})


@dataclass
class Rig:
    fake: FakeAri
    app: StasisApp
    pool: asyncpg.Pool


@pytest.fixture
async def hotel(pool: asyncpg.Pool) -> HotelConfig:
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    await seed(pool, hotel, horizon_days=2)
    return hotel


class Goodbye:
    """A stand-in for the agent that says goodbye at once (the end_call tool's hang-up)."""

    def prepare(self, session: CallSession) -> None:
        pass

    async def run(self, io: CallIO, session: CallSession) -> None:
        await io.hangup("agent_goodbye")

    def on_dtmf(self, digit: str) -> None:
        pass

    async def discard(self) -> None:
        pass


def _with_survey(hotel: HotelConfig) -> HotelConfig:
    props = [
        p.model_copy(update={"end_of_call_survey": True}) if p.id == "harborview" else p
        for p in hotel.properties
    ]
    return hotel.model_copy(update={"properties": props})


@contextlib.asynccontextmanager
async def _rig(
    pool: asyncpg.Pool, hotel: HotelConfig, conversations: ConversationFactory | None = None
) -> AsyncIterator[Rig]:
    fake = FakeAri(rtp_address=("127.0.0.1", 9))
    url = await fake.start()
    settings = load_settings(asterisk_ari_url=url, asterisk_ari_password="secret")
    http = aiohttp.ClientSession()
    client = AriClient(http, url, "frontdesk", "secret")
    writes = WriteBehind(is_transient)
    app = build_telephony(
        settings, hotel, client, CallLog(CallRepository(pool), writes), conversations=conversations
    )
    events = EventStream(http, client, app.deliver, app.on_connected, backoff_min=0.05)
    tasks = [asyncio.create_task(writes.run()), asyncio.create_task(events.run())]
    await asyncio.wait_for(events.connected.wait(), 5)
    try:
        yield Rig(fake, app, pool)
    finally:
        await app.stop(drain_seconds=0)
        await writes.drain(5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.close()
        await fake.stop()


async def _row(pool: asyncpg.Pool, channel: str) -> asyncpg.Record:
    async with asyncio.timeout(5):
        while (
            row := await pool.fetchrow("SELECT * FROM calls WHERE channel_id = $1", channel)
        ) is None:
            await asyncio.sleep(0.02)
    return row


@pytest.mark.parametrize(("hours", "expected"), [(CLOSED, True), (ALWAYS, False)])
async def test_a_call_outside_the_propertys_hours_is_stored_after_hours(
    pool: asyncpg.Pool, hotel: HotelConfig, hours: BusinessHours, expected: bool
) -> None:
    async with _rig(pool, _with_hours(hotel, hours)) as rig:
        call = await rig.fake.incoming_call(["echo"], exten="+15550100100")
        row = await _row(pool, call.caller_id)
        assert row["property_id"] == "harborview"
        assert row["after_hours"] is expected


async def test_the_menus_wait_is_stored_from_the_dialplans_mark(
    pool: asyncpg.Pool, hotel: HotelConfig
) -> None:
    reached = dt.datetime.strptime(RECORDED.stasis_start["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    mark = f"{reached.timestamp() - 12.25:.3f}"  # the menu started 12.25 s before Stasis
    async with _rig(pool, hotel) as rig:
        menu = await rig.fake.incoming_call(
            ["agent", "menu"], exten="+15550100100", channelvars={MENU_START: mark}
        )
        direct = await rig.fake.incoming_call(["echo"], exten="+15550100100", channelvars={})
        menu_row, direct_row = await _row(pool, menu.caller_id), await _row(pool, direct.caller_id)
    assert menu_row["ivr_wait_ms"] == 12250 and menu_row["ivr_path"] == ["menu"]
    assert direct_row["ivr_wait_ms"] is None  # never in the menu


async def test_a_caller_back_from_a_department_keeps_the_first_wait_only(
    pool: asyncpg.Pool, hotel: HotelConfig
) -> None:
    reached = dt.datetime.strptime(RECORDED.stasis_start["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    mark = f"{reached.timestamp() - 3:.3f}"
    async with _rig(pool, hotel) as rig:
        back = await rig.fake.incoming_call(
            ["agent", "unanswered", "3100", "harborview"],
            exten="+15550100100",
            channelvars={MENU_START: mark},  # still on the channel from its first visit
        )
        row = await _row(pool, back.caller_id)
    assert row["ivr_wait_ms"] is None


async def _ended(pool: asyncpg.Pool, channel: str) -> asyncpg.Record:
    async with asyncio.timeout(5):
        while (row := await _row(pool, channel))["state"] != "ended":
            await asyncio.sleep(0.02)
    return row


def _deleted(fake: FakeAri, channel: str) -> bool:
    return ("DELETE", f"/channels/{channel}") in [(m, p) for m, p, _ in fake.requests]


async def test_after_the_goodbye_the_caller_is_asked_and_their_key_is_stored(
    pool: asyncpg.Pool, hotel: HotelConfig
) -> None:
    async with _rig(pool, _with_survey(hotel), lambda arrival: Goodbye()) as rig:
        call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
        await _until(lambda: rig.fake.continued_to == ("frontdesk-survey", "s"))
        assert not _deleted(rig.fake, call.caller_id)  # not hung up: being asked
        row = await _ended(pool, call.caller_id)
        assert row["end_reason"] == "agent_goodbye" and row["survey_score"] is None
        estimated = row["satisfaction"]
        assert estimated is not None  # the estimate, until the caller answers

        await rig.fake.returns(call, ["survey", "4"])  # Read() got a 4: back into Stasis
        await _until(lambda: _deleted(rig.fake, call.caller_id))  # stored, then hung up
        async with asyncio.timeout(5):
            while (await _row(pool, call.caller_id))["survey_score"] is None:
                await asyncio.sleep(0.02)
        row = await _row(pool, call.caller_id)
    assert row["survey_score"] == 4 and row["satisfaction"] == 4.0


@pytest.mark.parametrize("key", ["7", "0", "*", ""])
async def test_a_key_outside_1_to_5_is_not_stored_and_the_call_just_ends(
    pool: asyncpg.Pool, hotel: HotelConfig, key: str
) -> None:
    async with _rig(pool, _with_survey(hotel), lambda arrival: Goodbye()) as rig:
        call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
        await _until(lambda: rig.fake.continued_to == ("frontdesk-survey", "s"))
        before = await _ended(pool, call.caller_id)
        await rig.fake.returns(call, ["survey", key])
        await _until(lambda: _deleted(rig.fake, call.caller_id))
        await asyncio.sleep(0.2)  # a write, had there been one, is done by now
        row = await _row(pool, call.caller_id)
    assert row["survey_score"] is None and row["satisfaction"] == before["satisfaction"]


async def test_without_the_survey_the_goodbye_hangs_up(
    pool: asyncpg.Pool, hotel: HotelConfig
) -> None:
    async with _rig(pool, hotel, lambda arrival: Goodbye()) as rig:  # hotel.yaml: off
        call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
        await _until(lambda: _deleted(rig.fake, call.caller_id))
        row = await _ended(pool, call.caller_id)
        assert rig.fake.continued_to == (None, None)
    assert row["end_reason"] == "agent_goodbye" and row["survey_score"] is None


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


class PutThrough:
    """A stand-in for the agent that puts the caller through to `extension` at once."""

    def __init__(self, extension: str) -> None:
        self.extension = extension

    def prepare(self, session: CallSession) -> None:
        pass

    async def run(self, io: CallIO, session: CallSession) -> None:
        await io.transfer("frontdesk-departments", self.extension)

    def on_dtmf(self, digit: str) -> None:
        pass

    async def discard(self) -> None:
        pass


def _recorded_wait(ending: str) -> int:
    """From the recording itself: the caller's StasisEnd to Queue()'s QUEUEWAIT_MS."""
    events, _ = RECORDED.queue[ending]
    instant = lambda e: dt.datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")  # noqa: E731
    left = next(e for e in events if e["type"] == "StasisEnd")
    waited = next(e for e in events if e.get("variable") == "QUEUEWAIT_MS" and e.get("value"))
    return round((instant(waited) - instant(left)).total_seconds() * 1000)


async def _queue_wait(pool: asyncpg.Pool, channel: str) -> int:
    async with asyncio.timeout(5):
        while (wait := (await _row(pool, channel))["queue_wait_ms"]) is None:
            await asyncio.sleep(0.02)
    return int(wait)


@pytest.mark.parametrize(
    ("ending", "at_least_ms"),
    [("answered", 3000), ("hangs_up", 2500)],  # the phone rang 3 s; the caller held on 3 s
    ids=["a-person-answers", "the-caller-hangs-up-in-the-queue"],
)
async def test_a_callers_wait_in_the_queue_is_stored_after_the_call_left_the_app(
    pool: asyncpg.Pool, hotel: HotelConfig, ending: str, at_least_ms: int
) -> None:
    async with _rig(pool, hotel, lambda arrival: PutThrough("queue-front-desk")) as rig:
        rig.fake.queue_ending = ending
        call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
        row = await _ended(pool, call.caller_id)
        assert row["end_reason"] == "transferred"  # ended when the caller left for the queue
        wait = await _queue_wait(pool, call.caller_id)
    assert call.caller_id in rig.fake.subscriptions
    assert wait == _recorded_wait(ending)
    assert at_least_ms <= wait < 30_000


async def test_a_caller_put_through_to_a_phone_has_no_queue_wait(
    pool: asyncpg.Pool, hotel: HotelConfig
) -> None:
    async with _rig(pool, hotel, lambda arrival: PutThrough("3100")) as rig:
        call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
        row = await _ended(pool, call.caller_id)
        await asyncio.sleep(0.3)  # a write, had there been one, is done by now
        row = await _row(pool, call.caller_id)
    assert rig.fake.continued_to == ("frontdesk-departments", "3100")
    assert row["end_reason"] == "transferred" and row["queue_wait_ms"] is None
    assert not rig.fake.subscriptions  # never in a queue: nothing to hear


async def test_a_reconnect_leaves_a_caller_waiting_in_the_queue_where_they_are(
    pool: asyncpg.Pool, hotel: HotelConfig
) -> None:
    # Subscribed to, a caller waiting in the queue is listed in our ARI app (recorded): the
    # re-adoption after a reconnect must not take them for stranded and move them on.
    async with _rig(pool, hotel, lambda arrival: PutThrough("queue-front-desk")) as rig:
        rig.fake.queue_ending = "waiting"
        call = await rig.fake.incoming_call(["agent"], exten="+15550100100")
        await _ended(pool, call.caller_id)
        await _until(lambda: call.in_queue)
        continues = lambda: [  # noqa: E731
            p for m, p, _ in rig.fake.requests if m == "POST" and p.endswith("/continue")
        ]
        assert len(continues()) == 1  # the transfer itself
        await rig.app.on_connected(True)
        looked = [p for m, p, _ in rig.fake.requests if m == "GET"]
    assert f"/channels/{call.caller_id}" in looked  # it was considered, and left alone
    assert len(continues()) == 1
