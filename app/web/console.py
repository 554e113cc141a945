"""The staff console: live calls with their transcript as it happens, listen-in, take-over and
hang-up, and recent calls with their summaries.

Routes (staff, manager and admin; a user with a property sees only that property's calls):
- GET  /console                        the page (templates/console.html, static/console.js)
- GET  /console/ws                     WebSocket: a snapshot, then live events (JSON, below)
- GET  /console/calls?before=&limit=   recent (ended) calls, newest first, one page
- GET  /console/calls/{id}/turns       a recent call's transcript
- POST /console/calls/{id}/listen      ring my phone and let me listen in
- POST /console/calls/{id}/takeover    ring my phone and give me the caller
- POST /console/calls/{id}/hangup      hang the call up
The POSTs need the session's CSRF token (header X-CSRF-Token), as every unsafe request
(app/web/auth.py); their answer is JSON {"ok": true, "message"} or {"error"} with a status
saying why (400 no extension, 404 not a call of yours, 409 not now, 410 ended, 503 not taking
calls).

The WebSocket sends, one writer per socket:
  {"type": "snapshot", "calls": [LiveCall…], "transcripts": {call id: [TranscriptLine…]}}
then {"type": "call_started" | "call_changed", "call": …}, {"type": "call_ended", …},
{"type": "transcript", …}. A socket that falls behind gets a fresh snapshot instead of what it
missed. The session is checked again every SESSION_RECHECK seconds: signed out or expired,
the socket is closed (code 4401).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from app.calls.control import (
    ActionRefused,
    CallControl,
    CallNotLive,
    ControlError,
    NoExtension,
    StaffPhoneUnavailable,
    staff_extension,
)
from app.calls.live import FeedItem, LiveCalls, Missed, Snapshot
from app.calls.records import CallRecord, Turn
from app.log import get_logger
from app.redaction import shown_caller
from app.staff.users import Role, User
from app.web.auth import current_user, requires, session_check, until_signed_out
from app.web.templates import render

log = get_logger(__name__)

CONSOLE_ROLES: tuple[Role, ...] = ("staff", "manager", "admin")
PAGE_SIZE = 20
SESSION_RECHECK = 60.0  # seconds between checks that a console socket's session still holds


class RecentCalls(Protocol):
    """Ended calls as the console lists them (app/storage/calls_repo.py)."""

    async def ended_page(
        self,
        *,
        property_id: str | None = None,
        before: tuple[dt.datetime, uuid.UUID] | None = None,
        limit: int = 20,
    ) -> list[CallRecord]: ...

    async def get(self, call_id: uuid.UUID) -> CallRecord | None: ...


class ActionLog(Protocol):
    """Who did what to which call from the console (audit_log)."""

    async def record(
        self, user: User, action: str, call_id: uuid.UUID, property_id: str, result: str
    ) -> None: ...


@dataclass
class Console:
    live: LiveCalls
    calls: RecentCalls
    control: CallControl | None = None  # None: this process takes no calls (no Asterisk)
    actions: ActionLog | None = None
    session_recheck: float = SESSION_RECHECK


CONSOLE: web.AppKey[Console] = web.AppKey("console", Console)


def add_console_routes(
    app: web.Application,
    live: LiveCalls,
    calls: RecentCalls,
    control: CallControl | None = None,
    actions: ActionLog | None = None,
    *,
    session_recheck: float = SESSION_RECHECK,
) -> Console:
    """The console's routes on `app`; its Console, whose `control` may be set later (once the
    process is taking calls)."""
    console = app[CONSOLE] = Console(live, calls, control, actions, session_recheck)
    app.router.add_get("/console", console_page)
    app.router.add_get("/console/ws", console_socket)
    app.router.add_get("/console/calls", recent_calls)
    app.router.add_get("/console/calls/{call_id}/turns", call_turns)
    app.router.add_post("/console/calls/{call_id}/{action}", call_action)
    return console


# --- JSON --------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def as_json(item: Any) -> dict[str, Any]:
    """A live event or call (a dataclass) as the JSON the page reads."""
    plain: dict[str, Any] = _plain(dataclasses.asdict(item))
    return plain


def _snapshot(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "type": "snapshot",
        "calls": [as_json(c) for c in snapshot.calls],
        "transcripts": {
            str(k): [as_json(line) for line in v] for k, v in snapshot.transcripts.items()
        },
    }


def _recent(call: CallRecord) -> dict[str, Any]:
    duration = call.duration
    return {
        "id": str(call.id),
        "property_id": call.property_id,
        "started_at": call.started_at.isoformat(),
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "seconds": round(duration.total_seconds()) if duration is not None else None,
        "caller": shown_caller(call.caller_e164),
        "language": call.language,
        "outcome": call.outcome.value if call.outcome else None,
        "end_reason": call.end_reason,
        "summary": call.summary,
        "turns": call.turn_count,
    }


def _turn(turn: Turn) -> dict[str, Any]:
    return {
        "seq": turn.seq,
        "speaker": turn.role.value,
        "text": turn.text,
        "at": turn.started_at.isoformat(),
    }


def _cursor(call: CallRecord) -> str:
    return f"{call.started_at.isoformat()}_{call.id}"


def _parse_cursor(raw: str) -> tuple[dt.datetime, uuid.UUID]:
    at, _, call_id = raw.rpartition("_")
    when = dt.datetime.fromisoformat(at)
    if when.tzinfo is None:
        raise ValueError("a cursor's time has its zone")
    return when, uuid.UUID(call_id)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _scope(user: User) -> str | None:
    """The property whose calls this user sees (None: all of them, for a manager or an admin
    of the whole group). Staff without a property see nothing: failing open would show them
    every hotel's calls (`frontdesk users add` refuses to make one; older rows may exist)."""
    if user.property_id is None and user.role == "staff":
        raise web.HTTPForbidden(
            text="Your account belongs to no property: ask your administrator to set it."
        )
    return user.property_id


