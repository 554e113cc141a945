"""`frontdesk users add|list|disable|enable|password` as an administrator runs it: a real process, a real
database, the password on standard input."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from app.staff.passwords import verify_password
from app.staff.signin import AccountDisabled, SignIn, WrongCredentials
from app.storage.users_repo import SessionRepository, UserRepository
from tests.web_support import add_property

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long and secret passphrase"


async def frontdesk(
    db_url: str, *args: str, stdin: str = "", **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TWILIO_", "WEB_"))}
    env.update(DATABASE_URL=db_url, PYTHONPATH=str(ROOT), LOG_FORMAT="json", **extra_env)
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


async def add(
    db_url: str, email: str, *extra: str, password: str = PASSWORD, role: str = "manager"
) -> subprocess.CompletedProcess[str]:
    """A user added through the CLI: a manager (of the whole group, when no --property)
    unless `role` says otherwise."""
    return await frontdesk(
        db_url,
        "users",
        "add",
        email,
        "--name",
        "Ann Example",
        "--role",
        role,
        *extra,
        "--password-stdin",
        stdin=password + "\n",
    )


async def test_add_stores_an_argon2_hash_and_audits_it(db_url: str, pool: asyncpg.Pool) -> None:
    await add_property(pool)
    result = await add(
        db_url, "Ann@Example.org", "--property", "harborview", "--extension", "2002", role="staff"
    )
    assert result.returncode == 0, result.stderr
    assert "added staff ann@example.org (Ann Example, property harborview, extension 2002)" in (
        result.stdout
    )
    assert PASSWORD not in result.stdout + result.stderr
    row = await pool.fetchrow("SELECT * FROM users")
    assert row["email"] == "ann@example.org" and row["role"] == "staff"
    assert row["password_hash"].startswith("$argon2id$")
    assert verify_password(row["password_hash"], PASSWORD)
    audit = await pool.fetchrow("SELECT * FROM audit_log")
    assert audit["actor"] == "cli" and audit["action"] == "user.add"
    assert audit["target_id"] == str(row["id"]) and audit["property_id"] == "harborview"
    assert PASSWORD not in str(dict(audit))


async def test_list_shows_every_user_and_their_status(db_url: str) -> None:
    assert (await add(db_url, "ann@example.org")).returncode == 0
    listing = await frontdesk(db_url, "users", "list")
    assert "ann@example.org" in listing.stdout and "active" in listing.stdout
    assert (await frontdesk(db_url, "users", "disable", "ann@example.org")).returncode == 0
    listed = await frontdesk(db_url, "users", "list")
    assert listed.returncode == 0
    assert "disabled" in listed.stdout and "never" in listed.stdout


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        ((), "too short", "a password needs at least 12 characters"),
        ((), "", "no password on standard input"),
        (("--property", "nowhere"), PASSWORD, "no property 'nowhere'"),
        (("--extension", "20a2"), PASSWORD, "extension '20a2' is not 2 to 6 digits"),
    ],
)
async def test_bad_input_exits_2_with_a_clear_message(
    db_url: str, pool: asyncpg.Pool, args: tuple[str, ...], password: str, message: str
) -> None:
    result = await add(db_url, "bob@example.org", *args, password=password)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert await pool.fetchval("SELECT count(*) FROM users") == 0
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 0


async def test_staff_without_a_property_are_refused(db_url: str, pool: asyncpg.Pool) -> None:
    """Staff of no property would see every hotel's calls in the console."""
    result = await add(db_url, "bob@example.org", "--extension", "2002", role="staff")
    assert result.returncode == 2 and "staff work at one property" in result.stderr
    assert await pool.fetchval("SELECT count(*) FROM users") == 0


