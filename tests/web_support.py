"""The staff web app as tests run it: real PostgreSQL, real users, a real port.

Used by the integration tests of sign-in and by tests/browser/conftest.py (whose fixtures
the softphone's and the console's tests reuse).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import asyncpg
from aiohttp import web

from app.staff.directory import StaffDirectory
from app.staff.signin import SignIn
from app.staff.users import ROLES, Role, User
from app.storage.users_repo import SessionRepository, UserRepository
from app.web.app import create_app
from app.web.auth import AuthConfig

PROPERTY = "harborview"


@dataclass(frozen=True)
class SeededUser:
    user: User
    email: str
    password: str

    @property
    def role(self) -> Role:
        return self.user.role


# One user of each role. The staff member owns the browser phone's extension (2002).
SEEDS: dict[Role, tuple[str, str, str | None]] = {
    "admin": ("admin@harborview.example", "Ada Admin", None),
    "manager": ("manager@harborview.example", "Max Manager", None),
    "staff": ("staff@harborview.example", "Sam Staff", "2002"),
}


def password_for(role: Role) -> str:
    return f"{role}-password-for-tests"


async def add_property(pool: asyncpg.Pool, property_id: str = PROPERTY) -> None:
    await pool.execute(
        """INSERT INTO properties (id, name, timezone, phone_e164, currency)
           VALUES ($1, 'Harborview Hotel', 'America/Los_Angeles', '+15550100100', 'USD')
           ON CONFLICT (id) DO NOTHING""",
        property_id,
    )


async def seed_users(pool: asyncpg.Pool) -> dict[Role, SeededUser]:
    """A user of each role (password: password_for(role)), at the Harborview property."""
    await add_property(pool)
    directory = StaffDirectory(UserRepository(pool))
    seeded = {}
    for role in ROLES:
        email, name, extension = SEEDS[role]
        user = await directory.add(
            email,
            name,
            role,
            password_for(role),
            actor="test",
            property_id=PROPERTY,
            extension=extension,
        )
        seeded[role] = SeededUser(user, email, password_for(role))
    return seeded


def auth_config(
    pool: asyncpg.Pool,
    *,
    secure_cookies: bool = False,
    session_hours: int = 12,
    public_origin: str | None = None,
) -> AuthConfig:
    return AuthConfig(
        signin=SignIn(UserRepository(pool)),
        sessions=SessionRepository(pool),
        session_hours=session_hours,
        secure_cookies=secure_cookies,
        public_origin=public_origin,
    )


def staff_app(
    pool: asyncpg.Pool,
    configure: Callable[[web.Application], None] | None = None,
    *,
    secure_cookies: bool = False,
    session_hours: int = 12,
    public_origin: str | None = None,
) -> web.Application:
    """The app as `frontdesk run` builds it (no health checks), plus the caller's routes."""
    config = auth_config(
        pool,
        secure_cookies=secure_cookies,
        session_hours=session_hours,
        public_origin=public_origin,
    )
    app = create_app([], voice_enabled=False, auth=config)
    if configure is not None:
        configure(app)
    return app


@contextlib.asynccontextmanager
async def serving(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """The app on a real port; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets  # type: ignore[attr-defined]
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found is not None, "no csrf_token field in the page"
    return found.group(1)


async def sign_in(
    http: aiohttp.ClientSession, base: str, email: str, password: str, next_path: str = "/"
) -> aiohttp.ClientResponse:
    """Through the login form, as a browser does; the answer is not followed (a 303 when the
    sign-in worked)."""
    async with http.get(f"{base}/login", allow_redirects=False) as page:
        assert page.status == 200, f"GET /login answered {page.status} (signed in already?)"
        token = form_token(await page.text())
    response = await http.post(
        f"{base}/login",
        data={"email": email, "password": password, "csrf_token": token, "next": next_path},
        allow_redirects=False,
    )
    await response.read()
    return response
