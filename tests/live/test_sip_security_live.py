"""Who may reach the PBX, attacked from an address that is neither the carrier's nor a staff
network's (127.0.0.2; the sandbox lists only 127.0.0.1 as both, from the same settings a
deployment writes with `frontdesk asterisk secrets`). Every attempt is refused, never
answered, and leaves a line in the security log that fail2ban reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.pbx.sandbox import AsteriskSandbox
from tests.live.keypad import free_port, register, sipp

HARBORVIEW = "+15550100100"
OUTSIDE = "127.0.0.2"


def _gained(security: Path, before: str) -> str:
    return security.read_text()[len(before) :]


async def _logged_since(security: Path, before: str, address: str) -> str:
    """What the security log gained, once it names `address`."""
    async with asyncio.timeout(5):
        while address not in _gained(security, before):
            await asyncio.sleep(0.1)
    return _gained(security, before)


def _log_so_far(pbx: AsteriskSandbox) -> tuple[Path, str]:
    security = pbx.log_dir / "security.log"
    return security, security.read_text() if security.exists() else ""


@pytest.mark.parametrize(
    ("from_user", "logged_as"),
    [
        # the carrier's endpoint by name: identified by address alone, so nothing is found
        ("trunk", "InvalidAccountID"),
        # a staff extension: the phone is found by username, its ACL refuses the address
        ("2001", "FailedACL"),
        # an ordinary caller's number: no endpoint at all
        ("+14155550199", "InvalidAccountID"),
    ],
)
async def test_a_call_from_an_unlisted_address_is_refused_and_logged(
    pbx: AsteriskSandbox, from_user: str, logged_as: str
) -> None:
    security, before = _log_so_far(pbx)
    code, out = await sipp(
        pbx,
        "stranger.xml",
        "-s",
        HARBORVIEW,
        "-set",
        "from_user",
        from_user,
        "-i",
        OUTSIDE,
        "-p",
        str(free_port()),
        "-mp",
        str(free_port() & ~1),
        timeout=20,
    )
    assert code == 0, out  # refused with 401/403; a 200 fails the scenario
    assert "0 active calls" in pbx.cli("core show channels count")
    logged = await _logged_since(security, before, OUTSIDE)
    assert logged_as in logged, logged


async def test_registering_as_staff_without_credentials_from_outside_is_refused_and_logged(
    pbx: AsteriskSandbox,
) -> None:
    security, before = _log_so_far(pbx)
    code, out = await sipp(
        pbx,
        "register_no_auth.xml",
        "-s",
        "3100",
        "-i",
        OUTSIDE,
        "-p",
        str(free_port()),
        timeout=15,
    )
    assert code == 0, out  # refused; a 200 fails the scenario
    assert f"@{OUTSIDE}" not in pbx.cli("pjsip show contacts")
    logged = await _logged_since(security, before, OUTSIDE)
    assert "FailedACL" in logged, logged


async def test_a_staff_password_is_no_use_from_outside_the_staff_network(
    pbx: AsteriskSandbox,
) -> None:
    security, before = _log_so_far(pbx)
    # the right password, from an address STAFF_NETWORKS does not list
    code, out = await register(pbx, "3100", free_port(), expires=300, address=OUTSIDE)
    assert code != 0, out
    assert f"@{OUTSIDE}" not in pbx.cli("pjsip show contacts")
    logged = await _logged_since(security, before, OUTSIDE)
    assert "FailedACL" in logged, logged
