"""The call state machine."""

from __future__ import annotations

import uuid

import pytest

from app.calls.records import CallState, Outcome
from app.calls.session import CallSession, InvalidTransition


def _session() -> CallSession:
    return CallSession(id=uuid.uuid4(), property_id="harborview", mode="agent")


def test_a_normal_call() -> None:
    session = _session()
    for state in (
        CallState.ANSWERED,
        CallState.TALKING,
        CallState.ON_HOLD,
        CallState.TALKING,
        CallState.TRANSFERRING,
    ):
        assert session.move(state)
    assert session.end("transferred") and not session.active
    assert not session.end("caller_hangup")  # both sides hanging up at once
    assert session.end_reason == "transferred" and session.ended_at is not None
    assert session.history[0] is CallState.RINGING and session.history[-1] is CallState.ENDED


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ((), CallState.TALKING),  # ringing cannot talk before it is answered
        ((CallState.ANSWERED,), CallState.ON_HOLD),
        ((CallState.ANSWERED, CallState.TALKING), CallState.RINGING),
    ],
)
def test_impossible_moves_are_refused(path: tuple[CallState, ...], bad: CallState) -> None:
    session = _session()
    for state in path:
        session.move(state)
    with pytest.raises(InvalidTransition):
        session.move(bad)


def test_nothing_after_the_end() -> None:
    session = _session()
    session.end("caller_hangup")
    with pytest.raises(InvalidTransition):
        session.move(CallState.ANSWERED)
    assert not session.move(CallState.ENDED)


def test_the_strongest_outcome_of_a_call_is_kept() -> None:
    session = CallSession(uuid.uuid4(), "harborview", "agent")
    assert session.outcome is None
    session.achieved(Outcome.INFO)
    session.achieved(Outcome.BOOKED)
    session.achieved(Outcome.TRANSFERRED)  # booked, then put through: still a booking
    session.achieved(Outcome.LEAD)
    assert session.outcome is Outcome.BOOKED


def test_a_failure_beats_the_front_desk_it_sent_the_caller_to_but_not_a_booking() -> None:
    failed = CallSession(uuid.uuid4(), "harborview", "agent")
    failed.achieved(Outcome.INFO)
    failed.achieved(Outcome.FAILED)  # the engine died
    failed.achieved(Outcome.TRANSFERRED)  # …and the fallback put them through
    assert failed.outcome is Outcome.FAILED
    booked = CallSession(uuid.uuid4(), "harborview", "agent")
    booked.achieved(Outcome.BOOKED)
    booked.achieved(Outcome.FAILED)
    assert booked.outcome is Outcome.BOOKED
