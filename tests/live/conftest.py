"""Live tests: our asterisk-config/ and dialplan/ in a real Asterisk, called by SIPp.

They run under `make test-live` and skip, with the reason shown, when no `asterisk` binary
(or no `sipp`) is installed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.pbx.sandbox import CONFIG_DIR, AsteriskSandbox, AsteriskUnavailable, Ports, find_asterisk
from app.pbx.secrets import staff_auth_names
from tests.live.carrier import Carrier


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session")
def pbx() -> Iterator[AsteriskSandbox]:
    if find_asterisk() is None:
        pytest.skip("no asterisk binary found (install Asterisk 22 or set ASTERISK_BIN)")
    if shutil.which("sipp") is None:
        pytest.skip("no sipp binary found (apt-get install sip-tester)")
    ports = Ports.free(20000 + (os.getpid() % 200) * 50, carrier=True)
    staff = {name: os.urandom(8).hex() for name in staff_auth_names(CONFIG_DIR / "pjsip.conf")}
    with tempfile.TemporaryDirectory(prefix="frontdesk-asterisk-") as tmp:
        sandbox = AsteriskSandbox(
            Path(tmp),
            ari_user="frontdesk",
            ari_password=os.urandom(12).hex(),
            ports=ports,
            ami=("frontdesk-ami", os.urandom(12).hex()),
            sip_passwords=staff,
        )
        try:
            sandbox.start()
        except AsteriskUnavailable as exc:
            pytest.fail(f"Asterisk would not start: {exc}")
        try:
            yield sandbox
        finally:
            sandbox.stop()


@pytest.fixture
async def carrier(pbx: AsteriskSandbox) -> AsyncIterator[Carrier]:
    with tempfile.TemporaryDirectory(prefix="carrier-") as tmp:
        far_end = Carrier(pbx, Path(tmp))
        await far_end.start()
        try:
            yield far_end
        finally:
            await far_end.stop()
