"""The destination policy in the running product, against a real PostgreSQL: the agent's
tools as `frontdesk run` wires them (app.main.build_tools), the caps counted from the SMS
outbox and the callbacks table, and the scheduler's last check before it dials."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from structlog.testing import capture_logs

from app.calls.callbacks import CallbackScheduler
from app.hotel.callbacks import DueCallback, NewCallback
from app.hotel.config import load_hotel_config
from app.hotel.destinations import DestinationPolicy, DestinationRules
from app.hotel.errors import ToolError
from app.hotel.tools.registry import ToolContext, ToolRegistry
from app.main import build_destinations, build_tools, destination_rules
from app.settings import Settings, load_settings
from app.storage.callbacks_repo import CallbackRepository
from app.storage.seed import seed
from app.storage.sms_repo import SmsRepository

ROOT = Path(__file__).resolve().parents[2]
HOTEL = load_hotel_config(ROOT / "config" / "hotel.yaml")
PROP = HOTEL.get_property("harborview")
CALLER = "+14155550134"
OTHER = "+14155550177"


def _settings(**overrides: Any) -> Settings:
    return load_settings(payment_link_secret="0123456789abcdef0123456789abcdef", **overrides)


class Product:
    """The tools as the running product builds them, for one set of settings."""

    def __init__(self, pool: asyncpg.Pool, http: aiohttp.ClientSession, settings: Settings):
        self.policy = build_destinations(destination_rules(settings), HOTEL, pool)
        self.tools: ToolRegistry = build_tools(pool, None, self.policy, settings, http)

    async def callback(self, call: uuid.UUID | None, phone: str | None = None) -> Any:
        now = dt.datetime.now(dt.UTC)
        when = (now + dt.timedelta(days=1)).astimezone(PROP.zone).replace(tzinfo=None)
        args = {"when": when.isoformat(timespec="minutes"), "reason": "a question"}
        if phone is not None:
            args["phone"] = phone
        return await self.tools.invoke("schedule_callback", args, _ctx(call))

    async def book(self, call: uuid.UUID | None) -> str:
        check_in = dt.datetime.now(PROP.zone).date() + dt.timedelta(days=7)
        result = await self.tools.invoke(
            "create_reservation",
            {"check_in": check_in.isoformat(), "nights": 1, "adults": 2, "room_type": "king",
             "guest_name": "Ada Lovelace"},
            _ctx(call),
        )  # fmt: skip
        return str(result.output["confirmation_code"])

    async def payment_link(
        self, call: uuid.UUID | None, code: str, phone: str | None = None
    ) -> Any:
        args = {"confirmation_code": code}
        if phone is not None:
            args["phone"] = phone
        return await self.tools.invoke("generate_payment_link", args, _ctx(call))


def _ctx(call: uuid.UUID | None) -> ToolContext:
    return ToolContext(PROP, call, CALLER, dt.datetime.now(dt.UTC))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def seeded(pool: asyncpg.Pool) -> asyncpg.Pool:
    await seed(pool, HOTEL, horizon_days=20)
    return pool


async def _counts(pool: asyncpg.Pool) -> tuple[int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM callbacks"),
        await pool.fetchval("SELECT count(*) FROM sms_messages"),
    )


@pytest.mark.parametrize(
    ("phone", "spoken"),
    [
        ("+1 876 555 0123", "I'm sorry, I can't call that number: we can only reach numbers "
                            "in the United States"),  # Jamaica, inside +1
        ("+44 20 7946 0000", "we can only reach numbers in the United States"),
        ("1-900-234-5678", "we don't reach premium-rate or special service numbers"),
        ("(212) 976-1234", "I'm sorry, I can't call that number from here"),  # NXX-976
    ],
)  # fmt: skip
async def test_the_agent_says_it_cannot_call_a_refused_number_and_nothing_is_stored(
    seeded: asyncpg.Pool, http: aiohttp.ClientSession, phone: str, spoken: str
) -> None:
    product = Product(seeded, http, _settings())
    with capture_logs() as logs, pytest.raises(ToolError) as refused:
        await product.callback(uuid.uuid4(), phone)
    assert spoken in str(refused.value)
    assert await _counts(seeded) == (0, 0)
    [entry] = [e for e in logs if e["event"] == "destination refused"]
    assert entry["number"].startswith("+*******") and entry["kind"] == "call"


async def test_the_agent_says_it_cannot_text_a_refused_number_and_nothing_is_queued(
    seeded: asyncpg.Pool, http: aiohttp.ClientSession
) -> None:
    product = Product(seeded, http, _settings())
    code = await product.book(None)
    with pytest.raises(ToolError, match="I'm sorry, I can't text that number"):
        await product.payment_link(None, code, "+1 900 234 5678")
    with pytest.raises(ToolError, match="can't text that number: we can only reach"):
        await product.payment_link(None, code, "+1 809 234 5678")  # the Dominican Republic
    assert await _counts(seeded) == (0, 0)
    assert await seeded.fetchval("SELECT count(*) FROM payment_links") == 0  # none left behind
    await product.payment_link(None, code)  # the guest's own number: sent
    assert await _counts(seeded) == (0, 1)


async def test_an_allowed_country_is_reached(
    seeded: asyncpg.Pool, http: aiohttp.ClientSession
) -> None:
    product = Product(seeded, http, _settings(destination_countries="GB"))
    result = await product.callback(None, "+44 20 7946 0000")
    assert "ending 0 0 0 0" in result.output["summary"]
    assert await seeded.fetchval("SELECT phone_e164 FROM callbacks") == "+442079460000"


async def test_one_call_can_send_and_arrange_only_so_much(
    seeded: asyncpg.Pool, http: aiohttp.ClientSession
) -> None:
    product = Product(seeded, http, _settings(destination_max_per_call=2))
    call = uuid.uuid4()
    code = await product.book(call)
    await product.payment_link(call, code)  # 1: a text
    await product.callback(call, OTHER)  # 2: a callback, to another number
    with pytest.raises(ToolError, match="as many messages and arranged as many calls as I can"):
        await product.callback(call, "+14155550188")  # 3: a third number, same call
    assert await _counts(seeded) == (1, 1)
    # The cap is per call: the next caller is not held to it.
    await product.callback(uuid.uuid4(), "+14155550188")
    assert await _counts(seeded) == (2, 1)


async def test_one_number_is_reached_only_so_often_a_day_across_calls_and_restarts(
    seeded: asyncpg.Pool, http: aiohttp.ClientSession
) -> None:
    settings = _settings(destination_max_per_number_day=2)
    first = Product(seeded, http, settings)
    code = await first.book(None)
    await first.payment_link(uuid.uuid4(), code, OTHER)  # call 1 texts OTHER
    await first.callback(uuid.uuid4(), OTHER)  # call 2 arranges a callback to OTHER
    restarted = Product(seeded, http, settings)  # a new process: only the database remembers
    with pytest.raises(ToolError, match="already been in touch with that number"):
        await restarted.callback(uuid.uuid4(), OTHER)
    with pytest.raises(ToolError, match="already been in touch with that number"):
        await restarted.payment_link(uuid.uuid4(), code, "(415) 555-0177")
    assert await _counts(seeded) == (1, 1)
    await restarted.callback(uuid.uuid4(), CALLER)  # another number is not held to it
    # A day later the earlier ones no longer count.
    await seeded.execute("UPDATE callbacks SET created_at = now() - interval '25 hours'")
    await seeded.execute("UPDATE sms_messages SET created_at = now() - interval '25 hours'")
    await restarted.callback(uuid.uuid4(), OTHER)
    assert await _counts(seeded) == (3, 1)


async def test_texts_received_from_a_number_do_not_count_against_it(
    seeded: asyncpg.Pool, http: aiohttp.ClientSession
) -> None:
    product = Product(seeded, http, _settings(destination_max_per_number_day=1))
    await SmsRepository(seeded).inbound("harborview", OTHER, PROP.phone, "hello", "SM" + "2" * 32)
    await product.callback(None, OTHER)
    assert await _counts(seeded) == (1, 1)


class Dialer:
    def __init__(self) -> None:
        self.dialled: list[DueCallback] = []

    async def dial(self, callback: DueCallback) -> None:
        self.dialled.append(callback)


async def test_the_scheduler_never_dials_a_number_the_policy_refuses(
    seeded: asyncpg.Pool,
) -> None:
    # Stored before the rules changed (or by anything that skipped the tools): the scheduler
    # checks again and gives up on it for good, without dialling.
    repo = CallbackRepository(seeded)
    now = dt.datetime.now(dt.UTC)
    refused = await repo.add(NewCallback("harborview", "+18762345678", now, "x"))
    allowed = await repo.add(NewCallback("harborview", CALLER, now, "y"))
    policy = DestinationPolicy(
        destination_rules(load_settings()), _no_usage(), {"harborview": "US"}
    )
    dialer = Dialer()
    scheduler = CallbackScheduler(
        repo, dialer, lambda due: policy.screen(due.phone_e164, due.property_id, "call")
    )
    assert await scheduler.run_once() == 2
    assert [c.id for c in dialer.dialled] == [allowed]
    row = await seeded.fetchrow("SELECT * FROM callbacks WHERE id = $1", refused)
    assert row["status"] == "failed" and row["last_error"] == "refused: country"
    assert await scheduler.run_once(now + dt.timedelta(days=1)) == 0  # never tried again


def _no_usage() -> Any:
    class NoUsage:
        async def usage(self, *_: object) -> Any:
            raise AssertionError("the scheduler's screen does not count caps")

    return NoUsage()


def test_rules_come_from_the_settings_and_the_dialplan() -> None:
    rules = destination_rules(
        load_settings(
            destination_countries="CA",
            destination_max_per_call=4,
            destination_max_per_number_day=9,
        )
    )
    assert rules.also_allowed == {"CA"} and rules.per_call == 4 and rules.per_number_day == 9
    assert rules.blocked_prefixes and "1900" in rules.blocked_prefixes[0]
    assert isinstance(rules, DestinationRules)
