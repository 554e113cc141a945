"""The agent runs the engine's function calls: results back to the engine, hold music while a
slow tool works, the call's outcome noted."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from app.calls.agent import AgentConversation
from app.calls.call_log import CallLog
from app.calls.card_guard import WITHHELD
from app.calls.engine_port import FunctionCall, PastToolCall
from app.calls.live import Activity
from app.calls.records import Direction, NewCall, Outcome
from app.calls.session import CallSession
from app.calls.write_behind import WriteBehind
from app.hotel.config import load_hotel_config
from app.hotel.errors import ToolError
from app.hotel.tools.call_tools import call_tools
from app.hotel.tools.registry import Tool, ToolContext, ToolRegistry, ToolResult

ROOT = Path(__file__).resolve().parents[2]
HOTEL = load_hotel_config(ROOT / "config" / "hotel.yaml")


class NoArgs(BaseModel):
    pass


class IO:
    """The call as the agent sees it; records hold music and what is pending."""

    def __init__(self) -> None:
        self.holds: list[bool] = []
        self.caller_audio: asyncio.Queue[bytes] = asyncio.Queue()

    def send_audio(self, frame: bytes) -> None:
        pass

    def flush_audio(self) -> int:
        return 0

    def audio_pending(self) -> int:
        return 0

    async def play(self, media: str) -> None:
        pass

    async def hangup(self, reason: str) -> None:
        pass

    async def transfer(self, context: str, extension: str, whisper: str | None = None) -> None:
        pass

    async def hold(self, on: bool) -> None:
        self.holds.append(on)


class Engine:
    def __init__(self) -> None:
        self.outputs: list[tuple[str, dict[str, Any]]] = []
        self.responses = 0

    def function_output(self, call_id: str, output: dict[str, Any]) -> None:
        self.outputs.append((call_id, output))

    def respond(self, instructions: str | None = None) -> None:
        self.responses += 1


def _agent(seconds: float, fail: bool = False) -> AgentConversation:
    async def lookup(args: NoArgs, context: ToolContext) -> ToolResult:
        await asyncio.sleep(seconds)
        if fail:
            raise ToolError("The booking system is not answering.")
        return ToolResult({"rooms": 3}, outcome="booked")

    agent = AgentConversation(
        connector=None,  # type: ignore[arg-type]
        property_for=HOTEL.get_property,
        fallback=("frontdesk-fallback", "s"),
        tools=ToolRegistry([Tool("lookup", "a tool", NoArgs, lookup)]),
    )
    agent._session = CallSession(uuid.uuid4(), "harborview", "agent")
    return agent


async def test_a_quick_tool_needs_no_hold_music() -> None:
    agent, io, engine = _agent(0.01), IO(), Engine()
    left = await agent._run(FunctionCall("r1", "c1", "lookup", {}), io, engine)  # type: ignore[arg-type]
    assert left is False and io.holds == []
    # the result goes back; the response to it is asked for once all of the engine's
    # response's calls have run (AgentConversation._converse), not per call
    assert engine.outputs == [("c1", {"rooms": 3})] and engine.responses == 0
    assert agent._session is not None and agent._session.outcome is Outcome.BOOKED


async def test_a_slow_tool_plays_hold_music_until_its_answer() -> None:
    agent, io, engine = _agent(1.0), IO(), Engine()
    await agent._run(FunctionCall("r1", "c1", "lookup", {}), io, engine)  # type: ignore[arg-type]
    assert io.holds == [True, False] and not agent._on_hold
    assert engine.outputs == [("c1", {"rooms": 3})]


async def test_caller_audio_on_hold_is_not_sent_to_the_engine() -> None:
    agent, io = _agent(0.0), IO()
    sent: list[bytes] = []

    class Ears(Engine):
        def append_audio(self, ulaw: bytes) -> None:
            sent.append(ulaw)

    pump = asyncio.create_task(agent._pump(io, Ears()))  # type: ignore[arg-type]
    agent._on_hold = True
    for _ in range(4):
        io.caller_audio.put_nowait(b"\x7f" * 160)  # our own hold music, coming back
    await asyncio.sleep(0.05)
    agent._on_hold = False
    for _ in range(2):
        io.caller_audio.put_nowait(b"\xff" * 160)
    await asyncio.sleep(0.05)
    pump.cancel()
    assert sent == [b"\xff" * 320]


async def test_a_slow_tool_that_fails_is_spoken_and_the_music_stops() -> None:
    agent, io, engine = _agent(0.8, fail=True), IO(), Engine()
    await agent._run(FunctionCall("r1", "c1", "lookup", {}), io, engine)  # type: ignore[arg-type]
    assert io.holds == [True, False]
    assert engine.outputs == [("c1", {"error": "The booking system is not answering."})]


def _holding_agent() -> AgentConversation:
    agent = AgentConversation(
        connector=None,  # type: ignore[arg-type]
        property_for=HOTEL.get_property,
        fallback=("frontdesk-fallback", "s"),
        tools=ToolRegistry(call_tools()),
    )
    agent._session = CallSession(uuid.uuid4(), "harborview", "agent")
    return agent


async def test_the_agent_holds_the_caller_until_they_press_a_key() -> None:
    agent, io, engine = _holding_agent(), IO(), Engine()
    hold = FunctionCall("r1", "c1", "hold_call", {"seconds": 60, "reason": "checking"})
    running = asyncio.create_task(agent._run(hold, io, engine))  # type: ignore[arg-type]
    await asyncio.sleep(0.2)
    assert io.holds == [True] and agent._on_hold  # music, and the engine hears none of it
    agent.on_dtmf("5")
    assert await asyncio.wait_for(running, 2) is False  # the call goes on with the agent
    assert io.holds == [True, False] and not agent._on_hold
    assert engine.outputs == [("c1", {"held_up_to_seconds": 60, "hold_ended_by": "caller_key"})]
    # the agent speaks again ("thank you for holding") once all of the response's calls have
    # run: _converse asks for that response, not each call
    assert engine.responses == 0
    assert agent._keys.empty()  # the key that ended the hold is not an answer to anything


async def test_a_hold_ends_by_itself_when_its_time_is_up() -> None:
    agent, io, engine = _holding_agent(), IO(), Engine()
    hold = FunctionCall("r1", "c1", "hold_call", {"seconds": 5})
    await agent._run(hold, io, engine)  # type: ignore[arg-type]
    assert io.holds == [True, False]
    assert engine.outputs[0][1]["hold_ended_by"] == "time"


async def test_a_hold_longer_than_two_minutes_is_refused_in_words() -> None:
    agent, io, engine = _holding_agent(), IO(), Engine()
    hold = FunctionCall("r1", "c1", "hold_call", {"seconds": 600})
    await agent._run(hold, io, engine)  # type: ignore[arg-type]
    assert io.holds == []
    assert "error" in engine.outputs[0][1]


async def test_a_warm_transfer_summary_for_staff_keeps_no_card_digits() -> None:
    agent, engine = _holding_agent(), Engine()
    whispers: list[str | None] = []

    class Transferring(IO):
        async def transfer(self, context: str, extension: str, whisper: str | None = None) -> None:
            whispers.append(whisper)

    assert agent._session is not None
    agent._session.cards.caller_said("I want to pay with my Mastercard")
    summary = "Caller wants to pay a deposit; read out 5500 0000, 0000 0005 and 1488 0343."
    transfer = FunctionCall(
        "r1",
        "c1",
        "transfer_call",
        {"department": "front desk", "mode": "warm", "summary": summary},
    )
    assert await agent._run(transfer, Transferring(), engine) is True  # type: ignore[arg-type]
    [whisper] = whispers
    assert whisper is not None and "deposit" in whisper
    assert "[card]" in whisper and not any(c.isdigit() for c in whisper), whisper


async def test_keys_pressed_while_giving_card_details_never_reach_the_engine() -> None:
    agent = _holding_agent()
    heard: list[str] = []

    class Listening(Engine):
        def user_text(self, text: str) -> None:
            heard.append(text)

    session = agent._session
    assert session is not None
    forward = asyncio.create_task(agent._forward_keys(Listening()))  # type: ignore[arg-type]

    def press(keys: str) -> None:  # as the telephony call does: the guard sees each key first
        for key in keys:
            session.cards.key(key)
            agent.on_dtmf(key)

    try:
        press("2#")
        await asyncio.sleep(0.05)
        session.cards.agent_said("For the deposit, do you want to pay by credit card?")
        press("1488#")
        await asyncio.sleep(0.05)
    finally:
        forward.cancel()
    assert heard[0] == "The caller pressed 2 on the telephone keypad."
    assert heard[1:] == [WITHHELD] and "1488" not in " ".join(heard)


def test_a_tool_call_is_kept_for_replay_without_card_numbers() -> None:
    # What a renewed engine session is told of the call so far: the arguments as the turns
    # are kept, card numbers masked, the rest (dates, nights) as they were.
    agent, engine = _agent(0.01), Engine()
    call = FunctionCall("r1", "c1", "lookup", {"note": "card 4539 1488 0343 6467", "nights": 2})
    agent._output(engine, call, {"ok": True})  # type: ignore[arg-type]
    [kept] = [p for p in agent.history if isinstance(p, PastToolCall)]
    assert kept.arguments == {"note": "card [card]", "nights": 2}
    assert engine.outputs == [("c1", {"ok": True})]


async def test_the_console_sees_the_agent_running_a_tool_by_name() -> None:
    class Store:  # the database is not what this is about: nothing is written
        def __getattr__(self, name: str) -> Any:
            async def write(*args: Any, **kwargs: Any) -> None:
                return None

            return write

    agent, io, engine = _agent(0.3), IO(), Engine()
    assert agent._session is not None
    log = CallLog(Store(), WriteBehind(lambda exc: False))  # type: ignore[arg-type]
    agent.call_log = log
    log.started(
        NewCall("harborview", Direction.INBOUND, id=agent._session.id), agent._session.started_at
    )
    seen: list[tuple[Activity | None, str | None]] = []
    with log.live.subscribe() as feed:
        running = asyncio.create_task(
            agent._run(FunctionCall("r1", "c1", "lookup", {}), io, engine)
        )  # type: ignore[arg-type]
        await asyncio.sleep(0.1)
        during = log.live.get(agent._session.id)
        await running
        while feed.pending():
            item = await feed.next()
            if item.type == "call_changed":
                seen.append((item.call.activity, item.call.tool))  # type: ignore[union-attr]
    assert during is not None and (during.activity, during.tool) == (Activity.TOOL, "lookup")
    assert seen == [(Activity.TOOL, "lookup"), (Activity.LISTENING, None)]
