"""`frontdesk dialplan check`: our dialplan loaded into a real Asterisk when one is installed
(its own warnings, with file:line), after the static check of app/pbx/dialplan_lint.py."""

from __future__ import annotations

import re
import secrets
import tempfile
from pathlib import Path

from app.pbx.dialplan_lint import applications
from app.pbx.sandbox import CONFIG_DIR, DIALPLAN_DIR, AsteriskSandbox, Ports
from app.settings import PROJECT_ROOT

_APPLICATION = re.compile(r"^\s*(\w+):", re.MULTILINE)  # `core show applications` lines
_RELEVANT = re.compile(r"(WARNING|ERROR)\[")  # a clean start prints neither: each is news


def check_with_asterisk() -> list[str]:
    """Load asterisk-config/ and dialplan/ into a throwaway Asterisk; what it complained of
    about the dialplan, with the repository's paths. Blocking (a few seconds)."""
    with tempfile.TemporaryDirectory(prefix="frontdesk-dialplan-") as tmp:
        base = 30000 + secrets.randbelow(200) * 50
        sandbox = AsteriskSandbox(
            Path(tmp),
            ari_user="dialplan-check",
            ari_password=secrets.token_hex(12),
            ports=Ports.free(base),
        )
        sandbox.start()
        try:
            sandbox.cli("dialplan reload")
            loaded = sandbox.cli("core show applications")
        finally:
            sandbox.stop()
        log = (Path(tmp) / "log" / "console.log").read_text(errors="replace")
        etc = str(sandbox.etc)
    complaints: list[str] = []
    for line in log.splitlines():
        if _RELEVANT.search(line):
            # "[time] WARNING[thread]: pbx_config.c:1834 pbx_load_config: Invalid …": the
            # message once (the dialplan is loaded at start and again on reload).
            message = "asterisk: " + line.split("]: ", 1)[-1]
            message = message.replace(f"{etc}/dialplan/", f"{DIALPLAN_DIR.name}/")
            message = message.replace(f"{etc}/", f"{CONFIG_DIR.name}/")
            if message not in complaints:
                complaints.append(message)
    available = {m.group(1).lower() for m in _APPLICATION.finditer(loaded)}
    for name, (path, number) in applications(CONFIG_DIR / "extensions.conf").items():
        if name not in available:
            where = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
            complaints.append(
                f"{where}:{number}: no loaded module provides the application {name!r} "
                "(add its module to asterisk-config/modules.conf)"
            )
    return complaints
