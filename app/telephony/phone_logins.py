"""Browser phones' SIP passwords, provisioned into Asterisk through ARI's dynamic configuration.

asterisk-config/sorcery.conf lets PJSIP auth objects live in memory beside pjsip.conf's; the
browser phones' endpoints (template `webrtc-phone`) name an auth with their extension that no
file defines. Here the app creates it, with a random password, when a signed-in user's phone
page asks (PUT /ari/asterisk/config/dynamic/res_pjsip/auth/<extension>), replaces it when it
has less than half its lifetime left, and deletes it when it expires (`run`, a background job)
and at start-up (`forget`: a password from before a restart is not left in Asterisk). Those
objects live only in Asterisk's memory: when ARI reconnects (Asterisk may have restarted)
`restore` puts the unexpired ones back, so the phones' cached passwords keep working.

An extension is only provisioned when Asterisk says its endpoint is a WebRTC one: a desk
phone's auth is pjsip.conf's (Asterisk refuses to change it anyway: 403).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Callable, Iterable

from app.log import get_logger
from app.staff.phone import NotABrowserPhone, PhoneSystemUnavailable, SipLogin
from app.telephony.ari.client import AriClient
from app.telephony.errors import TelephonyError

log = get_logger(__name__)

PJSIP = "res_pjsip"
SWEEP_SECONDS = 60.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UnconfiguredPhoneLogins:
    """Without ARI (ASTERISK_ARI_PASSWORD unset) no browser phone can be provisioned."""

    async def issue(self, extension: str) -> SipLogin:
        raise PhoneSystemUnavailable(
            "The phone system is not connected to this app (ASTERISK_ARI_PASSWORD is not set). "
            "Tell your administrator."
        )


class AriPhoneLogins:
    def __init__(
        self,
        client: AriClient,
        lifetime: dt.timedelta = dt.timedelta(hours=1),
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self._client = client
        self.lifetime = lifetime
        self._clock = clock
        self._issued: dict[str, SipLogin] = {}
        self._lock = asyncio.Lock()  # one change to Asterisk's auths at a time, in order

    async def issue(self, extension: str) -> SipLogin:
        async with self._lock:
            current = self._issued.get(extension)
            now = self._clock()
            if current is not None and current.expires_at - now > self.lifetime / 2:
                return current
            await self._check_browser_phone(extension)
            login = SipLogin(extension, extension, secrets.token_urlsafe(24), now + self.lifetime)
            try:
                await self._put(login)
            except TelephonyError as exc:
                log.error(
                    "browser phone login not provisioned", extension=extension, error=str(exc)
                )
                raise PhoneSystemUnavailable(
                    "The phone system did not accept a login for your extension. "
                    "Try again in a minute; if it keeps failing, tell your administrator."
                ) from exc
            self._issued[extension] = login
            log.info("browser phone login provisioned", extension=extension)
            return login

    async def _put(self, login: SipLogin) -> None:
        await self._client.put_config_object(
            PJSIP,
            "auth",
            login.username,
            {"auth_type": "digest", "username": login.username, "password": login.password},
        )

    async def restore(self) -> int:
        """Put every unexpired login back into Asterisk (after ARI reconnects: a restarted
        Asterisk has forgotten them while browser phones still hold them); how many. One
        Asterisk refuses is dropped, so the next `issue` makes a new one."""
        now = self._clock()
        restored = 0
        async with self._lock:
            for extension, login in list(self._issued.items()):
                if login.expires_at <= now:
                    continue
                try:
                    await self._put(login)
                except TelephonyError as exc:
                    log.error(
                        "browser phone login not restored", extension=extension, error=str(exc)
                    )
                    del self._issued[extension]
                    continue
                restored += 1
        if restored:
            log.info("browser phone logins restored in Asterisk", count=restored)
        return restored

    async def _check_browser_phone(self, extension: str) -> None:
        try:
            endpoint = await self._client.get_config_object(PJSIP, "endpoint", extension)
        except TelephonyError as exc:
            if exc.not_found:
                raise NotABrowserPhone(
                    f"Extension {extension} is not set up in the phone system. "
                    "Ask your administrator to add it as a browser phone."
                ) from None
            raise PhoneSystemUnavailable(
                "The phone system cannot be reached right now. Try again in a minute."
            ) from exc
        if endpoint.get("webrtc") not in ("yes", "true"):
            raise NotABrowserPhone(
                f"Extension {extension} is a desk phone, not a browser phone. Use the desk "
                "phone, or ask your administrator for a browser phone extension."
            )

    async def sweep(self) -> int:
        """Delete the logins that have expired; how many went."""
        now = self._clock()
        async with self._lock:
            expired = [e for e, login in self._issued.items() if login.expires_at <= now]
            for extension in expired:
                await self._delete(extension)
                del self._issued[extension]
        if expired:
            log.info("expired browser phone logins removed", extensions=expired)
        return len(expired)

    async def forget(self, extensions: Iterable[str]) -> None:
        """Remove these extensions' logins from Asterisk (start-up: whatever a previous run of
        the app left there), except those this process has issued since."""
        async with self._lock:
            for extension in extensions:
                if extension not in self._issued:
                    await self._delete(extension)

    async def run_forever(self, left_behind: Iterable[str], every: float = SWEEP_SECONDS) -> None:
        """`forget(left_behind)`, then `run(every)`: the job `frontdesk run` supervises."""
        await self.forget(left_behind)
        await self.run(every)

    async def _delete(self, extension: str) -> None:
        try:
            await self._client.delete_config_object(PJSIP, "auth", extension)
        except TelephonyError as exc:
            if not exc.not_found:  # gone already (Asterisk restarted): nothing to do
                raise

    async def run(self, every: float = SWEEP_SECONDS) -> None:
        """The background job: expired logins leave Asterisk within `every` seconds."""
        while True:
            await asyncio.sleep(every)
            await self.sweep()
