"""Masking card data and phone numbers in free text: for logs and for stored transcripts.

Pure functions, no I/O. Transcripts keep phone numbers (a guest's callback number is part of
the conversation) but never card data; logs carry neither.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

# A number as a caller reads it out or speech-to-text writes it down: digits and digit words
# ("four one one one", "cuatro", "double one") in groups separated by spaces, commas, dots,
# dashes or slashes ("4111, 111, 111.", "4111   1111", "four 1 one 1").
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
# What speech-to-text writes for a digit it misheard as a word ("one for eight eight"): read
# as digits only inside a run, after a digit ("a room for two" stays words).
_SOUNDS_LIKE = {"for": "4", "fore": "4", "to": "2", "too": "2", "won": "1", "ate": "8"}
_WORD = "(?:" + "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True)) + ")"
_ALIKE = "(?:" + "|".join(_SOUNDS_LIKE) + ")"
_TOKEN = rf"(?:(?:double|triple|doble)\s+)?(?:(?<![^\W_])\d+(?![^\W_])|\b{_WORD}\b)"
_NEXT = rf"(?:{_TOKEN}|\b{_ALIKE}\b(?=[\s,.\-/]+{_TOKEN}|[\s,.\-/]*$))"
_NUMBER_RUN = re.compile(rf"(?i){_TOKEN}(?:[\s,.\-/]+{_NEXT})*")
# What tells that the caller is giving (or being asked for) card details, in English or
# Spanish. "car number": speech-to-text often hears "card" as "car".
CARD_CUES = re.compile(
    r"(?i)\b(cards?|car number|credit|debit|visa|master\s?card|amex|american express|"
    r"cvv2?|cvc2?|cv2|security code|expiry|expiration date|tarjetas?|cr[eé]dito|d[eé]bito|"
    r"c[oó]digo de seguridad|vencimiento|caducidad)\b"
)
# Longer than any phone number (E.164 allows 15 digits): a card, whatever its checksum says.
_NEVER_A_PHONE = 16
_CVV = re.compile(
    r"(?i)\b(cvv2?|cvc2?|cv2|security\s+code|c[oó]digo\s+de\s+seguridad)\b(\W+(?:\w+\W+){0,3}?)(\d{3,4})\b"
)
_EXPIRY = re.compile(
    r"(?i)\b(exp(?:iry|ires|iration)?|expira(?:ción)?|vence)\b(\W+(?:\w+\W+){0,2}?)(\d{1,2}\s*/\s*\d{2,4})\b"
)
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


def run_digits(run: str) -> str:
    """The digits a run of digits and digit words stands for ("double one four" → "114")."""
    out: list[str] = []
    repeat = 1
    for word in re.findall(r"\d+|[^\W\d_]+", run.lower()):
        if word.isdigit():
            out.append(word if repeat == 1 else word * repeat)
            repeat = 1
        elif word in ("double", "doble", "triple"):
            repeat = 3 if word == "triple" else 2
        else:
            out.append((_DIGIT_WORDS.get(word) or _SOUNDS_LIKE[word]) * repeat)
            repeat = 1
    return "".join(out)


def number_runs(text: str) -> list[tuple[int, int, str]]:
    """Every number in the text as (start, end, its digits), however it was read out."""
    runs = []
    for match in _NUMBER_RUN.finditer(text):
        runs.append((match.start(), match.end(), run_digits(match.group(0))))
    return runs


def mentions_card(text: str) -> bool:
    return CARD_CUES.search(text) is not None


def _card_like(digits: str) -> bool:
    """A card number on its own: Luhn-valid 13–19 digits, or too long to be anything else."""
    return len(digits) >= _NEVER_A_PHONE or (13 <= len(digits) <= 19 and luhn_valid(digits))


def has_card_number(text: str) -> bool:
    return any(_card_like(digits) for _, _, digits in number_runs(text))


def redact_card_data(text: str, *, card_context: bool = False) -> str:
    """Card numbers, CVV codes and expiry dates masked.

    Always: a number of 13–19 digits that passes Luhn, or of 16 digits or more (longer than
    any phone number), however it was grouped or spoken. Where the text itself mentions a
    card: every number of 3 digits or more (a group of one, a CVV), but an E.164 "+…" number. In card
    context (the caller is giving card details: `CardGuard`): every number of 2 digits or
    more, since speech-to-text garbles card numbers and a card read in groups arrives a few
    digits at a time."""
    text = _CVV.sub(lambda m: f"{m.group(1)}{m.group(2)}[cvv]", text)
    text = _EXPIRY.sub(lambda m: f"{m.group(1)}{m.group(2)}[exp]", text)
    mentioned = mentions_card(text)
    out, last = [], 0
    for start, end, digits in number_runs(text):
        if (
            _card_like(digits)
            or (card_context and len(digits) >= 2)
            or (mentioned and len(digits) >= 3 and not text[:start].endswith("+"))
        ):
            out += [text[last:start], "[card]"]
            last = end
    out.append(text[last:])
    return "".join(out)


def redact_value(value: Any, *, card_context: bool = False) -> Any:
    """Card data out of a JSON-like value (tool arguments, results): strings as free text,
    integers that are card numbers (or, in card context, have 8 digits or more) as "[card]"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        digits = str(abs(value))
        return "[card]" if _card_like(digits) or (card_context and len(digits) >= 8) else value
    if isinstance(value, str):
        return redact_card_data(value, card_context=card_context)
    if isinstance(value, dict):
        return {k: redact_value(v, card_context=card_context) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, card_context=card_context) for v in value]
    return value


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


def shown_caller(number: str | None) -> str:
    """A caller as staff pages show them: masked, or "withheld" when the network gave none."""
    return mask_phone(number) if number else "withheld"


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
