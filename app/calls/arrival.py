"""How a call reached us: its Stasis arguments, parsed once.

The dialplan (dialplan/extensions.conf, dialplan/hotel.conf) and our own outbound calls send
calls into `Stasis(frontdesk,<mode>,<args…>)`:

  agent                                   the AI receptionist, nothing more said
  agent,after-hours                       outside business hours
  agent,menu                              the receptionist's key in the phone menu
  agent,menu-<department>                 a department the AI handles first (hotel.yaml ai_first)
  agent,callback                          the menu's call-back key
  agent,staff-test                        a staff phone dialled 2500 (a plain call to the agent)
  agent,closed,<extension>                a closed department's key
  agent,unanswered,<destination>,<property>  back from a department nobody answered
                                          (<destination>: an extension, or queue-<name>)
  callback,<callback id>,<property>       a call we placed, answered by the guest
  echo                                    the echo test number

An admin may add reasons of their own: an unknown one reaches the agent as a plain call.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass


class Why(enum.StrEnum):
    NONE = ""
    AFTER_HOURS = "after-hours"
    MENU = "menu"
    DEPARTMENT = "menu-"  # menu-<department key>
    CALLBACK_KEY = "callback"
    CLOSED = "closed"
    UNANSWERED = "unanswered"
    OTHER = "other"  # a reason this code does not know (an admin's own)


# the reasons that are a word of their own (not menu-<department>)
_REASONS = {
    w.value: w for w in (Why.AFTER_HOURS, Why.MENU, Why.CALLBACK_KEY, Why.CLOSED, Why.UNANSWERED)
}


@dataclass(frozen=True)
class Arrival:
    mode: str  # agent | echo | callback
    why: Why = Why.NONE
    path: tuple[str, ...] = ()  # the arguments after the mode, as given (empty ones dropped)
    department_key: str | None = None  # menu-<key>: the department the caller chose
    destination: str | None = None  # closed/unanswered: the extension or queue-<name> rung
    property_id: str | None = None  # the property the dialplan (or our own call) names
    callback_id: uuid.UUID | None = None  # a call we placed: the callback it belongs to

    @classmethod
    def parse(cls, args: Sequence[str]) -> Arrival:
        """From the StasisStart's args (the mode first). Never raises: a malformed argument
        leaves its field empty (a callback without a valid id, say), which the caller of
        this decides how to handle."""
        mode, *rest = list(args) or [""]
        path = tuple(a for a in rest if a)  # the dialplan passes empty ones: Stasis(a,b,,)
        if mode == "callback":
            return cls(
                mode,
                path=path,
                callback_id=_uuid_or_none(path[0] if path else ""),
                property_id=path[1] if len(path) > 1 else None,
            )
        if mode != "agent" or not path:
            return cls(mode, path=path)
        reason, *more = path
        if reason.startswith(Why.DEPARTMENT.value) and len(reason) > len(Why.DEPARTMENT.value):
            return cls(mode, Why.DEPARTMENT, path, department_key=reason[len("menu-") :])
        why = _REASONS.get(reason, Why.OTHER)
        if why in (Why.CLOSED, Why.UNANSWERED) and not more:
            why = Why.OTHER  # without the department it names, there is nothing to say of it
        return cls(
            mode,
            why,
            path,
            destination=more[0] if why in (Why.CLOSED, Why.UNANSWERED) else None,
            property_id=more[1] if why is Why.UNANSWERED and len(more) > 1 else None,
        )

    @property
    def outbound(self) -> bool:
        """A call we placed: the guest is at the other end, not a caller."""
        return self.mode == "callback"

    @property
    def ivr_path(self) -> tuple[str, ...]:
        """What the call's record keeps of the way in (nothing for a call we placed)."""
        return () if self.outbound else self.path


PLAIN = Arrival("agent")  # a call to the agent with nothing more said


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
