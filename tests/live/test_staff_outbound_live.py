"""Staff phones dialling out (9, then the number) in a real Asterisk: national numbers go to
the trunk, whose far end here is SIPp's own answering phone; international and premium-rate
numbers are refused with 403 unless the dialplan's STAFF_DIAL_OUT allows them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.pbx.sandbox import AsteriskSandbox
from tests.live.carrier import Carrier
from tests.live.keypad import free_port, register, sipp, staff_phone

REFUSED = 97  # staff_calls.xml: 403 Forbidden


@pytest.fixture
def dial_out(pbx: AsteriskSandbox) -> Iterator[None]:
    yield
    for name, value in (
        ("STAFF_DIAL_OUT", "national"),
        ("HOME_COUNTRY", "1"),
        ("EMERGENCY_NOTICE", "PJSIP/2001"),
    ):
        pbx.cli(f'dialplan set global {name} "{value}"')


async def _staff_dials(pbx: AsteriskSandbox, digits: str, phone: str = "2101") -> int:
    code, out = await sipp(
        pbx,
        "staff_calls.xml",
        "-s", digits,
        "-set", "me", phone,
        "-au", phone,
        "-ap", pbx.sip_passwords[phone],
        "-i", "127.0.0.1",
        "-p", str(free_port()),
        "-mp", str(free_port() & ~1),
        timeout=30,
    )  # fmt: skip
    assert code in (0, REFUSED), out
    return code


def _messages_log(pbx: AsteriskSandbox) -> str:
    """Asterisk's messages.log so far (notices, warnings, errors)."""
    log = pbx.log_dir / "messages.log"
    return log.read_text(errors="replace") if log.exists() else ""


async def test_a_national_number_goes_out_through_the_trunk(
    pbx: AsteriskSandbox, carrier: Carrier
) -> None:
    assert await _staff_dials(pbx, "915550100123") == 0  # answered by the far end, then BYE
    assert await carrier.stop() == 0
    [invite] = carrier.invites()
    assert invite.startswith("sip:+15550100123@127.0.0.1")
    [caller] = carrier.caller_ids()
    assert "+15550100100" in caller, caller  # the hotel's number, not extension 2101


@pytest.mark.parametrize("digits", ["911", "9911"])
async def test_emergency_calls_go_out_without_the_nine_and_with_it(
    pbx: AsteriskSandbox, carrier: Carrier, dial_out: None, digits: str
) -> None:
    pbx.cli('dialplan set global STAFF_DIAL_OUT "none"')  # whatever the limits say
    assert await _staff_dials(pbx, digits) == 0
    assert await carrier.stop() == 0
    [invite] = carrier.invites()
    assert invite.startswith("sip:911@127.0.0.1")


async def test_a_911_call_tells_the_front_desk_which_extension_called(
    pbx: AsteriskSandbox, carrier: Carrier, dial_out: None
) -> None:
    # (In the other 911 tests nobody is registered on EMERGENCY_NOTICE: the call goes out
    # all the same, since the notice is placed alongside it, not before.)
    pbx.cli('dialplan set global EMERGENCY_NOTICE "PJSIP/3100"')
    before = len(_messages_log(pbx))
    async with staff_phone(pbx, "3100") as desk:
        assert await _staff_dials(pbx, "911") == 0
        assert await carrier.stop() == 0
    [invite] = carrier.invites()
    assert invite.startswith("sip:911@127.0.0.1")
    assert desk.answered, desk.said  # rang, answered, told, and hung up on by Asterisk
    logged = _messages_log(pbx)[before:]
    assert "Emergency call from staff phone 2101" in logged
    assert "does not exist" not in logged, logged  # the notice and its digits were played


async def test_a_bad_notice_setting_never_stops_the_911_call(
    pbx: AsteriskSandbox, carrier: Carrier, dial_out: None
) -> None:
    pbx.cli('dialplan set global EMERGENCY_NOTICE "2001"')  # no technology: Originate fails
    before = len(_messages_log(pbx))
    assert await _staff_dials(pbx, "911") == 0
    assert await carrier.stop() == 0
    assert [i.split("@")[0] for i in carrier.invites()] == ["sip:911"]
    assert "Emergency notice to 2001 not placed" in _messages_log(pbx)[before:]


async def test_a_notice_phone_that_never_answers_does_not_hold_up_the_911_call(
    pbx: AsteriskSandbox, carrier: Carrier, dial_out: None
) -> None:
    # 3100 registered from a port where nobody answers: the notice rings into the void for
    # its 60 s; the 911 call is placed and answered meanwhile (the staff scenario's own
    # timeout is 30 s).
    port = free_port()
    code, out = await register(pbx, "3100", port, expires=120)
    assert code == 0, out
    try:
        pbx.cli('dialplan set global EMERGENCY_NOTICE "PJSIP/3100"')
        assert await _staff_dials(pbx, "911") == 0
        assert await carrier.stop() == 0
        assert [i.split("@")[0] for i in carrier.invites()] == ["sip:911"]
    finally:
        await register(pbx, "3100", port, expires=0)
        pbx.cli("channel request hangup all")


async def test_another_property_calls_out_as_itself_and_notifies_nobody_else(
    pbx: AsteriskSandbox, carrier: Carrier
) -> None:
    before = len(_messages_log(pbx))
    assert await _staff_dials(pbx, "911", phone="4100") == 0  # Pinecrest's desk
    assert await carrier.stop() == 0
    [caller] = carrier.caller_ids()
    assert "+15550100200" in caller, caller  # Pinecrest's number (set_var in pjsip.conf)
    logged = _messages_log(pbx)[before:]
    assert "Emergency call from staff phone 4100" in logged
    assert "Emergency notice" not in logged  # EMERGENCY_NOTICE is empty for that phone


@pytest.mark.parametrize(
    ("digits", "why"),
    [
        ("9442079460000", "abroad"),
        ("919005550123", "premium rate, 900"),
        ("912129761234", "premium rate, NXX-976"),
        ("918765550123", "the Caribbean inside +1 (Jamaica)"),
        ("91-900-555-0123", "dashes, which dialplan patterns skip"),
    ],
)
async def test_abroad_premium_and_odd_numbers_are_refused(
    pbx: AsteriskSandbox, carrier: Carrier, digits: str, why: str
) -> None:
    before = len(_messages_log(pbx))
    assert await _staff_dials(pbx, digits) == REFUSED, why
    assert carrier.invites() == []
    logged = _messages_log(pbx)[before:]
    assert f"Outside call refused: 2101 dialled {digits}" in logged, logged


async def test_the_dialplan_decides_how_far_staff_may_call(
    pbx: AsteriskSandbox, carrier: Carrier, dial_out: None
) -> None:
    async def refused(digits: str) -> None:
        before = len(_messages_log(pbx))
        assert await _staff_dials(pbx, digits) == REFUSED
        assert f"Outside call refused: 2101 dialled {digits}" in _messages_log(pbx)[before:]

    pbx.cli('dialplan set global STAFF_DIAL_OUT "none"')
    await refused("915550100123")
    pbx.cli('dialplan set global STAFF_DIAL_OUT "national"')
    pbx.cli('dialplan set global HOME_COUNTRY ""')  # no home country: nothing is national
    await refused("915550100123")
    pbx.cli('dialplan set global STAFF_DIAL_OUT "international"')
    await refused("919005550123")  # premium stays blocked
    assert carrier.invites() == []
    assert await _staff_dials(pbx, "9442079460000") == 0
    assert await carrier.stop() == 0
    assert [invite.split("@")[0] for invite in carrier.invites()] == ["sip:+442079460000"]
