"""The analytics API over real HTTP, signed in for real, on calls seeded in PostgreSQL
(tests/integration/analytics_rig.py): who may call it, its 400s and 404s, exports that parse
back to the same rows, recordings, and the OpenAPI description checked against the routes
the app serves and the answers it gives."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import uuid
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec
from pyrage import x25519

from app.analytics.costs import Prices
from app.analytics.exports import COLUMNS, csv_cell
from app.analytics.report import Reports
from app.storage.analytics_repo import AnalyticsRepository, CallRecordings
from app.storage.recordings import LocalStorage, RecordingArchive, RecordingRepository
from app.web.analytics_api import AnalyticsApi, add_analytics_routes
from app.web.openapi import openapi_document
from tests.integration.analytics_rig import GROUP_MANAGER, Seeded, add_group_manager, seed_calls
from tests.web_support import SeededUser, seed_users, serving, sign_in, staff_app

DAY0 = dt.date(2026, 11, 10)
RANGE = "from=2026-11-09&to=2026-11-13"
PRICES = Prices(0.01, {"openai": 0.20, "local": 0.005})
DOC = openapi_document()


def wav_bytes() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 800)
    return out.getvalue()


@dataclass
class Site:
    base: str
    seeded: Seeded
    users: dict[str, SeededUser]
    wav: bytes

    @contextlib.asynccontextmanager
    async def as_user(self, who: str | None) -> AsyncIterator[aiohttp.ClientSession]:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            if who == "group":
                email, password = GROUP_MANAGER
            elif who is not None:
                email, password = self.users[who].email, self.users[who].password
            if who is not None:
                answer = await sign_in(http, self.base, email, password)
                assert answer.status == 303, await answer.text()
            yield http

    async def get(self, who: str | None, path: str) -> tuple[int, Any, aiohttp.ClientResponse]:
        async with self.as_user(who) as http, http.get(f"{self.base}{path}") as r:
            body = await r.read()
            kind = r.headers.get("Content-Type", "")
            return r.status, json.loads(body) if "json" in kind else body, r


async def _site(pool: asyncpg.Pool, tmp_path: Path, playable: bool) -> AsyncIterator[Site]:
    seeded = await seed_calls(pool, DAY0)
    users = await seed_users(pool)  # harborview's admin, manager and staff
    await add_group_manager(pool)
    identity = x25519.Identity.generate()
    storage = LocalStorage(tmp_path)
    archive = RecordingArchive(storage, str(identity.to_public()))
    wav = wav_bytes()
    stored = archive.archive(seeded.ids["c1"], "2026-11-10T12:00:00", wav)
    await RecordingRepository(pool).add(seeded.ids["c1"], "harborview", stored, 100)
    recordings = CallRecordings(pool, lambda _kind: storage, str(identity) if playable else None)
    api = AnalyticsApi(Reports(AnalyticsRepository(pool), PRICES), recordings)
    app = staff_app(pool, lambda app: add_analytics_routes(app, api))
    async with serving(app) as base:
        yield Site(base, seeded, users, wav)


@pytest.fixture
async def site(pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Site]:
    async for s in _site(pool, tmp_path, playable=False):
        yield s


@pytest.fixture
async def admin_host(pool: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Site]:
    """A server that holds RECORDING_IDENTITY."""
    async for s in _site(pool, tmp_path, playable=True):
        yield s


def schema(name: str) -> OAS31Validator:
    return OAS31Validator({"$ref": f"#/components/schemas/{name}", "components": DOC["components"]})


# --- who may call it ------------------------------------------------------------------------
PATHS = [
    f"/api/kpis?{RANGE}",
    f"/api/kpis/daily?{RANGE}",
    f"/api/calls?{RANGE}",
    "/api/calls/00000000-0000-0000-0000-000000000000",
    "/api/calls/00000000-0000-0000-0000-000000000000/recording",
    f"/api/export/calls.csv?{RANGE}",
    f"/api/export/kpis.json?{RANGE}",
]


@pytest.mark.parametrize("path", PATHS)
async def test_anonymous_gets_401_json_never_a_login_redirect(site: Site, path: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{site.base}{path}", allow_redirects=False, headers={"Accept": "text/html"}) as r,
    ):
        assert r.status == 401
        assert "error" in await r.json()


@pytest.mark.parametrize("path", PATHS)
async def test_staff_gets_403_json(site: Site, path: str) -> None:
    status, body, _ = await site.get("staff", path)
    assert status == 403 and "role (staff)" in body["error"]


@pytest.mark.parametrize("who", ["manager", "admin", "group"])
async def test_managers_and_admins_get_the_kpis(site: Site, who: str) -> None:
    status, body, _ = await site.get(who, f"/api/kpis?{RANGE}")
    assert status == 200
    schema("KpiReport").validate(body)
    assert body["from"] == "2026-11-09" and body["to"] == "2026-11-13"


async def test_a_manager_of_one_property_sees_only_it(site: Site) -> None:
    # the seeded manager works for harborview: 6 of the 8 ended calls (see the rig's table)
    status, body, _ = await site.get("manager", f"/api/kpis?{RANGE}")
    assert status == 200 and body["group"]["calls"] == 6
    assert [p["property_id"] for p in body["properties"]] == ["harborview"]
    status, body, _ = await site.get("manager", f"/api/kpis?{RANGE}&property=seaside")
    assert status == 403 and "harborview" in body["error"]
    status, _, _ = await site.get("manager", f"/api/calls/{site.seeded.ids['c6']}")
    assert status == 404  # seaside's call: not theirs, and not said to exist


async def test_the_group_manager_sees_every_property(site: Site) -> None:
    status, body, _ = await site.get("group", f"/api/kpis?{RANGE}")
    assert status == 200 and body["group"]["calls"] == 8
    kpis = {k["key"]: k for k in body["group"]["kpis"]}
    # 6 of 8 automated (rig: all but c3 transferred and c7 taken over)
    assert kpis["automation_rate"] == {
        "key": "automation_rate",
        "label": "Automation",
        "value": 0.75,
        "target": 0.8,
        "comparison": "ge",
        "met": False,
        "unit": "ratio",
    }
    assert {p["property_id"]: p["calls"] for p in body["properties"]} == {
        "harborview": 6,
        "seaside": 2,
    }


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("/api/kpis?from=2026-13-01&to=2026-12-01", "from='2026-13-01' is not a date"),
        ("/api/kpis?from=yesterday", "is not a date"),
        ("/api/kpis?from=2026-11-10&to=2026-11-01", "is after to"),
        ("/api/kpis?from=2025-01-01&to=2026-11-01", "over 366 days"),
        ("/api/kpis?property=nowhere", "'nowhere' is not a property"),
        ("/api/kpis/daily?to=2026-02-30", "is not a date"),
        (f"/api/calls?{RANGE}&outcome=sold", "outcome='sold' is not one of"),
        (f"/api/calls?{RANGE}&language=fr", "language='fr' is not one of"),
        (f"/api/calls?{RANGE}&sentiment=happy", "sentiment='happy' is not one of"),
        (f"/api/calls?{RANGE}&limit=0", "limit=0 is out of range"),
        (f"/api/calls?{RANGE}&limit=501", "limit=501 is out of range"),
        (f"/api/calls?{RANGE}&limit=ten", "limit='ten' is not a whole number"),
        (f"/api/calls?{RANGE}&offset=-1", "offset=-1 is out of range"),
        (f"/api/calls?{RANGE}&offset=100000000000000000000", "is out of range"),
        ("/api/kpis?from=0001-01-01&to=0001-01-03", "outside the years 1970 to 2100"),
        ("/api/kpis?from=9999-12-31&to=9999-12-31", "outside the years 1970 to 2100"),
        ("/api/kpis/daily?to=0001-01-03", "outside the years 1970 to 2100"),
        ("/api/export/turns.csv?from=2026-11-10&to=2026-11-01", "is after to"),
        ("/api/export/calls.json?property=nowhere", "is not a property"),
    ],
)
async def test_bad_input_is_a_400_with_a_clear_message(site: Site, query: str, says: str) -> None:
    status, body, _ = await site.get("group", query)
    assert status == 400, body
    assert set(body) == {"error"} and says in body["error"]
    schema("Error").validate(body)


@pytest.mark.parametrize("call_id", ["not-a-uuid", str(uuid.UUID(int=7))])
async def test_an_unknown_or_malformed_call_is_a_404_json(site: Site, call_id: str) -> None:
    for path in (f"/api/calls/{call_id}", f"/api/calls/{call_id}/recording"):
        status, body, _ = await site.get("group", path)
        assert status == 404 and body == {"error": "There is no such call."}


# --- answers --------------------------------------------------------------------------------
async def test_daily_has_one_entry_per_day(site: Site) -> None:
    status, body, _ = await site.get("group", f"/api/kpis/daily?{RANGE}")
    assert status == 200
    schema("Daily").validate(body)
    # UTC days (the rig): 11-10 c1 c3 c4 c5 c8, 11-11 c6 c7, 11-12 c2
    assert [(d["day"], d["calls"]) for d in body["days"]] == [
        ("2026-11-09", 0), ("2026-11-10", 5), ("2026-11-11", 2), ("2026-11-12", 1),
        ("2026-11-13", 0),
    ]  # fmt: skip


async def test_call_list_masks_callers_and_filters(site: Site) -> None:
    status, body, _ = await site.get("group", f"/api/calls?{RANGE}&outcome=booked")
    assert status == 200
    schema("CallList").validate(body)
    assert body["total"] == 2
    assert [c["id"] for c in body["calls"]] == [
        str(site.seeded.ids["c6"]),
        str(site.seeded.ids["c1"]),
    ]
    raw = json.dumps(body)
    assert "+15550100123" not in raw and "5550100123" not in raw
    assert body["calls"][1]["caller"] == "+1••••••0123"


async def test_call_detail_matches_its_schema(site: Site) -> None:
    status, body, _ = await site.get("group", f"/api/calls/{site.seeded.ids['c1']}")
    assert status == 200
    schema("CallDetail").validate(body)
    assert [t["latency_ms"] for t in body["turns"]] == [None, 400, None, 600]
    assert [u["name"] for u in body["tool_invocations"]] == [
        "check_availability",
        "create_reservation",
    ]
    assert body["recording"]["playable"] is False
    assert body["recording"]["href"] == f"/api/calls/{site.seeded.ids['c1']}/recording"


async def test_recording_is_the_encrypted_file_on_the_call_server(site: Site) -> None:
    status, body, r = await site.get("group", f"/api/calls/{site.seeded.ids['c1']}/recording")
    assert status == 200 and r.content_type == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert body.startswith(b"age-encryption.org/v1") and site.wav not in body


async def test_recording_plays_where_the_identity_is_held(admin_host: Site) -> None:
    c1 = admin_host.seeded.ids["c1"]
    status, detail, _ = await admin_host.get("group", f"/api/calls/{c1}")
    assert status == 200 and detail["recording"]["playable"] is True
    status, body, r = await admin_host.get("group", f"/api/calls/{c1}/recording")
    assert status == 200 and r.content_type == "audio/wav" and body == admin_host.wav


async def test_a_call_without_recording_is_a_404(site: Site) -> None:
    status, body, _ = await site.get("group", f"/api/calls/{site.seeded.ids['c2']}/recording")
    assert status == 404 and body == {"error": "This call has no recording."}


# --- exports --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["calls", "turns", "kpis"])
async def test_csv_and_json_exports_parse_back_to_the_same_rows(site: Site, kind: str) -> None:
    status, as_json, r_json = await site.get("group", f"/api/export/{kind}.json?{RANGE}")
    assert status == 200
    status, as_csv, r_csv = await site.get("group", f"/api/export/{kind}.csv?{RANGE}")
    assert status == 200 and r_csv.content_type == "text/csv"
    for r, ext in ((r_json, "json"), (r_csv, "csv")):
        assert r.headers["Content-Disposition"] == (
            f'attachment; filename="{kind}-group-2026-11-09-2026-11-13.{ext}"'
        )
    rows = list(csv.DictReader(io.StringIO(as_csv.decode())))
    assert list(rows[0]) == list(COLUMNS[kind])
    assert len(rows) == len(as_json) > 0
    # the same rows: each JSON value written as CSV text is the CSV's cell
    assert rows == [{c: csv_cell(row[c]) for c in COLUMNS[kind]} for row in as_json]
    row_schema = {"calls": "Call", "turns": "TurnRow", "kpis": "KpiRow"}[kind]
    for row in as_json:
        schema(row_schema).validate(row)


async def test_exports_counts_match_the_seeded_calls(site: Site) -> None:
    _, calls, _ = await site.get("group", f"/api/export/calls.json?{RANGE}")
    assert len(calls) == 9  # c1..c9 (c10 is outside the range)
    assert all("+1555" not in (c["caller"] or "") for c in calls)
    _, turns, _ = await site.get("group", f"/api/export/turns.json?{RANGE}")
    # turns: c1 4, c2 2, c3 2, c4 4, c6 2, c7 2 = 16
    assert len(turns) == 16
    _, kpis, _ = await site.get("group", f"/api/export/kpis.json?{RANGE}")
    # 13 KPIs for the group and each of the two properties
    assert len(kpis) == 39 and {r["scope"] for r in kpis} == {"group", "property"}


# --- the description ------------------------------------------------------------------------
def test_the_openapi_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"] == "3.1.0"
    validate_spec(DOC)  # raises on any error


async def test_every_api_route_the_app_serves_is_described(site: Site) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{site.base}/api/openapi.json") as r:
        assert r.status == 200  # public: it holds no data
        served = await r.json()
    assert served == json.loads(json.dumps(DOC))
    app = staff_app(None, lambda app: add_analytics_routes(app, None))  # type: ignore[arg-type]
    described = served["paths"]
    found = 0
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if not path.startswith("/api/") or route.method == "HEAD":
            continue
        expanded = [path]
        if "{kind}" in path:
            expanded = [
                f"/api/export/{k}.{f}" for k in ("calls", "turns", "kpis") for f in ("csv", "json")
            ]
        for one in expanded:
            assert one in described, f"{route.method} {one} is not in /api/openapi.json"
            assert route.method.lower() in described[one]
            found += 1
    assert found == 12
    assert len(described) == 12  # and nothing described that is not served


def test_the_documents_examples_of_kpis_match_their_schema() -> None:
    example = {
        "from": "2026-11-09",
        "to": "2026-11-13",
        "group": {"calls": 0, "kpis": []},
        "properties": [],
    }
    schema("KpiReport").validate(example)
    bad = {**example, "group": {"calls": -1, "kpis": []}}
    with pytest.raises(Exception, match="minimum"):
        schema("KpiReport").validate(bad)


async def test_a_phone_number_said_on_a_call_is_masked_in_exports_and_the_detail(
    site: Site, pool: asyncpg.Pool
) -> None:
    c1 = site.seeded.ids["c1"]
    said = "Call me back on 415 555 0134 please"
    await pool.execute(
        """INSERT INTO turns (call_id, seq, role, text, started_at)
           SELECT id, 99, 'caller', $2, started_at + interval '1 minute' FROM calls
           WHERE id = $1""",
        c1,
        said,
    )
    await pool.execute("UPDATE calls SET summary = $2 WHERE id = $1", c1, said)
    answers = [
        (await site.get("group", f"/api/export/turns.csv?{RANGE}"))[1].decode(),
        (await site.get("group", f"/api/export/calls.csv?{RANGE}"))[1].decode(),
        json.dumps((await site.get("group", f"/api/calls/{c1}"))[1]),
        json.dumps((await site.get("group", f"/api/calls?{RANGE}"))[1]),
    ]
    for text in answers:
        assert "0134" in text  # the line is there…
        assert "415 555" not in text and "4155550134" not in text  # …its number masked
