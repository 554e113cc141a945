"""The managers' dashboard in a real browser (Playwright, Debian's chromium, headless) on the
real analytics API (app/web/analytics_api.py) over calls seeded in PostgreSQL: the tiles show
the seeded figures against their targets, the filters change the list, a call opens on its
transcript, an export downloads and parses, the page refreshes itself without losing what
the manager chose, errors are said in words, and only managers and admins get in."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import re
import uuid
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
import pytest
from aiohttp import web
from playwright.async_api import Download, Locator, Page, Request, expect
from pyrage import x25519

from app.analytics.costs import Prices
from app.analytics.report import Reports
from app.storage.analytics_repo import AnalyticsRepository, CallRecordings
from app.storage.recordings import LocalStorage, RecordingArchive, RecordingRepository
from app.web.analytics_api import AnalyticsApi, add_analytics_routes
from app.web.dashboard import DashboardPage, add_dashboard_routes
from tests.browser.conftest import RunningApp, page_errors
from tests.browser.png import read_png
from tests.integration.analytics_rig import GROUP_MANAGER, add_group_manager, add_properties
from tests.web_support import PROPERTY

PHONE_WIDTH = 375
ZONE = ZoneInfo("America/Los_Angeles")  # the seeded property's (tests/web_support.py)
CALLER = "+14155550123"
REFRESH_SECONDS = 1.0

OpenPage = Callable[..., Awaitable[Page]]


@dataclass(frozen=True)
class Seed:
    """One call as the tests seed it (and, below, what the page must make of it)."""

    days_ago: int
    outcome: str
    language: str
    sentiment: float | None
    satisfaction: float | None
    summary: str
    seconds: int = 120
    transferred_to: str | None = None
    tools: tuple[tuple[str, str], ...] = ()  # (name, status)


# Eight calls over the last week. Hand-computed: automation 7/8 = 87.5 % (one transferred);
# booking conversion = booked / asked about a stay (looked for rooms, booked or left a lead)
# = 2/3 = 66.7 %; error rate 1/8 = 12.5 % (one tool error); satisfaction over the seven
# scored calls = 28.8 / 7 = 4.11.
SEEDS = (
    Seed(1, "booked", "en", 0.6, 4.8, "Booked a king room for two nights.",
         tools=(("check_availability", "ok"), ("create_reservation", "ok"))),
    Seed(2, "booked", "en", 0.3, 4.6, "Booked a double room for Friday."),
    Seed(2, "transferred", "en", -0.4, 3.0, "Asked for the manager: put through to the desk.",
         transferred_to="front_desk"),
    Seed(3, "info", "es", None, 4.0, "Preguntó por el horario del desayuno."),
    Seed(3, "info", "en", 0.0, 4.2, "Asked where to park."),
    Seed(4, "abandoned", "en", None, None, "Hung up in the menu.", seconds=20),
    Seed(5, "lead", "en", 0.2, 4.4, "Left a lead for a wedding block.",
         tools=(("check_availability", "ok"),)),
    Seed(6, "callback", "en", -0.1, 3.8, "Asked to be called back tomorrow.",
         tools=(("send_payment_link", "error"),)),
)  # fmt: skip

# The first call's conversation, as the detail must show it.
TURNS = (
    ("agent", "Harborview Hotel, this is Ava. How can I help?", None, False, None),
    ("caller", "Hi, I would like a room for two nights.", None, False, 0.36),
    ("agent", "Of course. For which nights would", 640, True, None),
    ("caller", "This Friday and Saturday, a king room please.", None, False, 0.5),
    ("agent", "A king room is 189 dollars a night. Shall I book it?", 820, False, None),
)


def _noon(days_ago: int) -> dt.datetime:
    day = dt.datetime.now(ZONE).date() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(12, 0), ZONE)


async def insert_call(pool: asyncpg.Pool, seed: Seed, at: dt.datetime | None = None) -> uuid.UUID:
    started = at or _noon(seed.days_ago)
    call_id: uuid.UUID = await pool.fetchval(
        """INSERT INTO calls (property_id, direction, caller_e164, state, engine, language,
                              ivr_path, started_at, answered_at, ended_at, end_reason, outcome,
                              summary, sentiment, satisfaction, transferred_to, ivr_wait_ms,
                              after_hours)
           VALUES ($1, 'inbound', $2, 'ended', 'local', $3, $4, $5, $5, $6, 'caller hangup', $7,
                   $8, $9, $10, $11, 4200, false)
           RETURNING id""",
        PROPERTY,
        CALLER,
        seed.language,
        ["1 reservations"],
        started,
        started + dt.timedelta(seconds=seed.seconds),
        seed.outcome,
        seed.summary,
        seed.sentiment,
        seed.satisfaction,
        seed.transferred_to,
    )
    for n, (name, status) in enumerate(seed.tools):
        await pool.execute(
            """INSERT INTO tool_invocations (call_id, name, status, error_message, started_at,
                                             duration_ms)
               VALUES ($1, $2, $3, $4, $5, 320)""",
            call_id,
            name,
            status,
            "The SMS provider timed out." if status == "error" else None,
            started + dt.timedelta(seconds=20 + 10 * n),
        )
    return call_id


async def seed_calls(pool: asyncpg.Pool) -> list[uuid.UUID]:
    ids = [await insert_call(pool, seed) for seed in SEEDS]
    first, started = ids[0], _noon(SEEDS[0].days_ago)
    for seq, (role, text, latency, interrupted, sentiment) in enumerate(TURNS):
        await pool.execute(
            """INSERT INTO turns (call_id, seq, role, text, started_at, latency_ms, interrupted,
                                  sentiment)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            first,
            seq,
            role,
            text,
            started + dt.timedelta(seconds=4 * seq),
            latency,
            interrupted,
            sentiment,
        )
    return ids


