"""The offline dialog wired to the real hotel tools, as the engine and the agent wire them:
each reply's tool call runs against PostgreSQL and its result goes back to the dialog."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import asyncpg

from app.engines.local.dialog import DialogManager, Reply
from app.hotel.config import load_hotel_config
from app.hotel.errors import ToolError
from app.hotel.payments import OfflinePaymentProvider
from app.hotel.tools.booking_tools import BookingTools
from app.hotel.tools.call_tools import call_tools
from app.hotel.tools.callback_tools import CallbackTools
from app.hotel.tools.payment_tools import PaymentTools
from app.hotel.tools.registry import ToolContext, ToolRegistry
from app.storage.booking_repo import BookingRepository
from app.storage.callbacks_repo import CallbackRepository
from app.storage.payments_repo import PaymentRepository
from app.storage.seed import seed
from app.storage.sms_repo import SmsRepository

ROOT = Path(__file__).resolve().parents[2]
HOTEL = load_hotel_config(ROOT / "config" / "hotel.yaml")
PROP = HOTEL.get_property("harborview")
NOW = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 1)  # a Tuesday at the hotel
CALLER = "+14155550134"


class Conversation:
    """The dialog and the registry, wired as the engine and the agent wire them."""

    def __init__(self, tools: ToolRegistry, language: str = "en") -> None:
        self.dialog = DialogManager(PROP, TODAY, language=language)
        self.dialog.tools = set(tools.names())  # as the engine learns them from session.update
        self.tools = tools
        self.heard: list[str] = []  # every agent turn, tool results as turns of their own
        self.replies: list[Reply] = []  # the dialog's replies to the caller's words
        self.spoken: list[Reply] = []  # every reply, tool results' too, as `heard`
        self.last: Reply | None = None  # the last thing said (a tool's answer, if one ran)
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (tool, args, output)

    async def say(self, words: str) -> str:
        reply = self.dialog.reply(words)
        self.replies.append(reply)
        self.spoken.append(reply)
        self.heard.append(reply.text)
        spoken = [reply.text]
        while reply.call is not None:
            try:
                result = await self.tools.invoke(
                    reply.call.name,
                    json.loads(json.dumps(reply.call.arguments)),  # over the wire as JSON
                    ToolContext(PROP, None, CALLER, NOW),
                )
                output: dict[str, Any] = result.output
            except ToolError as exc:
                output = {"error": str(exc)}
            self.calls.append((reply.call.name, reply.call.arguments, output))
            reply = self.dialog.tool_result(reply.call.name, output)
            self.spoken.append(reply)
            self.heard.append(reply.text)
            spoken.append(reply.text)
        self.last = reply
        return " ".join(spoken)


async def hotel_tools(
    pool: asyncpg.Pool, callbacks: bool = False, seeded: bool = True
) -> ToolRegistry:
    """The tools a call has, on a freshly seeded hotel (with schedule_callback if asked)."""
    if seeded:
        await seed(pool, HOTEL, horizon_days=60, now=NOW)
    payments = PaymentTools(
        PaymentRepository(pool), OfflinePaymentProvider(b"k" * 32), SmsRepository(pool)
    )
    tools = [*BookingTools(BookingRepository(pool)).tools(), *payments.tools(), *call_tools()]
    if callbacks:
        tools += CallbackTools(CallbackRepository(pool)).tools()
    return ToolRegistry(tools)
