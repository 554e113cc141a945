"""Card data and phone numbers masked; everything else left alone."""

from __future__ import annotations

import pytest

from app.redaction import (
    luhn_valid,
    mask_phone,
    mask_phone_numbers,
    redact_card_data,
    redact_for_log,
    redact_value,
)

VISA = "4539148803436467"  # Luhn-valid


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


def test_digit_runs_of_phone_length_that_fail_luhn_are_not_cards() -> None:
    assert not luhn_valid("4111111111111")
    assert redact_card_data("order 4111111111111") == "order 4111111111111"
    # 16 digits or more is longer than any phone number: a card, whatever its checksum
    # (speech-to-text gets one digit wrong and Luhn no longer holds).
    assert not luhn_valid("4111111111111112")
    assert redact_card_data("order 4111111111111112") == "order [card]"


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


@pytest.mark.parametrize(
    "said",
    [
        "4539, 1488, 0343, 6467",  # commas
        "4539.1488.0343.6467",  # dots
        "4539   1488   0343   6467",  # several spaces
        "4539 - 1488 / 0343 6467",
        "four five three nine, one four double eight, oh three four three, six four six seven",
        "4 five 3 nine 1488 zero 3 4 3 six four 6 seven",  # digits and words mixed
    ],
)
def test_a_card_in_groups_spoken_or_punctuated_is_masked(said: str) -> None:
    assert redact_card_data(f"it's {said} okay") == "it's [card] okay"


def test_the_issue_s_garbled_card_is_masked() -> None:
    # What speech-to-text wrote for a card read in groups (19 digits, not Luhn-valid).
    heard = "My car number is 4111, 111, 111, 111, 111, 111."
    assert redact_card_data(heard) == "My car number is [card]."


def test_in_card_context_every_number_is_masked_luhn_or_not() -> None:
    garbled = "4539 1488 0343 6468"  # one digit misheard: Luhn fails
    assert not luhn_valid(garbled.replace(" ", ""))
    assert redact_card_data("1488, 0343", card_context=True) == "[card]"
    assert redact_card_data("one four eight eight", card_context=True) == "[card]"
    # Digits heard as words that sound alike, inside a run of digits.
    assert redact_card_data("One for eight eight.", card_context=True) == "[card]."
    assert redact_card_data("a room for two", card_context=True) == "a room for two"
    assert redact_card_data(f"yes {garbled} ok", card_context=True) == "yes [card] ok"
    # Outside card context the same groups are not a card on their own.
    assert redact_card_data("1488, 0343") == "1488, 0343"


def test_a_text_that_mentions_a_card_loses_its_numbers() -> None:
    assert redact_card_data("my visa is 4539 1488") == "my visa is [card]"
    assert redact_card_data("mi tarjeta: 4539 1488 0343") == "mi tarjeta: [card]"
    assert redact_card_data("cvv one two three") == "cvv [card]"
    assert redact_card_data("room 1204 for two nights") == "room 1204 for two nights"


def test_integers_in_tool_arguments() -> None:
    args = {"card": int(VISA), "nights": 2, "code": 12345678, "nested": [{"n": int(VISA)}]}
    assert redact_value(args) == {
        "card": "[card]",  # a card number anywhere
        "nights": 2,
        "code": 12345678,  # eight digits outside card context: not a card
        "nested": [{"n": "[card]"}],
    }
    assert redact_value({"code": 12345678, "nights": 2, "ok": True}, card_context=True) == {
        "code": "[card]",
        "nights": 2,
        "ok": True,
    }
    assert redact_value(f"{VISA[:8]} {VISA[8:]}") == "[card]"
