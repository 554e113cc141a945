"""The managers' analytics as JSON (the contract: docs/VOICE_API.md, "Analytics"; described by
/api/openapi.json, app/web/openapi.py).

Every route but the description needs a signed-in manager or admin; a user who works for one
property sees that property only (asking for another: 403). Bad input (a date, a filter, an
unknown property) is a 400 {"error": "..."}; an unknown call a 404.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from app.analytics.exports import COLUMNS, call_row, kpi_rows, plain, to_csv, to_json, turn_row
from app.analytics.kpis import Kpi
from app.analytics.metrics import LANGUAGES, OUTCOMES, SENTIMENTS, call_metrics, check_filter
from app.analytics.period import Period, QueryError
from app.analytics.records import CallDetailFacts, CallFilter, DayFigures, RecordingUnavailable
from app.analytics.report import KpiReport, KpiSet, NotYourProperty, Reports, Scope
from app.log import get_logger
from app.redaction import mask_phone_numbers
from app.staff.users import Role
from app.web.auth import current_user, public, requires
from app.web.openapi import openapi_document

log = get_logger(__name__)

ANALYTICS_ROLES: tuple[Role, ...] = ("manager", "admin")
MAX_LIMIT = 500


class RecordingReader(Protocol):
    """A call's recording (app/storage/analytics_repo.py CallRecordings)."""

    @property
    def playable(self) -> bool: ...

    async def read(self, call_id: uuid.UUID) -> bytes | None: ...


@dataclass
class AnalyticsApi:
    reports: Reports
    recordings: RecordingReader | None = None  # None: this server keeps no recordings


ANALYTICS: web.AppKey[AnalyticsApi] = web.AppKey("analytics", AnalyticsApi)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_analytics_routes(app: web.Application, api: AnalyticsApi) -> None:
    app[ANALYTICS] = api
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/api/kpis", kpis)
    app.router.add_get("/api/kpis/daily", daily)
    app.router.add_get("/api/calls", calls)
    app.router.add_get("/api/calls/{call_id}", call)
    app.router.add_get("/api/calls/{call_id}/recording", recording)
    app.router.add_get("/api/export/{kind:calls|turns|kpis}.{fmt:csv|json}", export)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def answers_errors(handler: Handler) -> Handler:
    """QueryError → 400, NotYourProperty → 403, both as {"error"}."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except QueryError as exc:
            return _error(400, str(exc))
        except NotYourProperty as exc:
            return _error(403, str(exc))

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


def _scope(request: web.Request) -> Scope:
    prop = request.query.get("property") or None
    return Scope(property_id=prop, only=current_user(request).property_id)


async def _period(request: web.Request, scope: Scope) -> Period:
    return await request.app[ANALYTICS].reports.period(
        scope, request.query.get("from") or None, request.query.get("to") or None
    )


MAX_OFFSET = 10_000_000  # past every call there is; a bigger one overflows PostgreSQL's bigint


def _int(request: web.Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name}={raw!r} is not a whole number") from None
    if value < low or (high is not None and value > high):
        limits = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise QueryError(f"{name}={value} is out of range: give a number {limits}")
    return value


def kpi_json(k: Kpi) -> dict[str, Any]:
    return {
        "key": k.key,
        "label": k.label,
        "value": k.value,
        "target": k.target,
        "comparison": k.comparison,
        "met": k.met,
        "unit": k.unit,
    }


def _set_json(kpi_set: KpiSet) -> dict[str, Any]:
    return {"calls": kpi_set.calls, "kpis": [kpi_json(k) for k in kpi_set.kpis]}


def kpi_report_json(report: KpiReport) -> dict[str, Any]:
    return {
        "from": report.period.first.isoformat(),
        "to": report.period.last.isoformat(),
        "group": _set_json(report.group),
        "properties": [
            {"property_id": p.property_id, "name": p.name, **_set_json(p)}
            for p in report.properties
        ],
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def day_json(day: DayFigures) -> dict[str, Any]:
    return {
        "day": day.day.isoformat(),
        "calls": day.calls,
        "automated": day.automated,
        "booked": day.booked,
        "transferred": day.transferred,
        "abandoned": day.abandoned,
        "avg_duration_s": _round(day.avg_duration_s, 1),
        "satisfaction": _round(day.satisfaction, 2),
        "sentiment": _round(day.sentiment, 3),
        "after_hours_bookings": day.after_hours_bookings,
    }


def detail_json(detail: CallDetailFacts, playable: bool) -> dict[str, Any]:
    body = call_row(call_metrics(detail.facts))
    call_id = body["id"]
    body["ivr_path"] = list(detail.ivr_path)
    body["turns"] = [
        {
            "seq": t.seq,
            "role": t.role,
            "text": mask_phone_numbers(t.text),
            "started_at": plain(t.started_at),
            "latency_ms": t.latency_ms,
            "interrupted": t.interrupted,
            "sentiment": t.sentiment,
        }
        for t in detail.turns
    ]
    body["tool_invocations"] = [
        {
            "name": u.name,
            "status": u.status,
            "started_at": plain(u.started_at),
            "duration_ms": u.duration_ms,
            "error_message": u.error_message,
        }
        for u in detail.tool_invocations
    ]
    rec = detail.recording
    body["recording"] = (
        None
        if rec is None
        else {
            "id": str(rec.id),
            "duration_ms": rec.duration_ms,
            "playable": playable,
            "href": f"/api/calls/{call_id}/recording",
        }
    )
    return body


@public
async def openapi(_: web.Request) -> web.Response:
    """The API's OpenAPI 3.1 description: public, it holds no data."""
    return web.json_response(openapi_document())


