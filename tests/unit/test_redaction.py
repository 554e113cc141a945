"""Card data and phone numbers masked; everything else left alone."""

from __future__ import annotations

import pytest

from app.redaction import (
    luhn_valid,
    mask_phone,
    mask_phone_numbers,
    redact_card_data,
    redact_for_log,
)


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5500 0000 0000 0004",
        "3400 000000 00009",  # Amex, 15 digits
        "6011000990139424",
    ],
)
def test_card_numbers_in_every_shape_are_masked(card: str) -> None:
    text = f"my card is {card} thanks"
    assert redact_card_data(text) == "my card is [card] thanks"


def test_digit_runs_that_fail_luhn_are_not_cards() -> None:
    assert not luhn_valid("4111111111111112")
    assert redact_card_data("order 4111111111111112") == "order 4111111111111112"


@pytest.mark.parametrize(
    "spoken",
    [
        "four one one one one one one one one one one one one one one one",
        "four one one one, one one one one, one one one one, one one one one",
        "cuatro uno uno uno uno uno uno uno uno uno uno uno uno uno uno uno",
    ],
)
def test_spoken_card_numbers_are_masked(spoken: str) -> None:
    assert redact_card_data(f"it is {spoken} okay") == "it is [card] okay"


def test_spoken_digits_that_are_not_a_card_stay() -> None:
    text = "one two three four five six seven eight nine one two three four"
    assert redact_card_data(text) == text


def test_cvv_and_expiry_are_masked() -> None:
    assert redact_card_data("the CVV is 123") == "the CVV is [cvv]"
    assert redact_card_data("security code: 4321") == "security code: [cvv]"
    assert redact_card_data("it expires 12/27") == "it expires [exp]"
    assert redact_card_data("expiry date 01 / 2029") == "expiry date [exp]"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call (555) 123-4567", "call (***) ***-4567"),
        ("call +1 555 123 4567", "call +* *** *** 4567"),
        ("call 555.123.4567", "call ***.***.4567"),
        ("call +44 20 7946 0958", "call +** ** **** 0958"),
        ("from +15551234567 now", "from +*******4567 now"),
        ("my number is 415 555 0123", "my number is *** *** 0123"),
    ],
)
def test_phone_numbers_keep_only_their_last_four_digits(text: str, masked: str) -> None:
    assert mask_phone_numbers(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "arriving 2026-11-24 at 15:00",
        "the rate is $189.00 a night",
        "bridge 992ea5a4-07a5-4c88-85b7-82b07e55e1f0",
        "RTP on port 40002",
        "confirmation HV7K2Q for room 1204",
        "channel 1795502758.0",
        "took 1732400000123 ns",
    ],
)
def test_things_that_are_not_phones_or_cards_stay(text: str) -> None:
    assert redact_for_log(text) == text


def test_mask_phone_for_a_known_number() -> None:
    assert mask_phone("+15551234567") == "+*******4567"
    assert mask_phone("+123") == "+123"  # too short to hide anything but itself


def test_redact_for_log_does_both() -> None:
    text = "card 4111 1111 1111 1111 for +15551234567"
    assert redact_for_log(text) == "card [card] for +*******4567"
