"""Twilio's Messaging REST API over aiohttp, and the signature on Twilio's webhooks.

Send: POST {base}/2010-04-01/Accounts/{sid}/Messages.json, basic auth (account SID, auth
token), a form body (To, From, Body, StatusCallback). Webhooks carry X-Twilio-Signature:
base64 HMAC-SHA1, keyed by the auth token, of the full URL Twilio called followed by every
POST parameter's name and value in name order.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import aiohttp

DEFAULT_API = "https://api.twilio.com"
_UNSUBSCRIBED = 21610  # "Attempt to send to unsubscribed recipient"


class SmsError(Exception):
    def __init__(self, message: str, *, retryable: bool, opted_out: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.opted_out = opted_out


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(auth_token: str, url: str, params: Mapping[str, str], given: str) -> bool:
    return bool(given) and hmac.compare_digest(signature(auth_token, url, params), given)


class TwilioSms:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        account_sid: str,
        auth_token: str,
        *,
        api_base: str = DEFAULT_API,
        status_callback: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self._http = http
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._headers = {"Authorization": f"Basic {credentials}"}
        self._status_callback = status_callback

    async def _request(self, method: str, **kwargs: Any) -> tuple[int, Any]:
        """(HTTP status, parsed JSON) of one request to the Messages resource; an answer that
        never came is a retryable SmsError."""
        try:
            async with self._http.request(
                method, self._url, headers=self._headers, timeout=self._timeout, **kwargs
            ) as response:
                return response.status, await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SmsError(f"Twilio unreachable: {exc}", retryable=True) from exc

    async def send(self, to: str, from_: str, body: str) -> str:
        """The message SID; SmsError says whether trying again can help."""
        form = {"To": to, "From": from_, "Body": body}
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        status, data = await self._request("POST", data=form)
        if status in (200, 201) and isinstance(data, dict) and data.get("sid"):
            return str(data["sid"])
        code = data.get("code") if isinstance(data, dict) else None
        message = data.get("message") if isinstance(data, dict) else None
        raise SmsError(
            f"Twilio answered {status}: {code} {message}",
            retryable=status == 429 or status >= 500,
            opted_out=code == _UNSUBSCRIBED,
        )

    async def find_sent(self, to: str, from_: str, body: str, since: dt.datetime) -> str | None:
        """The SID of a message Twilio already has with this sender, recipient and body,
        created since `since`; None when it has none. (Twilio's Messages API takes no
        idempotency key: this is how a send whose answer was lost is told from one that never
        arrived.)"""
        params = {"To": to, "From": from_, "PageSize": "50"}
        status, data = await self._request("GET", params=params)
        if status != 200 or not isinstance(data, dict):
            raise SmsError(f"Twilio answered {status} to a message lookup", retryable=True)
        earliest = since - dt.timedelta(minutes=1)  # our clock and Twilio's may differ a little
        for found in data.get("messages") or []:
            if not isinstance(found, dict) or found.get("body") != body or not found.get("sid"):
                continue
            try:  # RFC 2822, as Twilio writes dates: "Tue, 01 Dec 2026 15:04:05 +0000"
                created = email.utils.parsedate_to_datetime(str(found.get("date_created")))
            except (TypeError, ValueError):
                continue
            if created.tzinfo is None:
                created = created.replace(tzinfo=dt.UTC)
            if created >= earliest:
                return str(found["sid"])
        return None