@requires(*ANALYTICS_ROLES)
@answers_errors
async def kpis(request: web.Request) -> web.Response:
    scope = _scope(request)
    period = await _period(request, scope)
    report = await request.app[ANALYTICS].reports.kpi_report(scope, period)
    return web.json_response(kpi_report_json(report))


@requires(*ANALYTICS_ROLES)
@answers_errors
async def daily(request: web.Request) -> web.Response:
    scope = _scope(request)
    period = await _period(request, scope)
    days = await request.app[ANALYTICS].reports.daily(scope, period)
    return web.json_response({"days": [day_json(d) for d in days]})


def _filters(request: web.Request, *, paged: bool = True) -> CallFilter:
    q = request.query
    return CallFilter(
        outcome=check_filter("outcome", q.get("outcome"), OUTCOMES),
        language=check_filter("language", q.get("language"), LANGUAGES),
        sentiment=check_filter("sentiment", q.get("sentiment"), SENTIMENTS),
        limit=_int(request, "limit", 50, 1, MAX_LIMIT) if paged else None,
        offset=_int(request, "offset", 0, 0, MAX_OFFSET) if paged else 0,
    )


@requires(*ANALYTICS_ROLES)
@answers_errors
async def calls(request: web.Request) -> web.Response:
    scope = _scope(request)
    where = _filters(request)
    period = await _period(request, scope)
    page = await request.app[ANALYTICS].reports.calls(scope, period, where)
    return web.json_response({"total": page.total, "calls": [call_row(c) for c in page.calls]})


def _call_id(request: web.Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.match_info["call_id"])
    except ValueError:
        return None


_NO_CALL = "There is no such call."


@requires(*ANALYTICS_ROLES)
@answers_errors
async def call(request: web.Request) -> web.Response:
    api = request.app[ANALYTICS]
    call_id = _call_id(request)
    detail = None if call_id is None else await api.reports.call(_scope(request), call_id)
    if detail is None:
        return _error(404, _NO_CALL)
    playable = api.recordings is not None and api.recordings.playable
    return web.json_response(detail_json(detail, playable))


@requires(*ANALYTICS_ROLES)
@answers_errors
async def recording(request: web.Request) -> web.Response:
    api = request.app[ANALYTICS]
    call_id = _call_id(request)
    detail = None if call_id is None else await api.reports.call(_scope(request), call_id)
    if detail is None or call_id is None:
        return _error(404, _NO_CALL)
    try:
        audio = None if api.recordings is None else await api.recordings.read(call_id)
    except RecordingUnavailable as exc:
        log.warning("recording unreadable", call_id=str(call_id), error=str(exc))
        return _error(503, "The recording cannot be read right now.")
    if audio is None:
        return _error(404, "This call has no recording.")
    assert api.recordings is not None
    log.info("recording read", call_id=str(call_id), decrypted=api.recordings.playable)
    if api.recordings.playable:
        return web.Response(body=audio, content_type="audio/wav")
    return web.Response(
        body=audio,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="call-{call_id}.wav.age"'},
    )


async def export_rows(reports: Reports, kind: str, scope: Scope, period: Period) -> list[Any]:
    """The rows of one export (calls, turns or kpis): the API's and `frontdesk report`'s.
    Rows are made (phone numbers masked in the text) in a thread: a long range's export would
    otherwise hold up the event loop that paces live calls' audio."""
    if kind == "kpis":
        return kpi_rows(await reports.kpi_report(scope, period))
    if kind == "turns":
        turns = await reports.turns(scope, period)
        return await asyncio.to_thread(lambda: [turn_row(t) for t in turns])
    page = await reports.calls(scope, period, CallFilter(limit=None))
    return await asyncio.to_thread(lambda: [call_row(c) for c in page.calls])


@requires(*ANALYTICS_ROLES)
@answers_errors
async def export(request: web.Request) -> web.Response:
    kind, fmt = request.match_info["kind"], request.match_info["fmt"]
    scope = _scope(request)
    period = await _period(request, scope)
    rows = await export_rows(request.app[ANALYTICS].reports, kind, scope, period)
    where = scope.effective() or "group"
    name = f"{kind}-{where}-{period.first}-{period.last}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        body, content_type = await asyncio.to_thread(to_csv, rows, COLUMNS[kind]), "text/csv"
    else:
        body, content_type = await asyncio.to_thread(to_json, rows), "application/json"
    return web.Response(text=body, content_type=content_type, charset="utf-8", headers=disposition)
