"""A channel can enter Stasis more than once: a caller put through to a department that does
not answer comes back to the agent on the same channel (dialplan [frontdesk-departments]).
Each visit is its own call row, so calls.channel_id is indexed, not unique.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX calls_channel_id_key")
    op.execute("CREATE INDEX calls_channel_id_idx ON calls (channel_id, started_at)")


def downgrade() -> None:
    # Fails, on purpose, if a channel already came back: that history would be lost.
    op.execute("DROP INDEX calls_channel_id_idx")
    op.execute(
        "CREATE UNIQUE INDEX calls_channel_id_key ON calls (channel_id) "
        "WHERE channel_id IS NOT NULL"
    )
