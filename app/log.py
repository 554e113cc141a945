"""Structured logging: structlog for our code, the same pipeline for library loggers.

Every line passes through `redact_event`, so card data and full phone numbers never reach a
log, whoever wrote the line. `bind_call` puts `call_id` on every line logged while handling
that call (contextvars: each asyncio task keeps its own).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any, Literal

import structlog

from app.redaction import redact_for_log


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_for_log(value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(v) for v in value)
    return value


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask card data and phone numbers in every string value."""
    for key, value in event_dict.items():
        event_dict[key] = _redact(value)
    return event_dict


def configure_logging(fmt: Literal["console", "json"] = "console", level: str = "INFO") -> None:
    """Configure structlog and the stdlib root logger; safe to call again."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become text first, so the redaction sees them too.
            structlog.processors.format_exc_info,
            redact_event,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Library chatter that says nothing a hotel's admin needs.
    for chatty in ("alembic.runtime.migration", "faster_whisper"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


@contextlib.contextmanager
def bind_call(call_id: str) -> Iterator[None]:
    """Every line logged inside (by this task and tasks it starts) carries `call_id`."""
    with structlog.contextvars.bound_contextvars(call_id=call_id):
        yield
