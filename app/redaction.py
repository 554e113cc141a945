"""Masking card data and phone numbers in free text: for logs and for stored transcripts.

Pure functions, no I/O. Transcripts keep phone numbers (a guest's callback number is part of
the conversation) but never card data; logs carry neither.
"""

from __future__ import annotations

import re

import phonenumbers

# 13–19 digits, optionally grouped by single spaces or dashes, as cards are typed or transcribed.
_CARD_RUN = re.compile(r"(?<![\d+])\d(?:[ -]?\d){12,18}(?!\d)")
_CVV = re.compile(
    r"(?i)\b(cvv2?|cvc2?|cv2|security\s+code|c[oó]digo\s+de\s+seguridad)\b(\W+(?:\w+\W+){0,3}?)(\d{3,4})\b"
)
_EXPIRY = re.compile(
    r"(?i)\b(exp(?:iry|ires|iration)?|expira(?:ción)?|vence)\b(\W+(?:\w+\W+){0,2}?)(\d{1,2}\s*/\s*\d{2,4})\b"
)
_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "cero": "0",
    "uno": "1",
    "dos": "2",
    "tres": "3",
    "cuatro": "4",
    "cinco": "5",
    "seis": "6",
    "siete": "7",
    "ocho": "8",
    "nueve": "9",
}
_WORD = "(?:" + "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True)) + ")"
_SPOKEN_RUN = re.compile(rf"(?i)\b{_WORD}(?:[\s,.-]+{_WORD}){{12,}}\b")
_E164 = re.compile(r"\+[1-9]\d{6,14}\b")
# North American shapes, caught even where the number is not assigned (e.g. 555 numbers).
_NANP = re.compile(r"(?<![\w.-])(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?![\w-])")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_card_run(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if luhn_valid(digits) else match.group(0)


def _mask_spoken_run(match: re.Match[str]) -> str:
    words = re.findall(_WORD, match.group(0), flags=re.IGNORECASE)
    digits = "".join(_DIGIT_WORDS[w.lower()] for w in words)
    # A spoken run may hold a card inside a longer run of numbers ("my card is one two …").
    for start in range(len(digits)):
        for length in range(19, 12, -1):
            piece = digits[start : start + length]
            if len(piece) == length and luhn_valid(piece):
                return "[card]"
    return match.group(0)


def redact_card_data(text: str) -> str:
    """Card numbers (Luhn-checked, typed or spoken), CVV codes and expiry dates masked."""
    text = _CARD_RUN.sub(_mask_card_run, text)
    text = _SPOKEN_RUN.sub(_mask_spoken_run, text)
    text = _CVV.sub(lambda m: f"{m.group(1)}{m.group(2)}[cvv]", text)
    return _EXPIRY.sub(lambda m: f"{m.group(1)}{m.group(2)}[exp]", text)


def _mask_digits(raw: str) -> str:
    """Every digit but the last four replaced by *, the rest of the text kept."""
    total = sum(c.isdigit() for c in raw)
    seen = 0
    out = []
    for char in raw:
        if char.isdigit():
            seen += 1
            out.append(char if seen > total - 4 else "*")
        else:
            out.append(char)
    return "".join(out)


def mask_phone(number: str) -> str:
    """One known phone number with all but its last four digits hidden: +*******4567."""
    return _mask_digits(number)


def mask_phone_numbers(text: str, region: str = "US") -> str:
    """Phone numbers found in free text, masked to their last four digits."""
    spans: list[tuple[int, int]] = []
    for match in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.VALID
    ):
        spans.append((match.start, match.end))
    spans += [(m.start(), m.end()) for m in _E164.finditer(text)]
    spans += [(m.start(), m.end()) for m in _NANP.finditer(text)]
    if not spans:
        return text
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:  # overlapping finds of the same number
            continue
        out += [text[last:start], _mask_digits(text[start:end])]
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_for_log(text: str) -> str:
    """What may go into a log line: no card data, no full phone numbers."""
    return mask_phone_numbers(redact_card_data(text))
