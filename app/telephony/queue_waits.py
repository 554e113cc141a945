"""How long a caller the AI put through to a staff queue waited there (calls.queue_wait_ms).

The transfer `continue`s the caller out of Stasis into [frontdesk-departments] `_queue-.`
(dialplan/extensions.conf), so the app would hear nothing more of their channel; the call
subscribes the app to it first (`POST /applications/frontdesk/subscription`,
eventSource=channel:<id>) and Asterisk keeps sending that channel's events, outside Stasis
too, until it is destroyed (recorded: tests/fixtures/ari/queue-*.json).

The wait, in ms, is Asterisk's clock on both ends (event timestamps, never ours):
- it starts at the caller's StasisEnd, the moment the AI let go (the dialplan's Answer()
  and Set()s before Queue() take under a millisecond in the recordings);
- it ends at the first of: Queue() setting QUEUEWAIT_MS, which it does when a member answers
  and the caller is connected, and when the caller hangs up in the queue (ABANDONED) or the
  queue's QUEUE_WAIT runs out; ChannelHangupRequest; the caller back in Stasis (nobody
  answered); ChannelDestroyed. QUEUEWAIT_MS's own value is rounded to whole seconds by
  Asterisk 22 (8000 for a 7.56 s wait), hence the timestamps.
For a warm transfer Queue() sets it when the member picks up, before they hear the AI's
summary (live: a 6.0 s wait, the caller bridged 6 s later): the summary is not counted.
So it is the wait until a person answered, or, for a caller never answered, until they hung
up or came back to the AI: the call's outcome and the next call row tell those apart.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from app.telephony.ari.models import (
    AriEvent,
    ChannelDestroyed,
    ChannelHangupRequest,
    ChannelVarset,
    StasisEnd,
    StasisStart,
)

QUEUE_PREFIX = "queue-"  # [frontdesk-departments] `_queue-.`: the extension of a queue
QUEUE_WAIT_VAR = "QUEUEWAIT_MS"  # set by Queue() when the caller leaves the queue


def is_queue(extension: str) -> bool:
    return extension.startswith(QUEUE_PREFIX)


def _instant(timestamp: str) -> float | None:
    try:  # Asterisk writes 2026-12-03T13:56:42.049+0000
        return dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


@dataclass
class _Waiting:
    call_id: uuid.UUID
    since: float | None = None  # the StasisEnd's instant, once it came


MAX_WATCHED = 10_000  # far above any hotel's queue; only lost events could leave entries


class QueueWaits:
    """Channels put through to a queue, until their wait is known: `measured(call id, ms)`
    gets each wait once. The subscription itself ends with the channel (Asterisk drops it)."""

    def __init__(self, measured: Callable[[uuid.UUID, int], None]) -> None:
        self._measured = measured
        self._by_channel: dict[str, _Waiting] = {}  # oldest first

    def watch(self, channel_id: str, call_id: uuid.UUID) -> None:
        """Before the caller is continued into the queue (its StasisEnd is still to come)."""
        self._by_channel.pop(channel_id, None)
        self._by_channel[channel_id] = _Waiting(call_id)
        while len(self._by_channel) > MAX_WATCHED:  # events lost (WebSocket down): let go
            del self._by_channel[next(iter(self._by_channel))]

    def forget(self, channel_id: str) -> None:
        self._by_channel.pop(channel_id, None)

    def seen(self, event: AriEvent) -> None:
        """Every event the app receives (cheap for the channels not watched)."""
        channel = getattr(event, "channel", None)
        waiting = self._by_channel.get(channel.id) if channel is not None else None
        if waiting is None:
            return
        at = _instant(event.timestamp)
        if isinstance(event, StasisEnd):
            if waiting.since is None:
                waiting.since = at
            return
        ends = isinstance(event, ChannelHangupRequest | ChannelDestroyed | StasisStart) or (
            isinstance(event, ChannelVarset)
            and event.variable == QUEUE_WAIT_VAR
            and bool(event.value)
        )
        if not ends:
            return
        assert channel is not None
        del self._by_channel[channel.id]
        if waiting.since is not None and at is not None:
            self._measured(waiting.call_id, max(0, round((at - waiting.since) * 1000)))

    def __len__(self) -> int:
        return len(self._by_channel)