@dataclass(frozen=True)
class Vault:
    """Where recordings are kept (sealed to the admin host's key) and that host's identity."""

    storage: LocalStorage
    identity: x25519.Identity


def one_second_tone() -> bytes:
    """1 s of a 440 Hz tone, 8 kHz mono 16-bit: what a browser decodes and can measure."""
    samples = (8000 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(samples.tobytes())
    return out.getvalue()


async def add_recording(pool: asyncpg.Pool, vault: Vault, call_id: uuid.UUID) -> None:
    archive = RecordingArchive(vault.storage, str(vault.identity.to_public()))
    stored = await asyncio.to_thread(
        archive.archive, call_id, "2026-12-01T12:00:00", one_second_tone()
    )
    await RecordingRepository(pool).add(call_id, PROPERTY, stored, 95_000)


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault(LocalStorage(tmp_path / "recordings"), x25519.Identity.generate())


@pytest.fixture
def playable() -> bool:
    """False: the call server (no RECORDING_IDENTITY); True: an admin host that holds it."""
    return False


@pytest.fixture
def page_setup() -> DashboardPage:
    return DashboardPage(refresh_seconds=REFRESH_SECONDS)


@pytest.fixture
def configure_app(
    pool: asyncpg.Pool, vault: Vault, playable: bool, page_setup: DashboardPage
) -> Callable[[web.Application], None]:
    def add(app: web.Application) -> None:
        reports = Reports(AnalyticsRepository(pool), Prices(trunk_per_min=0.01))
        identity = str(vault.identity) if playable else None
        recordings = CallRecordings(pool, lambda _kind: vault.storage, identity)
        add_analytics_routes(app, AnalyticsApi(reports, recordings))
        add_dashboard_routes(app, page_setup)

    return add


@pytest.fixture
async def seeded(running_app: RunningApp, vault: Vault) -> list[uuid.UUID]:
    ids = await seed_calls(running_app.pool)
    await add_recording(running_app.pool, vault, ids[0])
    return ids


async def _dashboard(signed_in_page: OpenPage, role: str = "manager", **options: object) -> Page:
    page = await signed_in_page(role, "/dashboard", **options)
    assert page.url.endswith("/dashboard")
    await expect(page.locator("#live-status")).to_have_text(re.compile("^Live"))
    return page


def _tile(page: Page, key: str) -> Locator:
    return page.locator(f'#kpis li[data-key="{key}"]')


async def test_the_tiles_show_the_seeded_figures_against_their_targets(
    signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    calls = _tile(page, "calls")
    await expect(calls.locator(".kpi-value")).to_have_text("8")
    automation = _tile(page, "automation_rate")
    await expect(automation.locator(".kpi-value")).to_have_text("87.5 %")
    await expect(automation.locator(".kpi-target")).to_have_text("Target ≥ 80 %")
    await expect(automation.locator(".kpi-verdict")).to_have_text("✓ Target met")
    conversion = _tile(page, "booking_conversion")
    await expect(conversion.locator(".kpi-value")).to_have_text("66.7 %")
    await expect(conversion.locator(".kpi-verdict")).to_have_text("✓ Target met")
    errors = _tile(page, "error_rate")
    await expect(errors.locator(".kpi-value")).to_have_text("12.5 %")
    await expect(errors.locator(".kpi-target")).to_have_text("Target < 1 %")
    await expect(errors.locator(".kpi-verdict")).to_have_text("✗ Target missed")
    satisfaction = _tile(page, "satisfaction")
    await expect(satisfaction.locator(".kpi-value")).to_have_text("4.11 / 5")
    await expect(satisfaction.locator(".kpi-verdict")).to_have_text("✗ Target missed")
    booked = _tile(page, "booked")
    await expect(booked.locator(".kpi-target")).to_have_text("No target")
    await expect(booked.locator(".kpi-verdict")).to_have_count(0)

    # the default period is the property's last 7 days, today included
    today = dt.datetime.now(ZONE).date()
    await expect(page.get_by_label("From", exact=True)).to_have_value(
        str(today - dt.timedelta(days=6))
    )
    await expect(page.get_by_label("To", exact=True)).to_have_value(str(today))
    # the charts' figures, as a table: one row a day, the seeded calls on their days
    day_rows = page.locator("#calls-table tbody tr")
    await expect(day_rows).to_have_count(7)
    counts = [int(await r.locator("td").first.text_content() or "") for r in await day_rows.all()]
    assert counts == [1, 1, 1, 2, 2, 1, 0], counts  # 6 days ago … today
    await expect(page.locator("#calls tbody tr")).to_have_count(8)
    await expect(page.locator("#calls-count")).to_have_text("(8)")
    assert CALLER not in await page.content()  # the number never reaches the page
    assert page_errors(page) == []


async def test_the_page_fits_a_phone_screen_with_data(
    signed_in_page: OpenPage, seeded: list[uuid.UUID], tmp_path: Path
) -> None:
    page = await _dashboard(
        signed_in_page, viewport={"width": PHONE_WIDTH, "height": 740}, device_scale_factor=1
    )
    await expect(page.locator("#calls tbody tr")).to_have_count(8)
    await page.locator("#calls tbody tr").first.get_by_role("button").click()
    await expect(page.locator("#turns li")).to_have_count(len(TURNS))
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the page scrolls sideways: {width} px wide"
    for canvas in ("#calls-chart", "#mood-chart"):
        box = await page.locator(canvas).bounding_box()
        assert box is not None and box["width"] > 250 and box["height"] > 150, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH

    shot = await page.screenshot(full_page=True)
    (tmp_path / "dashboard-375.png").write_bytes(shot)
    image = read_png(shot)
    height, shot_width, _ = image.shape
    assert shot_width == PHONE_WIDTH and height >= 1500
    pixels = image[:, :, :3].reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 50, "the screenshot is blank"
    dark = (pixels.sum(axis=1) < 200).mean()  # text
    assert 0.002 < dark < 0.5, f"{dark:.1%} of the pixels are text-dark"
    background = np.array([0xF4, 0xF5, 0xF7])  # --page
    assert (np.abs(pixels.astype(int) - background).sum(axis=1) < 6).mean() > 0.05
    booked = np.array([0x1A, 0x7F, 0x37])  # the chart's "Booked" bars and the met tiles
    assert (np.abs(pixels.astype(int) - booked).sum(axis=1) < 30).sum() > 200
    assert page_errors(page) == []


async def test_the_filters_change_the_list_and_stay_in_the_address(
    signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    rows = page.locator("#calls tbody tr")
    await expect(rows).to_have_count(8)
    await page.get_by_label("Outcome", exact=True).select_option("booked")
    await expect(rows).to_have_count(2)
    await expect(rows.locator("td.outcome")).to_have_text(["Booked · AI only"] * 2)
    await expect(page.locator("#calls-count")).to_have_text("(2)")
    await page.get_by_label("Outcome", exact=True).select_option("")
    await page.get_by_label("Language", exact=True).select_option("es")
    await expect(rows).to_have_count(1)
    await expect(rows.locator("td.summary")).to_have_text(SEEDS[3].summary)
    await page.get_by_label("Language", exact=True).select_option("")
    await page.get_by_label("Sentiment", exact=True).select_option("unscored")
    await expect(rows).to_have_count(2)
    await expect(rows.locator("td.sentiment")).to_have_text(["Not scored"] * 2)
    await page.get_by_label("Sentiment", exact=True).select_option("negative")
    await expect(rows.locator("td.summary")).to_have_text(
        [SEEDS[2].summary, SEEDS[7].summary]  # newest first
    )
    # the period narrows the list too: the last two days hold three calls
    today = dt.datetime.now(ZONE).date()
    await page.get_by_label("Sentiment", exact=True).select_option("")
    await page.get_by_label("From", exact=True).fill(str(today - dt.timedelta(days=2)))
    await page.get_by_role("button", name="Show").click()
    await expect(rows).to_have_count(3)
    await expect(_tile(page, "calls").locator(".kpi-value")).to_have_text("3")

    await page.get_by_label("Outcome", exact=True).select_option("booked")
    await expect(rows).to_have_count(2)
    await page.reload()  # what was chosen is in the address
    await expect(page.get_by_label("Outcome", exact=True)).to_have_value("booked")
    await expect(page.get_by_label("From", exact=True)).to_have_value(
        str(today - dt.timedelta(days=2))
    )
    await expect(rows).to_have_count(2)
    assert page_errors(page) == []


async def test_the_list_comes_in_pages(running_app: RunningApp, signed_in_page: OpenPage) -> None:
    for n in range(30):
        await insert_call(
            running_app.pool,
            Seed(1, "info", "en", 0.1, 4.5, f"Question number {n}."),
            at=_noon(1) + dt.timedelta(minutes=n),
        )
    page = await _dashboard(signed_in_page)
    rows = page.locator("#calls tbody tr")
    await expect(rows).to_have_count(25)
    await expect(page.locator("#page-info")).to_have_text("Calls 1–25 of 30")
    await expect(rows.first.locator("td.summary")).to_have_text("Question number 29.")
    await expect(page.get_by_role("button", name="Newer")).to_be_disabled()
    await page.get_by_role("button", name="Older").click()
    await expect(rows).to_have_count(5)
    await expect(page.locator("#page-info")).to_have_text("Calls 26–30 of 30")
    await expect(rows.last.locator("td.summary")).to_have_text("Question number 0.")
    await expect(page.get_by_role("button", name="Older")).to_be_disabled()
    await page.get_by_role("button", name="Newer").click()
    await expect(page.locator("#page-info")).to_have_text("Calls 1–25 of 30")
    assert page_errors(page) == []


async def test_a_call_opens_on_its_transcript_tools_and_recording(
    signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    row = page.locator(f'#calls tbody tr[data-id="{seeded[0]}"]')
    button = row.get_by_role("button")
    await expect(button).to_have_text("+1••••••0123")
    await button.click()
    detail = page.locator("#detail")
    heading = page.get_by_role("heading", name=re.compile(r"^Call from \+1••••••0123"))
    await expect(heading).to_be_focused()
    await expect(button).to_have_attribute("aria-pressed", "true")
    await expect(detail.locator("#detail-summary")).to_have_text(SEEDS[0].summary)
    turns = detail.locator("#turns li")
    await expect(turns.locator(".speaker")).to_have_text(
        ["Receptionist: ", "Caller: ", "Receptionist: ", "Caller: ", "Receptionist: "]
    )
    await expect(turns.locator(".said")).to_have_text([t[1] for t in TURNS])
    await expect(turns.nth(2)).to_contain_text("interrupted")
    await expect(turns.nth(2)).to_contain_text("replied in 640 ms")
    await expect(turns.nth(1)).to_contain_text("sentiment Positive (+0.36)")
    for n in (0, 1, 3, 4):
        await expect(turns.nth(n)).not_to_contain_text("interrupted")
    tools = detail.locator("#tools li")
    await expect(tools).to_have_text(
        [
            re.compile(r"^✓ check_availability ok \(at 0:20, took 320 ms\)$"),
            re.compile(r"^✓ create_reservation ok \(at 0:30, took 320 ms\)$"),
        ]
    )
    await expect(detail.locator("#ivr")).to_have_text("1 reservations; 4.2 s in the menu")
    facts = detail.locator("#detail-facts")
    await expect(facts).to_contain_text("OutcomeBooked")
    await expect(facts).to_contain_text("HandledBy the AI receptionist alone")
    # this server holds no RECORDING_IDENTITY: the encrypted file to download, and where to play it
    link = detail.get_by_role("link", name="Download the encrypted recording (1 min 35 s)")
    await expect(link).to_have_attribute("href", f"/api/calls/{seeded[0]}/recording")
    await expect(detail.locator(".not-playable")).to_contain_text("RECORDING_IDENTITY")
    await expect(detail.locator("audio")).to_have_count(0)

    other = page.locator(f'#calls tbody tr[data-id="{seeded[7]}"]').get_by_role("button")
    await other.click()
    await expect(detail.locator("#detail-summary")).to_have_text(SEEDS[7].summary)
    await expect(detail.locator("#tools li")).to_have_text(
        re.compile(r"^✗ send_payment_link error .*: The SMS provider timed out\.$")
    )
    await expect(detail.get_by_text("Nothing was said.")).to_be_visible()
    await expect(detail.get_by_text("No recording of this call.")).to_be_visible()
    await expect(button).to_have_attribute("aria-pressed", "false")
    await page.get_by_role("button", name="Close").click()
    await expect(detail).to_be_hidden()
    await expect(other).to_be_focused()
    assert page_errors(page) == []


async def _text_of(download: Download) -> str:
    """A finished download's file, as text (read off the event loop)."""
    path = Path(await download.path())
    return await asyncio.to_thread(path.read_text, encoding="utf-8")


async def test_an_export_downloads_and_parses(
    signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    async with page.expect_download() as csv_download:
        await page.get_by_role("link", name="Calls CSV").click()
    download = await csv_download.value
    assert download.suggested_filename.endswith(".csv")
    text = await _text_of(download)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["id"] for r in rows} == {str(i) for i in seeded}
    assert {r["summary"] for r in rows} == {s.summary for s in SEEDS}
    assert CALLER not in text

    async with page.expect_download() as json_download:
        await page.get_by_role("link", name="KPIs JSON").click()
    download = await json_download.value
    assert download.suggested_filename.endswith(".json")
    kpis = json.loads(await _text_of(download))
    assert isinstance(kpis, list) and kpis, kpis
    # the export covers the period shown: after narrowing it, the link says so
    today = dt.datetime.now(ZONE).date()
    await page.get_by_label("From", exact=True).fill(str(today - dt.timedelta(days=2)))
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("link", name="Calls JSON")).to_have_attribute(
        "href", re.compile(rf"^/api/export/calls\.json\?from={today - dt.timedelta(days=2)}&to=")
    )
    async with page.expect_download() as narrowed:
        await page.get_by_role("link", name="Calls JSON").click()
    calls = json.loads(await _text_of(await narrowed.value))
    assert sorted(c["summary"] for c in calls) == sorted(s.summary for s in SEEDS[:3])
    assert page_errors(page) == []


async def test_a_bad_period_is_explained_next_to_it(
    signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    today = dt.datetime.now(ZONE).date()
    await page.get_by_label("From", exact=True).fill(str(today))
    await page.get_by_label("To", exact=True).fill(str(today - dt.timedelta(days=3)))
    await page.get_by_role("button", name="Show").click()
    error = page.locator("#range-error")
    await expect(error).to_contain_text("is after")
    await expect(page.locator("#filters-error")).to_have_text("")  # said once, by the period
    await expect(page.locator("#kpis li")).not_to_have_count(0)  # the last figures stay
    await page.get_by_label("From", exact=True).fill(str(today - dt.timedelta(days=3)))
    await page.get_by_label("To", exact=True).fill(str(today))
    await page.get_by_role("button", name="Show").click()
    await expect(error).to_have_text("")
    # chromium logs each 400 answer as a console error: those are the ones we asked for
    assert page_errors(page), "the bad period was never sent"
    assert all("status of 400" in e for e in page_errors(page)), page_errors(page)


async def test_the_tiles_and_list_refresh_keeping_the_filters_and_the_open_call(
    running_app: RunningApp, signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    await page.get_by_label("Outcome", exact=True).select_option("booked")
    rows = page.locator("#calls tbody tr")
    await expect(rows).to_have_count(2)
    await page.locator(f'#calls tbody tr[data-id="{seeded[0]}"]').get_by_role("button").click()
    await expect(page.locator("#turns li")).to_have_count(len(TURNS))

    new = await insert_call(
        running_app.pool,
        Seed(0, "booked", "en", 0.5, 5.0, "Booked a suite just now."),
        at=dt.datetime.now(ZONE) - dt.timedelta(minutes=5),
    )
    await expect(rows).to_have_count(3, timeout=10_000)  # no reload, no click
    await expect(rows.first).to_have_attribute("data-id", str(new))
    await expect(_tile(page, "calls").locator(".kpi-value")).to_have_text("9")
    await expect(page.get_by_label("Outcome", exact=True)).to_have_value("booked")
    await expect(page.locator("#detail-summary")).to_have_text(SEEDS[0].summary)
    await expect(page.locator("#turns li")).to_have_count(len(TURNS))
    opened = page.locator(f'#calls tbody tr[data-id="{seeded[0]}"]').get_by_role("button")
    await expect(opened).to_have_attribute("aria-pressed", "true")
    assert page_errors(page) == []


async def test_the_refresh_pauses_while_the_tab_is_hidden(
    signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    asked: list[str] = []

    def note(request: Request) -> None:
        if "/api/" in request.url:
            asked.append(request.url)

    page.on("request", note)
    for _ in range(50):  # it polls by itself
        if asked:
            break
        await page.wait_for_timeout(100)
    assert asked, "the page did not refresh itself"
    await page.evaluate(
        """() => {
            Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    await expect(page.locator("#live-status")).to_have_text("Paused while this tab is hidden")
    asked.clear()
    await page.wait_for_timeout(REFRESH_SECONDS * 3 * 1000)
    assert asked == []
    await page.evaluate(
        """() => {
            Object.defineProperty(document, "visibilityState", {value: "visible", configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    await expect(page.locator("#live-status")).to_have_text(re.compile("^Live"))
    assert any("/api/kpis" in url for url in asked)
    assert page_errors(page) == []


async def test_a_lost_connection_is_a_notice_and_the_figures_stay(
    signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    await expect(page.locator("#calls tbody tr")).to_have_count(8)
    await page.route("**/api/**", lambda route: route.abort("connectionrefused"))
    notice = page.locator("#connection")
    await expect(notice).to_contain_text("Lost the connection to the server", timeout=5000)
    await expect(page.locator("#live-status")).to_have_text("Not connected")
    await expect(page.locator("#calls tbody tr")).to_have_count(8)  # what was read stays
    await expect(_tile(page, "calls").locator(".kpi-value")).to_have_text("8")
    await page.unroute("**/api/**")
    await expect(notice).to_be_hidden(timeout=5000)
    await expect(page.locator("#live-status")).to_have_text(re.compile("^Live"))
    # the browser reports the refused fetches as console errors: those are what we caused
    assert all("ERR_CONNECTION_REFUSED" in e for e in page_errors(page)), page_errors(page)


async def test_only_managers_and_admins_get_in(
    running_app: RunningApp, signed_in_page: OpenPage, new_page: OpenPage
) -> None:
    staff = await signed_in_page("staff", "/dashboard")
    assert staff.url.endswith("/dashboard")
    await expect(staff.get_by_text("Your role (staff) does not give access")).to_be_visible()
    nav = staff.get_by_role("navigation", name="Main")
    await expect(nav).to_be_attached()
    await expect(nav.get_by_role("link", name="Dashboard")).to_have_count(0)
    response = await staff.request.get("/dashboard")
    assert response.status == 403

    anonymous = await new_page()
    await anonymous.goto("/dashboard")
    await expect(anonymous).to_have_url(f"{running_app.url}/login?next=%2Fdashboard")
    await expect(anonymous.get_by_role("heading", name="Sign in")).to_be_visible()

    for role in ("manager", "admin"):
        page = await _dashboard(signed_in_page, role)
        link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard")
        await expect(link).to_have_attribute("aria-current", "page")
        assert page_errors(page) == []


async def test_on_the_call_server_the_recording_downloads_sealed(
    signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    await page.locator(f'#calls tbody tr[data-id="{seeded[0]}"]').get_by_role("button").click()
    link = page.get_by_role("link", name=re.compile("^Download the encrypted recording"))
    async with page.expect_download() as download_info:
        await link.click()
    path = Path(await (await download_info.value).path())
    sealed = await asyncio.to_thread(path.read_bytes)
    assert sealed.startswith(b"age-encryption.org/v1"), sealed[:40]
    assert b"RIFF" not in sealed[:64]
    assert page_errors(page) == []


@pytest.mark.parametrize("playable", [True])
async def test_on_an_admin_host_the_recording_plays_in_the_page(
    signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    await page.locator(f'#calls tbody tr[data-id="{seeded[0]}"]').get_by_role("button").click()
    audio = page.locator("#recording audio")
    await expect(audio).to_have_attribute("src", f"/api/calls/{seeded[0]}/recording")
    await expect(page.locator(".not-playable")).to_have_count(0)
    # the browser fetches the decrypted WAV and decodes it: one second of audio
    duration = await audio.evaluate(
        """(a) => new Promise((ok, no) => {
            a.addEventListener("loadedmetadata", () => ok(a.duration), {once: true});
            a.addEventListener("error", () => no(new Error("audio error " + a.error?.code)), {once: true});
            a.load();
        })"""
    )
    assert abs(duration - 1.0) < 0.05, duration
    assert page_errors(page) == []


async def test_a_group_manager_chooses_the_group_or_one_property(
    running_app: RunningApp, new_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    pool = running_app.pool
    await add_properties(pool)  # and Seaside Inn (UTC)
    await add_group_manager(pool)
    yesterday = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0) - dt.timedelta(days=1)
    seaside = Seed(1, "booked", "en", 0.7, 5.0, "Booked a sea-view room.")
    seaside_id = await insert_call(pool, seaside, at=yesterday)
    await pool.execute("UPDATE calls SET property_id = 'seaside' WHERE id = $1", seaside_id)
    # the group reports in UTC (the default): the seeded calls whose UTC day is in its week
    today = dt.datetime.now(dt.UTC).date()
    in_week = [s for s in SEEDS if (today - _noon(s.days_ago).astimezone(dt.UTC).date()).days < 7]

    page = await new_page()
    await page.goto("/login?next=%2Fdashboard")
    await page.get_by_label("Email").fill(GROUP_MANAGER[0])
    await page.get_by_label("Password").fill(GROUP_MANAGER[1])
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#live-status")).to_have_text(re.compile("^Live"))
    chooser = page.get_by_label("Property", exact=True)
    await expect(chooser.locator("option")).to_have_text(
        ["All properties (group)", "Harborview Hotel", "Seaside Inn"]
    )
    await expect(page.locator("#kpis-scope")).to_contain_text("all properties")
    await expect(_tile(page, "calls").locator(".kpi-value")).to_have_text(str(len(in_week) + 1))

    await chooser.select_option("seaside")
    await expect(page.locator("#kpis-scope")).to_contain_text("Seaside Inn")
    await expect(_tile(page, "calls").locator(".kpi-value")).to_have_text("1")
    rows = page.locator("#calls tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.locator("td.summary")).to_have_text(seaside.summary)
    await expect(page.get_by_role("link", name="Calls CSV")).to_have_attribute(
        "href", re.compile(r"&property=seaside$")
    )
    assert "property=seaside" in page.url
    await chooser.select_option("")
    await expect(_tile(page, "calls").locator(".kpi-value")).to_have_text(str(len(in_week) + 1))
    assert page_errors(page) == []


@pytest.mark.parametrize(
    "page_setup", [DashboardPage(bundle=Path("/nonexistent/dashboard.js"))], ids=["not built"]
)
async def test_a_server_without_the_built_script_says_so(signed_in_page: OpenPage) -> None:
    page = await signed_in_page("manager", "/dashboard")
    await expect(page.get_by_role("alert").filter(has_text="has not been built")).to_contain_text(
        "make setup"
    )
    await expect(page.locator('script[src="/static/build/dashboard.js"]')).to_have_count(0)
    assert page_errors(page) == []


async def test_the_keyboard_opens_and_closes_a_call(
    signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    page = await _dashboard(signed_in_page)
    button = page.locator(f'#calls tbody tr[data-id="{seeded[1]}"]').get_by_role("button")
    await button.focus()
    await page.keyboard.press("Enter")
    heading = page.locator("#detail-heading")
    await expect(heading).to_be_focused()
    await expect(page.locator("#detail-summary")).to_have_text(SEEDS[1].summary)
    await page.keyboard.press("Escape")
    await expect(page.locator("#detail")).to_be_hidden()
    await expect(button).to_be_focused()
    await expect(button).to_have_attribute("aria-pressed", "false")
    assert "call=" not in page.url
    assert page_errors(page) == []


async def test_a_manager_of_one_property_is_offered_only_it(
    running_app: RunningApp, signed_in_page: OpenPage, seeded: list[uuid.UUID]
) -> None:
    await add_properties(running_app.pool)  # Seaside Inn exists, but is not theirs
    # even an address naming another property shows theirs (the API would answer 403)
    page = await signed_in_page("manager", "/dashboard?property=seaside")
    await expect(page.locator("#live-status")).to_have_text(re.compile("^Live"))
    chooser = page.get_by_label("Property", exact=True)
    await expect(chooser.locator("option")).to_have_text(["Harborview Hotel"])
    await expect(page.locator("#kpis-scope")).to_contain_text("Harborview Hotel")
    await expect(page.locator("#range-error")).to_have_text("")
    assert "property=harborview" in page.url
    assert page_errors(page) == []