# --- routes ---------------------------------------------------------------------------------------
@requires(*CONSOLE_ROLES)
async def console_page(request: web.Request) -> web.Response:
    user = current_user(request)
    console = request.app[CONSOLE]
    return render(
        request,
        "console.html",
        title="Console",
        extension=user.extension,
        taking_calls=console.control is not None,
    )


@requires(*CONSOLE_ROLES)
async def recent_calls(request: web.Request) -> web.Response:
    user = current_user(request)
    try:
        limit = int(request.query.get("limit", PAGE_SIZE))
        before = _parse_cursor(request.query["before"]) if request.query.get("before") else None
        if not 1 <= limit <= 100:
            raise ValueError("limit")
    except (ValueError, KeyError):
        return _error(400, "That page of recent calls does not exist: reload the console.")
    calls = await request.app[CONSOLE].calls.ended_page(
        property_id=_scope(user), before=before, limit=limit
    )
    return web.json_response(
        {
            "calls": [_recent(c) for c in calls],
            "next": _cursor(calls[-1]) if len(calls) == limit else None,
        }
    )


def _call_id(request: web.Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.match_info["call_id"])
    except ValueError:
        return None


@requires(*CONSOLE_ROLES)
async def call_turns(request: web.Request) -> web.Response:
    user = current_user(request)
    call_id = _call_id(request)
    record = await request.app[CONSOLE].calls.get(call_id) if call_id else None
    if record is None or (_scope(user) is not None and record.property_id != _scope(user)):
        return _error(404, "There is no such call.")
    return web.json_response({"id": str(record.id), "turns": [_turn(t) for t in record.turns]})


_ACTIONS = {"listen": "listen-in", "takeover": "take over", "hangup": "hang up"}
_DONE = {
    "listen": "Your phone is listening in to the call.",
    "takeover": "The caller is on your phone now.",
    "hangup": "The call was hung up.",
}
_STATUS: tuple[tuple[type[ControlError], int], ...] = (
    (NoExtension, 400),
    (CallNotLive, 410),
    (StaffPhoneUnavailable, 409),
    (ActionRefused, 409),
)


