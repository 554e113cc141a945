"""Initial schema: properties, calls and turns, hotel inventory, bookings, messaging, sync, users.

Every table that belongs to a hotel carries `property_id`; rows that belong to a call
(turns, tool invocations) reach their property through the call. Money is integer cents in
the property's currency. Phone numbers are E.164. Constraints keep the data sane even when
the code is wrong: no negative or oversold inventory, no overlapping seasons, unique
confirmation codes, check-out after check-in.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# One statement per string: the asyncpg driver prepares each statement on its own.
UPGRADE = [
    # Exclusion constraints on (room type, date range) need GiST over plain equality.
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    r"CREATE DOMAIN e164 AS text CHECK (VALUE ~ '^\+[1-9][0-9]{6,14}$')",
    "CREATE DOMAIN cents AS bigint CHECK (VALUE >= 0)",
    "CREATE DOMAIN currency_code AS text CHECK (VALUE ~ '^[A-Z]{3}$')",
    r"CREATE DOMAIN email AS text CHECK (VALUE ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$')",
    """
    CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.updated_at := now();
        RETURN NEW;
    END $$
    """,
    # --- hotels -----------------------------------------------------------------------------
    """
    CREATE TABLE properties (
        id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
        name        text NOT NULL CHECK (name <> ''),
        timezone    text NOT NULL,
        phone_e164  e164 NOT NULL,
        currency    currency_code NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
    )
    """,
    # The numbers callers dial; a number reaches exactly one property.
    """
    CREATE TABLE property_numbers (
        e164         e164 PRIMARY KEY,
        property_id  text NOT NULL REFERENCES properties (id) ON DELETE CASCADE
    )
    """,
    # --- calls ------------------------------------------------------------------------------
    """
    CREATE TABLE calls (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        property_id     text NOT NULL REFERENCES properties (id),
        channel_id      text,
        direction       text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        caller_e164     e164,
        caller_name     text,
        dialled_e164    e164,
        mode            text NOT NULL DEFAULT 'agent',
        state           text NOT NULL DEFAULT 'ringing' CHECK (state IN
                            ('ringing', 'answered', 'talking', 'on_hold', 'transferring', 'ended')),
        engine          text,
        language        text,
        ivr_path        text[] NOT NULL DEFAULT '{}',
        started_at      timestamptz NOT NULL DEFAULT now(),
        answered_at     timestamptz,
        ended_at        timestamptz,
        end_reason      text,
        outcome         text CHECK (outcome IN ('booked', 'lead', 'transferred', 'callback',
                            'info', 'abandoned', 'failed', 'other')),
        summary         text,
        sentiment       real CHECK (sentiment BETWEEN -1 AND 1),
        transferred_to  text,
        CHECK ((state = 'ended') = (ended_at IS NOT NULL)),
        CHECK (ended_at IS NULL OR ended_at >= started_at),
        CHECK (answered_at IS NULL OR answered_at >= started_at)
    )
    """,
    "CREATE UNIQUE INDEX calls_channel_id_key ON calls (channel_id) WHERE channel_id IS NOT NULL",
    "CREATE INDEX calls_property_started_idx ON calls (property_id, started_at DESC)",
    "CREATE INDEX calls_active_idx ON calls (state) WHERE state <> 'ended'",
    # Turn text is stored already redacted (no card data ever reaches this table).
    """
    CREATE TABLE turns (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        call_id      uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        seq          integer NOT NULL CHECK (seq >= 0),
        role         text NOT NULL CHECK (role IN ('caller', 'agent', 'system', 'dtmf')),
        text         text NOT NULL,
        language     text,
        started_at   timestamptz NOT NULL DEFAULT now(),
        ended_at     timestamptz,
        latency_ms   integer CHECK (latency_ms >= 0),
        interrupted  boolean NOT NULL DEFAULT false,
        UNIQUE (call_id, seq),
        CHECK (ended_at IS NULL OR ended_at >= started_at)
    )
    """,
    """
    CREATE TABLE tool_invocations (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        call_id        uuid REFERENCES calls (id) ON DELETE CASCADE,
        name           text NOT NULL,
        arguments      jsonb NOT NULL DEFAULT '{}',
        result         jsonb,
        status         text NOT NULL CHECK (status IN ('ok', 'error', 'cancelled')),
        error_message  text,
        started_at     timestamptz NOT NULL DEFAULT now(),
        duration_ms    integer NOT NULL CHECK (duration_ms >= 0),
        CHECK ((status = 'error') = (error_message IS NOT NULL))
    )
    """,
    "CREATE INDEX tool_invocations_call_idx ON tool_invocations (call_id)",
    "CREATE INDEX tool_invocations_name_idx ON tool_invocations (name, started_at)",
    """
    CREATE TABLE recordings (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        property_id  text NOT NULL REFERENCES properties (id),
        call_id      uuid NOT NULL REFERENCES calls (id) ON DELETE RESTRICT,
        storage      text NOT NULL CHECK (storage IN ('local', 's3')),
        location     text NOT NULL,
        sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        key_id       text NOT NULL,
        size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
        duration_ms  integer CHECK (duration_ms >= 0),
        sample_rate  integer NOT NULL DEFAULT 8000 CHECK (sample_rate > 0),
        channels     smallint NOT NULL DEFAULT 2 CHECK (channels IN (1, 2)),
        created_at   timestamptz NOT NULL DEFAULT now(),
        UNIQUE (storage, location)
    )
    """,
    "CREATE INDEX recordings_call_idx ON recordings (call_id)",
    # --- rooms, rates, inventory ------------------------------------------------------------
    """
    CREATE TABLE room_types (
        id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        property_id         text NOT NULL REFERENCES properties (id) ON DELETE CASCADE,
        code                text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]*$'),
        name                text NOT NULL CHECK (name <> ''),
        description         text NOT NULL DEFAULT '',
        max_adults          smallint NOT NULL CHECK (max_adults >= 1),
        max_children        smallint NOT NULL CHECK (max_children >= 0),
        max_occupancy       smallint NOT NULL,
        inventory_count     integer NOT NULL CHECK (inventory_count >= 0),
        base_rate_cents     cents NOT NULL CHECK (base_rate_cents > 0),
        weekend_rate_cents  cents CHECK (weekend_rate_cents > 0),
        min_stay            smallint NOT NULL DEFAULT 1 CHECK (min_stay >= 1),
        active              boolean NOT NULL DEFAULT true,
        updated_at          timestamptz NOT NULL DEFAULT now(),
        UNIQUE (property_id, code),
        UNIQUE (id, property_id),
        CHECK (max_occupancy >= max_adults AND max_occupancy <= max_adults + max_children)
    )
    """,
    # Seasonal rates; seasons of one room type never overlap (the exclusion constraint).
    """
    CREATE TABLE rates (
        id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        property_id         text NOT NULL,
        room_type_id        bigint NOT NULL,
        name                text NOT NULL CHECK (name <> ''),
        starts_on           date NOT NULL,
        ends_on             date NOT NULL,
        nightly_rate_cents  cents NOT NULL CHECK (nightly_rate_cents > 0),
        weekend_rate_cents  cents CHECK (weekend_rate_cents > 0),
        min_stay            smallint CHECK (min_stay >= 1),
        FOREIGN KEY (room_type_id, property_id)
            REFERENCES room_types (id, property_id) ON DELETE CASCADE,
        UNIQUE (room_type_id, name),
        CHECK (ends_on >= starts_on),
        EXCLUDE USING gist (room_type_id WITH =, daterange(starts_on, ends_on, '[]') WITH &&)
    )
    """,
    # One row per room type and night: rooms held by calls in progress and rooms booked.
    # The CHECKs are the last line against overbooking whatever the code does.
    """
    CREATE TABLE inventory (
        property_id   text NOT NULL,
        room_type_id  bigint NOT NULL,
        stay_date     date NOT NULL,
        total         integer NOT NULL CHECK (total >= 0),
        held          integer NOT NULL DEFAULT 0 CHECK (held >= 0),
        booked        integer NOT NULL DEFAULT 0 CHECK (booked >= 0),
        PRIMARY KEY (room_type_id, stay_date),
        FOREIGN KEY (room_type_id, property_id)
            REFERENCES room_types (id, property_id) ON DELETE CASCADE,
        CHECK (held + booked <= total)
    )
    """,
    "CREATE INDEX inventory_property_date_idx ON inventory (property_id, stay_date)",
    # --- bookings and leads ---------------------------------------------------------------
    """
    CREATE TABLE reservations (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        property_id        text NOT NULL,
        room_type_id       bigint NOT NULL,
        confirmation_code  text NOT NULL UNIQUE CHECK (confirmation_code ~ '^[A-Z0-9]{6,10}$'),
        call_id            uuid REFERENCES calls (id) ON DELETE SET NULL,
        status             text NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired')),
        check_in           date NOT NULL,
        check_out          date NOT NULL,
        adults             smallint NOT NULL CHECK (adults >= 1),
        children           smallint NOT NULL DEFAULT 0 CHECK (children >= 0),
        guest_name         text NOT NULL CHECK (guest_name <> ''),
        guest_phone_e164   e164,
        guest_email        email,
        total_cents        cents NOT NULL,
        currency           currency_code NOT NULL,
        hold_expires_at    timestamptz,
        notes              text,
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (room_type_id, property_id) REFERENCES room_types (id, property_id),
        CHECK (check_out > check_in),
        CHECK (status <> 'held' OR hold_expires_at IS NOT NULL),
        CHECK (guest_phone_e164 IS NOT NULL OR guest_email IS NOT NULL)
    )
    """,
    "CREATE INDEX reservations_property_check_in_idx ON reservations (property_id, check_in)",
    "CREATE INDEX reservations_held_idx ON reservations (hold_expires_at) WHERE status = 'held'",
    """
    CREATE TABLE leads (
        id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        property_id         text NOT NULL REFERENCES properties (id),
        call_id             uuid REFERENCES calls (id) ON DELETE SET NULL,
        name                text,
        phone_e164          e164,
        email               email,
        interest            text NOT NULL CHECK (interest <> ''),
        check_in            date,
        check_out           date,
        adults              smallint CHECK (adults >= 1),
        children            smallint CHECK (children >= 0),
        room_type_code      text,
        consent_to_contact  boolean NOT NULL,
        status              text NOT NULL DEFAULT 'new'
                                CHECK (status IN ('new', 'contacted', 'converted', 'closed')),
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        CHECK (phone_e164 IS NOT NULL OR email IS NOT NULL),
        CHECK (check_in IS NULL OR check_out IS NULL OR check_out > check_in)
    )
    """,
    "CREATE INDEX leads_property_created_idx ON leads (property_id, created_at DESC)",
    """
    CREATE TABLE payment_links (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        property_id     text NOT NULL REFERENCES properties (id),
        reservation_id  uuid NOT NULL REFERENCES reservations (id),
        provider        text NOT NULL,
        provider_ref    text,
        url             text NOT NULL CHECK (url ~ '^https?://'),
        amount_cents    cents NOT NULL CHECK (amount_cents > 0),
        currency        currency_code NOT NULL,
        status          text NOT NULL DEFAULT 'created'
                            CHECK (status IN ('created', 'sent', 'paid', 'expired', 'cancelled', 'failed')),
        expires_at      timestamptz NOT NULL,
        paid_at         timestamptz,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        UNIQUE (provider, provider_ref),
        CHECK (status <> 'paid' OR paid_at IS NOT NULL)
    )
    """,
    # --- messaging ----------------------------------------------------------------------------
    # The SMS outbox: a row is written before anything is sent, so nothing is lost when the
    # provider is down or unconfigured; the idempotency key stops double sends on retry.
    """
    CREATE TABLE sms_messages (
        id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        property_id      text NOT NULL REFERENCES properties (id),
        direction        text NOT NULL DEFAULT 'outbound' CHECK (direction IN ('outbound', 'inbound')),
        to_e164          e164 NOT NULL,
        from_e164        e164,
        body             text NOT NULL CHECK (length(body) BETWEEN 1 AND 1600),
        purpose          text,
        related_id       uuid,
        idempotency_key  text NOT NULL UNIQUE,
        status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending',
                             'sent', 'delivered', 'undelivered', 'failed', 'opted_out', 'received')),
        provider_sid     text UNIQUE,
        attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        last_error       text,
        sent_at          timestamptz,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX sms_messages_due_idx ON sms_messages (next_attempt_at) WHERE status = 'queued'",
    # Numbers that texted STOP: nothing more is sent to them until they text START.
    """
    CREATE TABLE sms_opt_outs (
        phone_e164    e164 PRIMARY KEY,
        opted_out_at  timestamptz NOT NULL DEFAULT now(),
        source        text NOT NULL DEFAULT 'keyword'
    )
    """,
    """
    CREATE TABLE callbacks (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        property_id       text NOT NULL REFERENCES properties (id),
        call_id           uuid REFERENCES calls (id) ON DELETE SET NULL,
        phone_e164        e164 NOT NULL,
        due_at            timestamptz NOT NULL,
        reason            text NOT NULL CHECK (reason <> ''),
        language          text,
        status            text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'dialing',
                              'completed', 'no_answer', 'failed', 'cancelled')),
        attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        max_attempts      integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
        next_attempt_at   timestamptz NOT NULL,
        last_error        text,
        outbound_call_id  uuid REFERENCES calls (id) ON DELETE SET NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        CHECK (attempts <= max_attempts)
    )
    """,
    "CREATE INDEX callbacks_due_idx ON callbacks (next_attempt_at) WHERE status = 'scheduled'",
    # --- sync with the hotel's other systems (PMS, CRM) ---------------------------------------
    """
    CREATE TABLE sync_outbox (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        property_id      text NOT NULL REFERENCES properties (id),
        topic            text NOT NULL CHECK (topic <> ''),
        aggregate_id     text NOT NULL,
        payload          jsonb NOT NULL,
        idempotency_key  text NOT NULL UNIQUE,
        attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        last_error       text,
        delivered_at     timestamptz,
        created_at       timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX sync_outbox_due_idx ON sync_outbox (next_attempt_at) WHERE delivered_at IS NULL",
    # --- people and accountability ----------------------------------------------------------
    # property_id NULL: the user works for every property (group staff, admins).
    """
    CREATE TABLE users (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email          email NOT NULL,
        display_name   text NOT NULL DEFAULT '',
        password_hash  text NOT NULL CHECK (password_hash <> ''),
        role           text NOT NULL CHECK (role IN ('admin', 'manager', 'staff')),
        property_id    text REFERENCES properties (id),
        disabled       boolean NOT NULL DEFAULT false,
        created_at     timestamptz NOT NULL DEFAULT now(),
        last_login_at  timestamptz
    )
    """,
    "CREATE UNIQUE INDEX users_email_key ON users (lower(email))",
    """
    CREATE TABLE audit_log (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at           timestamptz NOT NULL DEFAULT now(),
        actor        text NOT NULL,
        action       text NOT NULL,
        property_id  text REFERENCES properties (id) ON DELETE SET NULL,
        target_type  text,
        target_id    text,
        details      jsonb NOT NULL DEFAULT '{}'
    )
    """,
    "CREATE INDEX audit_log_at_idx ON audit_log (at DESC)",
]

UPDATED_AT_TABLES = (
    "properties",
    "room_types",
    "reservations",
    "leads",
    "payment_links",
    "sms_messages",
    "callbacks",
)

DROP_ORDER = (
    "audit_log",
    "users",
    "sync_outbox",
    "callbacks",
    "sms_opt_outs",
    "sms_messages",
    "payment_links",
    "leads",
    "reservations",
    "inventory",
    "rates",
    "room_types",
    "recordings",
    "tool_invocations",
    "turns",
    "calls",
    "property_numbers",
    "properties",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
    for table in UPDATED_AT_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    for table in DROP_ORDER:
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP FUNCTION set_updated_at()")
    for domain in ("email", "currency_code", "cents", "e164"):
        op.execute(f"DROP DOMAIN {domain}")
    # btree_gist stays: other schemas in the database may use it, and it holds no data.
