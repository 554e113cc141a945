"""Finding a PostgreSQL server: the configured one, the local one, or a private cluster.

Order (same for `frontdesk run` and the test suite):
1. `DATABASE_URL` when set — used as is, never second-guessed;
2. a server on 127.0.0.1:5432 (user `postgres`, as a Debian/Docker install has it);
3. a cluster of our own, created with the server binaries (`initdb`, `pg_ctl`) when they exist:
   in a temporary directory for tests, in `.data/postgres` for `make run`;
4. otherwise `DatabaseUnavailable`, saying how to get one.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


class DatabaseUnavailable(Exception):
    """No PostgreSQL server could be found or started; the message says how to get one."""


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database)))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def redact_url(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def can_connect(url: str, timeout: float = 3.0) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=timeout)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


def find_server_binaries() -> Path | None:
    """The directory holding `initdb` and `pg_ctl`, newest major version first."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
        reverse=True,
    )
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalCluster:
    """A PostgreSQL cluster in a directory of ours, listening on 127.0.0.1 only, trust auth.

    PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user.
    """

    data_dir: Path
    bin_dir: Path
    port: int = 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run_as(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise DatabaseUnavailable(
                "PostgreSQL will not run as root and there is no 'postgres' user to run it as: "
                "set DATABASE_URL to a server, or run as an ordinary user"
            ) from None
        return ["runuser", "-u", "postgres", "--"]

    def _pg(self, *args: str) -> None:
        cmd = [*self._run_as(), str(self.bin_dir / args[0]), *args[1:]]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise DatabaseUnavailable(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}"
            )

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            run_as = self._run_as()  # fails clearly when there is no postgres user
            shutil.chown(self.data_dir, "postgres", "postgres")
            self.data_dir.chmod(0o700)
            reachable = subprocess.run([*run_as, "test", "-x", str(self.data_dir)], check=False)
            if reachable.returncode != 0:
                raise DatabaseUnavailable(
                    f"the postgres user cannot reach {self.data_dir}: a directory above it is "
                    "private to root; choose a cluster directory it can traverse"
                )
        if not (self.data_dir / "PG_VERSION").exists():
            self._pg(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        self.port = self.port or _free_port()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} -c fsync=off"
        self._pg(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-l",
            str(self.data_dir / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(DatabaseUnavailable):
            self._pg("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")


async def discover(
    database_url: str | None,
    cluster_dir: Path,
    default_server: str = DEFAULT_SERVER,
    bin_dir: Path | None = None,
) -> tuple[str, LocalCluster | None]:
    """A server URL (maintenance database) and the cluster we started for it, if any."""
    if database_url:
        return database_url, None
    if await can_connect(default_server):
        return default_server, None
    found = bin_dir or find_server_binaries()
    if found is None:
        raise DatabaseUnavailable(
            "no PostgreSQL server: DATABASE_URL is not set, nothing answers on 127.0.0.1:5432 and "
            "no server binaries (initdb, pg_ctl) were found. Set DATABASE_URL=postgresql://USER@HOST/DB, "
            "or install one: apt-get install postgresql (or run `docker compose up postgres`)"
        )
    cluster = LocalCluster(data_dir=cluster_dir, bin_dir=found)
    await asyncio.to_thread(cluster.start)
    return cluster.url, cluster


async def ensure_database(server_url: str, database: str) -> str:
    """Create `database` on the server if it is missing; returns its URL."""
    target = with_database(server_url, database)
    if await can_connect(target):
        return target
    try:
        conn = await asyncpg.connect(server_url, timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(
            f"cannot reach PostgreSQL at {redact_url(server_url)}: {exc}. "
            "Start it, or set DATABASE_URL to a server that runs"
        ) from exc
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return target