@requires(*CONSOLE_ROLES)
async def call_action(request: web.Request) -> web.Response:
    user = current_user(request)
    console = request.app[CONSOLE]
    action = request.match_info["action"]
    call_id = _call_id(request)
    if action not in _ACTIONS:
        return _error(404, "There is no such action.")
    live = console.live.get(call_id) if call_id else None
    if call_id is None or live is None:
        return _error(410, "That call has already ended.")
    if _scope(user) is not None and live.property_id != _scope(user):
        # not theirs: nothing about it is told (404, not 403; call ids are random)
        return _error(404, "There is no such call.")
    if console.control is None:
        return _error(503, "The console cannot act on calls: this server is not taking calls.")
    try:
        if action == "hangup":
            await console.control.hang_up(call_id)
        else:
            extension = staff_extension(user.extension)
            if action == "listen":
                await console.control.listen_in(call_id, extension)
            else:
                await console.control.take_over(call_id, extension)
    except ControlError as exc:
        status = next(code for kind, code in _STATUS if isinstance(exc, kind))
        await _audit(console, user, action, call_id, live.property_id, f"refused: {exc}")
        return _error(status, str(exc))
    await _audit(console, user, action, call_id, live.property_id, "done")
    log.info("console action", action=action, user_id=user.id, call_id=str(call_id))
    return web.json_response({"ok": True, "message": _DONE[action]})


async def _audit(
    console: Console, user: User, action: str, call_id: uuid.UUID, prop: str, result: str
) -> None:
    if console.actions is None:
        return
    try:
        await console.actions.record(user, f"console.{action}", call_id, prop, result)
    except Exception:  # the action happened; its audit row is retried nowhere, but logged
        log.exception("console action not audited", action=action, call_id=str(call_id))


# --- the live feed ----------------------------------------------------------------------------------
@requires(*CONSOLE_ROLES)
async def console_socket(request: web.Request) -> web.WebSocketResponse:
    user = current_user(request)
    console = request.app[CONSOLE]
    scope = _scope(user)  # before the upgrade: a refusal is an HTTP answer
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=4096)
    await ws.prepare(request)
    with console.live.subscribe(property_id=scope) as feed:
        # subscribed before the snapshot, with no await between: nothing falls in the gap
        first = _snapshot(console.live.snapshot(scope))
        reader = asyncio.create_task(_read_until_closed(ws), name=f"console-ws-read-{id(ws)}")
        checker = asyncio.create_task(
            until_signed_out(session_check(request), console.session_recheck),
            name=f"console-ws-session-{id(ws)}",
        )
        item: asyncio.Task[FeedItem] | None = None
        try:
            await ws.send_str(json.dumps(first))
            while not ws.closed:
                item = asyncio.create_task(feed.next(), name=f"console-ws-next-{id(ws)}")
                done, _ = await asyncio.wait(
                    {item, reader, checker}, return_when=asyncio.FIRST_COMPLETED
                )
                if item not in done:
                    if checker in done:  # signed out, expired or disabled
                        await ws.close(code=4401, message=b"Your session has ended: sign in again.")
                    break
                event, item = item.result(), None
                if isinstance(event, Missed):  # fell behind: start again from what is now
                    message = {**_snapshot(console.live.snapshot(scope)), "resync": True}
                else:
                    message = {"type": event.type, **as_json(event)}
                await ws.send_str(json.dumps(message))
        except ConnectionResetError:
            pass  # the page went away while we wrote to it
        finally:
            # every helper cancelled and awaited before we go; a cancellation of this handler
            # itself (server shutdown) goes on once they are done, not swallowed
            helpers = [t for t in (item, reader, checker) if t is not None]
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await ws.close()
    return ws


async def _read_until_closed(ws: web.WebSocketResponse) -> None:
    """The page sends nothing we act on (actions are POSTs); this notices it going away."""
    async for message in ws:
        if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
            return