async def test_unknown_role_and_bad_email_exit_2(db_url: str) -> None:
    role = await frontdesk(
        db_url, "users", "add", "a@example.org", "--name", "A", "--role", "boss",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert role.returncode == 2 and "invalid choice: 'boss'" in role.stderr
    email = await add(db_url, "not-an-email")
    assert email.returncode == 2 and "'not-an-email' is not an email address" in email.stderr


async def test_a_duplicate_email_or_a_taken_extension_exits_2(db_url: str) -> None:
    assert (await add(db_url, "ann@example.org", "--extension", "2002")).returncode == 0
    twice = await add(db_url, "ANN@example.org")
    assert twice.returncode == 2 and "a user with email ann@example.org exists" in twice.stderr
    taken = await add(db_url, "bob@example.org", "--extension", "2002")
    assert taken.returncode == 2
    assert "extension 2002 already belongs to ann@example.org" in taken.stderr


@pytest.mark.parametrize(
    "given",
    [
        ("--password", PASSWORD),
        (f"--password={PASSWORD}",),
        ("--pass", PASSWORD),
        ("--password-stdin", "--pw", PASSWORD),
    ],
)
async def test_the_password_is_never_an_argument(
    db_url: str, pool: asyncpg.Pool, given: tuple[str, ...]
) -> None:
    result = await frontdesk(
        db_url, "users", "add", "a@example.org", "--name", "A", "--role", "staff", *given,
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.returncode == 2
    assert PASSWORD not in result.stdout + result.stderr  # not even in the error message
    assert await pool.fetchval("SELECT count(*) FROM users") == 0


async def test_disable_ends_sessions_and_is_audited(db_url: str, pool: asyncpg.Pool) -> None:
    assert (await add(db_url, "ann@example.org")).returncode == 0
    user = await UserRepository(pool).get_by_email("ann@example.org")
    assert user is not None
    sessions = SessionRepository(pool)
    session = await sessions.start(user.id, dt.timedelta(hours=1))
    assert await sessions.find(session.token) is not None
    result = await frontdesk(db_url, "users", "disable", "Ann@Example.org")
    assert result.returncode == 0 and "disabled ann@example.org" in result.stdout
    assert await sessions.find(session.token) is None
    assert await pool.fetchval("SELECT count(*) FROM web_sessions") == 0
    audit = await pool.fetchrow("SELECT * FROM audit_log WHERE action = 'user.disable'")
    assert audit["actor"] == "cli" and audit["details"]["sessions_ended"] == 1
    again = await frontdesk(db_url, "users", "disable", "ann@example.org")
    assert again.returncode == 0 and "already disabled" in again.stdout
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 2  # add, disable: no more
    unknown = await frontdesk(db_url, "users", "disable", "zed@example.org")
    assert unknown.returncode == 2 and "no user with email zed@example.org" in unknown.stderr


async def test_enable_lets_a_disabled_user_sign_in_again(db_url: str, pool: asyncpg.Pool) -> None:
    assert (await add(db_url, "ann@example.org")).returncode == 0
    assert (await frontdesk(db_url, "users", "disable", "ann@example.org")).returncode == 0
    with pytest.raises(AccountDisabled):
        await SignIn(UserRepository(pool)).authenticate("ann@example.org", PASSWORD, "10.0.0.9")
    result = await frontdesk(db_url, "users", "enable", "ANN@example.org")
    assert result.returncode == 0 and "enabled ann@example.org" in result.stdout
    user = await SignIn(UserRepository(pool)).authenticate("ann@example.org", PASSWORD, "10.0.0.9")
    assert user.email == "ann@example.org"
    audit = await pool.fetchrow("SELECT * FROM audit_log WHERE action = 'user.enable'")
    assert audit["actor"] == "cli" and audit["target_id"] == str(user.id)
    again = await frontdesk(db_url, "users", "enable", "ann@example.org")
    assert again.returncode == 0 and "was not disabled" in again.stdout
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'user.enable'") == 1
    unknown = await frontdesk(db_url, "users", "enable", "zed@example.org")
    assert unknown.returncode == 2 and "no user with email zed@example.org" in unknown.stderr


async def test_a_new_password_replaces_the_old_one_and_signs_them_out(
    db_url: str, pool: asyncpg.Pool
) -> None:
    assert (await add(db_url, "ann@example.org")).returncode == 0
    user = await UserRepository(pool).get_by_email("ann@example.org")
    assert user is not None
    sessions = SessionRepository(pool)
    session = await sessions.start(user.id, dt.timedelta(hours=1))
    fresh = "another long passphrase, fresh"
    result = await frontdesk(
        db_url, "users", "password", "ann@example.org", "--password-stdin", stdin=fresh + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert "1 session(s) ended" in result.stdout and fresh not in result.stdout
    assert await sessions.find(session.token) is None  # the old password may have leaked
    signin = SignIn(UserRepository(pool))
    with pytest.raises(WrongCredentials):
        await signin.authenticate("ann@example.org", PASSWORD, "10.0.0.9")
    assert (await signin.authenticate("ann@example.org", fresh, "10.0.0.9")).id == user.id
    audit = await pool.fetchrow("SELECT * FROM audit_log WHERE action = 'user.password'")
    assert audit["details"] == {"email": "ann@example.org", "sessions_ended": 1}
    short = await frontdesk(
        db_url, "users", "password", "ann@example.org", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 2 and "at least" in short.stderr
    typed = await frontdesk(db_url, "users", "password", "ann@example.org", "--password", fresh)
    assert typed.returncode == 2 and fresh not in typed.stdout + typed.stderr
    assert (await signin.authenticate("ann@example.org", fresh, "10.0.0.9")).id == user.id


async def test_a_database_without_the_schema_is_explained(empty_db_url: str) -> None:
    result = await frontdesk(empty_db_url, "users", "list")
    assert result.returncode == 2
    assert "run `frontdesk db upgrade`" in result.stderr


async def test_doctor_says_how_to_add_the_first_admin(db_url: str, pool: asyncpg.Pool) -> None:
    await add_property(pool)
    before = await frontdesk(db_url, "doctor")
    assert "[warn] staff pages" in before.stdout
    assert "nobody can sign in as an admin yet" in before.stdout
    assert "frontdesk users add you@hotel.example" in before.stdout
    added = await frontdesk(
        db_url, "users", "add", "ada@example.org", "--name", "Ada", "--role", "admin",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    after = await frontdesk(db_url, "doctor")
    assert "[ ok ] staff pages 1 active admin(s)" in " ".join(after.stdout.split())
    exposed = await frontdesk(db_url, "doctor", WEB_SECURE_COOKIES="false", WEB_HOST="0.0.0.0")
    assert "[warn] staff pages WEB_SECURE_COOKIES=false while serving on 0.0.0.0" in " ".join(
        exposed.stdout.split()
    )
