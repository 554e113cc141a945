"""A throwaway database for a benchmark: the hotel loaded, dropped afterwards (a helper of
bench/conversation.py and bench/phone_latency.py; nothing to run on its own)."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.hotel.config import HotelConfig
from app.main import prepare_database
from app.settings import load_settings
from app.storage.server import discover, ensure_database, with_database


@contextlib.asynccontextmanager
async def throwaway_database(hotel: HotelConfig) -> AsyncIterator[str]:
    """A database of its own, migrated and seeded with `hotel`, found as the product finds
    its server (DATABASE_URL, 127.0.0.1:5432, or a private cluster); its URL."""
    server, cluster = await discover(load_settings().database_url, Path(tempfile.mkdtemp()) / "pg")
    name = f"frontdesk_bench_{uuid.uuid4().hex[:8]}"
    url = await ensure_database(server, name)
    try:
        await prepare_database(url, hotel)
        yield url
    finally:
        conn = await asyncpg.connect(with_database(server, "postgres"))
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
        if cluster is not None:
            cluster.stop()
