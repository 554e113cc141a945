"""The Realtime (GA) protocol's events, checked against the official `openai` SDK's models.

The same protocol runs between our client and OpenAI, and between our client and the embedded
offline engine; the SDK's models are the reference for both directions.

Our own events are checked strictly: a mismatch is our bug, caught before the wire. The
service's are read leniently: the service moves ahead of the pinned SDK (a new enum value, a
new kind of usage, a field that became nullable), and an event the call depends on must not be
lost for a part of it we never read. Such an event is used when the fields we act on are there
and of the right type; the mismatch is logged once per event type.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args, get_origin

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import TypeAdapter, ValidationError

from app.log import get_logger

log = get_logger(__name__)

_SERVER: TypeAdapter[Any] = TypeAdapter(RealtimeServerEvent)
_CLIENT: TypeAdapter[Any] = TypeAdapter(RealtimeClientEvent)


def _by_type(union: Any) -> dict[str, TypeAdapter[Any]]:
    """One adapter per event type: pydantic tries a union's members one by one, and an audio
    delta checked against all of them costs some forty times its own model (every 20 ms)."""
    if get_origin(union) is Annotated:
        union = get_args(union)[0]
    adapters: dict[str, TypeAdapter[Any]] = {}
    for model in get_args(union):
        (kind,) = get_args(model.model_fields["type"].annotation)
        adapters[kind] = TypeAdapter(model)
    return adapters


_SERVER_BY_TYPE = _by_type(RealtimeServerEvent)
_CLIENT_BY_TYPE = _by_type(RealtimeClientEvent)


def _validate(data: Any, by_type: dict[str, TypeAdapter[Any]], union: TypeAdapter[Any]) -> Any:
    kind = data.get("type") if isinstance(data, dict) else None
    adapter = by_type.get(kind) if isinstance(kind, str) else None
    return (adapter or union).validate_python(data)  # the union's errors for what is no event


# The fields the client acts on, per event type (dotted: nested), and their types.
NEEDED: dict[str, dict[str, type]] = {
    "session.created": {},
    "session.updated": {"session": dict},
    "input_audio_buffer.speech_started": {},
    "input_audio_buffer.speech_stopped": {},
    "conversation.item.input_audio_transcription.delta": {},
    "conversation.item.input_audio_transcription.completed": {"transcript": str},
    "response.created": {"response.id": str},
    "response.output_audio.delta": {"response_id": str, "item_id": str, "delta": str},
    "response.output_audio.done": {"response_id": str, "item_id": str},
    "response.output_audio_transcript.done": {
        "response_id": str,
        "item_id": str,
        "transcript": str,
    },
    "response.function_call_arguments.done": {
        "response_id": str,
        "call_id": str,
        "name": str,
        "arguments": str,
    },
    "response.done": {"response.id": str},
    "error": {"error": dict},
}

_warned: set[str] = set()  # event types whose mismatch with the SDK was logged at warning


def field(data: dict[str, Any], path: str) -> Any:
    """A (dotted) field of an event, None when absent."""
    value: Any = data
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def read_server_event(data: Any) -> dict[str, Any] | None:
    """A server event the client can act on, or None (logged) when it cannot be used."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        log.warning("engine event without a type, ignored")
        return None
    kind: str = data["type"]
    try:
        validate_server_event(data)
        return data
    except ValidationError as exc:
        mismatch = str(exc)[:300]
    needed = NEEDED.get(kind)
    if needed is None:  # not one we act on: nothing is lost
        log.debug("engine event unknown to the SDK's models", event_type=kind, error=mismatch)
        return data
    missing = [
        path for path, kind_of in needed.items() if not isinstance(field(data, path), kind_of)
    ]
    if missing:
        log.warning("engine event unusable, ignored", event_type=kind, missing=missing)
        return None
    if kind in _warned:
        log.debug("engine event differs from the SDK's models", event_type=kind, error=mismatch)
    else:
        _warned.add(kind)
        log.warning(
            "engine event differs from the SDK's models, used anyway (logged once per type)",
            event_type=kind,
            error=mismatch,
        )
    return data


def validate_server_event(data: dict[str, Any]) -> Any:
    """A server event as the SDK models it; raises pydantic's ValidationError when it is not one."""
    return _validate(data, _SERVER_BY_TYPE, _SERVER)


def validate_client_event(data: dict[str, Any]) -> Any:
    return _validate(data, _CLIENT_BY_TYPE, _CLIENT)
