"""A thin ARI REST client on aiohttp. A non-2xx answer raises TelephonyError with Asterisk's
own status and message (e.g. 404 "Channel not found", 422 "Channel not in Stasis application")."""

from __future__ import annotations

from typing import Any

import aiohttp

from app.telephony.ari.models import Application, Bridge, Channel, Playback
from app.telephony.ari_health import basic_auth
from app.telephony.errors import TelephonyError

Params = dict[str, str | int]


class AriClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        user: str,
        password: str,
        app: str = "frontdesk",
        timeout: float = 10.0,
    ) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self.app = app
        self._headers = {"Authorization": basic_auth(user, password)}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.user = user
        self.password = password

    async def request(
        self,
        method: str,
        path: str,
        params: Params | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        url = f"{self.base_url}{path}"
        try:
            async with self._session.request(
                method, url, params=params, json=body, headers=self._headers, timeout=self._timeout
            ) as response:
                text = await response.text()
                data: Any = None
                if text:
                    try:
                        data = await response.json(content_type=None)
                    except ValueError:
                        data = text
                if response.status >= 300:
                    message = (
                        data.get("message", text)
                        if isinstance(data, dict)
                        else (text or response.reason)
                    )
                    raise TelephonyError(response.status, str(message), method, path)
                return data
        except aiohttp.ClientError as exc:
            raise TelephonyError(0, f"Asterisk unreachable: {exc}", method, path) from exc
        except TimeoutError as exc:
            raise TelephonyError(0, "Asterisk did not answer in time", method, path) from exc

    # --- channels ------------------------------------------------------------------------------
    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/answer")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self.request("DELETE", f"/channels/{channel_id}", {"reason": reason})

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        await self.request(
            "POST",
            f"/channels/{channel_id}/continue",
            {"context": context, "extension": extension, "priority": priority},
        )

    async def get_channel(self, channel_id: str) -> Channel:
        return Channel.model_validate(await self.request("GET", f"/channels/{channel_id}"))

    async def list_channels(self) -> list[Channel]:
        return [Channel.model_validate(c) for c in await self.request("GET", "/channels")]

    async def get_variable(self, channel_id: str, name: str) -> str:
        data = await self.request("GET", f"/channels/{channel_id}/variable", {"variable": name})
        return str(data.get("value", "")) if isinstance(data, dict) else ""

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        await self.request(
            "POST", f"/channels/{channel_id}/variable", {"variable": name, "value": value}
        )

    async def external_media(
        self,
        external_host: str,
        *,
        format: str = "ulaw",
        direction: str = "both",
        channel_id: str | None = None,
    ) -> Channel:
        params: Params = {
            "app": self.app,
            "external_host": external_host,
            "format": format,
            "direction": direction,
        }
        if channel_id:
            params["channelId"] = channel_id
        return Channel.model_validate(await self.request("POST", "/channels/externalMedia", params))

    async def snoop(
        self,
        channel_id: str,
        *,
        spy: str = "in",
        whisper: str = "none",
        app_args: str = "snoop",
        snoop_id: str | None = None,
    ) -> Channel:
        """A snoop channel on `channel_id`, into our app: `spy` what it hears (in: what the
        channel sends, out: what it is sent, both: the two sides of the call), `whisper`
        what it may say into the call (none: nothing)."""
        params: Params = {"app": self.app, "spy": spy, "whisper": whisper, "appArgs": app_args}
        if snoop_id:
            params["snoopId"] = snoop_id
        return Channel.model_validate(
            await self.request("POST", f"/channels/{channel_id}/snoop", params)
        )

    async def originate(
        self,
        endpoint: str,
        *,
        app_args: str,
        caller_id: str | None = None,
        timeout: int = 30,
        channel_id: str | None = None,
        variables: dict[str, str] | None = None,
    ) -> Channel:
        params: Params = {
            "endpoint": endpoint,
            "app": self.app,
            "appArgs": app_args,
            "timeout": timeout,
        }
        if caller_id:
            params["callerId"] = caller_id
        if channel_id:
            params["channelId"] = channel_id
        body = {"variables": variables} if variables else None
        return Channel.model_validate(await self.request("POST", "/channels", params, body))

    async def play_on_channel(
        self, channel_id: str, media: str, playback_id: str | None = None
    ) -> Playback:
        params: Params = {"media": media}
        if playback_id:
            params["playbackId"] = playback_id
        return Playback.model_validate(
            await self.request("POST", f"/channels/{channel_id}/play", params)
        )

    async def start_channel_moh(self, channel_id: str, moh_class: str = "default") -> None:
        await self.request("POST", f"/channels/{channel_id}/moh", {"mohClass": moh_class})

    async def stop_channel_moh(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{channel_id}/moh")

    async def record_channel(
        self, channel_id: str, name: str, fmt: str = "wav", max_seconds: int = 0
    ) -> None:
        await self.request(
            "POST",
            f"/channels/{channel_id}/record",
            {"name": name, "format": fmt, "maxDurationSeconds": max_seconds, "ifExists": "fail"},
        )

    async def record_bridge(
        self, bridge_id: str, name: str, fmt: str = "wav", max_seconds: int = 0
    ) -> None:
        """Asterisk-side recording (ours is built from the RTP both ways; this is for staff legs)."""
        await self.request(
            "POST",
            f"/bridges/{bridge_id}/record",
            {"name": name, "format": fmt, "maxDurationSeconds": max_seconds, "ifExists": "fail"},
        )

    async def stop_playback(self, playback_id: str) -> None:
        await self.request("DELETE", f"/playbacks/{playback_id}")

    # --- bridges -------------------------------------------------------------------------------
    async def create_bridge(self, name: str, bridge_type: str = "mixing") -> Bridge:
        data = await self.request("POST", "/bridges", {"type": bridge_type, "name": name})
        return Bridge.model_validate(data)

    async def add_to_bridge(self, bridge_id: str, *channel_ids: str) -> None:
        await self.request(
            "POST", f"/bridges/{bridge_id}/addChannel", {"channel": ",".join(channel_ids)}
        )

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self.request("POST", f"/bridges/{bridge_id}/removeChannel", {"channel": channel_id})

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{bridge_id}")

    async def list_bridges(self) -> list[Bridge]:
        return [Bridge.model_validate(b) for b in await self.request("GET", "/bridges")]

    async def play_on_bridge(
        self, bridge_id: str, media: str, playback_id: str | None = None
    ) -> Playback:
        params: Params = {"media": media}
        if playback_id:
            params["playbackId"] = playback_id
        return Playback.model_validate(
            await self.request("POST", f"/bridges/{bridge_id}/play", params)
        )

    async def start_bridge_moh(self, bridge_id: str, moh_class: str = "default") -> None:
        await self.request("POST", f"/bridges/{bridge_id}/moh", {"mohClass": moh_class})

    async def stop_bridge_moh(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{bridge_id}/moh")

    # --- dynamic configuration (sorcery objects: asterisk-config/sorcery.conf) ----------------
    async def get_config_object(
        self, config_class: str, object_type: str, object_id: str
    ) -> dict[str, str]:
        """A configuration object's fields, e.g. ("res_pjsip", "endpoint", "2002")."""
        data = await self.request("GET", _config_path(config_class, object_type, object_id))
        return _fields(data)

    async def put_config_object(
        self, config_class: str, object_type: str, object_id: str, fields: dict[str, str]
    ) -> None:
        """Create or update an object kept by a writable (memory) sorcery wizard. The answer
        echoes every field (a password too): it is not kept."""
        body = {"fields": [{"attribute": k, "value": v} for k, v in fields.items()]}
        await self.request("PUT", _config_path(config_class, object_type, object_id), body=body)

    async def delete_config_object(
        self, config_class: str, object_type: str, object_id: str
    ) -> None:
        await self.request("DELETE", _config_path(config_class, object_type, object_id))

    # --- the application ----------------------------------------------------------------------
    async def application(self) -> Application:
        return Application.model_validate(await self.request("GET", f"/applications/{self.app}"))

    async def subscribe_channel(self, channel_id: str) -> None:
        """The channel's events reach the app even outside Stasis (until it is destroyed)."""
        await self.request(
            "POST",
            f"/applications/{self.app}/subscription",
            {"eventSource": f"channel:{channel_id}"},
        )

    async def unsubscribe_channel(self, channel_id: str) -> None:
        await self.request(
            "DELETE",
            f"/applications/{self.app}/subscription",
            {"eventSource": f"channel:{channel_id}"},
        )

    def events_url(self) -> str:
        """The events WebSocket URL (credentials go in the Authorization header)."""
        ws = "wss" if self.base_url.startswith("https") else "ws"
        return f"{ws}{self.base_url[self.base_url.index(':') :]}/events?app={self.app}&subscribeAll=false"

    @property
    def auth_headers(self) -> dict[str, str]:
        return dict(self._headers)


def _config_path(config_class: str, object_type: str, object_id: str) -> str:
    parts = (config_class, object_type, object_id)
    if not all(part and part.replace("-", "").replace("_", "").isalnum() for part in parts):
        raise ValueError(f"not a configuration object name: {parts!r}")
    return f"/asterisk/config/dynamic/{config_class}/{object_type}/{object_id}"


def _fields(data: Any) -> dict[str, str]:
    if not isinstance(data, list):
        return {}
    return {
        str(item["attribute"]): str(item.get("value", ""))
        for item in data
        if isinstance(item, dict) and "attribute" in item
    }
