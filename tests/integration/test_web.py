"""Health and readiness over real HTTP, with real components behind them."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app.engines.health import EngineCheck
from app.health import HealthCheck
from app.storage import migrate
from app.storage.db import create_pool
from app.storage.health import DatabaseCheck
from app.telephony.ari_health import AriCheck, basic_auth
from app.web.app import create_app


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def fake_asterisk() -> AsyncIterator[str]:
    """An HTTP server answering /ari/asterisk/ping as Asterisk 22 does, with basic auth."""

    async def ping(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != basic_auth("frontdesk", "right"):
            return web.json_response({"message": "Authentication required"}, status=401)
        return web.json_response(
            {
                "asterisk_id": "00:11:22:33:44:55",
                "ping": "pong",
                "timestamp": "2026-11-24T20:00:00.000+0000",
            }
        )

    app = web.Application()
    app.router.add_get("/ari/asterisk/ping", ping)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}/ari"
    await server.close()


async def _client(checks: list[HealthCheck]) -> TestClient[web.Request, web.Application]:
    client = TestClient(TestServer(create_app(checks, voice_enabled=True), host="127.0.0.1"))
    await client.start_server()
    return client


async def test_liveness_answers_whatever_the_dependencies(pool: asyncpg.Pool) -> None:
    async with aiohttp.ClientSession() as http:
        checks: list[HealthCheck] = [
            AriCheck(http, f"http://127.0.0.1:{_closed_port()}/ari", "frontdesk", "pw")
        ]
        client = await _client(checks)
        try:
            for path in ("/health", "/voice/health"):
                response = await client.get(path)
                assert response.status == 200
                assert (await response.json())["status"] == "ok"
            assert (await (await client.get("/voice/health")).json())["voice_enabled"] is True
        finally:
            await client.close()


async def test_ready_reports_each_component(pool: asyncpg.Pool, fake_asterisk: str) -> None:
    async with aiohttp.ClientSession() as http:
        good = [
            DatabaseCheck(pool, migrate.head_revision()),
            AriCheck(http, fake_asterisk, "frontdesk", "right"),
            EngineCheck("openai", "gpt-realtime"),
        ]
        client = await _client(list(good))
        try:
            response = await client.get("/ready")
            body = await response.json()
            assert response.status == 200, body
            assert body["ready"] is True
            assert body["components"]["ari"]["status"] == "ok"
            assert body["components"]["database"]["status"] == "ok"
        finally:
            await client.close()

        bad = [
            DatabaseCheck(pool, migrate.head_revision()),
            AriCheck(http, fake_asterisk, "frontdesk", "wrong"),
            AriCheck(http, f"http://127.0.0.1:{_closed_port()}/ari", "frontdesk", "pw"),
            EngineCheck("local", "-", ("127.0.0.1", _closed_port())),
        ]
        client = await _client(list(bad))
        try:
            response = await client.get("/ready")
            body = await response.json()
            assert response.status == 503
            assert body["ready"] is False
            assert body["components"]["database"]["ok"] is True
            # the last ARI check wins the key; both shapes are exercised below
            assert body["components"]["ari"]["status"] == "unreachable"
            assert "make asterisk" in body["components"]["ari"]["fix"]
            assert body["components"]["engine"]["status"] == "unreachable"
        finally:
            await client.close()
        assert (await bad[1].check()).status == "unauthorized"
        no_password = await AriCheck(http, fake_asterisk, "frontdesk", None).check()
        assert no_password.status == "not_configured"


async def test_ready_says_when_the_database_is_gone(db_url: str, pg_server: str) -> None:
    name = db_url.rsplit("/", 1)[1]
    pool = await create_pool(db_url, min_size=0, max_size=2)
    admin = await asyncpg.connect(pg_server)
    try:
        check = DatabaseCheck(pool, migrate.head_revision())
        assert (await check.check()).ok
        # As in a server restart: every connection dropped, no new one accepted.
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        status = await check.check()
        assert not status.ok and status.status == "unreachable"
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        assert (await check.check()).ok  # and it recovers by itself
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        await admin.close()
        await pool.close()


async def test_ready_notices_an_old_schema(db_url: str) -> None:
    pool = await create_pool(db_url, min_size=0, max_size=2)
    try:
        status = await DatabaseCheck(pool, "9999").check()
        assert not status.ok and "frontdesk db upgrade" in status.fix
    finally:
        await pool.close()
