"""Recordings at rest: sealed with age, checked by sha256, locally and in S3 (moto server)."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import boto3
import pytest
from moto.server import ThreadedMotoServer
from pyrage import x25519

from app.calls.records import Direction, NewCall
from app.calls.session import CallSession
from app.calls.write_behind import WriteBehind
from app.media.clock import VirtualClock
from app.media.recording import StereoRecorder
from app.storage.calls_repo import CallRepository
from app.storage.errors import is_transient
from app.storage.recordings import (
    LocalStorage,
    RecordingArchive,
    RecordingError,
    RecordingRepository,
    RecordingService,
    S3Storage,
    open_recording,
)

ROOT = Path(__file__).resolve().parents[2]
WAV = b"RIFF" + os.urandom(4000)


@pytest.fixture
def keys() -> tuple[str, str]:
    identity = x25519.Identity.generate()
    return str(identity.to_public()), str(identity)


def test_local_recordings_are_sealed_and_private(tmp_path: Path, keys: tuple[str, str]) -> None:
    public, secret = keys
    archive = RecordingArchive(LocalStorage(tmp_path), public)
    stored = archive.archive(uuid.uuid4(), "2026-11-24T20:00:00", WAV)
    path = tmp_path / stored.location
    sealed = path.read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1") and b"RIFF" not in sealed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored.size_bytes == len(sealed) and len(stored.sha256) == 64
    assert open_recording(archive.storage, stored, secret) == WAV

    other = str(x25519.Identity.generate())
    with pytest.raises(RecordingError, match="cannot decrypt"):
        open_recording(archive.storage, stored, other)
    path.write_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]))
    with pytest.raises(RecordingError, match="do not match the recorded sha256"):
        open_recording(archive.storage, stored, secret)
    with pytest.raises(RecordingError, match="not an age public key"):
        RecordingArchive(LocalStorage(tmp_path), "age1notakey")


def test_paths_outside_the_recordings_directory_are_refused(
    tmp_path: Path, keys: tuple[str, str]
) -> None:
    storage = LocalStorage(tmp_path / "recordings")
    with pytest.raises(RecordingError, match="outside"):
        storage.get("../../etc/passwd")


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="hotel-recordings")
    yield endpoint
    server.stop()


def test_s3_recordings_round_trip(s3: str, keys: tuple[str, str]) -> None:
    public, secret = keys
    storage = S3Storage("hotel-recordings", s3)
    stored = RecordingArchive(storage, public).archive(uuid.uuid4(), "2026-11-24T20:00:00", WAV)
    assert stored.storage == "s3"
    raw = boto3.client("s3", endpoint_url=s3).get_object(
        Bucket="hotel-recordings", Key=stored.location
    )
    assert raw["Body"].read().startswith(b"age-encryption.org/v1")
    assert open_recording(storage, stored, secret) == WAV


async def test_a_call_recording_is_indexed_and_exported(
    pool: asyncpg.Pool, db_url: str, tmp_path: Path, keys: tuple[str, str]
) -> None:
    public, secret = keys
    await pool.execute("""INSERT INTO properties (id, name, timezone, phone_e164, currency)
                          VALUES ('harborview', 'H', 'UTC', '+15550100100', 'USD')""")
    session = CallSession(id=uuid.uuid4(), property_id="harborview", mode="echo")
    await CallRepository(pool).create(
        NewCall(id=session.id, property_id="harborview", direction=Direction.INBOUND)
    )
    writes = WriteBehind(is_transient)
    writer = asyncio.create_task(writes.run())
    clock = VirtualClock()
    service = RecordingService(
        RecordingArchive(LocalStorage(tmp_path), public), RecordingRepository(pool), writes, clock
    )
    recorder: StereoRecorder = service.new_recorder(60)
    for _ in range(25):
        recorder.caller(b"\x30" * 160)
        clock._now += 0.02
    await service.save(session, recorder)
    assert await writes.drain(5)
    writer.cancel()
    rows = await RecordingRepository(pool).for_call(session.id)
    assert len(rows) == 1 and rows[0][2] == 500
    recording_id = rows[0][0]

    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "RECORDING_DIR": str(tmp_path),
        "RECORDING_IDENTITY": secret,
        "PYTHONPATH": str(ROOT),
    }
    out = tmp_path / "exported.wav"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "recordings",
            "export",
            str(recording_id),
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == recorder.wav()
    listing = subprocess.run(
        [sys.executable, "-m", "app.cli", "recordings", "list", str(session.id)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert str(recording_id) in listing.stdout and "0.5s" in listing.stdout
    no_key = {k: v for k, v in env.items() if k != "RECORDING_IDENTITY"}
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "recordings",
            "export",
            str(recording_id),
            "--out",
            str(out),
        ],
        env=no_key,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert refused.returncode == 2 and "RECORDING_IDENTITY" in refused.stderr
