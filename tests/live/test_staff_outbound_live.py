"""Staff phones dialling out (9, then the number) in a real Asterisk: national numbers go to
the trunk, whose far end here is SIPp's own answering phone; international and premium-rate
numbers are refused with 403 unless the dialplan's STAFF_DIAL_OUT allows them."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.pbx.sandbox import AsteriskSandbox
from tests.live.keypad import free_port, sipp

REFUSED = 97  # staff_calls.xml: 403 Forbidden


class Carrier:
    """The trunk's far end: SIPp answers one call and writes each message it receives."""

    def __init__(self, pbx: AsteriskSandbox, folder: Path) -> None:
        assert pbx.ports.carrier is not None
        self.port = pbx.ports.carrier
        self.messages = folder / "carrier.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "sipp",
            "-sn", "uas",
            "-i", "127.0.0.1",
            "-p", str(self.port),
            "-mp", str(free_port() & ~1),
            "-m", "1",
            "-nostdin",
            "-trace_msg", "-message_file", str(self.messages),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=self.messages.parent,
        )  # fmt: skip
        await asyncio.sleep(0.5)  # listening

    def invites(self) -> list[str]:
        text = self.messages.read_text(errors="replace") if self.messages.exists() else ""
        return [line.split()[1] for line in text.splitlines() if line.startswith("INVITE ")]

    async def stop(self) -> int | None:
        assert self.proc is not None
        if self.proc.returncode is None:
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
                return None
        return self.proc.returncode


@pytest.fixture
def dial_out(pbx: AsteriskSandbox) -> Iterator[None]:
    yield
    pbx.cli('dialplan set global STAFF_DIAL_OUT "national"')


@pytest.fixture
async def carrier(pbx: AsteriskSandbox) -> AsyncIterator[Carrier]:
    with tempfile.TemporaryDirectory(prefix="carrier-") as tmp:
        far_end = Carrier(pbx, Path(tmp))
        await far_end.start()
        try:
            yield far_end
        finally:
            await far_end.stop()


async def _staff_dials(pbx: AsteriskSandbox, digits: str) -> int:
    code, out = await sipp(
        pbx,
        "staff_calls.xml",
        "-s", digits,
        "-set", "me", "2101",
        "-au", "2101",
        "-ap", pbx.sip_passwords["2101"],
        "-i", "127.0.0.1",
        "-p", str(free_port()),
        "-mp", str(free_port() & ~1),
        timeout=30,
    )  # fmt: skip
    assert code in (0, REFUSED), out
    return code


def _refusals(pbx: AsteriskSandbox) -> str:
    log = pbx.log_dir / "messages.log"
    return log.read_text(errors="replace") if log.exists() else ""


async def test_a_national_number_goes_out_through_the_trunk(
    pbx: AsteriskSandbox, carrier: Carrier
) -> None:
    assert await _staff_dials(pbx, "915550100123") == 0  # answered by the far end, then BYE
    assert await carrier.stop() == 0
    [invite] = carrier.invites()
    assert invite.startswith("sip:+15550100123@127.0.0.1")


@pytest.mark.parametrize(
    ("digits", "why"),
    [("9442079460000", "abroad"), ("919005550123", "premium rate")],
)
async def test_abroad_and_premium_numbers_are_refused(
    pbx: AsteriskSandbox, carrier: Carrier, digits: str, why: str
) -> None:
    before = len(_refusals(pbx))
    assert await _staff_dials(pbx, digits) == REFUSED, why
    assert carrier.invites() == []
    logged = _refusals(pbx)[before:]
    assert f"Outside call refused: 2101 dialled {digits}" in logged, logged


async def test_the_dialplan_decides_how_far_staff_may_call(
    pbx: AsteriskSandbox, carrier: Carrier, dial_out: None
) -> None:
    pbx.cli('dialplan set global STAFF_DIAL_OUT "none"')
    assert await _staff_dials(pbx, "915550100123") == REFUSED
    pbx.cli('dialplan set global STAFF_DIAL_OUT "international"')
    assert await _staff_dials(pbx, "919005550123") == REFUSED  # premium stays blocked
    assert carrier.invites() == []
    assert await _staff_dials(pbx, "9442079460000") == 0
    assert await carrier.stop() == 0
    assert [invite.split("@")[0] for invite in carrier.invites()] == ["sip:+442079460000"]
