"""The managers' dashboard: GET /dashboard, the page (templates/dashboard.html). Everything on it
comes from the analytics JSON API (app/web/analytics_api.py: /api/kpis, /api/kpis/daily,
/api/calls, /api/calls/{id}, /api/export/...), read by the page's script (web/src/dashboard.js,
bundled with Chart.js into static/build/dashboard.js at setup). This module serves only the
page: the range it opens on, how often it refreshes, and whether its script was built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from app.staff.users import Role
from app.web.auth import current_user, requires
from app.web.templates import STATIC_DIR, render

DASHBOARD_ROLES: tuple[Role, ...] = ("manager", "admin")
BUNDLE = STATIC_DIR / "build" / "dashboard.js"
DEFAULT_DAYS = 7  # the range the page opens on: the last week, today included
REFRESH_SECONDS = 15.0  # the tiles and the call list are read again this often (tab visible)


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class DashboardPage:
    refresh_seconds: float = REFRESH_SECONDS
    # the reporting day the range ends on; the API reads dates in each property's zone, and
    # UTC is where "today" is the same for every property within a day
    today: Callable[[], dt.date] = field(default=_utc_today)
    bundle: Path = BUNDLE  # the page's script, built at setup (make web)


DASHBOARD: web.AppKey[DashboardPage] = web.AppKey("dashboard", DashboardPage)


@requires(*DASHBOARD_ROLES)
async def dashboard_page(request: web.Request) -> web.Response:
    page = request.app[DASHBOARD]
    to = page.today()
    return render(
        request,
        "dashboard.html",
        title="Dashboard",
        default_from=(to - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        default_to=to.isoformat(),
        refresh_ms=max(1000, round(page.refresh_seconds * 1000)),
        bundle_ready=page.bundle.exists(),
        own_property=current_user(request).property_id,
    )


def add_dashboard_routes(app: web.Application, page: DashboardPage | None = None) -> None:
    app[DASHBOARD] = page or DashboardPage()
    app.router.add_get("/dashboard", dashboard_page)
