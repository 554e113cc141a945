"""Text from outside (a caller's SIP display name, what a caller said) made safe to store and
to print: no control characters, so no terminal escape sequences, fake new lines or bidi tricks
reach a staff member's terminal or a log line."""

from __future__ import annotations

import unicodedata

NAME_LIMIT = 80  # a caller ID name is short (CNAM: 15); a SIP display name may be anything


def _control(ch: str) -> bool:
    return unicodedata.category(ch).startswith("C")  # Cc, Cf (bidi overrides), Cs, Co, Cn


def caller_name(raw: str | None) -> str | None:
    """A caller's display name as we keep it: control characters dropped, spaces collapsed,
    at most NAME_LIMIT characters; None when nothing is left."""
    if not raw:
        return None
    kept = " ".join("".join(ch if not _control(ch) else " " for ch in raw).split())
    return kept[:NAME_LIMIT] or None


def printable(text: str) -> str:
    """For printing: each control character shown escaped (\\x1b, \\u202e), the rest as is."""
    return "".join(
        (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}") if _control(ch) else ch
        for ch in text
    )
