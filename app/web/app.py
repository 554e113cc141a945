"""The aiohttp application: liveness, readiness, the staff pages' shell (sign-in, roles, errors,
static files); the softphone and the console add their routes to it."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from app import __version__
from app.health import HealthCheck, run_checks
from app.web.auth import AUTH, AuthConfig, auth_middleware, public
from app.web.errors import errors_middleware, security_headers
from app.web.signin import add_signin_routes
from app.web.templates import STATIC_DIR

CHECKS: web.AppKey[Sequence[HealthCheck]] = web.AppKey("checks", Sequence)
VOICE_ENABLED: web.AppKey[bool] = web.AppKey("voice_enabled", bool)


@public
async def health(_: web.Request) -> web.Response:
    """Liveness: the process answers. Says nothing about its dependencies (see /ready)."""
    return web.json_response({"status": "ok", "version": __version__})


@public
async def voice_health(request: web.Request) -> web.Response:
    """Liveness of the voice service, as the runbooks probe it."""
    return web.json_response(
        {"status": "ok", "voice_enabled": request.app[VOICE_ENABLED], "version": __version__}
    )


@public
async def ready(request: web.Request) -> web.Response:
    """Readiness: every component we need to take calls, each with its own status."""
    results = await run_checks(request.app[CHECKS])
    is_ready = all(result.ok for result in results)
    body = {"ready": is_ready, "components": {r.name: r.as_json() for r in results}}
    return web.json_response(body, status=200 if is_ready else 503)


def create_app(
    checks: Sequence[HealthCheck],
    *,
    voice_enabled: bool = True,
    auth: AuthConfig | None = None,
) -> web.Application:
    """Without `auth` only the public routes answer (every other route asks for a sign-in
    that this app cannot do)."""
    app = web.Application(middlewares=[errors_middleware, auth_middleware])
    app.on_response_prepare.append(security_headers)
    app[CHECKS] = checks
    app[VOICE_ENABLED] = voice_enabled
    app.router.add_get("/health", health)
    app.router.add_get("/voice/health", voice_health)
    app.router.add_get("/ready", ready)
    app.router.add_static("/static/", STATIC_DIR)
    if auth is not None:
        app[AUTH] = auth
        add_signin_routes(app)
    return app
