"""Pages from Jinja2 templates (app/web/templates/, autoescaped), on base.html.

`render(request, "page.html", **context)` gives every page: `user` (or None), `csrf_token`
(or None), `nav` (the links this user may follow, see NAV) and `path`. base.html puts the
CSRF token in <meta name="csrf-token"> for scripts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from app.web.auth import access_of, session_of

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

# The staff pages' navigation, in order. A link shows when the page is served (its route is
# registered) and the signed-in user's role may open it (the handler's `requires`).
NAV: tuple[tuple[str, str], ...] = (
    ("Phone", "/phone"),
    ("Console", "/console"),
    ("Dashboard", "/dashboard"),
)

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    href: str
    current: bool


def _page_handler(app: web.Application, path: str) -> Any:
    for resource in app.router.resources():
        if resource.canonical != path:
            continue
        for route in resource:
            if route.method == "GET":
                return route.handler
    return None


def nav_for(request: web.Request) -> list[NavLink]:
    session = session_of(request)
    if session is None:
        return []
    links = []
    for label, href in NAV:
        access = access_of(_page_handler(request.app, href))
        if access is not None and (access.public or session.user.role in access.roles):
            links.append(NavLink(label, href, request.path == href))
    return links


def render(
    request: web.Request,
    template: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> web.Response:
    session = session_of(request)
    page = _env.get_template(template).render(
        user=session.user if session else None,
        csrf_token=session.csrf_token if session else None,
        nav=nav_for(request),
        path=request.path,
        **context,
    )
    return web.Response(
        text=page, status=status, content_type="text/html", charset="utf-8", headers=headers
    )
