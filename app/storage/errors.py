"""Which database errors are worth retrying: the server or the network, not our data."""

from __future__ import annotations

import asyncpg


def is_transient(exc: Exception) -> bool:
    if isinstance(exc, asyncpg.exceptions.ObjectNotInPrerequisiteStateError):
        # 55000 at connect time: the database is closed to connections (maintenance).
        return "accepting connections" in str(exc)
    return isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.InterfaceError
        | asyncpg.exceptions.InternalClientError
        | asyncpg.PostgresConnectionError  # SQLSTATE class 08
        | asyncpg.exceptions.OperatorInterventionError  # 57: shutdown, cannot connect now
        | asyncpg.exceptions.InsufficientResourcesError  # 53: too many connections, disk full
        | asyncpg.exceptions.DeadlockDetectedError
        | asyncpg.exceptions.SerializationError,
    )
