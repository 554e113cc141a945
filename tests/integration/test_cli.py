"""The `frontdesk` command as people run it: real processes, a real database, real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from app.calls.records import Direction, NewCall, TurnRole
from app.hotel.tools.registry import ToolInvocation
from app.storage.calls_repo import CallRepository
from app.storage.tools_repo import ToolInvocationRepository

ROOT = Path(__file__).resolve().parents[2]
FRONTDESK = [sys.executable, "-m", "app.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(db_url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TWILIO_", "ASTERISK_"))
    }
    env.update(
        DATABASE_URL=db_url,
        ASTERISK_ARI_URL=f"http://127.0.0.1:{_free_port()}/ari",  # nothing listens there
        ASTERISK_ARI_PASSWORD="not-a-default",
        PYTHONPATH=str(ROOT),
        LOG_FORMAT="json",
        LOCAL_ENGINE_PORT=str(_free_port()),
    )
    env.update(extra)
    return env


async def _frontdesk(
    cwd: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    proc = await asyncio.create_subprocess_exec(
        *FRONTDESK,
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode is not None
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


async def _table_rows(db_url: str) -> dict[str, list[tuple[object, ...]]]:
    conn = await asyncpg.connect(db_url)
    try:
        return {
            table: [tuple(r) for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")]
            for table in ("properties", "property_numbers", "room_types", "rates", "inventory")
        }
    finally:
        await conn.close()


async def test_run_serves_health_and_stops_cleanly(db_url: str, tmp_path: Path) -> None:
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        *FRONTDESK,
        "run",
        cwd=tmp_path,
        env=_env(db_url, WEB_PORT=str(port)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/health") as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    assert proc.returncode is None, "frontdesk run exited early"
                    assert time.monotonic() < deadline, "frontdesk run never listened"
                    await asyncio.sleep(0.2)
            async with http.get(f"http://127.0.0.1:{port}/voice/health") as response:
                assert response.status == 200
            # the staff pages are wired: / asks a browser to sign in, /login answers
            page = {"Accept": "text/html"}
            async with http.get(
                f"http://127.0.0.1:{port}/", headers=page, allow_redirects=False
            ) as response:
                assert response.status == 303
                assert response.headers["Location"] == "/login?next=%2F"
            async with http.get(f"http://127.0.0.1:{port}/login", headers=page) as response:
                assert response.status == 200 and "Sign in" in await response.text()
            async with http.get(f"http://127.0.0.1:{port}/ready") as response:
                body = await response.json()
                assert response.status == 503
                assert body["components"]["ari"]["status"] == "unreachable"
                assert body["components"]["database"]["status"] == "ok"
                assert (
                    body["components"]["engine"]["status"] == "ok"
                )  # the offline engine runs in-process
                # every background job of `frontdesk run` is supervised and reported
                jobs = ("write-behind", "hold-sweeper", "callback-scheduler", "ari-events")
                for job in jobs:
                    assert body["components"][job]["status"] == "ok", body["components"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()
    assert '"event": "stopped"' in err.decode()
    # run loaded the hotel configuration on the way up
    assert (await _table_rows(db_url))["properties"]


async def test_seed_twice_leaves_the_same_rows(db_url: str, tmp_path: Path) -> None:
    first = await _frontdesk(tmp_path, _env(db_url), "seed")
    assert first.returncode == 0, first.stderr
    assert "seeded 2 properties" in first.stdout
    rows = await _table_rows(db_url)
    assert len(rows["inventory"]) > 300 and rows["rates"]

    second = await _frontdesk(tmp_path, _env(db_url), "seed")
    assert second.returncode == 0, second.stderr
    assert "0 added, 0 changed" in second.stdout
    assert await _table_rows(db_url) == rows


async def test_doctor_says_what_is_wrong_and_how_to_fix_it(db_url: str, tmp_path: Path) -> None:
    result = await _frontdesk(tmp_path, _env(db_url), "doctor")
    assert result.returncode == 1
    out = result.stdout
    assert "[FAIL] database" in out and "run `frontdesk seed`" in out
    assert "[FAIL] ari" in out and "fix: start Asterisk" in out
    assert "[ ok ] hotel" in out and "harborview" in out
    assert "[warn] sms" in out
    assert "[ ok ] hold music" in out
    assert "[warn] payments" in out and "PAYMENT_LINK_SECRET" in out
    assert "[warn] sip networks" in out and "CARRIER_NETWORKS is empty" in out
    signed = {**_env(db_url), "PAYMENT_LINK_SECRET": "0123456789abcdef0123456789abcdef"}
    assert "[ ok ] payments" in (await _frontdesk(tmp_path, signed, "doctor")).stdout
    carrier = {**_env(db_url), "CARRIER_NETWORKS": "54.172.60.0/30"}
    wide = (
        await _frontdesk(tmp_path, {**carrier, "STAFF_NETWORKS": "192.168.0.0/16"}, "doctor")
    ).stdout
    assert "[warn] sip networks" in wide and "guest Wi-Fi is private too" in wide
    staff = {**carrier, "STAFF_NETWORKS": "192.168.20.0/24"}
    assert "[ ok ] sip networks" in (await _frontdesk(tmp_path, staff, "doctor")).stdout
    assert "[ ok ] destinations" in out and "callbacks through [frontdesk-callback-out]" in out
    trunk = {**_env(db_url), "CALLBACK_ENDPOINT": "PJSIP/{number}@trunk"}
    out = (await _frontdesk(tmp_path, trunk, "doctor")).stdout
    assert "[warn] destinations" in out and "skip the dialplan's country" in out
    assert "fix: set CALLBACK_ENDPOINT=Local/{number}@frontdesk-callback-out/n" in out

    assert (await _frontdesk(tmp_path, _env(db_url), "seed")).returncode == 0
    out = (await _frontdesk(tmp_path, _env(db_url), "doctor")).stdout
    assert "[ ok ] database" in out and "2 properties" in out


async def test_db_downgrade_and_upgrade(empty_db_url: str, tmp_path: Path) -> None:
    env = _env(empty_db_url)
    doctor = await _frontdesk(tmp_path, env, "doctor")
    assert "frontdesk db upgrade" in doctor.stdout
    assert (await _frontdesk(tmp_path, env, "db", "upgrade")).returncode == 0
    down = await _frontdesk(tmp_path, env, "db", "downgrade", "base")
    assert down.returncode == 0, down.stderr
    conn = await asyncpg.connect(empty_db_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('public.calls')") is None
    finally:
        await conn.close()
    assert (await _frontdesk(tmp_path, env, "db", "upgrade")).returncode == 0


async def test_calls_list_and_show(db_url: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    assert (await _frontdesk(tmp_path, _env(db_url), "seed")).returncode == 0
    repo = CallRepository(pool)
    call = await repo.create(
        NewCall(
            property_id="harborview",
            direction=Direction.INBOUND,
            channel_id="1732400000.7",
            caller_e164="+14155550123",
            dialled_e164="+15550100100",
            ivr_path=("main", "1"),
        )
    )
    await repo.add_turn(call.id, TurnRole.AGENT, "Thank you for calling.")
    await repo.add_turn(call.id, TurnRole.CALLER, "Do you allow dogs?", latency_ms=None)
    tools = ToolInvocationRepository(pool)
    for status, error in (("ok", None), ("refused", "That date has already passed.")):
        await tools.add(
            ToolInvocation(
                call.id, "check_availability", {}, None, status, error,
                call.started_at + dt.timedelta(seconds=3), 12,
            )
        )  # fmt: skip
    await repo.end(call.id, "caller_hangup")

    listing = await _frontdesk(tmp_path, _env(db_url), "calls", "list")
    assert listing.returncode == 0, listing.stderr
    assert str(call.id) in listing.stdout
    assert "+14155550123" not in listing.stdout and "0123" in listing.stdout

    shown = await _frontdesk(tmp_path, _env(db_url), "calls", "show", str(call.id))
    assert shown.returncode == 0, shown.stderr
    assert "caller: Do you allow dogs?" in shown.stdout
    assert "main > 1" in shown.stdout and "caller_hangup" in shown.stdout
    assert "tools      2" in shown.stdout
    assert "3.0s check_availability (12 ms): ok" in shown.stdout
    assert "check_availability (12 ms): refused: That date has already passed." in shown.stdout

    missing = await _frontdesk(
        tmp_path, _env(db_url), "calls", "show", "00000000-0000-0000-0000-000000000000"
    )
    assert missing.returncode == 1 and "no call" in missing.stderr


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"MAX_CALL_DURATION_MINUTES": "forever"}, "MAX_CALL_DURATION_MINUTES='forever'"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml': Input should be 'console' or 'json'"),
    ],
)
async def test_bad_settings_stop_start_up(
    db_url: str, tmp_path: Path, extra: dict[str, str], expected: str
) -> None:
    result = await _frontdesk(tmp_path, _env(db_url, **extra), "run")
    assert result.returncode == 2
    assert expected in result.stderr


async def test_a_broken_hotel_file_stops_start_up_with_its_line(
    db_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "hotel.yaml"
    good = (ROOT / "config" / "hotel.yaml").read_text()
    bad.write_text(good.replace("timezone: America/Los_Angeles", "timezone: Mars/Olympus", 1))
    result = await _frontdesk(tmp_path, _env(db_url, HOTEL_CONFIG=str(bad)), "run")
    assert result.returncode == 2
    assert "properties[0].timezone" in result.stderr
    line = next(
        i for i, text in enumerate(bad.read_text().splitlines(), 1) if "Mars/Olympus" in text
    )
    assert f"hotel.yaml:{line}" in result.stderr


async def test_dialplan_static_check(tmp_path: Path) -> None:
    result = await _frontdesk(
        tmp_path, {**os.environ, "PYTHONPATH": str(ROOT)}, "dialplan", "check", "--static"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dialplan ok (static check)" in result.stdout


MARK = "s3cr3t-m4rker"  # part of each bad value: it must appear in no output at all


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYMENT_LINK_SECRET", f"{MARK}-x"),  # too short
        ("DATABASE_URL", f"mysql://frontdesk:{MARK}@db.example/hotel"),  # not PostgreSQL
        ("DATABASE_URL", f"postgresql://frontdesk:{MARK}@127.0.0.1:1/hotel"),  # nothing there
        ("DATABASE_URL", f"postgresql://frontdesk:{MARK}@127.0.0.1:notaport/hotel"),
        ("DATABASE_URL", f"postgresql://frontdesk:{MARK}@[::1/hotel"),  # not even a URL
    ],
)
async def test_a_bad_secret_setting_is_named_never_printed(
    tmp_path: Path, name: str, value: str
) -> None:
    env = _env("postgresql://unused@127.0.0.1/unused", **{name: value})
    for command in (["calls", "list"], ["doctor"], ["db", "upgrade"]):
        result = await _frontdesk(tmp_path, env, *command)
        output = result.stdout + result.stderr
        assert result.returncode != 0, (command, output)
        assert MARK not in output, (command, output)
        assert name in output or "cannot reach PostgreSQL" in output, (command, output)


async def test_control_characters_in_a_call_are_printed_escaped(
    db_url: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    # A row written before names were cleaned at the edge (or by anything else): printing it
    # must not let it drive the terminal.
    assert (await _frontdesk(tmp_path, _env(db_url), "seed")).returncode == 0
    repo = CallRepository(pool)
    call = await repo.create(
        NewCall(
            property_id="harborview",
            direction=Direction.INBOUND,
            channel_id="1732400000.9",
            caller_e164="+14155550123",
            caller_name="\x1b[2JEvil\r\nCorp\u202e",
            dialled_e164="+15550100100",
        )
    )
    await repo.add_turn(call.id, TurnRole.CALLER, "hello\x1b[31m red")
    for command in (["calls", "list"], ["calls", "show", str(call.id)]):
        result = await _frontdesk(tmp_path, _env(db_url), *command)
        assert result.returncode == 0, result.stderr
        assert not any(ch in result.stdout for ch in "\x1b\r\u202e"), result.stdout
    assert "\\x1b[2JEvil\\x0d\\x0aCorp\\u202e" in result.stdout
    assert "hello\\x1b[31m red" in result.stdout
