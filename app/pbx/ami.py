"""The Asterisk Manager Interface, for `frontdesk dialplan reload` (panoramisk)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from panoramisk import Manager

TIMEOUT = 10.0
logging.getLogger("panoramisk").setLevel(logging.WARNING)  # its banner is not news to admins


class AmiError(Exception):
    """AMI was unreachable, refused the login, or refused the action; the message says which."""


async def _action(manager: Manager, action: dict[str, str]) -> Any:
    try:
        return await asyncio.wait_for(manager.send_action(action), TIMEOUT)
    except TimeoutError as exc:
        raise AmiError(f"AMI did not answer {action['Action']} within {TIMEOUT:g}s") from exc


async def reload_dialplan(host: str, port: int, user: str, password: str) -> str:
    """Reload pbx_config (extensions.conf and what it includes); a summary of what is loaded."""
    manager = Manager(
        loop=asyncio.get_running_loop(),
        host=host,
        port=port,
        username=user,
        secret=password,
        events="off",
        ping_delay=3600,  # one short session: no keep-alive pings
    )
    try:
        try:
            await asyncio.wait_for(manager.connect(), TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise AmiError(f"cannot reach AMI at {host}:{port} ({exc or 'timed out'})") from exc
        await asyncio.sleep(0)  # panoramisk sends the login from its connect callback
        if manager.authenticated_future is None:
            raise AmiError("AMI connection closed before login")
        try:
            await asyncio.wait_for(manager.authenticated_future, TIMEOUT)
        except TimeoutError as exc:
            raise AmiError("AMI did not answer the login") from exc
        if not manager.authenticated:
            raise AmiError(f"AMI refused user {user!r} (check ASTERISK_AMI_USER/PASSWORD)")
        response = await _action(manager, {"Action": "Reload", "Module": "pbx_config"})
        if not response.success:
            raise AmiError(f"Asterisk refused the reload: {response.get('Message', response)}")
        contexts = await _action(manager, {"Action": "ShowDialPlan"})
        names = {m.get("Context") for m in (contexts if isinstance(contexts, list) else [])}
        names.discard(None)
        return f"{len(names)} contexts loaded"
    finally:
        manager.close()
