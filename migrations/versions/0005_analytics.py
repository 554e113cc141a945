"""What the managers' analytics read that was not stored: the sentiment of each turn, the
time a caller spent in the menu and in a queue, the keypad survey's answer, the satisfaction
score derived at hang-up, and whether the call came outside the front desk's hours.

A NULL sentiment means "not scored" (a language the model does not read, or no words), never
neutral; the CHECKs keep a wrong writer from storing a score outside its scale.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE turns ADD COLUMN sentiment real CHECK (sentiment BETWEEN -1 AND 1)")
    op.execute(
        """
        ALTER TABLE calls
            ADD COLUMN ivr_wait_ms    integer CHECK (ivr_wait_ms >= 0),
            ADD COLUMN queue_wait_ms  integer CHECK (queue_wait_ms >= 0),
            ADD COLUMN survey_score   smallint CHECK (survey_score BETWEEN 1 AND 5),
            ADD COLUMN satisfaction   real CHECK (satisfaction BETWEEN 1 AND 5),
            ADD COLUMN after_hours    boolean
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE calls
            DROP COLUMN after_hours,
            DROP COLUMN satisfaction,
            DROP COLUMN survey_score,
            DROP COLUMN queue_wait_ms,
            DROP COLUMN ivr_wait_ms
        """
    )
    op.execute("ALTER TABLE turns DROP COLUMN sentiment")
