"""A tool's refusal is not an error: `tool_invocations.status` 'refused' for a tool that said
no, or what it still needs, in words the caller hears (a date passed, too many guests, how
many nights), 'error' only for what failed on our side (a tool that is not there, arguments
that are not JSON, a bug, the database). The error rate KPI counts errors.

Rows stored before are split by their message: ours start "internal:" or say the arguments
were not JSON, or name a tool that is not there (kept as errors, which they were); every
other 'error' was a spoken refusal.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE tool_invocations DROP CONSTRAINT tool_invocations_status_check")
    op.execute("ALTER TABLE tool_invocations DROP CONSTRAINT tool_invocations_check")
    op.execute(
        """
        UPDATE tool_invocations SET status = 'refused'
        WHERE status = 'error'
          AND error_message NOT LIKE 'internal:%'
          AND error_message <> 'arguments were not JSON'
          AND error_message NOT LIKE 'I can''t do that here (%'
        """
    )
    op.execute(
        "ALTER TABLE tool_invocations ADD CONSTRAINT tool_invocations_status_check "
        "CHECK (status IN ('ok', 'refused', 'error', 'cancelled'))"
    )
    op.execute(
        "ALTER TABLE tool_invocations ADD CONSTRAINT tool_invocations_check "
        "CHECK ((status IN ('refused', 'error')) = (error_message IS NOT NULL))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tool_invocations DROP CONSTRAINT tool_invocations_status_check")
    op.execute("ALTER TABLE tool_invocations DROP CONSTRAINT tool_invocations_check")
    op.execute("UPDATE tool_invocations SET status = 'error' WHERE status = 'refused'")
    op.execute(
        "ALTER TABLE tool_invocations ADD CONSTRAINT tool_invocations_status_check "
        "CHECK (status IN ('ok', 'error', 'cancelled'))"
    )
    op.execute(
        "ALTER TABLE tool_invocations ADD CONSTRAINT tool_invocations_check "
        "CHECK ((status = 'error') = (error_message IS NOT NULL))"
    )
