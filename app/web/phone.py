"""The staff's browser softphone: GET /phone (the page), GET /phone/config (its SIP login, ICE
servers and speed dials, as JSON), GET /ws (the SIP WebSocket relay to Asterisk).

Every route needs a signed-in user (staff, manager or admin); the login is for the user's own
extension only (users.extension), provisioned by the app (app/telephony/phone_logins.py), and
never cached (Cache-Control: no-store). The page's script is bundled from web/ at setup
(`make setup`: npm ci, esbuild) into app/web/static/build/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from app.hotel.config import PropertyConfig
from app.log import get_logger
from app.staff.phone import NotABrowserPhone, PhoneLoginError, PhoneLogins
from app.staff.users import ROLES
from app.web.auth import current_user, requires, session_check
from app.web.sip_relay import RelayTarget, relay
from app.web.templates import STATIC_DIR, render
from app.web.turn import IceSettings, ice_servers

log = get_logger(__name__)

AI_EXTENSION = "2500"  # dialplan/extensions.conf [frontdesk-staff]: the AI receptionist
SIP_DOMAIN = "frontdesk"  # the realm and domain of pjsip.conf (default_realm)
BUNDLE = STATIC_DIR / "build" / "phone.js"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class SpeedDial:
    label: str
    number: str


@dataclass(frozen=True)
class PhoneSetup:
    logins: PhoneLogins
    relay: RelayTarget
    ice: IceSettings = field(default_factory=IceSettings)
    # the user's property (or the first), for its departments' speed dials
    property_for: Callable[[str | None], PropertyConfig] | None = None


PHONE: web.AppKey[PhoneSetup] = web.AppKey("phone", PhoneSetup)


def speed_dials(prop: PropertyConfig | None) -> list[SpeedDial]:
    dials = [SpeedDial("AI receptionist", AI_EXTENSION)]
    if prop is not None:
        front = prop.departments.get("front_desk")
        if front is not None:
            dials.append(SpeedDial(front.name, front.destination))
        dials += [
            SpeedDial(d.name, d.destination)
            for key, d in prop.departments.items()
            if key != "front_desk"
        ]
    return dials


def ws_url(request: web.Request) -> str:
    """The app's own /ws, as the browser reached the page (wss behind TLS)."""
    scheme = (
        "wss" if request.secure or request.headers.get("X-Forwarded-Proto") == "https" else "ws"
    )
    return f"{scheme}://{request.host}/ws"


@requires(*ROLES)
async def phone_page(request: web.Request) -> web.Response:
    user = current_user(request)
    return render(
        request,
        "phone.html",
        title="Phone",
        extension=user.extension,
        bundle_ready=BUNDLE.exists(),
        headers=NO_STORE,
    )


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status, headers=NO_STORE)


@requires(*ROLES)
async def phone_config(request: web.Request) -> web.Response:
    user = current_user(request)
    setup = request.app[PHONE]
    if not user.extension:
        return _error(
            409,
            "no_extension",
            "You have no phone extension. Ask your administrator to give you one.",
        )
    try:
        login = await setup.logins.issue(user.extension)
    except NotABrowserPhone as exc:
        return _error(409, "not_a_browser_phone", str(exc))
    except PhoneLoginError as exc:
        return _error(503, "phone_system_unavailable", str(exc))
    now = time.time()
    prop = setup.property_for(user.property_id) if setup.property_for else None
    body = {
        "extension": user.extension,
        "display_name": user.display_name,
        "ws_url": ws_url(request),
        "sip_uri": f"sip:{user.extension}@{SIP_DOMAIN}",
        "authorization_user": login.username,
        "password": login.password,
        "expires_in": max(0, int(login.expires_at.timestamp() - now)),
        "ice_servers": ice_servers(setup.ice, f"ext{user.extension}", now),
        "ice_expires_in": setup.ice.ttl_seconds,
        "speed_dials": [{"label": d.label, "number": d.number} for d in speed_dials(prop)],
    }
    return web.json_response(body, headers=NO_STORE)


@requires(*ROLES)
async def sip_websocket(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    if not user.extension:
        raise web.HTTPForbidden(text="You have no phone extension: there is no phone to connect.")
    return await relay(request, request.app[PHONE].relay, user.extension, session_check(request))


def add_phone_routes(app: web.Application, setup: PhoneSetup) -> None:
    app[PHONE] = setup
    app.router.add_get("/phone", phone_page)
    app.router.add_get("/phone/config", phone_config)
    app.router.add_get("/ws", sip_websocket)
