"""schedule_callback: the hotel calls the guest back at a time they chose."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.hotel.callbacks import CallbackStore, NewCallback
from app.hotel.errors import ToolError
from app.hotel.spoken import last_digits, spoken_date
from app.hotel.tools.booking_tools import guest_phone
from app.hotel.tools.registry import Tool, ToolContext, ToolResult

MAX_AHEAD = dt.timedelta(days=30)


class CallbackArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    when: dt.datetime = Field(
        description="When to call, ISO 8601; without an offset it is the hotel's local time"
    )
    reason: Annotated[str, Field(min_length=3, max_length=300)] = Field(
        description="What the call back is about, in a sentence"
    )
    phone: str | None = Field(None, description="Omit to call back the number calling now")


def spoken_time(moment: dt.datetime) -> str:
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes} {'in the morning' if moment.hour < 12 else 'PM'}"


class CallbackTools:
    def __init__(self, store: CallbackStore) -> None:
        self._store = store

    def tools(self) -> list[Tool[Any]]:
        return [
            Tool(
                "schedule_callback",
                "Arrange for the hotel to phone the caller back at a time they chose.",
                CallbackArgs,
                self.schedule_callback,
            )
        ]

    async def schedule_callback(self, args: CallbackArgs, context: ToolContext) -> ToolResult:
        zone = context.prop.zone
        when = args.when if args.when.tzinfo else args.when.replace(tzinfo=zone)
        if when <= context.now + dt.timedelta(minutes=1):
            raise ToolError("That time has already passed. When would you like us to call?")
        if when > context.now + MAX_AHEAD:
            raise ToolError("I can arrange a call back within the next month. Which day suits you?")
        phone = guest_phone(args.phone, context)
        if phone is None:
            raise ToolError("What number should we call you back on?")
        await self._store.add(
            NewCallback(
                context.prop.id,
                phone,
                when.astimezone(dt.UTC),
                context.private(args.reason),  # read back to the guest, seen by staff
                context.call_id,
            )
        )
        local = when.astimezone(zone)
        today = context.now.astimezone(zone).date()
        moment = f"{spoken_date(local.date(), today)} at {spoken_time(local)}"
        return ToolResult(
            {
                "due_at": local.isoformat(),
                "summary": (
                    f"I've arranged for us to call you back {moment} on the number ending "
                    f"{last_digits(phone)}."
                ),
            },
            outcome="callback",
        )
