"""/login, /logout and / (which sends each role to its page).

The sign-in form carries its own CSRF token (double-submitted: a short-lived HttpOnly,
SameSite=Strict cookie and a hidden field that must match), so another site cannot sign a
browser in to an account of its choosing. A successful sign-in always starts a new session
(the old one, if any, is ended): a session token planted before sign-in is worth nothing.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from aiohttp import web

from app.log import get_logger
from app.staff.errors import SignInRefused, TooManyAttempts
from app.staff.users import User
from app.web.auth import (
    ANY_ROLE,
    AUTH,
    SESSION_COOKIE,
    AuthConfig,
    clear_session_cookie,
    csrf_ok,
    current_user,
    load_session,
    local_path,
    public,
    requires,
    set_session_cookie,
)
from app.web.templates import render

log = get_logger(__name__)

LOGIN_COOKIE = "fdv_login"
LOGIN_COOKIE_SECONDS = 3600
MAX_FIELD = 1024  # longer than any email or password we accept
HOME_BY_ROLE = {"staff": "/phone", "manager": "/console", "admin": "/console"}


def _config(request: web.Request) -> AuthConfig:
    return request.app[AUTH]


def _field(form: object, name: str) -> str | None:
    value = form.get(name) if hasattr(form, "get") else None
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        return None
    return value


def _login_form(
    request: web.Request,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    email: str = "",
    next_path: str = "/",
    headers: dict[str, str] | None = None,
) -> web.Response:
    # the browser's current login token if it has one: several sign-in tabs stay valid
    token = request.cookies.get(LOGIN_COOKIE, "")
    if not (40 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()):
        token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        status=status,
        headers=headers,
        error=error,
        notice=notice,
        email=email,
        next=next_path,
        login_token=token,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=LOGIN_COOKIE_SECONDS,
        path="/login",
        httponly=True,
        secure=_config(request).secure_cookies,
        samesite="Strict",
    )
    return response


@public
async def login_page(request: web.Request) -> web.StreamResponse:
    next_path = local_path(request.query.get("next"))
    if await load_session(request) is not None:
        raise web.HTTPSeeOther(next_path)
    notice = None
    if request.query.get("expired"):
        notice = "Your session has ended. Please sign in again."
    elif request.query.get("signed_out"):
        notice = "You are signed out."
    return _login_form(request, notice=notice, next_path=next_path)


@public
async def login_submit(request: web.Request) -> web.StreamResponse:
    config = _config(request)
    form = await request.post()
    next_path = local_path(_field(form, "next"))
    email = (_field(form, "email") or "").strip()
    password = _field(form, "password") or ""
    sent = _field(form, "csrf_token") or ""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        log.info("sign-in form without a matching token refused")
        return _login_form(
            request,
            status=403,
            error="This sign-in form had expired. Please enter your email and password again.",
            email=email[:254],
            next_path=next_path,
        )
    if not email or not password:
        return _login_form(
            request,
            status=400,
            error="Enter both your email and your password.",
            email=email[:254],
            next_path=next_path,
        )
    try:
        user = await config.signin.authenticate(email, password, request.remote or "unknown")
    except TooManyAttempts as exc:
        log.warning("sign-in rate limited", address=request.remote, retry_after=exc.retry_after)
        return _login_form(
            request,
            status=429,
            error=exc.message,
            email=email[:254],
            next_path=next_path,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except SignInRefused as exc:
        log.info("sign-in refused", reason=type(exc).__name__, address=request.remote)
        return _login_form(
            request, status=401, error=exc.message, email=email[:254], next_path=next_path
        )
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await config.sessions.end(old)
    session = await config.sessions.start(user.id, dt.timedelta(hours=config.session_hours))
    log.info("signed in", user_id=user.id, role=user.role)
    response = web.Response(status=303, headers={"Location": next_path})
    set_session_cookie(response, config, session.token)
    response.del_cookie(LOGIN_COOKIE, path="/login")
    return response


@public  # checks the CSRF token itself: signing out of a session that already ended is fine
async def logout(request: web.Request) -> web.StreamResponse:
    config = _config(request)
    session = await load_session(request)
    token = request.cookies.get(SESSION_COOKIE)
    if session is not None:
        if not await csrf_ok(request, session):
            raise web.HTTPForbidden(
                text="This form was out of date (its security token is missing or wrong). "
                "Reload the page and try again."
            )
        if token:
            await config.sessions.end(token)
        log.info("signed out", user_id=session.user.id)
        if config.signed_out is not None:
            await _last_session_gone(config, session.user)
    response = web.Response(status=303, headers={"Location": "/login?signed_out=1"})
    clear_session_cookie(response, config)
    return response


async def _last_session_gone(config: AuthConfig, user: User) -> None:
    """What goes with the user's last session; signing out succeeds whatever happens here."""
    assert config.signed_out is not None
    try:
        if await config.sessions.live_count(user.id) == 0:
            await config.signed_out(user)
    except Exception:
        log.exception("after sign-out", user_id=user.id)


@requires(*ANY_ROLE)
async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(HOME_BY_ROLE[current_user(request).role])


def add_signin_routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
