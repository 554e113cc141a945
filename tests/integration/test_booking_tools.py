"""The booking tools against a real PostgreSQL seeded from the demo hotel.yaml.

Dates are fixed: "today" at the Harborview (America/Los_Angeles) is Tuesday 1 December 2026.
The Harbor King costs 189 a night, 229 on Friday and Saturday nights, and 259/299 with a
two-night minimum over the holidays (20 December – 2 January).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from app.hotel.booking import Guest, Stay
from app.hotel.config import load_hotel_config
from app.hotel.errors import SoldOut, ToolError
from app.hotel.tools.booking_tools import BookingTools
from app.hotel.tools.call_tools import call_tools
from app.hotel.tools.registry import (
    Hangup,
    ToolContext,
    ToolInvocation,
    ToolRegistry,
    Transfer,
)
from app.storage.booking_repo import CODE_ALPHABET, BookingRepository
from app.storage.seed import seed
from app.storage.tools_repo import ToolInvocationRepository

ROOT = Path(__file__).resolve().parents[2]
HOTEL = load_hotel_config(ROOT / "config" / "hotel.yaml")
NOW = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)  # noon in San Francisco, a Tuesday
CALLER = "+14155550134"


class Collected:
    def __init__(self) -> None:
        self.invocations: list[ToolInvocation] = []

    def record(self, invocation: ToolInvocation) -> None:
        self.invocations.append(invocation)


@pytest.fixture
async def registry(pool: asyncpg.Pool) -> tuple[ToolRegistry, Collected]:
    await seed(pool, HOTEL, horizon_days=60, now=NOW)
    collected = Collected()
    booking = BookingTools(BookingRepository(pool))
    return ToolRegistry([*booking.tools(), *call_tools()], collected), collected


def ctx(caller: str | None = CALLER, call_id: uuid.UUID | None = None) -> ToolContext:
    return ToolContext(HOTEL.get_property("harborview"), call_id, caller, NOW)


def stay(check_in: str, nights: int = 2, adults: int = 2, **extra: Any) -> dict[str, Any]:
    return {"check_in": check_in, "nights": nights, "adults": adults, **extra}


async def _inventory(pool: asyncpg.Pool, code: str, day: str) -> tuple[int, int, int]:
    row = await pool.fetchrow(
        """SELECT i.total, i.held, i.booked FROM inventory i
           JOIN room_types rt ON rt.id = i.room_type_id
           WHERE rt.property_id = 'harborview' AND rt.code = $1 AND i.stay_date = $2""",
        code,
        dt.date.fromisoformat(day),
    )
    assert row is not None
    return row["total"], row["held"], row["booked"]


def _option(result: dict[str, Any], code: str) -> dict[str, Any]:
    [option] = [o for o in result["options"] if o["room_type"] == code]
    return option


async def test_quote_prices_each_night_weekday_and_weekend(
    registry: tuple[ToolRegistry, Collected],
) -> None:
    tools, _ = registry
    midweek = (await tools.invoke("check_availability", stay("2026-12-08"), ctx())).output
    assert _option(midweek, "king")["nightly_prices"] == ["189.00", "189.00"]
    assert _option(midweek, "king")["total"] == "378.00"
    # Thursday, Friday, Saturday nights: one weekday and two weekend nights.
    spanning = (
        await tools.invoke(
            "check_availability", stay("2026-12-10", nights=3, room_type="Harbor King"), ctx()
        )
    ).output
    assert [o["room_type"] for o in spanning["options"]] == ["king"]
    assert _option(spanning, "king")["nightly_prices"] == ["189.00", "229.00", "229.00"]
    assert _option(spanning, "king")["total"] == "647.00"
    assert spanning["check_out"] == "2026-12-13"
    summary = spanning["summary"]
    assert "three nights from Thursday, December 10th to Sunday, December 13th" in summary
    assert "647 dollars in total" in summary


async def test_quote_lists_only_rooms_the_party_fits_cheapest_first(
    registry: tuple[ToolRegistry, Collected],
) -> None:
    tools, _ = registry
    family = (
        await tools.invoke("check_availability", stay("2026-12-08", adults=2, children=2), ctx())
    ).output
    codes = [o["room_type"] for o in family["options"]]
    assert "king" not in codes  # three guests at most
    assert codes[0] == "double-queen"
    totals = [float(o["total"]) for o in family["options"] if o["bookable"]]
    assert totals == sorted(totals)


async def test_season_minimum_stay_is_explained_and_enforced(
    registry: tuple[ToolRegistry, Collected], pool: asyncpg.Pool
) -> None:
    tools, _ = registry
    one_night = (
        await tools.invoke("check_availability", stay("2026-12-21", nights=1), ctx())
    ).output
    king = _option(one_night, "king")
    assert king["bookable"] is False and king["minimum_nights"] == 2
    assert king["nightly_prices"] == ["259.00"]
    assert "needs at least two nights" in one_night["summary"]
    with pytest.raises(ToolError, match="at least two nights"):
        await tools.invoke(
            "create_reservation",
            stay("2026-12-21", nights=1, room_type="king", guest_name="Ada Lovelace"),
            ctx(),
        )
    assert await pool.fetchval("SELECT count(*) FROM reservations") == 0


@pytest.mark.parametrize(
    ("arguments", "spoken"),
    [
        (stay("2026-11-30"), "already passed"),
        ({"check_in": "2026-12-08", "check_out": "2026-12-07", "adults": 2}, "after the check-in"),
        ({"check_in": "2026-12-08", "check_out": "2026-12-08", "adults": 2}, "after the check-in"),
        (stay("2026-12-08", adults=9), "would need more than one room"),
        (stay("2026-12-08", adults=4, room_type="king"), "takes up to 2 adults"),
        (stay("2026-12-08", room_type="penthouse"), "We don't have a room called penthouse"),
        (stay("2026-12-08", nights=0), "nights"),
        ({"check_in": "next tuesday", "nights": 2, "adults": 2}, "check in"),
        ({"check_in": "2026-12-08", "adults": 2}, "how many nights"),
    ],
)
async def test_bad_requests_get_a_spoken_error_and_write_nothing(
    registry: tuple[ToolRegistry, Collected],
    pool: asyncpg.Pool,
    arguments: dict[str, Any],
    spoken: str,
) -> None:
    tools, collected = registry
    before = await pool.fetchval("SELECT sum(held + booked) FROM inventory")
    for name in ("check_availability", "create_reservation"):
        args = dict(arguments)
        if name == "create_reservation":
            args.setdefault("room_type", "king")
            args["guest_name"] = "Ada Lovelace"
            if arguments.get("adults") == 9:
                spoken = "takes up to 2 adults"  # a room was named: that room is too small
        with pytest.raises(ToolError, match=spoken):
            await tools.invoke(name, args, ctx())
    assert await pool.fetchval("SELECT count(*) FROM reservations") == 0
    assert await pool.fetchval("SELECT sum(held + booked) FROM inventory") == before
    assert [i.status for i in collected.invocations] == ["refused", "refused"]  # not errors


async def test_reservation_books_every_night_and_reads_the_code_back(
    registry: tuple[ToolRegistry, Collected], pool: asyncpg.Pool
) -> None:
    tools, collected = registry
    result = await tools.invoke(
        "create_reservation",
        stay("2026-12-11", room_type="king", guest_name="Ada Lovelace", email="Ada@Example.org"),
        ctx(),
    )
    code = result.output["confirmation_code"]
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert result.output["confirmation_code_spoken"] == ", ".join(code)
    assert f"Your confirmation code is {', '.join(code)}." in result.output["summary"]
    assert "458 dollars in total" in result.output["summary"]  # two weekend nights
    row = await pool.fetchrow("SELECT * FROM reservations WHERE confirmation_code = $1", code)
    assert row is not None
    assert row["status"] == "confirmed" and row["hold_expires_at"] is None
    assert row["guest_phone_e164"] == CALLER  # the number they called from
    assert row["guest_email"] == "ada@example.org"
    assert row["total_cents"] == 45800 and row["adults"] == 2
    for night in ("2026-12-11", "2026-12-12"):
        assert await _inventory(pool, "king", night) == (40, 0, 1)
    assert await _inventory(pool, "king", "2026-12-13") == (40, 0, 0)
    [invocation] = collected.invocations
    assert invocation.status == "ok" and invocation.result is not None


async def test_guest_details_are_validated(registry: tuple[ToolRegistry, Collected]) -> None:
    tools, _ = registry
    base = stay("2026-12-08", room_type="king", guest_name="Ada Lovelace")
    with pytest.raises(ToolError, match="phone number doesn't look complete"):
        await tools.invoke("create_reservation", {**base, "phone": "555 01"}, ctx())
    with pytest.raises(ToolError, match="email address doesn't look right"):
        await tools.invoke("create_reservation", {**base, "email": "ada at example"}, ctx())
    with pytest.raises(ToolError, match="phone number or an email"):
        await tools.invoke("create_reservation", base, ctx(caller=None))
    spoken = await tools.invoke(
        "create_reservation",
        {**base, "phone": "(415) 555-0199", "email": "ada at example dot org"},
        ctx(caller=None),
    )
    assert spoken.output["confirmation_code"]


async def test_parallel_bookings_for_the_last_room_exactly_one_wins(
    registry: tuple[ToolRegistry, Collected], pool: asyncpg.Pool
) -> None:
    tools, _ = registry
    await pool.execute(
        """UPDATE inventory SET total = 1 FROM room_types rt
           WHERE rt.id = inventory.room_type_id AND rt.property_id = 'harborview'
             AND rt.code = 'junior-suite'"""
    )

    async def book(n: int) -> str | ToolError:
        try:
            result = await tools.invoke(
                "create_reservation",
                stay("2026-12-14", room_type="junior-suite", guest_name=f"Guest {n}"),
                ctx(caller=f"+1415555{n:04d}"),
            )
        except ToolError as exc:
            return exc
        return str(result.output["confirmation_code"])

    outcomes = await asyncio.gather(*(book(n) for n in range(12)))
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if isinstance(o, ToolError)]
    assert len(winners) == 1 and len(losers) == 11
    assert all(isinstance(e, SoldOut) or "nothing" in str(e) for e in losers)
    assert await pool.fetchval("SELECT count(*) FROM reservations") == 1
    for night in ("2026-12-14", "2026-12-15"):
        assert await _inventory(pool, "junior-suite", night) == (1, 0, 1)
    sold_out = (
        await tools.invoke(
            "check_availability", stay("2026-12-14", room_type="junior-suite"), ctx()
        )
    ).output
    assert _option(sold_out, "junior-suite")["rooms_left"] == 0
    assert "nothing available" in sold_out["summary"]


async def test_expired_holds_give_their_rooms_back(pool: asyncpg.Pool) -> None:
    await seed(pool, HOTEL, horizon_days=60, now=NOW)
    repo = BookingRepository(pool)
    rooms = {r.code: r for r in await repo.room_types("harborview")}
    booking = await repo.hold(
        "harborview",
        rooms["king"],
        Stay(dt.date(2026, 12, 8), dt.date(2026, 12, 10), 2),
        Guest("Ada Lovelace", CALLER, None),
        37800,
        "USD",
        None,
        hold_minutes=15,
    )
    assert await _inventory(pool, "king", "2026-12-08") == (40, 1, 0)
    assert await repo.release_expired_holds(dt.datetime.now(dt.UTC)) == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    assert await repo.release_expired_holds(later) == 1
    assert await _inventory(pool, "king", "2026-12-08") == (40, 0, 0)
    with pytest.raises(SoldOut, match="expired"):
        await repo.confirm(booking.id)


async def test_lead_needs_consent_and_a_way_to_reach_the_caller(
    registry: tuple[ToolRegistry, Collected], pool: asyncpg.Pool
) -> None:
    tools, _ = registry
    wanted = {"interest": "a wedding block of 20 rooms in June", "name": "Grace Hopper"}
    with pytest.raises(ToolError, match="happy for us to contact"):
        await tools.invoke("create_lead", {**wanted, "consent_to_contact": False}, ctx())
    with pytest.raises(ToolError, match="best phone number or email"):
        await tools.invoke("create_lead", {**wanted, "consent_to_contact": True}, ctx(None))
    with pytest.raises(ToolError, match="Did you mean the Junior Suite, Bay Suite"):
        await tools.invoke(
            "create_lead", {**wanted, "consent_to_contact": True, "room_type": "suite"}, ctx()
        )
    assert await pool.fetchval("SELECT count(*) FROM leads") == 0
    result = await tools.invoke(
        "create_lead",
        {**wanted, "consent_to_contact": True, "room_type": "bay suite", "adults": 40},
        ctx(),
    )
    assert "Grace Hopper, a wedding block of 20 rooms in June" in result.output["summary"]
    assert "ending 0 1 3 4" in result.output["summary"]
    assert result.outcome == "lead"  # the call's outcome, for the analytics
    row = await pool.fetchrow("SELECT * FROM leads")
    assert row is not None
    assert row["phone_e164"] == CALLER and row["consent_to_contact"] is True
    assert row["room_type_code"] == "bay-suite"


async def test_hotel_info_transfer_and_goodbye(registry: tuple[ToolRegistry, Collected]) -> None:
    tools, _ = registry
    parking = await tools.invoke("get_hotel_info", {"topic": "where can I park my car"}, ctx())
    assert "valet" in parking.output["answer"]
    cancel = await tools.invoke("get_hotel_info", {"topic": "cancellation"}, ctx())
    assert "48 hours" in cancel.output["answer"]
    with pytest.raises(ToolError, match="front desk will know"):
        await tools.invoke("get_hotel_info", {"topic": "helicopter landing"}, ctx())
    restaurant = await tools.invoke(
        "transfer_call", {"department": "Bay Kitchen", "mode": "warm", "summary": "a table"}, ctx()
    )
    assert restaurant.action == Transfer("restaurant", warm=True, summary="a table")
    with pytest.raises(ToolError, match="I can put you through to"):
        await tools.invoke("transfer_call", {"department": "spa"}, ctx())
    bye = await tools.invoke("end_call", {}, ctx())
    assert isinstance(bye.action, Hangup)


async def test_schemas_and_invocation_history(
    registry: tuple[ToolRegistry, Collected], pool: asyncpg.Pool
) -> None:
    tools, collected = registry
    schemas = {s["name"]: s for s in tools.schemas()}
    assert set(schemas) >= {
        "check_availability",
        "create_reservation",
        "create_lead",
        "get_hotel_info",
        "transfer_call",
        "end_call",
    }
    reservation = schemas["create_reservation"]["parameters"]
    assert set(reservation["required"]) >= {"check_in", "adults", "room_type", "guest_name"}
    assert reservation["properties"]["check_in"]["format"] == "date"
    with pytest.raises(ToolError, match="can't do that here"):
        await tools.invoke("open_the_safe", {}, ctx())
    with pytest.raises(ToolError, match="went wrong on my side"):
        await tools.invoke("get_hotel_info", "{not json", ctx())
    await tools.invoke(
        "create_lead",
        {"interest": "a quote for March", "phone": "+1 415 555 0142", "consent_to_contact": True},
        ctx(),
    )
    assert tools.counts == {"open_the_safe": 1, "get_hotel_info": 1, "create_lead": 1}
    # Stored with the phone masked: tool history is for analytics, not a contact list.
    repo = ToolInvocationRepository(pool)
    for invocation in collected.invocations:
        await repo.add(invocation)
    stored = await pool.fetch("SELECT * FROM tool_invocations ORDER BY id")
    assert [r["status"] for r in stored] == ["error", "error", "ok"]
    assert "0142" in stored[2]["arguments"]["phone"]
    assert "555" not in stored[2]["arguments"]["phone"]
    assert await repo.usage("harborview") == {}  # these ran without a call row
    assert await repo.usage() == {"create_lead": 1, "get_hotel_info": 1, "open_the_safe": 1}


async def test_card_digits_in_a_lead_and_its_stored_arguments_are_masked(
    registry: tuple[ToolRegistry, Collected], pool: asyncpg.Pool
) -> None:
    # The caller was reading a card (card context, app/calls/card_guard.py) and the engine put
    # what it heard into the lead's interest, and an 8-digit "reference" as an integer.
    tools, collected = registry
    in_card_context = ToolContext(HOTEL.get_property("harborview"), None, CALLER, NOW, True)
    await tools.invoke(
        "create_lead",
        {
            "interest": "two nights in March, pays with 4539, 1488, 0343, 6468",
            "consent_to_contact": True,
            "adults": 2,
        },
        in_card_context,
    )
    interest = await pool.fetchval("SELECT interest FROM leads")
    assert interest == "two nights in March, pays with [card]"
    # Outside card context a Luhn-valid card read in groups is masked all the same.
    await tools.invoke(
        "create_lead",
        {"interest": "four five three nine 1488.0343.6467 please", "consent_to_contact": True},
        ctx(),
    )
    assert await pool.fetchval("SELECT interest FROM leads WHERE interest LIKE '%please'") == (
        "[card] please"
    )
    with pytest.raises(ToolError):  # an integer argument the tool does not know
        await tools.invoke(
            "get_hotel_info", {"topic": "pay", "reference": 45391488}, in_card_context
        )
    repo = ToolInvocationRepository(pool)
    for invocation in collected.invocations:
        await repo.add(invocation)
    stored = [
        r["arguments"] for r in await pool.fetch("SELECT * FROM tool_invocations ORDER BY id")
    ]
    assert stored[0]["interest"] == "two nights in March, pays with [card]"
    assert stored[0]["adults"] == 2
    assert stored[1]["interest"] == "[card] please"
    assert stored[2]["reference"] == "[card]"
