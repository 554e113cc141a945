"""The live calls' registry and its feed: ordered per call, bounded, never raising into calls."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from app.calls.live import (
    Activity,
    CallChanged,
    CallEnded,
    CallStarted,
    LiveCalls,
    LiveState,
    Missed,
    TranscriptLine,
)
from app.calls.records import CallState, Direction, NewCall, Outcome, TurnRole

T0 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def _new(prop: str = "harborview", caller: str | None = "+14155550123") -> NewCall:
    return NewCall(
        id=uuid.uuid4(),
        property_id=prop,
        direction=Direction.INBOUND,
        caller_e164=caller,
        language="en",
    )


def _drain(subscription: object) -> list[object]:
    items = []
    while subscription.pending():  # type: ignore[attr-defined]
        items.append(subscription._queue.get_nowait())  # type: ignore[attr-defined]
    return items


def test_a_call_is_listed_with_its_caller_masked_and_leaves_when_it_ends() -> None:
    live = LiveCalls()
    new = _new()
    live.started(new, T0)
    [call] = live.snapshot().calls
    assert call.caller == "+*******0123"
    assert call.state is LiveState.CONNECTING
    live.moved(new.id, CallState.TALKING)
    assert live.snapshot().calls[0].state is LiveState.WITH_AGENT
    live.ended(new.id, "caller_hangup", Outcome.INFO)
    assert live.snapshot().calls == []


def test_a_withheld_number_shows_as_withheld() -> None:
    live = LiveCalls()
    live.started(_new(caller=None), T0)
    assert live.snapshot().calls[0].caller == "withheld"


async def test_each_subscriber_sees_a_calls_events_in_the_order_they_happened() -> None:
    live = LiveCalls()
    new = _new()
    with live.subscribe() as first, live.subscribe() as second:
        live.started(new, T0)
        live.moved(new.id, CallState.TALKING)
        live.activity(new.id, Activity.SPEAKING)
        live.line(new.id, TurnRole.AGENT, "Harborview Hotel, this is Ava.")
        live.line(new.id, TurnRole.CALLER, "Do you have parking?")
        live.activity(new.id, Activity.TOOL, "get_hotel_info")
        live.ended(new.id, "caller_hangup", None)
        for subscription in (first, second):
            got = [await subscription.next() for _ in range(7)]
            assert [type(e) for e in got] == [
                CallStarted,
                CallChanged,
                CallChanged,
                TranscriptLine,
                TranscriptLine,
                CallChanged,
                CallEnded,
            ]
            lines = [e for e in got if isinstance(e, TranscriptLine)]
            assert [(line.seq, line.speaker) for line in lines] == [
                (0, TurnRole.AGENT),
                (1, TurnRole.CALLER),
            ]
            assert got[5].call.tool == "get_hotel_info"  # type: ignore[union-attr]


def test_a_slow_subscriber_loses_the_backlog_and_is_told_while_others_get_everything() -> None:
    live = LiveCalls()
    new = _new()
    with live.subscribe(capacity=4) as slow, live.subscribe(capacity=100) as quick:
        live.started(new, T0)
        for n in range(10):
            live.line(new.id, TurnRole.CALLER, f"line {n}")  # never blocks, never raises
        slow_items = _drain(slow)
        quick_items = _drain(quick)
    assert len(quick_items) == 11
    assert any(isinstance(item, Missed) for item in slow_items)
    assert len(slow_items) <= 4
    assert slow.missed + len([i for i in slow_items if not isinstance(i, Missed)]) == 11
    # one marker, counting everything this subscriber lost
    [marker] = [i for i in slow_items if isinstance(i, Missed)]
    assert marker.count == slow.missed
    # the newest event is never the one lost: the subscriber resyncs from a snapshot after it
    last = slow_items[-1]
    assert isinstance(last, TranscriptLine) and last.text == "line 9"


def test_a_snapshot_keeps_a_bounded_transcript_per_call() -> None:
    live = LiveCalls()
    new = _new()
    live.started(new, T0)
    for n in range(250):
        live.line(new.id, TurnRole.CALLER, f"line {n}")
    lines = live.snapshot().transcripts[new.id]
    assert len(lines) == 200
    assert lines[0].text == "line 50" and lines[-1].seq == 249


def test_subscribers_of_one_property_see_only_its_calls() -> None:
    live = LiveCalls()
    here, there = _new("harborview"), _new("pinecrest")
    with live.subscribe(property_id="pinecrest") as pinecrest:
        live.started(here, T0)
        live.line(here.id, TurnRole.CALLER, "hello")
        live.started(there, T0)
        live.ended(here.id, "caller_hangup", None)
        items = _drain(pinecrest)
    assert [type(i) for i in items] == [CallStarted]
    assert items[0].call.id == there.id  # type: ignore[attr-defined]
    assert [c.id for c in live.snapshot("pinecrest").calls] == [there.id]


def test_card_numbers_never_reach_the_transcript() -> None:
    live = LiveCalls()
    new = _new()
    with live.subscribe() as watcher:
        live.started(new, T0)
        live.line(new.id, TurnRole.CALLER, "my card is 4111 1111 1111 1111")
        items = _drain(watcher)
    line = items[-1]
    assert isinstance(line, TranscriptLine)
    assert "4111 1111 1111 1111" not in line.text
    assert "1111 1111 1111" not in live.snapshot().transcripts[new.id][0].text


def test_lines_found_later_to_be_card_details_are_masked_and_sent_again() -> None:
    clock = [T0]
    live = LiveCalls(clock=lambda: clock[0])
    new = _new()
    live.started(new, T0)
    live.line(new.id, TurnRole.CALLER, "It's for Ann Lee")  # nothing to mask
    live.line(new.id, TurnRole.CALLER, "4111 1111")  # groups read one at a time
    with live.subscribe() as watcher:
        clock[0] = T0 + dt.timedelta(seconds=5)
        live.mask_recent(new.id, 30)
        items = _drain(watcher)
    assert [(i.seq, "4111" in i.text) for i in items] == [(1, False)]  # type: ignore[union-attr]
    assert "4111" not in live.snapshot().transcripts[new.id][1].text


def test_a_taken_over_call_shows_staff_and_no_longer_the_agents_activity() -> None:
    live = LiveCalls()
    new = _new()
    live.started(new, T0)
    live.moved(new.id, CallState.TALKING)
    live.listening(new.id, "2001", True)
    assert live.get(new.id).listeners == ("2001",)  # type: ignore[union-attr]
    live.taken_over(new.id, "2001")
    live.activity(new.id, Activity.SPEAKING)  # the agent's last words, arriving late
    live.moved(new.id, CallState.TALKING)
    call = live.get(new.id)
    assert call is not None
    assert call.state is LiveState.WITH_STAFF and call.staff == "2001"
    assert call.activity is None and call.listeners == ()


def test_a_change_that_changes_nothing_is_not_sent() -> None:
    live = LiveCalls()
    new = _new()
    live.started(new, T0)
    with live.subscribe() as watcher:
        live.activity(new.id, Activity.LISTENING)
        live.activity(new.id, Activity.LISTENING)
        live.activity(new.id, Activity.LISTENING)
        assert len(_drain(watcher)) == 1


def test_events_for_calls_it_never_heard_of_are_ignored() -> None:
    live = LiveCalls()
    unknown = uuid.uuid4()
    live.moved(unknown, CallState.TALKING)
    live.line(unknown, TurnRole.CALLER, "hello")
    live.ended(unknown, "caller_hangup", None)
    assert live.snapshot().calls == []


def test_a_bug_in_the_feed_never_reaches_the_call_path(caplog: pytest.LogCaptureFixture) -> None:
    live = LiveCalls()
    new = _new()
    live.started(new, T0)

    class Broken:
        property_id = None

        def wants(self, prop: str) -> bool:
            raise RuntimeError("a subscriber's bug")

    live._subscribers.add(Broken())  # type: ignore[arg-type]
    live.line(new.id, TurnRole.CALLER, "hello")  # does not raise
    live.ended(new.id, "caller_hangup", None)
    assert live.snapshot().calls == []


async def test_a_subscriber_waits_for_the_next_event() -> None:
    live = LiveCalls()
    new = _new()
    with live.subscribe() as watcher:
        waiting = asyncio.create_task(watcher.next())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        live.started(new, T0)
        event = await asyncio.wait_for(waiting, 1)
    assert isinstance(event, CallStarted)
    assert live.subscribers == 0  # unsubscribed on leaving the block
