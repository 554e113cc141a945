"""ICE servers for browser phones: TURN credentials from coturn's shared secret.

coturn's `--use-auth-secret --static-auth-secret=<TURN_SECRET>` (compose.yaml) takes the
"TURN REST API" credentials: the username is `<expiry unix time>:<user>` and the password is
base64(HMAC-SHA1(secret, username)). coturn recomputes the HMAC and refuses a username whose
expiry has passed, so a credential handed to a signed-in browser dies on its own (TURN_TTL,
an hour by default) and the secret never leaves the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TurnCredential:
    username: str
    credential: str
    expires_at: int  # unix time


def turn_credential(secret: str, user: str, now: float, ttl_seconds: int) -> TurnCredential:
    expires_at = int(now) + ttl_seconds
    username = f"{expires_at}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredential(username, base64.b64encode(digest).decode("ascii"), expires_at)


@dataclass(frozen=True, slots=True)
class IceSettings:
    turn_urls: tuple[str, ...] = ()  # turn:host:3478?transport=udp, turns:…
    stun_urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    ttl_seconds: int = 3600


def stun_of(turn_url: str) -> str:
    """coturn answers STUN on its TURN port: turn:host:3478?transport=udp -> stun:host:3478."""
    address = turn_url.split(":", 1)[1].split("?", 1)[0]
    return f"stun:{address}"


def ice_servers(ice: IceSettings, user: str, now: float) -> list[dict[str, Any]]:
    """RTCPeerConnection's iceServers: TURN with a fresh credential when there is a secret;
    without one, STUN only (the TURN servers' own STUN, and STUN_URLS)."""
    servers: list[dict[str, Any]] = []
    stun = list(ice.stun_urls)
    if ice.turn_urls and ice.turn_secret:
        cred = turn_credential(ice.turn_secret, user, now, ice.ttl_seconds)
        servers.append(
            {"urls": list(ice.turn_urls), "username": cred.username, "credential": cred.credential}
        )
    else:
        stun += [stun_of(url) for url in ice.turn_urls if not url.startswith("turns:")]
    if stun:
        servers.append({"urls": list(dict.fromkeys(stun))})
    return servers
