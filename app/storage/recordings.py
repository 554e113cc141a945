"""Recordings at rest: encrypted with age (pyrage) before they touch a disk or a bucket,
indexed by the sha256 of what is stored, and decrypted only by `frontdesk recordings export`.

The call server holds only the public key (RECORDING_PUBLIC_KEY): it can write recordings but
never read them back.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import pyrage
from pyrage import x25519

from app.calls.session import CallSession
from app.calls.write_behind import WriteBehind
from app.media.clock import Clock, LoopClock
from app.media.recording import StereoRecorder


class RecordingError(Exception):
    """A recording cannot be stored or read back; the message says why."""


class RecordingStorage(Protocol):
    name: str

    def put(self, key: str, data: bytes) -> str: ...

    def get(self, location: str) -> bytes: ...


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, key: str, data: bytes) -> str:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written whole or not at all: a crash never leaves half a recording.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, location: str) -> bytes:
        path = (self.root / location).resolve()
        if self.root.resolve() not in path.parents:
            raise RecordingError(f"{location!r} is outside the recordings directory")
        return path.read_bytes()


class S3Storage:
    """Any S3-compatible object store (AWS, MinIO, Ceph…); blocking client, run in a thread."""

    name = "s3"

    def __init__(self, bucket: str, endpoint_url: str | None = None, client: Any = None) -> None:
        import boto3  # noqa: PLC0415  (a third of a second to import: only S3 users pay it)

        self.bucket = bucket
        self._client = client or boto3.client("s3", endpoint_url=endpoint_url)

    def put(self, key: str, data: bytes) -> str:
        self._client.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType="application/age-encryption"
        )
        return key

    def get(self, location: str) -> bytes:
        body: bytes = self._client.get_object(Bucket=self.bucket, Key=location)["Body"].read()
        return body


def key_id(public_key: str) -> str:
    """Which key a recording was encrypted to, without storing the key itself."""
    return hashlib.sha256(public_key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StoredRecording:
    storage: str
    location: str
    sha256: str
    key_id: str
    size_bytes: int


class RecordingArchive:
    def __init__(self, storage: RecordingStorage, public_key: str) -> None:
        try:
            self._recipient = x25519.Recipient.from_str(public_key)
        except Exception as exc:
            raise RecordingError(f"RECORDING_PUBLIC_KEY is not an age public key: {exc}") from None
        self.storage = storage
        self._key_id = key_id(public_key)

    def archive(self, call_id: uuid.UUID, started: str, wav: bytes) -> StoredRecording:
        """Encrypt and store one call's WAV (blocking: call it in a thread)."""
        sealed = pyrage.encrypt(wav, [self._recipient])
        location = self.storage.put(f"{started[:10]}/{call_id}.wav.age", sealed)
        return StoredRecording(
            self.storage.name,
            location,
            hashlib.sha256(sealed).hexdigest(),
            self._key_id,
            len(sealed),
        )


def open_recording(storage: RecordingStorage, row: StoredRecording, identity: str) -> bytes:
    """Fetch, check and decrypt a recording (blocking)."""
    sealed = storage.get(row.location)
    if hashlib.sha256(sealed).hexdigest() != row.sha256:
        raise RecordingError(
            f"{row.location}: contents do not match the recorded sha256 (tampered or damaged)"
        )
    try:
        key = x25519.Identity.from_str(identity)
    except Exception as exc:
        raise RecordingError(f"RECORDING_IDENTITY is not an age secret key: {exc}") from None
    try:
        wav: bytes = pyrage.decrypt(sealed, [key])
    except Exception as exc:
        raise RecordingError(
            f"{row.location}: cannot decrypt with this key (key id {row.key_id}): {exc}"
        ) from None
    return wav


class RecordingRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(
        self, call_id: uuid.UUID, property_id: str, stored: StoredRecording, duration_ms: int
    ) -> uuid.UUID:
        value = await self._pool.fetchval(
            """INSERT INTO recordings (property_id, call_id, storage, location, sha256, key_id,
                                       size_bytes, duration_ms)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
            property_id,
            call_id,
            stored.storage,
            stored.location,
            stored.sha256,
            stored.key_id,
            stored.size_bytes,
            duration_ms,
        )
        return uuid.UUID(str(value))

    async def get(self, recording_id: uuid.UUID) -> StoredRecording | None:
        row = await self._pool.fetchrow("SELECT * FROM recordings WHERE id = $1", recording_id)
        if row is None:
            return None
        return StoredRecording(
            row["storage"], row["location"], row["sha256"], row["key_id"], row["size_bytes"]
        )

    async def for_call(
        self, call_id: uuid.UUID
    ) -> list[tuple[uuid.UUID, StoredRecording, int | None]]:
        rows = await self._pool.fetch(
            "SELECT * FROM recordings WHERE call_id = $1 ORDER BY created_at", call_id
        )
        return [
            (
                r["id"],
                StoredRecording(
                    r["storage"], r["location"], r["sha256"], r["key_id"], r["size_bytes"]
                ),
                r["duration_ms"],
            )
            for r in rows
        ]


class RecordingService:
    """What the telephony side calls at hang-up: WAV built and sealed in threads, the index
    row written through the write-behind queue (a database outage loses no recording)."""

    def __init__(
        self,
        archive: RecordingArchive,
        repository: RecordingRepository,
        writes: WriteBehind,
        clock: Clock | None = None,
    ) -> None:
        self._archive = archive
        self._repository = repository
        self._writes = writes
        self._clock = clock or LoopClock()

    def new_recorder(self, max_seconds: float) -> StereoRecorder:
        return StereoRecorder(self._clock, max_seconds)

    async def save(self, session: CallSession, recorder: StereoRecorder) -> None:
        duration = recorder.duration_ms
        if duration == 0:
            return
        wav = await asyncio.to_thread(recorder.wav)
        stored = await asyncio.to_thread(
            self._archive.archive, session.id, session.started_at.isoformat(), wav
        )
        self._writes.submit(
            f"recording of call {session.id}",
            lambda: self._repository.add(session.id, session.property_id, stored, duration),
        )


def storage_for(
    kind: str, directory: Path, bucket: str | None, endpoint_url: str | None
) -> RecordingStorage:
    if kind == "s3":
        if not bucket:
            raise RecordingError("RECORDING_STORAGE=s3 needs S3_RECORDINGS_BUCKET")
        return S3Storage(bucket, endpoint_url)
    return LocalStorage(directory)
