"""Component health: what `/ready` reports and `frontdesk doctor` explains."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from app.aio import Supervised


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    ok: bool
    status: str  # ok | unreachable | unauthorized | not_configured | unavailable | error
    detail: str = ""
    fix: str = ""  # what to do about it, for people reading `frontdesk doctor`

    def as_json(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if k != "name" and v != ""}


class HealthCheck(Protocol):
    name: str

    async def check(self) -> ComponentStatus: ...


async def run_checks(checks: Sequence[HealthCheck], timeout: float = 3.0) -> list[ComponentStatus]:
    """All checks at once; one that hangs is reported as such instead of stalling the rest."""

    async def one(check: HealthCheck) -> ComponentStatus:
        try:
            return await asyncio.wait_for(check.check(), timeout)
        except TimeoutError:
            return ComponentStatus(
                check.name, False, "unreachable", f"no answer within {timeout:g}s"
            )
        except Exception as exc:  # a broken check must not break the report
            return ComponentStatus(check.name, False, "error", f"{type(exc).__name__}: {exc}")

    return list(await asyncio.gather(*(one(check) for check in checks)))


class TaskCheck:
    """A supervised background task (app.aio.supervise): ready only while it runs, not while
    it waits to be restarted after a failure."""

    def __init__(self, job: Supervised) -> None:
        self.name = job.name
        self._job = job

    async def check(self) -> ComponentStatus:
        job = self._job
        if job.up:
            detail = (
                f"restarted {job.restarts} times, last: {job.last_error}" if job.restarts else ""
            )
            return ComponentStatus(self.name, True, "ok", detail)
        return ComponentStatus(
            self.name,
            False,
            "unavailable",
            f"{job.state} after {job.restarts} failures, last: {job.last_error}",
            "it restarts by itself; the log has the traceback of each failure",
        )
