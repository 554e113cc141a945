"""Which conversation engine calls will talk to, and whether it can take them."""

from __future__ import annotations

import asyncio

from app.health import ComponentStatus


class EngineCheck:
    name = "engine"

    def __init__(self, kind: str, model: str, local: tuple[str, int] | None = None) -> None:
        self._kind = kind
        self._model = model
        self._local = local  # where the offline engine listens, when it is the one in use

    async def check(self) -> ComponentStatus:
        if self._kind == "openai":
            # No request is made here: a readiness probe must not spend API quota.
            return ComponentStatus(
                self.name,
                True,
                "ok",
                f"OpenAI Realtime, model {self._model} (key set; reached when a call connects)",
            )
        if self._local is None:
            return ComponentStatus(self.name, False, "not_configured", "no offline engine address")
        host, port = self._local
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
        except (OSError, TimeoutError) as exc:
            return ComponentStatus(
                self.name,
                False,
                "unreachable",
                f"offline engine at {host}:{port}: {exc}",
                "start it (`frontdesk run` does) or set OPENAI_API_KEY to use OpenAI Realtime",
            )
        writer.close()
        await writer.wait_closed()
        return ComponentStatus(
            self.name,
            True,
            "ok",
            f"offline engine at {host}:{port} (rule-based dialog, no language model)",
        )
