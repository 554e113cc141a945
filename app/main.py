"""The composition root: the one place that wires settings, adapters and domain together."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import asyncpg
from aiohttp import web

from app.engines.health import EngineCheck
from app.health import HealthCheck
from app.hotel.config import HotelConfig, load_hotel_config
from app.log import get_logger
from app.settings import PROJECT_ROOT, Settings
from app.storage import migrate
from app.storage.db import create_pool
from app.storage.health import DatabaseCheck
from app.storage.seed import seed
from app.storage.server import (
    LocalCluster,
    database_name,
    discover,
    ensure_database,
    redact_url,
    with_database,
)
from app.telephony.ari_health import AriCheck
from app.web.app import create_app

log = get_logger(__name__)

APP_DATABASE = "frontdesk"
LOCAL_CLUSTER_DIR = PROJECT_ROOT / ".data" / "postgres"


@dataclass
class Database:
    url: str
    cluster: LocalCluster | None  # set when we started a private cluster for `make run`


@contextlib.asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The app database, created if missing; a private cluster is stopped on the way out."""
    server, cluster = await discover(settings.database_url, LOCAL_CLUSTER_DIR)
    try:
        if settings.database_url:
            name = database_name(settings.database_url)
            url = await ensure_database(with_database(settings.database_url, "postgres"), name)
        else:
            url = await ensure_database(server, APP_DATABASE)
        yield Database(url, cluster)
    finally:
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)


async def prepare_database(url: str, hotel: HotelConfig) -> None:
    """Schema to head, then the hotel configuration into the tables."""
    await asyncio.to_thread(migrate.upgrade, url)
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        report = await seed(pool, hotel)
    finally:
        await pool.close()
    log.info(
        "database ready",
        url=redact_url(url),
        properties=report.properties,
        room_types=report.room_types,
        inventory_rows_added=report.inventory_rows_added,
    )


async def serve(settings: Settings, *, migrate_and_seed: bool = True) -> None:
    """`frontdesk run`: serve until SIGTERM or SIGINT, then stop cleanly."""
    hotel = load_hotel_config(settings.hotel_config)
    async with open_database(settings) as db:
        if migrate_and_seed:
            await prepare_database(db.url, hotel)
        # min_size=0: a database that goes away later is a /ready status, not a crash.
        pool = await create_pool(db.url, min_size=0, max_size=10)
        http = aiohttp.ClientSession()
        try:
            await _serve_web(settings, pool, http)
        finally:
            await http.close()
            await pool.close()
    log.info("stopped")


async def _serve_web(settings: Settings, pool: asyncpg.Pool, http: aiohttp.ClientSession) -> None:
    password = settings.asterisk_ari_password
    checks: list[HealthCheck] = [
        DatabaseCheck(pool, migrate.head_revision()),
        AriCheck(
            http,
            str(settings.asterisk_ari_url),
            settings.asterisk_ari_user,
            password.get_secret_value() if password else None,
        ),
        EngineCheck(settings.engine_kind, settings.openai_realtime_model),
    ]
    app = create_app(checks, voice_enabled=settings.voice_enabled)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.web_host, settings.web_port, shutdown_timeout=10)
    await site.start()
    log.info(
        "listening",
        host=settings.web_host,
        port=settings.web_port,
        engine=settings.engine_kind,
        voice_enabled=settings.voice_enabled,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("stopping")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
