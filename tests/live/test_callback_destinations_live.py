"""Who callbacks may reach, in a real Asterisk: a callback to an allowed number goes through
the dialplan's [frontdesk-callback-out] to the trunk (whose far end is a SIPp "carrier" on
this machine) and into Stasis once answered; premium-rate, Caribbean and foreign numbers never
reach the carrier — refused by the app's policy before any call is placed, and refused by the
dialplan too when something dials them anyway (a bug, a bad setting)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from app.calls.arrival import Arrival
from app.calls.callbacks import CallbackScheduler
from app.calls.conversation import CallIO, Conversation
from app.calls.session import CallSession
from app.hotel.callbacks import DueCallback, NewCallback
from app.hotel.config import load_hotel_config
from app.main import build_destinations, destination_rules
from app.pbx.sandbox import AsteriskSandbox
from app.settings import load_settings
from app.storage.callbacks_repo import CallbackRepository
from app.storage.seed import seed
from app.telephony.dialer import AriDialer, outbound_channel_id
from tests.live.carrier import Carrier
from tests.live.running import running_app

ROOT = Path(__file__).resolve().parents[2]
HOTEL = load_hotel_config(ROOT / "config" / "hotel.yaml")


@dataclass
class Answered:
    """Stands in for the agent on a callback: notes that the call reached Stasis, hangs up."""

    runs: list[list[str]] = field(default_factory=list)

    def conversation(self, arrival: Arrival) -> Conversation:
        return _HangUp(self.runs, [arrival.mode, *arrival.path])


@dataclass
class _HangUp:
    runs: list[list[str]]
    args: list[str]

    def prepare(self, session: CallSession) -> None:
        pass

    async def run(self, io: CallIO, session: CallSession) -> None:
        self.runs.append(self.args)
        await io.hangup("agent_goodbye")

    def on_dtmf(self, digit: str) -> None:
        pass

    async def discard(self) -> None:
        pass


@dataclass
class Rig:
    pbx: AsteriskSandbox
    dialer: AriDialer
    answered: Answered
    ended: dict[str, str]  # channel id -> cause, for calls that ended before Stasis
    pool: asyncpg.Pool


@pytest.fixture
async def rig(pbx: AsteriskSandbox, pool: asyncpg.Pool) -> AsyncIterator[Rig]:
    await seed(pool, HOTEL, horizon_days=2)
    answered = Answered()
    async with running_app(pbx, pool, answered.conversation, (42120, 42139)) as run:
        ended: dict[str, str] = {}
        run.app.outbound_gone = ended.setdefault
        dialer = AriDialer(
            run.client, load_settings().callback_endpoint, {"harborview": "+15550100100"}
        )
        yield Rig(pbx, dialer, answered, ended, pool)


def _due(phone: str) -> DueCallback:
    return DueCallback(uuid.uuid4(), "harborview", phone, "a question", 1, 3)


def _messages_log(pbx: AsteriskSandbox) -> str:
    log = pbx.log_dir / "messages.log"
    return log.read_text(errors="replace") if log.exists() else ""


async def test_a_callback_to_an_allowed_number_reaches_the_carrier_and_stasis(
    rig: Rig, carrier: Carrier
) -> None:
    due = _due("+14155550134")
    await rig.dialer.dial(due)
    async with asyncio.timeout(10):
        while not carrier.invites():
            await asyncio.sleep(0.05)
    assert await carrier.stop() == 0  # answered, then our hang-up's BYE
    [invite] = carrier.invites()
    assert invite.startswith("sip:+14155550134@127.0.0.1")
    [caller] = carrier.caller_ids()
    assert "+15550100100" in caller, caller  # the property's number, as before
    assert rig.answered.runs == [["callback", str(due.id), "harborview"]]


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("+19002345678", "premium rate, 1900"),
        ("+12129761234", "premium rate, NXX-976"),
        ("+18765550123", "Jamaica, inside +1"),
        ("+442079460000", "another country"),
    ],
)
async def test_the_dialplan_refuses_a_callback_the_app_should_never_have_placed(
    rig: Rig, carrier: Carrier, number: str, why: str
) -> None:
    before = len(_messages_log(rig.pbx))
    due = _due(number)
    await rig.dialer.dial(due)  # straight to the dialer: the app's own policy skipped
    channel = outbound_channel_id(due.id, due.attempts)
    async with asyncio.timeout(10):
        while channel not in rig.ended:
            await asyncio.sleep(0.05)
    assert carrier.invites() == [], why
    assert rig.answered.runs == []
    logged = _messages_log(rig.pbx)[before:]
    assert f"Callback refused: number ending {number[-4:]}" in logged, logged
    assert number[1:-4] not in logged  # the number is masked in Asterisk's log too


async def test_the_app_never_places_a_callback_its_policy_refuses(
    rig: Rig, carrier: Carrier, pool: asyncpg.Pool
) -> None:
    repo = CallbackRepository(pool)
    now = dt.datetime.now(dt.UTC)
    refused = [
        await repo.add(NewCallback("harborview", number, now, "x"))
        for number in ("+19002345678", "+18765550123", "+442079460000")
    ]
    policy = build_destinations(destination_rules(load_settings()), HOTEL, pool)
    scheduler = CallbackScheduler(
        repo, rig.dialer, lambda due: policy.screen(due.phone_e164, due.property_id, "call")
    )
    assert await scheduler.run_once() == 3
    await asyncio.sleep(1)  # what Asterisk would have done with a call, had one been placed
    assert carrier.invites() == [] and rig.ended == {}
    statuses = await pool.fetch("SELECT id, status FROM callbacks")
    assert {r["id"]: r["status"] for r in statuses} == {i: "failed" for i in refused}


def test_asterisk_applies_the_lists_the_app_reads(pbx: AsteriskSandbox) -> None:
    shown = pbx.cli("dialplan show globals")
    values = dict(re.findall(r"^\s*(\w+)=(.*)$", shown, re.MULTILINE))
    rules = destination_rules(load_settings())
    assert (values["BLOCKED_PREFIXES"],) == rules.blocked_prefixes
    assert values["DESTINATION_CODES"] == "1"  # hotel.conf: the properties' country, the US
