"""A staff member's browser phone: the SIP login the app provisions for their extension.

Nobody types a SIP password. When a signed-in user opens the phone page, the app hands their
browser a login for their own extension (users.extension) with a random password that the
PBX learns at the same moment and forgets when it expires (app/telephony/phone_logins.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


class PhoneLoginError(Exception):
    """No SIP login can be given; the message says why, in words for the member of staff."""


class NotABrowserPhone(PhoneLoginError):
    """The user's extension is not a browser phone in the PBX (a desk phone, or none)."""


class PhoneSystemUnavailable(PhoneLoginError):
    """The PBX could not be reached or refused to take the login."""


@dataclass(frozen=True, slots=True)
class SipLogin:
    extension: str
    username: str  # the digest user name (the extension)
    password: str
    expires_at: dt.datetime  # the PBX forgets the password then

    def __repr__(self) -> str:  # never a password in a log line or a traceback
        return f"SipLogin(extension={self.extension!r}, expires_at={self.expires_at!r})"


class PhoneLogins(Protocol):
    async def issue(self, extension: str) -> SipLogin:
        """A login for this extension, valid for a while; the same one while it has at least
        half its lifetime left (every tab and device of the user shares it), else a new one
        (the old one stops working at once). PhoneLoginError when none can be given."""
        ...
