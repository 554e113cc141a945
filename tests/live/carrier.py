"""The trunk's far end in the live tests: a SIPp that answers one call (the sandbox points
the trunk's contact at it: Ports.carrier); the `carrier` fixture (conftest.py) runs one."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.pbx.sandbox import AsteriskSandbox
from tests.live.keypad import free_port


class Carrier:
    """The trunk's far end: SIPp answers one call and writes each message it receives."""

    def __init__(self, pbx: AsteriskSandbox, folder: Path) -> None:
        assert pbx.ports.carrier is not None
        self.port = pbx.ports.carrier
        self.messages = folder / "carrier.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "sipp",
            "-sn", "uas",
            "-i", "127.0.0.1",
            "-p", str(self.port),
            "-mp", str(free_port() & ~1),
            "-m", "1",
            "-nostdin",
            "-trace_msg", "-message_file", str(self.messages),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=self.messages.parent,
        )  # fmt: skip
        await asyncio.sleep(0.5)  # listening

    def invites(self) -> list[str]:
        text = self.messages.read_text(errors="replace") if self.messages.exists() else ""
        return [line.split()[1] for line in text.splitlines() if line.startswith("INVITE ")]

    def caller_ids(self) -> list[str]:
        """The From header of each INVITE received."""
        text = self.messages.read_text(errors="replace") if self.messages.exists() else ""
        invites = [m for m in text.split("INVITE sip:")[1:]]
        return [
            next(line for line in m.splitlines() if line.lower().startswith("from:"))
            for m in invites
        ]

    async def stop(self) -> int | None:
        """SIPp's exit code once its one call is over; None when it got no call (stopped)."""
        assert self.proc is not None
        if self.proc.returncode is None:
            try:
                if not self.invites():
                    raise TimeoutError  # nothing came: no call to wait for
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
                return None
        return self.proc.returncode
