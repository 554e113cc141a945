"""Tools about the hotel and the call itself: hotel facts, transfer to staff, goodbye."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.hotel.config import PropertyConfig
from app.hotel.errors import ToolError
from app.hotel.faq import hotel_answer
from app.hotel.tools.registry import Hangup, Hold, Tool, ToolContext, ToolResult, Transfer


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class HotelInfoArgs(_Args):
    topic: Annotated[str, Field(min_length=2, max_length=200)] = Field(
        description="What the caller asked about, e.g. parking, pets, breakfast, directions"
    )


class TransferArgs(_Args):
    department: str = Field(description="A department key, e.g. front_desk")
    mode: Literal["blind", "warm"] = Field(
        "blind", description="warm: staff hear the summary before the caller joins"
    )
    summary: Annotated[str, Field(max_length=500)] = Field(
        "", description="One sentence for staff: who is calling and what they need"
    )


class HoldArgs(_Args):
    seconds: Annotated[int, Field(ge=5, le=120)] = Field(
        30, description="How long at most; the caller can press any key to come back sooner"
    )
    reason: Annotated[str, Field(max_length=200)] = ""


class EndCallArgs(_Args):
    reason: Annotated[str, Field(max_length=200)] = "caller finished"


def find_department(prop: PropertyConfig, wanted: str) -> str:
    key = wanted.strip().lower().replace(" ", "_").replace("-", "_")
    if key in prop.departments:
        return key
    spoken = wanted.strip().lower()
    for dep_key, department in prop.departments.items():
        if spoken and (spoken in department.name.lower() or department.name.lower() in spoken):
            return dep_key
    names = ", ".join(d.name for d in prop.departments.values())
    raise ToolError(f"I can put you through to {names}. Which would you like?")


async def get_hotel_info(args: HotelInfoArgs, context: ToolContext) -> ToolResult:
    answer = hotel_answer(context.prop, args.topic)
    if answer is None:
        raise ToolError(
            "I don't have that information to hand; the front desk will know. "
            "Shall I put you through?"
        )
    return ToolResult({"answer": answer}, outcome="info")


async def transfer_call(args: TransferArgs, context: ToolContext) -> ToolResult:
    key = find_department(context.prop, args.department)
    name = context.prop.departments[key].name
    return ToolResult(
        {"transferring_to": name, "say": f"I'll put you through to {name} now."},
        Transfer(key, warm=args.mode == "warm", summary=args.summary),
    )


async def hold_call(args: HoldArgs, context: ToolContext) -> ToolResult:
    # The agent has said "please hold" before calling this; the result comes back when the
    # hold ends (its time, or the caller's key), so the agent knows to say "thank you for
    # holding".
    return ToolResult({"held_up_to_seconds": args.seconds}, Hold(args.seconds))


async def end_call(args: EndCallArgs, context: ToolContext) -> ToolResult:
    return ToolResult({"ok": True}, Hangup())


def call_tools() -> list[Tool[Any]]:
    return [
        Tool(
            "get_hotel_info",
            "Facts about the hotel from its own file: FAQ, amenities, policies, address.",
            HotelInfoArgs,
            get_hotel_info,
        ),
        Tool(
            "transfer_call",
            "Put the caller through to a department (staff). Say so before using it.",
            TransferArgs,
            transfer_call,
        ),
        Tool(
            "hold_call",
            "Put the caller on hold with music (say so first, and that any key brings them "
            "back). The result arrives when the hold ends: by its time, or the caller's key.",
            HoldArgs,
            hold_call,
        ),
        Tool(
            "end_call",
            "Hang up after the goodbye, when the caller has nothing more.",
            EndCallArgs,
            end_call,
        ),
    ]
