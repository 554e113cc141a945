"""Every error a clear page (or JSON for /api/ and JSON clients), never a stack trace.

An exception nobody expected is logged with a short reference and answered with a 500 page
that shows only that reference; a database that is not answering is a 503 page.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from app.log import get_logger
from app.storage.errors import is_transient
from app.web.auth import is_websocket, session_of, wants_html, wants_json
from app.web.templates import render

log = get_logger(__name__)

HEADINGS = {
    400: "That request was not understood",
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    413: "Too much data",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Briefly unavailable",
}
MESSAGES = {
    400: "Something in the request was missing or malformed. Go back and try again.",
    401: "Sign in to continue.",
    403: "You do not have access to this page.",
    404: "There is no page at this address. Check the link, or start again from the home page.",
    405: "This address does not accept that kind of request.",
    413: "The request was too large.",
    500: "Something went wrong on our side. Your last action may not have been saved.",
    503: "The service is not answering right now. Try again in a minute.",
}
# Response headers worth keeping from an HTTPException (the body is ours).
_KEPT = ("Retry-After", "Allow", "WWW-Authenticate", "Set-Cookie")


def _message(exc: web.HTTPException) -> str:
    default = f"{exc.status}: {exc.reason}"
    text = exc.text or ""
    if text and text != default:
        return text
    return MESSAGES.get(exc.status, exc.reason)


def error_response(
    request: web.Request,
    status: int,
    message: str,
    *,
    reference: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The error as the client wants it: an HTML page, JSON, or plain text."""
    if wants_json(request):
        body: dict[str, object] = {"error": message, "status": status}
        if reference:
            body["reference"] = reference
        return web.json_response(body, status=status, headers=headers)
    if wants_html(request) and not is_websocket(request):
        signed_in = session_of(request) is not None
        if status == 401:
            action = (f"/login?next={_quoted(request)}", "Sign in")
        else:
            action = ("/", "Go to the start page") if signed_in else ("/login", "Go to sign in")
        try:
            return render(
                request,
                "error.html",
                status=status,
                headers=headers,
                heading=HEADINGS.get(status, "Something went wrong"),
                message=message,
                reference=reference,
                action_href=action[0],
                action_label=action[1],
            )
        except Exception:  # the page itself failed: plain text, still no trace
            log.exception("error page failed to render", status=status)
    text = message if reference is None else f"{message} (reference {reference})"
    return web.Response(status=status, text=text, headers=headers)


def _quoted(request: web.Request) -> str:
    return quote(request.path_qs if request.method == "GET" else "/", safe="")


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # a redirect raised by a handler: pass it on as a response
            return web.Response(status=exc.status, headers=exc.headers)
        kept = {k: v for k, v in exc.headers.items() if k in _KEPT}
        if not (wants_json(request) or wants_html(request)) and exc.text:
            # machines (webhooks' senders, scripts) get the handler's own text unchanged
            return web.Response(status=exc.status, text=exc.text, headers=kept)
        return error_response(request, exc.status, _message(exc), headers=kept)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        reference = secrets.token_hex(4)
        if is_transient(exc):
            log.warning(
                "request failed: database unavailable",
                method=request.method,
                path=request.path,
                reference=reference,
                error=type(exc).__name__,
            )
            return error_response(request, 503, MESSAGES[503], reference=reference)
        log.exception(
            "request failed", method=request.method, path=request.path, reference=reference
        )
        return error_response(request, 500, MESSAGES[500], reference=reference)


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: no framing, no sniffing, scripts and styles only from this app,
    and pages with a signed-in user's data are not cached."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
    if not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")
