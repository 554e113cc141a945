"""What staff can do to a live call from the console: listen in from their phone, take the
call over on their phone, hang it up. The port the console (app/web/console.py) calls; the
telephony side (app/telephony/staff_legs.py) carries it out.

Each refusal is an exception whose message is written for the member of staff who asked.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from app.staff.users import is_extension


class ControlError(Exception):
    """An action on a call could not be done; the message says why, in staff's words."""


class CallNotLive(ControlError):
    """The call has ended (or left us for the dialplan) before or while acting on it."""


class NoExtension(ControlError):
    """The member of staff has no phone extension (or an unusable one) on their account."""


class StaffPhoneUnavailable(ControlError):
    """Their phone is not registered, is busy or did not answer: the caller stays put."""


class ActionRefused(ControlError):
    """Not now: already listening, already taken over, being put through…"""


def staff_extension(extension: str | None) -> str:
    """The extension to ring for this member of staff, or NoExtension saying what to do.
    Checked again right before it is dialled, whatever a row in the database says: digits
    only, so it is never read as more than one PJSIP endpoint ("2001&PJSIP/900…")."""
    if not extension:
        raise NoExtension(
            "Your account has no phone extension. Ask an administrator to set one, "
            "then sign in on that phone."
        )
    if not is_extension(extension):
        raise NoExtension(
            f"Your account's extension ({extension!r}) is not a phone extension (digits "
            "only). Ask an administrator to correct it."
        )
    return extension


class CallControl(Protocol):
    async def listen_in(self, call_id: uuid.UUID, extension: str) -> None:
        """Ring `extension`; once answered it hears both sides of the call, says nothing."""
        ...

    async def take_over(self, call_id: uuid.UUID, extension: str) -> None:
        """Ring `extension`; once answered the caller talks to it and the agent stops. If it
        does not answer, the caller stays with the agent (StaffPhoneUnavailable)."""
        ...

    async def hang_up(self, call_id: uuid.UUID) -> None: ...
