"""Indexes for the managers' analytics (app/storage/analytics_repo.py).

- calls by start time alone: the group's KPIs, daily series, call list and exports read a
  date range across every property (calls_property_started_idx serves one property only).
- turns and tool invocations by call, carrying the columns the per-call figures read
  (latency, interruption, sentiment; tool name and status), so those aggregates are
  index-only scans instead of a heap visit per row.
- calls by outcome and start: the call list filtered by outcome, newest first (measured:
  no gain at 100,000 calls, bench/README.md; kept, this migration being merged already).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = (
    ("calls_started_idx", "calls (started_at DESC)"),
    ("calls_outcome_started_idx", "calls (outcome, started_at DESC)"),
    ("turns_call_figures_idx", "turns (call_id) INCLUDE (latency_ms, interrupted, sentiment)"),
    ("tool_invocations_call_figures_idx", "tool_invocations (call_id) INCLUDE (name, status)"),
)


def upgrade() -> None:
    for name, target in INDEXES:
        op.execute(f"CREATE INDEX {name} ON {target}")


def downgrade() -> None:
    for name, _ in INDEXES:
        op.execute(f"DROP INDEX {name}")
