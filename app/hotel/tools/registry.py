"""The tool registry: typed Python functions offered to the conversation engine.

A tool is a pydantic model of its arguments and an async handler. The registry turns the
models into the JSON schemas the engine registers, validates what the engine sends back
(a bad argument becomes a ToolError the agent can speak), runs the handler, and records
every invocation (arguments redacted, result, duration, status) through a ToolLog.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from app.hotel.config import PropertyConfig
from app.hotel.errors import ToolError
from app.log import get_logger
from app.redaction import mask_phone_numbers, redact_card_data, redact_value

log = get_logger(__name__)

A = TypeVar("A", bound=BaseModel)


@dataclass(frozen=True)
class ToolContext:
    """Who is asking: the property and the call a tool runs for."""

    prop: PropertyConfig
    call_id: uuid.UUID | None = None
    caller_e164: str | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    # The caller is (or was, in this call) giving card details (app/calls/card_guard.py):
    # every number is card data.
    card_context: bool = False

    def private(self, text: str) -> str:
        """Free text a tool keeps or hands to staff, card data masked."""
        return redact_card_data(text, card_context=self.card_context)

    @property
    def today(self) -> dt.date:
        """The date at the property, which is what 'tomorrow' means to the caller."""
        return self.now.astimezone(self.prop.zone).date()


@dataclass(frozen=True)
class Transfer:
    """The call should go to a department (a key of hotel.yaml's departments)."""

    department: str
    warm: bool = False
    summary: str = ""


@dataclass(frozen=True)
class Hangup:
    reason: str = "agent_goodbye"


@dataclass(frozen=True)
class Hold:
    """Hold music for the caller: until `seconds` pass or the caller presses a key."""

    seconds: int


CallAction = Transfer | Hangup | Hold


@dataclass(frozen=True)
class ToolResult:
    output: dict[str, Any]  # what the engine is told (JSON)
    action: CallAction | None = None  # what the call does once the agent has finished speaking
    outcome: str | None = None  # what the call achieved: booked, lead, callback, info


@dataclass(frozen=True)
class Tool(Generic[A]):
    name: str
    description: str
    arguments: type[A]
    handler: Callable[[A, ToolContext], Awaitable[ToolResult]]

    def schema(self) -> dict[str, Any]:
        """The Realtime API's function tool definition."""
        parameters = self.arguments.model_json_schema()
        parameters.pop("title", None)
        for prop in parameters.get("properties", {}).values():
            prop.pop("title", None)
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": parameters,
        }


@dataclass(frozen=True)
class ToolInvocation:
    call_id: uuid.UUID | None
    name: str
    arguments: dict[str, Any]  # redacted
    result: dict[str, Any] | None
    # refused: the tool said no, or what it still needs, in words the caller hears (a date
    # passed, too many guests, how many nights); error: something of ours failed (a tool
    # that is not there, arguments that are not JSON, a bug, the database)
    status: Literal["ok", "refused", "error", "cancelled"]
    error_message: str | None
    started_at: dt.datetime
    duration_ms: int


class _CalledWrong(Exception):
    """The model called a tool that is not there."""


class ToolLog(Protocol):
    def record(self, invocation: ToolInvocation) -> None: ...


def _redacted(value: Any, card_context: bool) -> Any:
    """Arguments and results as stored: no card data (integers too), phone numbers masked."""
    value = redact_value(value, card_context=card_context)
    if isinstance(value, str):
        return mask_phone_numbers(value)
    if isinstance(value, dict):
        return {k: _redacted(v, False) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, False) for v in value]
    return value


def _spoken_validation_error(tool: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "the request"
        problems.append(f"{where.replace('_', ' ')}: {error['msg']}")
    return f"I couldn't {tool.replace('_', ' ')} because of {'; '.join(problems)}."


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool[Any]], log_to: ToolLog | None = None) -> None:
        self._tools = {t.name: t for t in tools}
        self._log = log_to
        self.counts: dict[str, int] = {}

    def names(self) -> list[str]:
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        return [t.schema() for t in self._tools.values()]

    async def invoke(
        self, name: str, arguments: dict[str, Any] | str, context: ToolContext
    ) -> ToolResult:
        """Run a tool; raises ToolError (spoken by the agent) when it cannot do the job."""
        started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
        self.counts[name] = self.counts.get(name, 0) + 1
        raw: dict[str, Any] = {}
        try:
            raw = json.loads(arguments) if isinstance(arguments, str) else dict(arguments)
            tool = self._tools.get(name)
            if tool is None:
                raise _CalledWrong(f"I can't do that here ({name.replace('_', ' ')}).")
            try:
                parsed = tool.arguments.model_validate(raw)
            except ValidationError as exc:  # what it still needs, asked in words: a refusal
                raise ToolError(_spoken_validation_error(name, exc)) from None
            result = await tool.handler(parsed, context)
        except _CalledWrong as exc:
            self._record(context, name, raw, None, "error", str(exc), started, clock)
            raise ToolError(str(exc)) from None
        except json.JSONDecodeError:
            self._record(
                context, name, raw, None, "error", "arguments were not JSON", started, clock
            )
            raise ToolError(
                "Sorry, something went wrong on my side. Could you say that again?"
            ) from None
        except ToolError as exc:
            self._record(context, name, raw, None, "refused", str(exc), started, clock)
            raise
        except Exception as exc:
            log.exception("tool failed", tool=name)
            self._record(
                context, name, raw, None, "error", f"internal: {type(exc).__name__}", started, clock
            )
            raise ToolError(
                "Sorry, I can't do that right now because of a problem on our side."
            ) from exc
        self._record(context, name, raw, result.output, "ok", None, started, clock)
        return result

    def _record(
        self,
        context: ToolContext,
        name: str,
        arguments: dict[str, Any],
        result: dict[str, Any] | None,
        status: Literal["ok", "refused", "error", "cancelled"],
        error: str | None,
        started: dt.datetime,
        clock: float,
    ) -> None:
        duration = int((time.perf_counter() - clock) * 1000)
        log.info("tool invoked", tool=name, status=status, duration_ms=duration)
        if self._log is not None:
            self._log.record(
                ToolInvocation(
                    call_id=context.call_id,
                    name=name,
                    arguments=_redacted(arguments, context.card_context),
                    result=_redacted(result, context.card_context) if result is not None else None,
                    status=status,
                    error_message=error,
                    started_at=started,
                    duration_ms=duration,
                )
            )
