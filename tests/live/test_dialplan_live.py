"""`frontdesk dialplan check` loads our dialplan into a real Asterisk and finds it clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.pbx.sandbox import find_asterisk

ROOT = Path(__file__).resolve().parents[2]


def test_our_dialplan_loads_into_asterisk_without_a_complaint() -> None:
    if find_asterisk() is None:
        pytest.skip("no asterisk binary found (install Asterisk 22 or set ASTERISK_BIN)")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "dialplan", "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dialplan ok (static check, then loaded into a real Asterisk)" in result.stdout
