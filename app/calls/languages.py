"""Language codes as the channel and the engines give them, and their names for instructions."""

from __future__ import annotations

NAMES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
}


def base_language(code: str | None) -> str:
    """The language without its region, as channels may carry it: "en_US" → "en"; none: "en"."""
    return (code or "en").replace("-", "_").split("_", maxsplit=1)[0].lower() or "en"


def language_name(code: str) -> str:
    """The language's name for instructions, e.g. Spanish for es; a code we do not know is
    left as it is (the engine may still know it)."""
    return NAMES.get(base_language(code), code)
