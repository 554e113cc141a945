"""The console's actions on live calls (app/calls/control.py), carried out on this process's
calls: found by their id, acted on through the call's own staff legs."""

from __future__ import annotations

import uuid

from app.calls.control import CallNotLive, staff_extension
from app.telephony.call import TelephonyCall
from app.telephony.controller import StasisApp


class StasisCallControl:
    def __init__(self, stasis: StasisApp) -> None:
        self._stasis = stasis

    def _call(self, call_id: uuid.UUID) -> TelephonyCall:
        for call in list(self._stasis.calls):
            if call.session.id == call_id and call.is_live():
                return call
        raise CallNotLive("That call has already ended.")

    async def listen_in(self, call_id: uuid.UUID, extension: str) -> None:
        await self._call(call_id).staff.listen_in(staff_extension(extension))

    async def take_over(self, call_id: uuid.UUID, extension: str) -> None:
        await self._call(call_id).staff.take_over(staff_extension(extension))

    async def hang_up(self, call_id: uuid.UUID) -> None:
        await self._call(call_id).hangup("hung_up_from_console")
