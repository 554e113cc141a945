"""Component health: what `/ready` reports and `frontdesk doctor` explains."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol


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
