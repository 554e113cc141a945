"""Browser phone logins: their lifetime, their replacement and their removal from Asterisk,
against the stand-in ARI (tests/phone_rig.py) over real HTTP; and TURN REST credentials."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.staff.phone import NotABrowserPhone, PhoneSystemUnavailable
from app.telephony.ari.client import AriClient
from app.telephony.phone_logins import AriPhoneLogins
from app.web.turn import IceSettings, ice_servers, turn_credential
from tests.phone_rig import ARI_PASSWORD, ARI_USER, FakeAsterisk

START = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeAsterisk]:
    asterisk = FakeAsterisk()
    await asterisk.start()
    yield asterisk
    await asterisk.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _logins(fake: FakeAsterisk, http: aiohttp.ClientSession, clock: Clock) -> AriPhoneLogins:
    client = AriClient(http, fake.ari_url, ARI_USER, ARI_PASSWORD)
    return AriPhoneLogins(client, dt.timedelta(hours=1), clock)


async def test_a_login_is_kept_while_it_has_half_its_life_then_replaced(
    fake: FakeAsterisk, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    logins = _logins(fake, http, clock)
    first = await logins.issue("2002")
    assert first.expires_at == START + dt.timedelta(hours=1)
    clock.now = START + dt.timedelta(minutes=29)
    assert (await logins.issue("2002")).password == first.password
    clock.now = START + dt.timedelta(minutes=31)
    second = await logins.issue("2002")
    assert second.password != first.password
    assert fake.auths["2002"]["password"] == second.password  # the old one no longer works
    assert first.password not in repr(first)


async def test_expired_logins_leave_asterisk(
    fake: FakeAsterisk, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    logins = _logins(fake, http, clock)
    await logins.issue("2002")
    clock.now = START + dt.timedelta(minutes=30)
    await logins.issue("2003")
    clock.now = START + dt.timedelta(minutes=61)
    assert await logins.sweep() == 1
    assert set(fake.auths) == {"2003"}
    clock.now = START + dt.timedelta(minutes=91)
    assert await logins.sweep() == 1 and fake.auths == {}


async def test_start_up_removes_what_a_previous_run_left_but_not_what_it_issued(
    fake: FakeAsterisk, http: aiohttp.ClientSession
) -> None:
    fake.auths["2002"] = {"password": "left-by-a-previous-run"}
    logins = _logins(fake, http, Clock())
    await logins.issue("2003")
    await logins.forget(["2002", "2003"])
    assert set(fake.auths) == {"2003"}


async def test_desk_phones_and_unknown_extensions_get_no_browser_login(
    fake: FakeAsterisk, http: aiohttp.ClientSession
) -> None:
    logins = _logins(fake, http, Clock())
    with pytest.raises(NotABrowserPhone, match="desk phone"):
        await logins.issue("2001")
    with pytest.raises(NotABrowserPhone, match="not set up"):
        await logins.issue("7777")
    assert fake.auths == {}
    fake.ari_up = False
    with pytest.raises(PhoneSystemUnavailable):
        await logins.issue("2002")


def test_turn_credentials_are_coturns_rest_api_shape() -> None:
    # A known answer, from `printf 1800003600:ext2002 | openssl dgst -sha1 -hmac north-wing-secret -binary | base64`
    cred = turn_credential("north-wing-secret", "ext2002", 1_800_000_000, 3600)
    assert cred.username == "1800003600:ext2002" and cred.expires_at == 1_800_003_600
    expected = base64.b64encode(
        hmac.new(b"north-wing-secret", b"1800003600:ext2002", hashlib.sha1).digest()
    ).decode()
    assert cred.credential == expected
    assert cred.credential == "MHaSBmvqR0QiLGUMMNM8+FQOdS8="


def test_without_a_secret_only_stun_is_offered() -> None:
    ice = IceSettings(
        turn_urls=("turn:turn.hotel.example:3478?transport=udp", "turns:t.example:5349")
    )
    assert ice_servers(ice, "ext2002", 0) == [{"urls": ["stun:turn.hotel.example:3478"]}]
    assert ice_servers(IceSettings(), "ext2002", 0) == []
