"""Staff listening in and taking calls over, through the Stasis app against the recorded-ARI
fake (listen-in*.json, take-over*.json, staff-unavailable.json), real RTP and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextvars
import copy
import uuid
from dataclasses import replace

import pytest
import structlog
from structlog.testing import LogCapture

from app.calls.control import ActionRefused, CallNotLive, NoExtension, StaffPhoneUnavailable
from app.calls.live import LiveState
from app.telephony.ari.models import StasisStart
from app.telephony.call import TelephonyCall
from app.telephony.call_control import StasisCallControl
from app.telephony.call_services import CallLimits
from tests.fakes.ari import RECORDED, FakeCall
from tests.integration.test_stasis_calls import Rig, _call_row, _our_tasks, _until, rig

__all__ = ["rig"]


async def _live_call(rig: Rig) -> tuple[FakeCall, TelephonyCall]:
    rig.app.services = replace(
        rig.app.services,
        limits=CallLimits(rtp_inactivity=30.0, max_duration=60.0, staff_ring_seconds=1),
    )
    fake = await rig.fake.incoming_call(["echo"])
    await _until(lambda: fake.bridge_id and len(rig.fake.bridges.get(fake.bridge_id, [])) == 2)
    [call] = rig.app.calls
    await _until(lambda: call.ready)
    return fake, call


def _control(rig: Rig) -> StasisCallControl:
    return StasisCallControl(rig.app)


async def test_take_over_moves_the_caller_to_staff_and_removes_the_agents_media(rig: Rig) -> None:
    fake, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    ai_bridge, media = fake.bridge_id, fake.media_id
    assert ai_bridge is not None and media is not None
    assert rig.app.ports.in_use == 1

    await _control(rig).take_over(call.session.id, "2001")

    [originated] = rig.fake.originated
    assert originated["endpoint"] == "PJSIP/2001"
    assert originated["appArgs"] == "staff,takeover"
    leg = rig.fake.staff_leg("2001")
    assert leg is not None
    # the caller and the staff phone share a bridge; the agent's bridge and media are gone
    [(bridge, members)] = list(rig.fake.bridges.items())
    assert sorted(members) == sorted([fake.caller_id, leg.id])
    assert bridge != ai_bridge
    assert not fake.media_in_stasis
    assert rig.app.ports.in_use == 0  # the RTP port is back
    assert call.endpoint is None
    assert not any(name.startswith("conversation-") for name in _our_tasks())
    live = rig.app.services.call_log.live.get(call.session.id)
    assert live is not None and live.state is LiveState.WITH_STAFF and live.staff == "2001"

    await rig.fake.staff_hangs_up(leg.id)  # the member of staff says goodbye
    row = await _call_row(rig.pool, fake.caller_id)
    assert row["outcome"] == "taken_over" and row["end_reason"] == "staff_hangup"
    assert "Taken over by staff at extension 2001." in row["summary"]
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}


async def test_after_a_take_over_the_caller_hanging_up_hangs_up_the_staff_phone(rig: Rig) -> None:
    fake, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    await _control(rig).take_over(call.session.id, "2001")
    await rig.fake.caller_hangs_up(fake)
    await _until(lambda: not rig.app.calls)
    await _until(lambda: rig.fake.leftovers() == {"channels": [], "bridges": []})
    row = await _call_row(rig.pool, fake.caller_id)
    assert row["outcome"] == "taken_over" and row["end_reason"] == "caller_hangup"


@pytest.mark.parametrize(
    ("phone", "message"),
    [(None, "is not registered"), ("rings", "did not answer")],
    ids=["not-registered", "no-answer"],
)
async def test_a_staff_phone_that_does_not_answer_leaves_the_caller_with_the_agent(
    rig: Rig, phone: str | None, message: str
) -> None:
    fake, call = await _live_call(rig)
    if phone is not None:
        rig.fake.staff_phones["2001"] = phone
    with pytest.raises(StaffPhoneUnavailable, match=message) as refused:
        await _control(rig).take_over(call.session.id, "2001")
    assert "stays with the receptionist" in str(refused.value)
    # untouched: the caller and the agent's media in the agent's bridge, the agent talking
    assert fake.bridge_id is not None
    assert sorted(rig.fake.bridges[fake.bridge_id]) == sorted([fake.caller_id, fake.media_id])
    assert list(rig.fake.bridges) == [fake.bridge_id]
    assert call.endpoint is not None and call.is_live()
    assert any(name.startswith("conversation-") for name in _our_tasks())
    live = rig.app.services.call_log.live.get(call.session.id)
    assert live is not None and live.state is LiveState.WITH_AGENT
    await rig.fake.caller_hangs_up(fake)
    row = await _call_row(rig.pool, fake.caller_id)
    assert row["outcome"] is None and row["end_reason"] == "caller_hangup"
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}


async def test_listen_in_bridges_a_snoop_of_both_sides_with_the_staff_phone(rig: Rig) -> None:
    fake, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    await _control(rig).listen_in(call.session.id, "2001")

    assert rig.fake.snooped == (fake.caller_id, "both", "none")  # hears both, says nothing
    leg = rig.fake.staff_leg("2001")
    snoop = next(x for x in rig.fake.legs.values() if x.kind == "snoop")
    assert leg is not None and snoop.in_stasis
    listen = next(b for b in rig.fake.bridges if b != fake.bridge_id)
    assert sorted(rig.fake.bridges[listen]) == sorted([snoop.id, leg.id])
    # the call goes on with the agent
    assert sorted(rig.fake.bridges[fake.bridge_id or ""]) == sorted([fake.caller_id, fake.media_id])
    live = rig.app.services.call_log.live.get(call.session.id)
    assert live is not None and live.listeners == ("2001",)

    with pytest.raises(ActionRefused, match="already listening"):
        await _control(rig).listen_in(call.session.id, "2001")

    await rig.fake.staff_hangs_up(leg.id)  # done listening
    await _until(lambda: not snoop.in_stasis and listen not in rig.fake.bridges)
    await _until(lambda: rig.app.services.call_log.live.get(call.session.id).listeners == ())  # type: ignore[union-attr]
    assert call.is_live() and fake.media_in_stasis
    await rig.fake.caller_hangs_up(fake)
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}


async def test_the_caller_hanging_up_during_listen_in_leaves_nothing_behind(rig: Rig) -> None:
    fake, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    await _control(rig).listen_in(call.session.id, "2001")
    await rig.fake.caller_hangs_up(fake)  # the snoop ends with the caller (recorded)
    await _until(lambda: not rig.app.calls)
    await _until(lambda: rig.fake.leftovers() == {"channels": [], "bridges": []})


async def test_taking_over_while_listening_keeps_the_same_phone_call(rig: Rig) -> None:
    fake, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    await _control(rig).listen_in(call.session.id, "2001")
    leg = rig.fake.staff_leg("2001")
    assert leg is not None
    await _control(rig).take_over(call.session.id, "2001")
    assert len(rig.fake.originated) == 1  # no second ring
    [members] = list(rig.fake.bridges.values())
    assert sorted(members) == sorted([fake.caller_id, leg.id])
    assert not any(x.in_stasis for x in rig.fake.legs.values() if x.kind == "snoop")
    live = rig.app.services.call_log.live.get(call.session.id)
    assert live is not None and live.staff == "2001" and live.listeners == ()
    await rig.fake.staff_hangs_up(leg.id)
    await _until(lambda: not rig.app.calls)
    await _until(lambda: rig.fake.leftovers() == {"channels": [], "bridges": []})


async def test_the_caller_hanging_up_while_the_staff_phone_rings(rig: Rig) -> None:
    fake, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    rig.fake.staff_answer_after = 0.5
    taking = asyncio.create_task(_control(rig).take_over(call.session.id, "2001"))
    await _until(lambda: rig.fake.originated)
    await rig.fake.caller_hangs_up(fake)
    with pytest.raises(CallNotLive):
        await taking
    await _until(lambda: not rig.app.calls)
    await asyncio.sleep(0.7)  # the phone would have answered by now
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}
    row = await _call_row(rig.pool, fake.caller_id)
    assert row["end_reason"] == "caller_hangup" and row["outcome"] is None


async def test_hang_up_from_the_console_ends_the_call(rig: Rig) -> None:
    fake, call = await _live_call(rig)
    await _control(rig).hang_up(call.session.id)
    row = await _call_row(rig.pool, fake.caller_id)
    assert row["end_reason"] == "hung_up_from_console"
    assert "Ended: hung up from the console." in row["summary"]
    await _until(lambda: rig.fake.leftovers() == {"channels": [], "bridges": []})
    with pytest.raises(CallNotLive, match="already ended"):
        await _control(rig).hang_up(call.session.id)
    with pytest.raises(CallNotLive):
        await _control(rig).take_over(uuid.uuid4(), "2001")


async def test_an_extension_that_is_not_one_is_never_dialled(rig: Rig) -> None:
    _, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    for bad in ("2001&PJSIP/9001", "2001/sip:+19005550100@trunk", "", "PJSIP/2001"):
        with pytest.raises(NoExtension):
            await _control(rig).take_over(call.session.id, bad)
    assert rig.fake.originated == []


async def test_a_staff_leg_that_answers_after_its_call_has_gone_is_hung_up(rig: Rig) -> None:
    # A staff phone picking up just after the call it was rung for ended: nobody owns the leg.
    start = copy.deepcopy(RECORDED.stasis_start)
    start.update(args=["staff", "takeover"])
    start["channel"].update(id="fdv-staff-orphan", name="PJSIP/2001-000000ff")
    rig.app.deliver(StasisStart.model_validate(start))
    await _until(
        lambda: ("DELETE", "/channels/fdv-staff-orphan", {"reason": "normal"}) in rig.fake.requests
    )
    assert not rig.app.calls  # and it was not taken for a new caller


async def test_a_take_over_goes_through_when_whoever_asked_goes_away(rig: Rig) -> None:
    # The console's request is cancelled while the phone rings (a closed tab): the caller is
    # not left half-way; the take-over, owned by the call, finishes.
    fake, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    rig.fake.staff_answer_after = 0.3
    asking = asyncio.create_task(_control(rig).take_over(call.session.id, "2001"))
    await _until(lambda: rig.fake.originated)
    asking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asking
    await _until(lambda: call.staff.has_caller)
    leg = rig.fake.staff_leg("2001")
    assert leg is not None
    # the caller is with staff before the AI's bridge is gone (a loaded machine saw both)
    await _until(lambda: len(rig.fake.bridges) == 1)
    [members] = list(rig.fake.bridges.values())
    assert sorted(members) == sorted([fake.caller_id, leg.id])
    await rig.fake.staff_hangs_up(leg.id)
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}


async def test_a_take_over_whose_request_went_away_still_keeps_others_out(rig: Rig) -> None:
    # The console's request is cancelled mid-ring; the take-over goes on, and while it rings
    # nobody else may take the call over or listen in (two legs would ring, both stop the
    # agent, and the first member of staff would be left alone in a bridge).
    _, call = await _live_call(rig)
    rig.fake.staff_phones.update({"2001": "answers", "2002": "answers"})
    rig.fake.staff_answer_after = 0.5
    asking = asyncio.create_task(_control(rig).take_over(call.session.id, "2001"))
    await _until(lambda: rig.fake.originated)
    asking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asking
    with pytest.raises(ActionRefused, match="2001 is already taking this call over"):
        await _control(rig).take_over(call.session.id, "2002")
    with pytest.raises(ActionRefused, match="2001 is taking this call over"):
        await _control(rig).listen_in(call.session.id, "2002")
    assert [o["endpoint"] for o in rig.fake.originated] == ["PJSIP/2001"]
    await _until(lambda: call.staff.has_caller and call.staff.taking_over is None)
    assert call.staff.taken_over_by == "2001"
    leg = rig.fake.staff_leg("2001")
    assert leg is not None
    await rig.fake.staff_hangs_up(leg.id)
    await _until(lambda: not rig.app.calls)
    assert rig.fake.leftovers() == {"channels": [], "bridges": []}


async def test_a_listen_in_answered_after_a_take_over_does_not_listen(rig: Rig) -> None:
    # 2001 asks to listen in; before its phone answers, 2002 takes the call over. The
    # listen-in must not then spy on a call that is with staff.
    fake, call = await _live_call(rig)
    rig.fake.staff_phones.update({"2001": "answers", "2002": "answers"})
    rig.fake.staff_answer_after_for["2001"] = 0.6
    listening = asyncio.create_task(_control(rig).listen_in(call.session.id, "2001"))
    await _until(lambda: rig.fake.originated)
    await _control(rig).take_over(call.session.id, "2002")
    with pytest.raises(ActionRefused, match="went to staff"):
        await listening
    assert rig.fake.snooped is None  # no snoop was ever made on the caller
    staff = rig.fake.staff_leg("2002")
    assert staff is not None and rig.fake.staff_leg("2001") is None  # 2001's leg hung up
    [members] = list(rig.fake.bridges.values())
    assert sorted(members) == sorted([fake.caller_id, staff.id])
    await rig.fake.staff_hangs_up(staff.id)
    await _until(lambda: not rig.app.calls)
    await _until(lambda: rig.fake.leftovers() == {"channels": [], "bridges": []})


async def test_taking_over_while_ones_own_listen_in_rings_is_refused(rig: Rig) -> None:
    _, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    rig.fake.staff_answer_after = 0.4
    listening = asyncio.create_task(_control(rig).listen_in(call.session.id, "2001"))
    await _until(lambda: rig.fake.originated)
    with pytest.raises(ActionRefused, match="ringing to listen in"):
        await _control(rig).take_over(call.session.id, "2001")
    await listening  # the listen-in itself goes through
    assert len(rig.fake.originated) == 1  # one ring, not two


async def test_a_phone_that_answers_and_hangs_up_at_once_leaves_the_caller_with_the_agent(
    rig: Rig,
) -> None:
    fake, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers_and_hangs_up"
    with pytest.raises(StaffPhoneUnavailable, match="hung up as it answered"):
        await _control(rig).take_over(call.session.id, "2001")
    # the agent was never stopped: the caller is still with it, not sent to the front desk
    assert call.is_live() and fake.media_in_stasis
    assert sorted(rig.fake.bridges[fake.bridge_id or ""]) == sorted([fake.caller_id, fake.media_id])
    assert any(name.startswith("conversation-") for name in _our_tasks())
    await rig.fake.caller_hangs_up(fake)
    row = await _call_row(rig.pool, fake.caller_id)
    assert row["end_reason"] == "caller_hangup" and row["outcome"] is None


async def test_a_snoop_that_never_enters_the_app_is_a_clear_refusal(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.telephony.staff_legs.ENTER_SECONDS", 0.3)
    fake, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    rig.fake.snoops_enter = False
    with pytest.raises(ActionRefused, match="Listening in did not work this time"):
        await _control(rig).listen_in(call.session.id, "2001")
    assert rig.fake.staff_leg("2001") is None  # its phone hung up, the snoop gone
    await _until(lambda: not any(x.in_stasis for x in rig.fake.legs.values() if x.kind == "snoop"))
    assert call.is_live() and fake.media_in_stasis
    live = rig.app.services.call_log.live.get(call.session.id)
    assert live is not None and live.listeners == ()


@pytest.mark.parametrize("when", ["as-it-answers", "mid-setup"])
async def test_a_listener_who_hangs_up_during_the_setup_leaves_nothing_behind(
    rig: Rig, when: str
) -> None:
    # The phone is put down while the snoop is being made: the snoop and the listening
    # bridge must not stay on the caller until the call ends.
    fake, call = await _live_call(rig)
    if when == "as-it-answers":
        rig.fake.staff_phones["2001"] = "answers_and_hangs_up"
    else:
        rig.fake.staff_phones["2001"] = "answers"
        rig.fake.snoop_after = 0.3
    listening = asyncio.create_task(_control(rig).listen_in(call.session.id, "2001"))
    if when == "mid-setup":
        await asyncio.wait_for(rig.fake.snoop_requested.wait(), 5)
        leg = rig.fake.staff_leg("2001")
        assert leg is not None
        await rig.fake.staff_hangs_up(leg.id)
    with pytest.raises((ActionRefused, StaffPhoneUnavailable)):
        await listening
    await _until(lambda: not any(x.in_stasis for x in rig.fake.legs.values() if x.kind == "snoop"))
    assert list(rig.fake.bridges) == [fake.bridge_id]  # only the agent's
    assert call.staff._listening == {}
    live = rig.app.services.call_log.live.get(call.session.id)
    assert live is not None and live.listeners == ()
    assert call.is_live() and fake.media_in_stasis


async def test_what_a_console_action_logs_carries_the_calls_id(rig: Rig) -> None:
    _, call = await _live_call(rig)
    rig.fake.staff_phones["2001"] = "answers"
    capture = LogCapture()
    before = structlog.get_config()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    try:
        # as from a console request: a context of its own, no call bound
        await asyncio.create_task(
            _control(rig).take_over(call.session.id, "2001"), context=contextvars.Context()
        )
    finally:
        structlog.configure(**before)
    [entry] = [e for e in capture.entries if e["event"] == "call taken over by staff"]
    assert entry["call_id"] == str(call.session.id)
    leg = rig.fake.staff_leg("2001")
    assert leg is not None
    await rig.fake.staff_hangs_up(leg.id)
    await _until(lambda: not rig.app.calls)
