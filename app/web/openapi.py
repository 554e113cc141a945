"""The analytics API's OpenAPI 3.1 description, served at /api/openapi.json.

Written by hand beside the handlers (app/web/analytics_api.py); tests/integration/
test_analytics_api.py checks that every /api/ route the app serves is here and that real
answers match these schemas.
"""

from __future__ import annotations

from typing import Any

from app import __version__
from app.analytics.metrics import LANGUAGES, OUTCOMES, SENTIMENTS

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str | list[str], **extra: Any) -> dict[str, Any]:
    kinds = [kind] if isinstance(kind, str) else list(kind)
    return {"type": [*kinds, "null"], **extra}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
    }


_DAY = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_TIME = {"type": "string", "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}

_CALL_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "format": "uuid"},
    "property_id": {"type": "string"},
    "started_at": _TIME,
    "duration_s": _nullable("number", minimum=0),
    "caller": _nullable("string", description="masked: country code and last four digits"),
    "direction": {"type": "string", "enum": ["inbound", "outbound"]},
    "language": _nullable("string"),
    "outcome": {"type": ["string", "null"], "enum": [*OUTCOMES, None]},
    "automated": {"type": "boolean", "description": "no human: not transferred, not taken over"},
    "converted": {"type": "boolean", "description": "the call booked (a lead does not count)"},
    "after_hours": _nullable("boolean"),
    "turns": _COUNT,
    "interruptions": _COUNT,
    "tools": {"type": "array", "items": {"type": "string"}},
    "errors": {
        "type": "integer",
        "minimum": 0,
        "description": "tool invocations with status error, plus one if the call failed",
    },
    "sentiment": _nullable("number", minimum=-1, maximum=1),
    "satisfaction": _nullable("number", minimum=1, maximum=5),
    "survey_score": _nullable("integer", minimum=1, maximum=5),
    "latency_p50_ms": _nullable("integer", minimum=0),
    "latency_p95_ms": _nullable("integer", minimum=0),
    "ivr_wait_ms": _nullable("integer", minimum=0),
    "queue_wait_ms": _nullable("integer", minimum=0),
    "summary": _nullable("string"),
}

_DETAIL_PROPERTIES: dict[str, Any] = {
    **_CALL_PROPERTIES,
    "ivr_path": {"type": "array", "items": {"type": "string"}},
    "turns": {
        "type": "array",
        "items": _object(
            {
                "seq": _COUNT,
                "role": {"type": "string", "enum": ["caller", "agent", "system", "dtmf"]},
                "text": {"type": "string"},
                "started_at": _TIME,
                "latency_ms": _nullable("integer", minimum=0),
                "interrupted": {"type": "boolean"},
                "sentiment": _nullable("number", minimum=-1, maximum=1),
            }
        ),
    },
    "tool_invocations": {
        "type": "array",
        "items": _object(
            {
                "name": {"type": "string"},
                "status": {"type": "string", "enum": ["ok", "refused", "error", "cancelled"]},
                "started_at": _TIME,
                "duration_ms": _COUNT,
                "error_message": _nullable("string"),
            }
        ),
    },
    "recording": {
        "oneOf": [
            {"type": "null"},
            _object(
                {
                    "id": {"type": "string", "format": "uuid"},
                    "duration_ms": _nullable("integer", minimum=0),
                    "playable": {
                        "type": "boolean",
                        "description": "true: /recording answers audio/wav; false: the "
                        "encrypted file as a download",
                    },
                    "href": {"type": "string"},
                }
            ),
        ]
    },
}

_KPI = _object(
    {
        "key": {"type": "string"},
        "label": {"type": "string"},
        "value": _nullable("number"),
        "target": _nullable("number"),
        "comparison": {"type": ["string", "null"], "enum": ["ge", "gt", "le", "lt", None]},
        "met": _nullable("boolean"),
        "unit": {"type": "string", "enum": ["ratio", "seconds", "score", "usd", "count", "ms"]},
    }
)

_KPI_ROW = _object(
    {
        "scope": {"type": "string", "enum": ["group", "property"]},
        "property_id": _nullable("string"),
        "property_name": _nullable("string"),
        "from": _DAY,
        "to": _DAY,
        "calls": _COUNT,
        **_KPI["properties"],
    }
)

_TURN_ROW = _object(
    {
        "call_id": {"type": "string", "format": "uuid"},
        "property_id": {"type": "string"},
        "seq": _COUNT,
        "role": {"type": "string"},
        "text": {"type": "string"},
        "language": _nullable("string"),
        "started_at": _TIME,
        "latency_ms": _nullable("integer", minimum=0),
        "interrupted": {"type": "boolean"},
        "sentiment": _nullable("number", minimum=-1, maximum=1),
    }
)

_DAY_ENTRY = _object(
    {
        "day": _DAY,
        "calls": _COUNT,
        "automated": _COUNT,
        "booked": _COUNT,
        "transferred": _COUNT,
        "abandoned": _COUNT,
        "avg_duration_s": _nullable("number", minimum=0),
        "satisfaction": _nullable("number", minimum=1, maximum=5),
        "sentiment": _nullable("number", minimum=-1, maximum=1),
        "after_hours_bookings": _COUNT,
    }
)

SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": {"type": "string"}, "status": {"type": "integer"}}, ["error"]),
    "Kpi": _KPI,
    "KpiSet": _object(
        {"calls": _COUNT, "kpis": {"type": "array", "items": _ref("Kpi")}}, ["calls", "kpis"]
    ),
    "PropertyKpis": {
        "allOf": [
            _ref("KpiSet"),
            _object({"property_id": {"type": "string"}, "name": {"type": "string"}}),
        ]
    },
    "KpiReport": _object(
        {
            "from": _DAY,
            "to": _DAY,
            "group": _ref("KpiSet"),
            "properties": {"type": "array", "items": _ref("PropertyKpis")},
        }
    ),
    "Daily": _object({"days": {"type": "array", "items": _DAY_ENTRY}}),
    "Call": _object(_CALL_PROPERTIES),
    "CallList": _object({"total": _COUNT, "calls": {"type": "array", "items": _ref("Call")}}),
    "CallDetail": _object(_DETAIL_PROPERTIES),
    "KpiRow": _KPI_ROW,
    "TurnRow": _TURN_ROW,
}

_PARAMETERS: dict[str, Any] = {
    "from": {
        "name": "from",
        "in": "query",
        "description": "first day, YYYY-MM-DD, in the reporting timezone (default: six days "
        "before `to`)",
        "schema": _DAY,
    },
    "to": {
        "name": "to",
        "in": "query",
        "description": "last day, included (default: today)",
        "schema": _DAY,
    },
    "property": {
        "name": "property",
        "in": "query",
        "description": "one property's id (default: every property in the user's scope)",
        "schema": {"type": "string"},
    },
    "outcome": {
        "name": "outcome",
        "in": "query",
        "schema": {"type": "string", "enum": list(OUTCOMES)},
    },
    "language": {
        "name": "language",
        "in": "query",
        "schema": {"type": "string", "enum": list(LANGUAGES)},
    },
    "sentiment": {
        "name": "sentiment",
        "in": "query",
        "description": "positive ≥ 0.05, negative ≤ -0.05, neutral between, unscored NULL",
        "schema": {"type": "string", "enum": list(SENTIMENTS)},
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
    },
    "offset": {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "default": 0},
    },
    "call_id": {
        "name": "call_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    },
}


def _params(*names: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/parameters/{n}"} for n in names]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


_ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}
_RANGE = ("from", "to", "property")


def _get(
    summary: str, params: list[dict[str, str]], ok: dict[str, Any], **more: Any
) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "security": [{"session": []}],
            "parameters": params,
            "responses": {"200": ok, **_ERRORS, **more},
        }
    }


def _export(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    return _get(
        f"Export {kind} over a date range (an attachment; the same rows as CSV or JSON)",
        _params(*_RANGE),
        {
            "description": f"{kind} rows; Content-Disposition: attachment with a file name",
            "content": {
                JSON: {"schema": {"type": "array", "items": row}},
                "text/csv": {
                    "schema": {"type": "string", "description": "a header row, then rows"}
                },
            },
        },
    )


def openapi_document() -> dict[str, Any]:
    not_found = {"404": {"$ref": "#/components/responses/NotFound"}}
    paths: dict[str, Any] = {
        "/api/openapi.json": {
            "get": {
                "summary": "This description (public)",
                "security": [],
                "responses": {
                    "200": _json({"type": "object"}, "the OpenAPI 3.1 document"),
                },
            }
        },
        "/api/kpis": _get(
            "KPIs against the plan's targets, for the group and each property",
            _params(*_RANGE),
            _json(_ref("KpiReport"), "the KPIs"),
        ),
        "/api/kpis/daily": _get(
            "One entry per day of the range, zero-filled",
            _params(*_RANGE),
            _json(_ref("Daily"), "the days"),
        ),
        "/api/calls": _get(
            "Calls, newest first, filtered",
            _params(*_RANGE, "outcome", "language", "sentiment", "limit", "offset"),
            _json(_ref("CallList"), "one page of calls and the total"),
        ),
        "/api/calls/{call_id}": _get(
            "One call with its transcript, tool timeline and recording",
            _params("call_id"),
            _json(_ref("CallDetail"), "the call"),
            **not_found,
        ),
        "/api/calls/{call_id}/recording": _get(
            "The call's recording: decrypted audio on a server holding RECORDING_IDENTITY, "
            "else the encrypted file as a download",
            _params("call_id"),
            {
                "description": "the audio",
                "content": {
                    "audio/wav": {"schema": {"type": "string", "format": "binary"}},
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            **not_found,
        ),
        "/api/export/calls.csv": _export("calls", _ref("Call")),
        "/api/export/calls.json": _export("calls", _ref("Call")),
        "/api/export/turns.csv": _export("turns", _ref("TurnRow")),
        "/api/export/turns.json": _export("turns", _ref("TurnRow")),
        "/api/export/kpis.csv": _export("KPI rows", _ref("KpiRow")),
        "/api/export/kpis.json": _export("KPI rows", _ref("KpiRow")),
    }
    error = {JSON: {"schema": _ref("Error")}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Front Desk Voice analytics API",
            "version": __version__,
            "description": "KPIs, daily series, calls and exports for hotel managers. Signed-in "
            "managers and admins (the fdv_session cookie from /login); a user who works for "
            "one property sees that property only. Dates are YYYY-MM-DD in the property's "
            "timezone when `property` is given, else the group's (REPORT_TIMEZONE, UTC by "
            "default); `from` and `to` are included; at most 366 days.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "parameters": _PARAMETERS,
            "responses": {
                "BadRequest": {
                    "description": "bad date, range, filter or property",
                    "content": error,
                },
                "Unauthorized": {"description": "not signed in", "content": error},
                "Forbidden": {
                    "description": "not a manager or admin, or another property",
                    "content": error,
                },
                "NotFound": {"description": "no such call (or not yours)", "content": error},
            },
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "fdv_session"}
            },
        },
    }
