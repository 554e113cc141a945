"""The Realtime (GA) protocol's events, checked against the official `openai` SDK's models.

The same protocol runs between our client and OpenAI, and between our client and the embedded
offline engine; the SDK's models are the reference for both directions.
"""

from __future__ import annotations

from typing import Any

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import TypeAdapter

_SERVER: TypeAdapter[Any] = TypeAdapter(RealtimeServerEvent)
_CLIENT: TypeAdapter[Any] = TypeAdapter(RealtimeClientEvent)


def validate_server_event(data: dict[str, Any]) -> Any:
    """A server event as the SDK models it; raises pydantic's ValidationError when it is not one."""
    return _SERVER.validate_python(data)


def validate_client_event(data: dict[str, Any]) -> Any:
    return _CLIENT.validate_python(data)
