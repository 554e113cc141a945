"""What the analytics read, captured as a call arrives: after hours (from the property's
hours in hotel.yaml) and the IVR wait (from the dialplan's mark), through the controller
(recorded ARI, FakeAri) into a real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from app.calls.call_log import CallLog
from app.calls.write_behind import WriteBehind
from app.hotel.config import BusinessHours, HotelConfig, load_hotel_config
from app.main import build_telephony
from app.settings import load_settings
from app.storage.calls_repo import CallRepository
from app.storage.errors import is_transient
from app.storage.seed import seed
from app.telephony.ari.client import AriClient
from app.telephony.ari.events import EventStream
from app.telephony.controller import StasisApp
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


@contextlib.asynccontextmanager
async def _rig(pool: asyncpg.Pool, hotel: HotelConfig) -> AsyncIterator[Rig]:
    fake = FakeAri(rtp_address=("127.0.0.1", 9))
    url = await fake.start()
    settings = load_settings(asterisk_ari_url=url, asterisk_ari_password="secret")
    http = aiohttp.ClientSession()
    client = AriClient(http, url, "frontdesk", "secret")
    writes = WriteBehind(is_transient)
    app = build_telephony(settings, hotel, client, CallLog(CallRepository(pool), writes))
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
