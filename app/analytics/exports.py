"""Export rows (calls, turns, KPIs) and their CSV and JSON forms: the same rows either way.

JSON keeps each value's type (numbers, booleans, null, the tools as a list); CSV writes the
same value as text: empty for null, true/false, a list joined with ";", times in ISO 8601.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import uuid
from collections.abc import Sequence
from typing import Any

from app.analytics.metrics import CallMetrics
from app.analytics.records import TurnFacts
from app.analytics.report import KpiReport
from app.redaction import mask_phone_numbers

Row = dict[str, Any]

CALL_COLUMNS = tuple(f.name for f in dataclasses.fields(CallMetrics))
TURN_COLUMNS = (
    "call_id",
    "property_id",
    "seq",
    "role",
    "text",
    "language",
    "started_at",
    "latency_ms",
    "interrupted",
    "sentiment",
)
KPI_COLUMNS = (
    "scope",
    "property_id",
    "property_name",
    "from",
    "to",
    "calls",
    "key",
    "label",
    "value",
    "target",
    "comparison",
    "met",
    "unit",
)
COLUMNS = {"calls": CALL_COLUMNS, "turns": TURN_COLUMNS, "kpis": KPI_COLUMNS}


def plain(value: Any) -> Any:
    """A value as JSON holds it."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def call_row(call: CallMetrics) -> Row:
    """A call as the API and the exports show it: the caller masked already, and any phone
    number in its summary (the caller's first words) masked to its last four digits."""
    row = {name: plain(getattr(call, name)) for name in CALL_COLUMNS}
    if isinstance(row.get("summary"), str):
        row["summary"] = mask_phone_numbers(row["summary"])
    return row


def turn_row(turn: TurnFacts) -> Row:
    """A turn as the exports show it: a phone number said in it masked to its last four."""
    row = {name: plain(getattr(turn, name)) for name in TURN_COLUMNS}
    row["text"] = mask_phone_numbers(turn.text)
    return row


def kpi_rows(report: KpiReport) -> list[Row]:
    rows = []
    for scope, kpi_set in [("group", report.group)] + [("property", p) for p in report.properties]:
        for k in kpi_set.kpis:
            rows.append(
                {
                    "scope": scope,
                    "property_id": kpi_set.property_id,
                    "property_name": kpi_set.name,
                    "from": report.period.first.isoformat(),
                    "to": report.period.last.isoformat(),
                    "calls": kpi_set.calls,
                    "key": k.key,
                    "label": k.label,
                    "value": k.value,
                    "target": k.target,
                    "comparison": k.comparison,
                    "met": k.met,
                    "unit": k.unit,
                }
            )
    return rows


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(csv_cell(v) for v in value)
    return str(plain(value))


def to_csv(rows: Sequence[Row], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    return out.getvalue()


def to_json(rows: Sequence[Row]) -> str:
    return json.dumps([plain_row(r) for r in rows], ensure_ascii=False, indent=1)


def plain_row(row: Row) -> Row:
    return {k: plain(v) for k, v in row.items()}
