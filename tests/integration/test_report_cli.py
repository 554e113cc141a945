"""`frontdesk report` as a manager runs it: a real process on calls seeded in PostgreSQL
(tests/integration/analytics_rig.py, three days ago onwards), text, CSV and JSON, and exit 2
with one line for bad input."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import signal
import subprocess
import time
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from app.analytics.exports import KPI_COLUMNS, csv_cell
from tests.integration.analytics_rig import seed_calls
from tests.integration.test_cli import FRONTDESK, _env, _free_port, _frontdesk

PRICES = {
    "TRUNK_PRICE_PER_MIN_USD": "0.01",
    "ENGINE_OPENAI_PRICE_PER_MIN_USD": "0.20",
    "ENGINE_LOCAL_PRICE_PER_MIN_USD": "0.005",
}


@pytest.fixture
async def seeded(pool: asyncpg.Pool) -> None:
    await seed_calls(pool, dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3))


async def report(
    db_url: str, tmp_path: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return await _frontdesk(tmp_path, _env(db_url, **{**PRICES, **env}), "report", *args)


async def test_text_report_is_a_readable_summary(seeded: None, db_url: str, tmp_path: Path) -> None:
    done = await report(db_url, tmp_path, "--days", "7")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Front Desk Voice: all properties (2), ")
    assert lines[0].endswith("(7 days, UTC)")
    assert "Calls: 8" in lines
    # 6 of 8 automated (all but c3 transferred, c7 taken over): missed against ≥ 80 %
    automation = next(line for line in lines if line.strip().startswith("Automation"))
    assert "75.0 %" in automation and automation.endswith("MISSED")
    # cost 1.10 over 8 calls (worked out in test_analytics_kpis.py) = $0.14 per call, met
    cost = next(line for line in lines if line.strip().startswith("Cost per call"))
    assert "$0.14" in cost and cost.endswith("met")
    assert "Outcomes:" in lines and "Top tools:" in lines
    assert any(line.split()[:2] == ["failed", "1"] for line in lines)


async def test_one_property_in_its_timezone(seeded: None, db_url: str, tmp_path: Path) -> None:
    done = await report(db_url, tmp_path, "--property", "harborview")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Front Desk Voice: Harborview Hotel (harborview), ")
    assert "(7 days, America/Los_Angeles)" in done.stdout.splitlines()[0]
    assert "Calls: 6" in done.stdout.splitlines()
    assert "By property:" not in done.stdout


async def test_csv_and_json_are_the_same_kpi_rows(
    seeded: None, db_url: str, tmp_path: Path
) -> None:
    as_csv = await report(db_url, tmp_path, "--format", "csv")
    as_json = await report(db_url, tmp_path, "--format", "json")
    assert as_csv.returncode == 0 and as_json.returncode == 0, as_csv.stderr + as_json.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    objects = json.loads(as_json.stdout)
    assert list(rows[0]) == list(KPI_COLUMNS)
    assert rows == [{c: csv_cell(o[c]) for c in KPI_COLUMNS} for o in objects]
    group = {r["key"]: r for r in objects if r["scope"] == "group"}
    assert group["calls"]["value"] == 8 and group["booked"]["value"] == 2
    assert group["automation_rate"]["value"] == 0.75 and group["automation_rate"]["met"] is False
    assert len(objects) == 3 * 13  # the group and two properties, 13 KPIs each


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--property", "nowhere"), "property='nowhere' is not a property of this installation"),
        (("--days", "0"), "--days 0: give a number of days from 1 to 366"),
        (("--days", "400", "--format", "csv"), "--days 400: give a number of days from 1 to 366"),
    ],
)
async def test_bad_input_exits_2_with_one_line(
    db_url: str, tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    done = await report(db_url, tmp_path, *args)
    assert done.returncode == 2
    assert done.stderr.strip() == f"frontdesk: {says}" and done.stdout == ""


async def test_a_bad_price_setting_exits_2_naming_it(db_url: str, tmp_path: Path) -> None:
    done = await report(db_url, tmp_path, TRUNK_PRICE_PER_MIN_USD="-0.5")
    assert done.returncode == 2
    assert "TRUNK_PRICE_PER_MIN_USD='-0.5': Input should be greater than or equal to 0" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr


async def test_frontdesk_run_serves_the_analytics_api(db_url: str, tmp_path: Path) -> None:
    """The composition root wires the routes: the description answers, the data asks for a
    sign-in (JSON, not a redirect)."""
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        *FRONTDESK,
        "run",
        cwd=tmp_path,
        env=_env(db_url, WEB_PORT=str(port), **PRICES),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with http.get(f"{base}/api/openapi.json") as response:
                        assert response.status == 200
                        assert (await response.json())["openapi"] == "3.1.0"
                        break
                except aiohttp.ClientConnectionError:
                    assert proc.returncode is None, "frontdesk run exited early"
                    assert time.monotonic() < deadline, "frontdesk run never listened"
                    await asyncio.sleep(0.2)
            async with http.get(
                f"{base}/api/kpis", headers={"Accept": "text/html"}, allow_redirects=False
            ) as response:
                assert response.status == 401 and "error" in await response.json()
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0
