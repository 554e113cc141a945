"""Who may open what: the session cookie, roles on every route, CSRF, same-origin WebSockets.

Default deny: a route answers only when its handler is marked `public` or `requires(...)`
roles; a route with neither is refused for everyone (and logged). Roles are explicit: a
handler lists every role that may use it (an admin is not implicitly a manager).

- The session cookie `fdv_session` is HttpOnly, SameSite=Strict, Path=/, Secure unless the
  settings say the app is served over plain http (WEB_SECURE_COOKIES=false, development).
  Its value is a random token; the database keeps only its sha256 (app/storage/users_repo.py).
- Every unsafe method (POST, PUT, PATCH, DELETE) on a non-public route needs the session's CSRF
  token, in the form field `csrf_token` or the header `X-CSRF-Token`. Templates get it from
  `csrf_token(request)` (base.html puts it in <meta name="csrf-token">).
- A WebSocket upgrade needs a valid session, a permitted role, and an `Origin` that is the
  app's own (the Host the browser asked for, or PUBLIC_BASE_URL's origin).
- Without a session a browser asking for a page (GET, wanting HTML) is sent to
  /login?next=<the page>; anything else gets 401.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.web_urldispatcher import StaticResource

from app.log import get_logger
from app.staff.sessions import Session, SessionStore
from app.staff.signin import SignIn
from app.staff.users import ROLES, Role, User

log = get_logger(__name__)

SESSION_COOKIE = "fdv_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANY_ROLE: tuple[Role, ...] = ROLES

H = TypeVar("H", bound=Callable[..., Awaitable[web.StreamResponse]])
_ACCESS_ATTR = "__frontdesk_access__"


@dataclass(frozen=True, slots=True)
class Access:
    public: bool
    roles: frozenset[Role]


@dataclass(frozen=True)
class AuthConfig:
    """What the staff pages' sign-in needs, wired by the composition root."""

    signin: SignIn
    sessions: SessionStore
    session_hours: int
    secure_cookies: bool = True
    public_origin: str | None = None  # PUBLIC_BASE_URL's scheme://host[:port], when set


AUTH: web.AppKey[AuthConfig] = web.AppKey("auth", AuthConfig)
SESSION: web.RequestKey[Session | None] = web.RequestKey("session", Session)
HAD_COOKIE: web.RequestKey[bool] = web.RequestKey("had_session_cookie", bool)


def public(handler: H) -> H:
    """Anyone may call this route, signed in or not, without a CSRF token (health checks,
    sign-in, webhooks authenticated by their own signature)."""
    setattr(handler, _ACCESS_ATTR, Access(public=True, roles=frozenset()))
    return handler


def requires(*roles: Role) -> Callable[[H], H]:
    """Only a signed-in user with one of these roles may call this route."""
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        raise ValueError(f"requires() needs roles from {ROLES}, got {roles!r}")

    def mark(handler: H) -> H:
        setattr(handler, _ACCESS_ATTR, Access(public=False, roles=frozenset(roles)))
        return handler

    return mark


def access_of(handler: Any) -> Access | None:
    access = getattr(handler, _ACCESS_ATTR, None)
    return access if isinstance(access, Access) else None


def session_of(request: web.Request) -> Session | None:
    return request.get(SESSION)


def current_user(request: web.Request) -> User:
    """The signed-in user; HTTPUnauthorized (a sign-in page) when there is none."""
    session = session_of(request)
    if session is None:
        raise web.HTTPUnauthorized(text="Sign in to continue.")
    return session.user


def csrf_token(request: web.Request) -> str:
    """The CSRF token unsafe requests of this session must carry."""
    session = session_of(request)
    if session is None:
        raise web.HTTPUnauthorized(text="Sign in to continue.")
    return session.csrf_token


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, else `default`: no open redirects."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return default
    if target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):  # browsers drop tabs, newlines
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    if parts.path in ("/login", "/logout"):
        return default
    return target


def wants_json(request: web.Request) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def wants_html(request: web.Request) -> bool:
    return "text/html" in request.headers.get("Accept", "") and not wants_json(request)


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def same_origin(request: web.Request, config: AuthConfig | None) -> bool:
    """The request's Origin is this app's: the host the browser asked for (with http or https)
    or PUBLIC_BASE_URL's origin. A missing or "null" Origin is not."""
    origin = request.headers.get("Origin", "")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    if config is not None and config.public_origin and origin == config.public_origin:
        return True
    if parts.path or parts.query or parts.fragment:
        return False
    return parts.netloc.lower() == request.host.lower()


