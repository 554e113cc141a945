"""Staff sign-in for the staff pages: a user's own phone extension, signed-in web sessions
(only the sha256 of the cookie's token is stored, never the token), and a call a member of
staff took over from the receptionist ('taken_over').

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OLD_OUTCOMES = (
    "'booked', 'lead', 'transferred', 'callback', 'info', 'abandoned', 'failed', 'other'"
)


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN extension text")
    op.execute(
        """
        CREATE TABLE web_sessions (
            id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            token_hash    bytea NOT NULL UNIQUE,
            user_id       bigint NOT NULL REFERENCES users ON DELETE CASCADE,
            csrf_token    text NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            last_seen_at  timestamptz NOT NULL DEFAULT now(),
            expires_at    timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX web_sessions_user_idx ON web_sessions (user_id)")
    op.execute("ALTER TABLE calls DROP CONSTRAINT calls_outcome_check")
    op.execute(
        "ALTER TABLE calls ADD CONSTRAINT calls_outcome_check "
        f"CHECK (outcome IN ({_OLD_OUTCOMES}, 'taken_over'))"
    )


def downgrade() -> None:
    op.execute("UPDATE calls SET outcome = 'transferred' WHERE outcome = 'taken_over'")
    op.execute("ALTER TABLE calls DROP CONSTRAINT calls_outcome_check")
    op.execute(
        f"ALTER TABLE calls ADD CONSTRAINT calls_outcome_check CHECK (outcome IN ({_OLD_OUTCOMES}))"
    )
    op.execute("DROP TABLE web_sessions")
    op.execute("ALTER TABLE users DROP COLUMN extension")
