"""ARI resources and events as typed models (the fields we use; unknown fields are kept)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class CallerId(_Model):
    name: str = ""
    number: str = ""


class DialplanCep(_Model):
    context: str = ""
    exten: str = ""
    priority: int = 0
    app_name: str = ""
    app_data: str = ""


class Channel(_Model):
    id: str
    name: str
    state: str = ""
    caller: CallerId = CallerId()
    connected: CallerId = CallerId()
    dialplan: DialplanCep = DialplanCep()
    language: str = "en"
    channelvars: dict[str, str] | None = None

    @property
    def technology(self) -> str:
        return self.name.split("/", 1)[0]


class Bridge(_Model):
    id: str
    technology: str = ""
    bridge_type: str = ""
    name: str = ""
    channels: list[str] = []


class Playback(_Model):
    id: str
    media_uri: str = ""
    target_uri: str = ""
    state: str = ""


class Application(_Model):
    name: str
    channel_ids: list[str] = []
    bridge_ids: list[str] = []


class _Event(_Model):
    timestamp: str = ""
    application: str = ""
    asterisk_id: str = ""


class StasisStart(_Event):
    type: Literal["StasisStart"]
    args: list[str] = []
    channel: Channel
    replace_channel: Channel | None = None


class StasisEnd(_Event):
    type: Literal["StasisEnd"]
    channel: Channel


class ChannelStateChange(_Event):
    type: Literal["ChannelStateChange"]
    channel: Channel


class ChannelDtmfReceived(_Event):
    type: Literal["ChannelDtmfReceived"]
    digit: str
    duration_ms: int = 0
    channel: Channel


class ChannelHangupRequest(_Event):
    type: Literal["ChannelHangupRequest"]
    cause: int = 0
    soft: bool = False
    channel: Channel


class ChannelDestroyed(_Event):
    type: Literal["ChannelDestroyed"]
    cause: int = 0
    cause_txt: str = ""
    channel: Channel


class ChannelEnteredBridge(_Event):
    type: Literal["ChannelEnteredBridge"]
    bridge: Bridge
    channel: Channel | None = None


class ChannelLeftBridge(_Event):
    type: Literal["ChannelLeftBridge"]
    bridge: Bridge
    channel: Channel


class BridgeDestroyed(_Event):
    type: Literal["BridgeDestroyed"]
    bridge: Bridge


class PlaybackStarted(_Event):
    type: Literal["PlaybackStarted"]
    playback: Playback


class PlaybackFinished(_Event):
    type: Literal["PlaybackFinished"]
    playback: Playback


class ChannelVarset(_Event):
    """A variable set (by the dialplan or an application); global ones have no channel."""

    type: Literal["ChannelVarset"]
    variable: str
    value: str = ""
    channel: Channel | None = None


class OtherEvent(_Event):
    """Any event we do not act on (Dial, ChannelConnectedLine, …)."""

    type: str
    channel: Channel | None = None


KnownEvent = Annotated[
    StasisStart
    | StasisEnd
    | ChannelStateChange
    | ChannelDtmfReceived
    | ChannelHangupRequest
    | ChannelDestroyed
    | ChannelEnteredBridge
    | ChannelLeftBridge
    | BridgeDestroyed
    | PlaybackStarted
    | PlaybackFinished
    | ChannelVarset,
    Field(discriminator="type"),
]
AriEvent = (
    StasisStart
    | StasisEnd
    | ChannelStateChange
    | ChannelDtmfReceived
    | ChannelHangupRequest
    | ChannelDestroyed
    | ChannelEnteredBridge
    | ChannelLeftBridge
    | BridgeDestroyed
    | PlaybackStarted
    | PlaybackFinished
    | ChannelVarset
    | OtherEvent
)

_KNOWN = TypeAdapter(KnownEvent)
_KNOWN_TYPES = {
    "StasisStart",
    "StasisEnd",
    "ChannelStateChange",
    "ChannelDtmfReceived",
    "ChannelHangupRequest",
    "ChannelDestroyed",
    "ChannelEnteredBridge",
    "ChannelLeftBridge",
    "BridgeDestroyed",
    "PlaybackStarted",
    "PlaybackFinished",
    "ChannelVarset",
}


def parse_event(data: dict[str, Any]) -> AriEvent:
    """One event from the WebSocket; a malformed known event raises pydantic's ValidationError."""
    if data.get("type") in _KNOWN_TYPES:
        return _KNOWN.validate_python(data)
    return OtherEvent.model_validate(data)


def event_channel_ids(event: AriEvent) -> list[str]:
    """The channels an event is about (for routing it to its call)."""
    ids: list[str] = []
    channel = getattr(event, "channel", None)
    if isinstance(channel, Channel):
        ids.append(channel.id)
    if isinstance(event, PlaybackStarted | PlaybackFinished):
        kind, _, target = event.playback.target_uri.partition(":")
        if kind == "channel":
            ids.append(target)
    return ids


def event_bridge_id(event: AriEvent) -> str | None:
    bridge = getattr(event, "bridge", None)
    if isinstance(bridge, Bridge):
        return bridge.id
    if isinstance(event, PlaybackStarted | PlaybackFinished):
        kind, _, target = event.playback.target_uri.partition(":")
        if kind == "bridge":
            return target
    return None
