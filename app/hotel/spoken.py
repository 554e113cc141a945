"""Words for the ear: dates, money and codes the way a receptionist says them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}
_CURRENCY_WORDS = {
    "USD": ("dollar", "dollars", "cent", "cents"),
    "CAD": ("dollar", "dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
}


def ordinal(day: int) -> str:
    return f"{day}{_ORDINAL_SUFFIX.get(day, 'th')}"


def spoken_date(day: dt.date, today: dt.date | None = None) -> str:
    """'Friday, December 12th'; 'today', 'tomorrow'; the year only when it is not this one."""
    if today is not None:
        if day == today:
            return "today"
        if day == today + dt.timedelta(days=1):
            return "tomorrow"
    text = f"{day:%A}, {day:%B} {ordinal(day.day)}"
    if today is not None and day.year != today.year:
        text += f", {day.year}"
    return text


def spoken_money(cents: int, currency: str = "USD") -> str:
    """'189 dollars', '1,234 dollars and 50 cents'."""
    words = _CURRENCY_WORDS.get(currency, (currency, currency, "cent", "cents"))
    one, many, sub_one, sub_many = words
    whole, part = divmod(cents, 100)
    text = f"{whole:,} {one if whole == 1 else many}"
    if part:
        text += f" and {part} {sub_one if part == 1 else sub_many}"
    return text


def spelled(code: str) -> str:
    """A code read character by character: 'H7K3P9' -> 'H, 7, K, 3, P, 9'."""
    return ", ".join(code)


def decimal_amount(cents: int) -> str:
    """Cents as the plain amount a model can reason about: 18900 -> '189.00'."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def last_digits(e164: str, count: int = 4) -> str:
    """A phone number named safely: 'ending 4 5 6 7' (never the whole number in a reply)."""
    return " ".join(e164[-count:])
