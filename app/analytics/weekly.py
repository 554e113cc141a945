"""`frontdesk report`'s text: a summary a manager can paste into an email."""

from __future__ import annotations

from app.analytics.kpis import Kpi
from app.analytics.metrics import OUTCOMES
from app.analytics.report import WeeklyReport

SIGNS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}


def show(value: float | int | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "seconds":
        minutes, seconds = divmod(round(value), 60)
        return f"{minutes} min {seconds:02d} s"
    if unit == "usd":
        return f"${value:.2f}"
    if unit == "score":
        return f"{value:.2f} / 5"
    if unit == "ms":
        return f"{value} ms"
    return str(value)


def _verdict(k: Kpi) -> str:
    if k.comparison is None or k.target is None:
        return ""
    target = f"target {SIGNS[k.comparison]} {show(k.target, k.unit)}"
    if k.met is None:
        return f"{target}: no data"
    return f"{target}: {'met' if k.met else 'MISSED'}"


def render_text(report: WeeklyReport, scope_name: str) -> str:
    kpi_report = report.kpis
    period = kpi_report.period
    lines = [
        f"Front Desk Voice: {scope_name}, {period.first} to {period.last} "
        f"({period.days} days, {period.timezone})",
        "",
        f"Calls: {kpi_report.group.calls}",
        "",
        "Against the targets:",
    ]
    for k in kpi_report.group.kpis:
        if k.key == "calls":
            continue
        lines.append(f"  {k.label:<24} {show(k.value, k.unit):>14}   {_verdict(k)}".rstrip())
    total = sum(report.outcomes.values())
    lines += ["", "Outcomes:"]
    if total == 0:
        lines.append("  no calls")
    for outcome in (*OUTCOMES, "none"):
        count = report.outcomes.get(outcome, 0)
        if count:
            lines.append(f"  {outcome:<12} {count:>6}  ({count / total * 100:.1f} %)")
    lines += ["", "Top tools:"]
    if not report.top_tools:
        lines.append("  none used")
    for tool in report.top_tools:
        errors = f", {tool.errors} failed" if tool.errors else ""
        lines.append(f"  {tool.name:<24} {tool.uses:>6} uses{errors}")
    lines += ["", f"Busiest hours ({period.timezone}):"]
    if not report.busiest_hours:
        lines.append("  no calls")
    for hour, count in report.busiest_hours:
        lines.append(f"  {hour:02d}:00–{(hour + 1) % 24:02d}:00  {count:>6} calls")
    if len(kpi_report.properties) > 1:
        lines += ["", "By property:"]
        for prop in kpi_report.properties:
            figures = {k.key: k for k in prop.kpis}
            auto, conv = figures["automation_rate"], figures["booking_conversion"]
            lines.append(
                f"  {prop.name} ({prop.property_id}): {prop.calls} calls, automation "
                f"{show(auto.value, auto.unit)}, booking conversion {show(conv.value, conv.unit)}"
            )
    return "\n".join(lines) + "\n"
