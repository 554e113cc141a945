"""Shared fixtures: a real PostgreSQL for every test that needs one.

The server is found as the product finds it (DATABASE_URL, else 127.0.0.1:5432, else a
throwaway cluster). The schema is migrated once into a template database; each test gets
its own copy (CREATE DATABASE … TEMPLATE) and it is dropped afterwards, so tests never see
each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from app.storage import migrate
from app.storage.db import create_pool
from app.storage.server import LocalCluster, discover, with_database

ROOT = Path(__file__).resolve().parent.parent


async def _admin(server: str, sql: str) -> None:
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of the maintenance database on a real server."""
    with tempfile.TemporaryDirectory(prefix="frontdesk-pg-") as tmp:
        Path(tmp).chmod(0o711)  # as root, the cluster runs as `postgres`, which must get in
        url, cluster = asyncio.run(discover(os.environ.get("DATABASE_URL"), Path(tmp) / "cluster"))
        if os.environ.get("DATABASE_URL"):
            url = with_database(url, "postgres")
        try:
            yield url
        finally:
            if isinstance(cluster, LocalCluster):
                cluster.stop()


@pytest.fixture(scope="session")
def template_db(pg_server: str) -> Iterator[str]:
    """A database migrated to head, copied for each test."""
    name = f"frontdesk_tmpl_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(pg_server, f'CREATE DATABASE "{name}"'))
    migrate.upgrade(with_database(pg_server, name))
    try:
        yield name
    finally:
        asyncio.run(_admin(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def empty_db_url(pg_server: str) -> AsyncIterator[str]:
    """A brand-new database with no schema."""
    name = f"frontdesk_test_{uuid.uuid4().hex[:12]}"
    await _admin(pg_server, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(pg_server, name)
    finally:
        await _admin(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db_url(pg_server: str, template_db: str) -> AsyncIterator[str]:
    """A database of its own for this test, at the newest schema."""
    name = f"frontdesk_test_{uuid.uuid4().hex[:12]}"
    await _admin(pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    try:
        yield with_database(pg_server, name)
    finally:
        await _admin(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_url, min_size=1, max_size=5)
    try:
        yield pool
    finally:
        await pool.close()
