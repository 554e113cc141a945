"""How long a caller spent in the phone menu before reaching the agent (calls.ivr_wait_ms).

The dialplan marks the moment it answers the call and the menu starts
(`FRONTDESK_MENU_START`, `${STRFTIME(,,%s.%3q)}` in dialplan/extensions.conf,
[frontdesk-welcome]); Asterisk sends that variable with the channel in every ARI event
(asterisk-config/ari.conf, `channelvars`). The wait is the StasisStart's own timestamp minus
the mark: both from Asterisk's clock, so our clock and the event's delivery play no part.
"""

from __future__ import annotations

import datetime as dt

MENU_START = "FRONTDESK_MENU_START"
# a mark later than the event by more than this is a clock or dialplan fault, not a wait
_SKEW_MS = 1000


def ivr_wait_ms(channelvars: dict[str, str] | None, stasis_timestamp: str) -> int | None:
    """The menu's wait in ms, or None: no mark (the call never saw the menu: after hours,
    a staff phone, a call we placed) or a mark or timestamp that cannot be read."""
    mark = (channelvars or {}).get(MENU_START, "")
    if not mark or not stasis_timestamp:
        return None
    try:
        started = float(mark)
        # Asterisk writes 2026-11-24T06:45:58.197+0000
        reached = dt.datetime.strptime(stasis_timestamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None
    wait = round((reached - started) * 1000)
    if wait < -_SKEW_MS:
        return None
    return max(0, wait)
