"""Is Asterisk's REST Interface there, and do our credentials work?"""

from __future__ import annotations

import base64

import aiohttp

from app.health import ComponentStatus

_START_HINT = "start Asterisk (`make asterisk`, or `docker compose up asterisk`)"


def basic_auth(user: str, password: str) -> str:
    """The Authorization header value ARI expects (HTTP basic)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class AriCheck:
    name = "ari"

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, user: str, password: str | None
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._user = user
        self._password = password

    async def check(self) -> ComponentStatus:
        if not self._password:
            return ComponentStatus(
                self.name,
                False,
                "not_configured",
                "ASTERISK_ARI_PASSWORD is not set",
                "set ASTERISK_ARI_PASSWORD (the ARI user Asterisk got from `frontdesk asterisk "
                "secrets`; `make asterisk` generates one into .env)",
            )
        url = f"{self._base_url}/asterisk/ping"
        try:
            async with self._session.get(
                url,
                headers={"Authorization": basic_auth(self._user, self._password)},
                timeout=aiohttp.ClientTimeout(total=2),
            ) as response:
                if response.status == 401:
                    return ComponentStatus(
                        self.name,
                        False,
                        "unauthorized",
                        f"{url} refused user {self._user!r}",
                        "make ASTERISK_ARI_USER/ASTERISK_ARI_PASSWORD match asterisk-config/ari.conf",
                    )
                if response.status != 200:
                    return ComponentStatus(
                        self.name,
                        False,
                        "error",
                        f"{url} answered HTTP {response.status}",
                        "check that ARI is enabled (ari.conf `enabled = yes`, http.conf `enabled = yes`)",
                    )
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return ComponentStatus(
                self.name,
                False,
                "unreachable",
                f"{url}: {type(exc).__name__} {exc}".strip(),
                _START_HINT,
            )
        return ComponentStatus(
            self.name, True, "ok", f"Asterisk {body.get('asterisk_id', '')}".strip()
        )
