"""A call's card context: when it starts and ends, what is stored of each turn and keyed entry,
and when the recording is told to pause."""

from __future__ import annotations

import re

from app.calls.card_guard import CONTEXT_SECONDS, QUIET_TURNS, REWIND_MARGIN, CardGuard

VISA = "4539148803436467"  # Luhn-valid


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _guard() -> tuple[CardGuard, Clock, list[tuple[bool, float]]]:
    clock = Clock()
    changes: list[tuple[bool, float]] = []
    guard = CardGuard(clock=clock, listener=lambda on, rewind: changes.append((on, rewind)))
    return guard, clock, changes


def _longest_card_run(stored: list[str], card: str = VISA) -> int:
    """The longest piece of the card found in the digits of everything stored, in order."""
    words = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4"}
    words |= {"five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
    digits = "".join(
        "".join(words.get(w, w) for w in re.findall(r"\d|[a-z]+", text.lower())) for text in stored
    )
    digits = re.sub(r"\D", "", digits)
    return max(
        (
            n
            for n in range(1, len(card) + 1)
            for i in range(len(card) - n + 1)
            if card[i : i + n] in digits
        ),
        default=0,
    )


def test_a_card_read_in_groups_over_several_turns_leaves_no_eight_digits() -> None:
    guard, clock, changes = _guard()
    stored = []
    for group in ("4539", "1488", "0343", "6467"):  # no word about a card: just digits
        guard.caller_speaking()
        clock.now += 2
        stored.append(guard.caller_said(f"{group}."))
        clock.now += 3  # the agent answers something in between
        guard.agent_said("Sorry, could you say that again?")
    assert stored == ["4539.", "[card].", "[card].", "[card]."]
    assert _longest_card_run(stored) == 4
    assert guard.active
    # Paused when the second group made it a card, blanking back to when its first was said.
    assert changes == [(True, 7 + REWIND_MARGIN)]


def test_spoken_groups_across_turns_are_masked() -> None:
    guard, _, _ = _guard()
    stored = [
        guard.caller_said(t)
        for t in ("four five three nine", "one four eight eight", "zero three four three")
    ]
    assert stored[1:] == ["[card]", "[card]"]
    assert _longest_card_run(stored) == 4


def test_mentioning_a_card_masks_every_number_that_follows_even_garbled() -> None:
    guard, clock, changes = _guard()
    guard.caller_speaking()
    clock.now += 3
    assert guard.caller_said("I'd like to pay with my Visa.") == "I'd like to pay with my Visa."
    assert guard.active and changes == [(True, 3 + REWIND_MARGIN)]
    # Misheard digits (not Luhn-valid, not 8 in one turn) are masked all the same.
    assert guard.caller_said("45 39 14") == "[card]"
    assert guard.caller_said("it's 88 0343 6 4 6 8") == "it's [card]"


def test_spanish_card_words_start_card_context() -> None:
    guard, _, _ = _guard()
    guard.caller_said("Quiero pagar con tarjeta de crédito")
    assert guard.active
    assert guard.caller_said("cuatro cinco tres nueve") == "[card]"


def test_the_agent_asking_about_a_card_starts_card_context() -> None:
    guard, _, changes = _guard()
    guard.agent_said("Please don't give card details over the phone.")
    assert guard.active and changes == [(True, REWIND_MARGIN)]
    assert guard.caller_said("1488 0343") == "[card]"


def test_card_context_ends_after_turns_without_digits_or_after_a_while() -> None:
    guard, clock, changes = _guard()
    guard.caller_said("my card number is")
    for _ in range(QUIET_TURNS - 1):
        guard.caller_said("sorry, hold on")
        assert guard.active
    guard.caller_said("never mind, I'll pay at check-in")
    assert not guard.active and changes[-1] == (False, 0.0)
    assert guard.caller_said("room 1204 please") == "room 1204 please"

    guard.caller_said("the credit card is")
    assert guard.active
    clock.now += CONTEXT_SECONDS + 1
    assert not guard.active and changes[-1] == (False, 0.0)
    assert [on for on, _ in changes] == [True, False, True, False]


def test_keyed_groups_are_withheld_once_they_make_a_card() -> None:
    guard, clock, changes = _guard()
    entries = []
    for group in ("4539", "1488", "0343", "6467"):
        for digit in group:
            guard.key(digit)
            clock.now += 0.3
        entries.append(guard.keyed_turn(" ".join(group)))
        clock.now += 3
    assert entries == ["4 5 3 9", "[card]", "[card]", "[card]"]
    assert changes[0][0] is True


def test_a_single_keyed_card_is_withheld() -> None:
    guard, _, _ = _guard()
    for digit in VISA + "#":
        guard.key(digit)
    assert guard.active
    assert guard.keyed_turn(" ".join(VISA + "#")) == "[card] #"


def test_a_phone_number_asked_for_stays_but_one_keyed_unasked_does_not() -> None:
    guard, clock, _ = _guard()
    guard.agent_said("What number should we call you back on?")
    assert guard.caller_said("415 555") == "415 555"
    assert guard.caller_said("0134") == "0134"
    assert not guard.active
    guard.agent_said("Thank you.")
    clock.now += 60
    for digit in "4155550134":
        guard.key(digit)
    assert guard.active  # keyed without being asked for a phone number: 8+ digits in a row


def test_free_text_in_card_context() -> None:
    guard, _, _ = _guard()
    summary = "Caller wants to pay, said 4539 1488"
    assert guard.private(summary) == summary  # no card context yet, 8 digits on their own
    guard.caller_said("my mastercard")
    assert guard.private(summary) == "Caller wants to pay, said [card]"
    guard.caller_said("never mind")
    guard.caller_said("I'll pay at the desk")
    assert not guard.active
    # Written after the card context ended (a summary of the whole call): still masked.
    assert guard.private(summary) == "Caller wants to pay, said [card]"


def test_a_card_in_passing_starts_nothing() -> None:
    # The agent reading the deposit policy, or saying when the payment link expires, is not
    # the caller giving card details: the caller's phone number afterwards stays.
    guard, _, changes = _guard()
    guard.agent_said("A card is authorised at check-in for incidentals.")
    guard.agent_said("I've texted you a secure link; it expires in 24 hours.")
    assert not guard.active and changes == []
    assert guard.caller_said("My mobile is 415 555 0100") == "My mobile is 415 555 0100"
    assert not guard.ever


def test_the_agent_asking_sets_up_card_context_but_only_the_caller_makes_it_ever() -> None:
    guard, _, _ = _guard()
    guard.agent_said("Are you paying by card?")
    assert guard.active and not guard.ever
    guard.caller_said("No, by the link")
    guard.caller_said("Thanks")
    assert not guard.active and not guard.ever
    assert guard.private("room 412 for 2 nights") == "room 412 for 2 nights"