def set_session_cookie(response: web.StreamResponse, config: AuthConfig, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=config.session_hours * 3600,
        path="/",
        httponly=True,
        secure=config.secure_cookies,
        samesite="Strict",
    )


def clear_session_cookie(response: web.StreamResponse, config: AuthConfig | None) -> None:
    response.del_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        secure=config.secure_cookies if config else True,
        samesite="Strict",
    )


async def load_session(request: web.Request) -> Session | None:
    """The session of the request's cookie (cached on the request)."""
    if SESSION in request:
        return request[SESSION]
    config = request.app.get(AUTH)
    token = request.cookies.get(SESSION_COOKIE)
    request[HAD_COOKIE] = bool(token)
    session = None
    if token and config is not None and len(token) <= 256:
        session = await config.sessions.find(token)
    request[SESSION] = session
    return session


def session_check(request: web.Request) -> Callable[[], Awaitable[bool]]:
    """For a socket that outlives its request: whether the request's session still holds for
    the same user (not signed out, not expired, the user not disabled)."""
    config = request.app[AUTH]
    token = request.cookies.get(SESSION_COOKIE, "")
    session = session_of(request)

    async def holds() -> bool:
        found = await config.sessions.find(token)
        return found is not None and session is not None and found.user.id == session.user.id

    return holds


async def until_signed_out(holds: Callable[[], Awaitable[bool]], every: float) -> None:
    """Returns once `holds` says no, asked every `every` seconds. A check that fails (the
    database had a moment) is asked again next time: a blip signs nobody out."""
    while True:
        await asyncio.sleep(every)
        try:
            if not await holds():
                return
        except Exception as exc:
            log.warning("session not rechecked", error=type(exc).__name__)


def _sign_in_needed(request: web.Request, config: AuthConfig | None) -> web.StreamResponse:
    expired = request.get(HAD_COOKIE, False)
    if (
        config is not None
        and request.method in ("GET", "HEAD")
        and not is_websocket(request)
        and not wants_json(request)
    ):
        target = f"/login?next={quote(request.path_qs, safe='')}"
        if expired:
            target += "&expired=1"
        response = web.Response(status=303, headers={"Location": target})
        if expired:
            clear_session_cookie(response, config)
        return response
    if expired:
        raise web.HTTPUnauthorized(text="Your session has ended. Sign in again to continue.")
    raise web.HTTPUnauthorized(text="Sign in to continue.")


async def csrf_ok(request: web.Request, session: Session) -> bool:
    """The request carries this session's CSRF token (header or form field)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        value = (await request.post()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent.encode(), session.csrf_token.encode())


@web.middleware
async def auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    match = request.match_info
    if match.http_exception is not None:  # 404, 405: say so (the page shows who is signed in)
        await load_session(request)
        raise match.http_exception
    if isinstance(match.route.resource, StaticResource):
        return await handler(request)  # style sheets and scripts: no secrets in them
    access = access_of(match.handler)
    config = request.app.get(AUTH)
    if access is not None and access.public:
        await load_session(request)
        return await handler(request)
    if access is None:
        log.error("route without an access rule refused", path=request.path, method=request.method)
        raise web.HTTPForbidden(text="Nobody may open this page: it has no access rule yet.")
    session = await load_session(request)
    if session is None:
        return _sign_in_needed(request, config)
    if session.user.role not in access.roles:
        log.info("role refused", user_id=session.user.id, role=session.user.role, path=request.path)
        raise web.HTTPForbidden(
            text=f"Your role ({session.user.role}) does not give access to this page."
        )
    if is_websocket(request):
        if not same_origin(request, config):
            log.warning("websocket from another origin refused", path=request.path)
            raise web.HTTPForbidden(text="WebSocket refused: it does not come from this site.")
    elif request.method in UNSAFE_METHODS and not await csrf_ok(request, session):
        log.warning("request without a valid csrf token refused", path=request.path)
        raise web.HTTPForbidden(
            text="This form was out of date (its security token is missing or wrong). "
            "Reload the page and try again."
        )
    return await handler(request)
