"""The dialplan's [globals], read by the app: BLOCKED_PREFIXES is edited in one place,
dialplan/extensions.conf, and both the dialplan (staff dial-out, callbacks) and the app's
destination policy (app/hotel/destinations.py) apply it."""

from __future__ import annotations

import re
from pathlib import Path

_SECTION = re.compile(r"^\[([^\]]+)\]")


class DialplanGlobalsError(Exception):
    """The dialplan's globals could not be read; the message names the file and variable."""


def read_globals(path: Path) -> dict[str, str]:
    """NAME=value lines of the file's [globals] sections, as Asterisk reads them: a `;`
    starts a comment (unless escaped as `\\;`), spaces around the value are dropped."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise DialplanGlobalsError(f"cannot read {path}: {exc.strerror}") from None
    values: dict[str, str] = {}
    inside = False
    for raw in text.splitlines():
        line = re.split(r"(?<!\\);", raw, maxsplit=1)[0].replace("\\;", ";").strip()
        section = _SECTION.match(line)
        if section:
            inside = section.group(1).strip() == "globals"
            continue
        if inside and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def blocked_prefixes(extensions_conf: Path) -> tuple[str, ...]:
    """BLOCKED_PREFIXES of the dialplan: regular expressions joined by | (empty: none)."""
    values = read_globals(extensions_conf)
    if "BLOCKED_PREFIXES" not in values:
        raise DialplanGlobalsError(
            f"{extensions_conf} has no BLOCKED_PREFIXES in [globals]: the app and the dialplan "
            "share that list (set it, empty for none)"
        )
    value = values["BLOCKED_PREFIXES"]
    return (value,) if value else ()
