"""Callers we put through to a department, remembered by channel for a while.

If nobody answers, the dialplan brings the same channel back into Stasis, and the agent must
still know which property the caller rang. Answered callers never come back, so entries also
leave by age: longer than any ring or queue wait an admin would set, short enough that a busy
hotel's memory stays flat.
"""

from __future__ import annotations

import time
from collections.abc import Callable

KEEP_SECONDS = 4 * 3600.0


class TransferredCallers:
    def __init__(
        self, keep_seconds: float = KEEP_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._keep = keep_seconds
        self._clock = clock
        self._by_channel: dict[str, tuple[float, str]] = {}  # oldest first

    def remember(self, channel_id: str, property_id: str) -> None:
        now = self._clock()
        self._by_channel.pop(channel_id, None)
        self._by_channel[channel_id] = (now, property_id)
        for channel, (since, _) in list(self._by_channel.items()):
            if now - since < self._keep:
                break
            del self._by_channel[channel]

    def take(self, channel_id: str) -> str | None:
        """The property of a caller back from a transfer (once), or None."""
        entry = self._by_channel.pop(channel_id, None)
        if entry is None or self._clock() - entry[0] >= self._keep:
            return None
        return entry[1]

    def __len__(self) -> int:
        return len(self._by_channel)
