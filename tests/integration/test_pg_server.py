"""Finding PostgreSQL: configured URL first, then the local server, then a private cluster."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from pathlib import Path

import asyncpg
import pytest

from app.storage import server
from app.storage.server import DatabaseUnavailable, discover, ensure_database, find_server_binaries


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


async def test_database_url_wins_without_probing() -> None:
    url = "postgresql://app:pw@db.invalid:5432/frontdesk"
    assert await discover(url, Path("/nonexistent")) == (url, None)


async def test_the_local_server_is_used_when_it_answers(pg_server: str) -> None:
    url, cluster = await discover(None, Path("/nonexistent"), default_server=pg_server)
    assert url == pg_server and cluster is None


@pytest.mark.skipif(find_server_binaries() is None, reason="no PostgreSQL server binaries here")
async def test_a_private_cluster_is_started_when_nothing_answers(tmp_path: Path) -> None:
    for directory in (tmp_path, *tmp_path.parents):  # as root it runs as `postgres`
        if directory == Path(tempfile.gettempdir()):
            break
        directory.chmod(0o711)
    url, cluster = await discover(None, tmp_path / "pg", default_server=_closed_port_url())
    assert cluster is not None
    try:
        conn = await asyncpg.connect(url)
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()
        app_url = await ensure_database(url, "frontdesk")
        assert await server.can_connect(app_url)
    finally:
        await asyncio.to_thread(cluster.stop)
    assert not await server.can_connect(url, timeout=1)


async def test_no_server_and_no_binaries_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(server, "find_server_binaries", lambda: None)
    with pytest.raises(DatabaseUnavailable) as caught:
        await discover(None, tmp_path, default_server=_closed_port_url())
    message = str(caught.value)
    assert "DATABASE_URL" in message and "apt-get install postgresql" in message


async def test_unreachable_configured_server_is_a_clear_error() -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot reach PostgreSQL"):
        await ensure_database(_closed_port_url(), "frontdesk")


def test_passwords_are_hidden_in_messages() -> None:
    assert server.redact_url("postgresql://u:s3cret@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert server.with_database("postgresql://u@h:5432/a?sslmode=require", "b") == (
        "postgresql://u@h:5432/b?sslmode=require"
    )
