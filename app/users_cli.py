"""`frontdesk users add|list|disable|enable|password`: staff accounts for the staff pages.

A password is read from standard input (`--password-stdin`: one line, or typed twice without
echo at a terminal), never from the command line where `ps` and shell history would keep it,
and never printed. Every change is written to the audit log with the actor "cli".
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from collections.abc import Callable
from typing import Any, TextIO

import asyncpg

from app.settings import Settings
from app.staff.directory import StaffDirectory
from app.staff.errors import StaffError
from app.staff.passwords import MIN_LENGTH, PasswordTooShortError
from app.staff.users import ROLES
from app.storage.users_repo import UserRepository

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
ACTOR = "cli"

PoolFactory = Callable[[Settings], contextlib.AbstractAsyncContextManager[asyncpg.Pool]]


def add_parser(sub: Any) -> None:
    users = sub.add_parser("users", help="staff accounts for the staff pages (sign-in)")
    users_sub = users.add_subparsers(
        dest="users_command", required=True, metavar="ACTION", parser_class=_QuietParser
    )
    add = users_sub.add_parser(
        "add",
        help="add a user; the password is read from standard input (--password-stdin)",
        allow_abbrev=False,
    )
    add.add_argument("email")
    add.add_argument("--name", required=True, help="the name shown on the staff pages")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--property", dest="property_id", help="the property they work at")
    add.add_argument("--extension", help="their phone extension (e.g. 2002)")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help=f"read the password (at least {MIN_LENGTH} characters) from standard input",
    )
    # refused with a message that does not repeat what was typed
    add.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    users_sub.add_parser("list", help="every user, with role and status")
    disable = users_sub.add_parser("disable", help="disable a user and end their sessions")
    disable.add_argument("email")
    enable = users_sub.add_parser("enable", help="let a disabled user sign in again")
    enable.add_argument("email")
    reset = users_sub.add_parser(
        "password",
        help="set a user's password from standard input (--password-stdin); ends their sessions",
        allow_abbrev=False,
    )
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true", required=True)
    reset.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)


class _QuietParser(argparse.ArgumentParser):
    """Says that arguments were not understood without repeating them (one may be a password
    typed in the wrong place)."""

    def parse_known_args(  # type: ignore[override]
        self, args: Any = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"{len(extras)} argument(s) not understood (not repeated here)")
        return parsed, extras


class _RefusePassword(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        parser.error(
            "a password is never given on the command line (ps and shell history keep it): "
            "send it on standard input with --password-stdin"
        )


def read_password(stdin: TextIO) -> str:
    """One line from a pipe, or typed twice at a terminal. StaffError when unusable."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Same password again: ") != first:
            raise StaffError("the two passwords differ")
        return first
    line = stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise StaffError("no password on standard input (e.g. printf '%s\\n' \"$PW\" | …)")
    return password


async def run(settings: Settings, args: argparse.Namespace, pool: PoolFactory) -> int:
    try:
        async with pool(settings) as db:
            directory = StaffDirectory(UserRepository(db))
            if args.users_command == "add":
                return await _add(directory, args)
            if args.users_command == "list":
                return await _list(directory)
            if args.users_command == "enable":
                return await _enable(directory, args.email)
            if args.users_command == "password":
                return await _password(directory, args.email)
            return await _disable(directory, args.email)
    except (StaffError, PasswordTooShortError) as exc:
        print(f"frontdesk users: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except asyncpg.UndefinedTableError:
        print(
            "frontdesk users: the database has no schema yet; run `frontdesk db upgrade`",
            file=sys.stderr,
        )
        return EXIT_CONFIG


async def _add(directory: StaffDirectory, args: argparse.Namespace) -> int:
    password = read_password(sys.stdin)
    user = await directory.add(
        args.email,
        args.name,
        args.role,
        password,
        actor=ACTOR,
        property_id=args.property_id,
        extension=args.extension,
    )
    where = [f"property {user.property_id}"] if user.property_id else []
    where += [f"extension {user.extension}"] if user.extension else []
    extra = f", {', '.join(where)}" if where else ""
    print(f"added {user.role} {user.email} ({user.display_name}{extra}), user id {user.id}")
    return EXIT_OK


async def _list(directory: StaffDirectory) -> int:
    members = await directory.members()
    if not members:
        print("no users (add one: frontdesk users add EMAIL --name NAME --role admin ...)")
        return EXIT_OK
    print(
        f"{'EMAIL':32}  {'NAME':20}  {'ROLE':7}  {'PROPERTY':12}  {'EXT':6}  "
        f"{'STATUS':8}  LAST SIGN-IN (UTC)"
    )
    for m in members:
        u = m.user
        last = f"{m.last_login_at:%Y-%m-%d %H:%M}" if m.last_login_at else "never"
        print(
            f"{u.email:32}  {u.display_name:20.20}  {u.role:7}  {u.property_id or '-':12}  "
            f"{u.extension or '-':6}  {'disabled' if m.disabled else 'active':8}  {last}"
        )
    return EXIT_OK


async def _disable(directory: StaffDirectory, email: str) -> int:
    if await directory.disable(email, actor=ACTOR):
        print(f"disabled {email.strip().lower()}; their sessions have ended")
    else:
        print(f"{email.strip().lower()} was already disabled")
    return EXIT_OK


async def _enable(directory: StaffDirectory, email: str) -> int:
    if await directory.enable(email, actor=ACTOR):
        print(f"enabled {email.strip().lower()}; they can sign in again")
    else:
        print(f"{email.strip().lower()} was not disabled")
    return EXIT_OK


async def _password(directory: StaffDirectory, email: str) -> int:
    ended = await directory.set_password(email, read_password(sys.stdin), actor=ACTOR)
    print(f"new password set for {email.strip().lower()}; {ended} session(s) ended")
    return EXIT_OK
