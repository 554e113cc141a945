"""Which conversation engine calls will talk to, and whether it can take them."""

from __future__ import annotations

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
        return ComponentStatus(
            self.name,
            False,
            "unavailable",
            "the embedded offline engine is not part of this build yet",
            "set OPENAI_API_KEY to use OpenAI Realtime",
        )
