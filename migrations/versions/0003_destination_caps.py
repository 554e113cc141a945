"""The destination policy's caps count texts and callbacks per call and per number per day
(app/hotel/destinations.py). Each row notes the call that asked for it: `call_ref`, with no
foreign key, because the call's own row may still be queued behind the write-behind queue
(callbacks.call_id is nulled in that case; call_ref never is).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE sms_messages ADD COLUMN call_ref uuid")
    op.execute("ALTER TABLE callbacks ADD COLUMN call_ref uuid")
    op.execute("UPDATE callbacks SET call_ref = call_id")
    op.execute(
        "CREATE INDEX sms_messages_call_ref_idx ON sms_messages (call_ref) "
        "WHERE call_ref IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX sms_messages_to_idx ON sms_messages (to_e164, created_at) "
        "WHERE direction = 'outbound'"
    )
    op.execute(
        "CREATE INDEX callbacks_call_ref_idx ON callbacks (call_ref) WHERE call_ref IS NOT NULL"
    )
    op.execute("CREATE INDEX callbacks_phone_idx ON callbacks (phone_e164, created_at)")


def downgrade() -> None:
    for index in (
        "sms_messages_call_ref_idx",
        "sms_messages_to_idx",
        "callbacks_call_ref_idx",
        "callbacks_phone_idx",
    ):
        op.execute(f"DROP INDEX {index}")
    op.execute("ALTER TABLE sms_messages DROP COLUMN call_ref")
    op.execute("ALTER TABLE callbacks DROP COLUMN call_ref")
