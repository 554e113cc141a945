"""Card context: knowing, during a call, when the caller is giving card details.

Payment is always by link; still, callers start reading their card out, by voice or on the
keypad, and speech-to-text garbles what it hears ("4111, 111, 111…"), which no checksum then
recognises. One `CardGuard` per call sees every caller turn, every key and every agent turn.
Card context starts when the caller mentions a card (card, visa, CVV, tarjeta…) or the agent
asks about one,
when a turn holds a card number, or when digits keep coming across turns or keys (8 or more
in a row: a number read in groups; a phone number the agent asked for may have up to 15). It
ends once the caller has said two things without digits, or after a while without any.

While it lasts: every number in what the caller says is masked before it is stored, keyed
digits are neither stored nor passed to the engine, and the recording is paused (the
listener, wired by the telephony side, which owns the recorder).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.redaction import has_card_number, mentions_card, number_runs, redact_card_data

CONTEXT_SECONDS = 45.0  # card context ends after this long without card talk or digits
QUIET_TURNS = 2  # …or after this many caller turns without digits
RUN_GAP = 20.0  # digits further apart than this are not one number read in groups
RUN_DIGITS = 8  # digits in a row across turns or keys that make a card being read
PHONE_DIGITS = 15  # …unless the agent asked for a phone number (E.164: at most 15)
REWIND_MARGIN = 1.0  # seconds of audio blanked before the caller was heard to start
MAX_REWIND = 60.0
WITHHELD = (
    "The caller keyed some digits that were not passed on (card details are never taken by phone)."
)
# The agent speaking of card details themselves (a warning not to give them), not of a card
# in passing ("a card is authorised at check-in", a link that "expires").
_CARD_DETAILS = re.compile(r"(?i)\bcard (number|details)|(n[uú]mero|datos) de (la |su )?tarjeta")
# The agent asking for a phone number: the caller's digits that follow may be one.
_PHONE_QUESTION = re.compile(
    r"(?i)\b(phone|number|mobile|cell|reach you|call you|text you|tel[eé]fono|n[uú]mero|"
    r"m[oó]vil|celular)\b"
)

# (on, seconds of audio just recorded that must be blanked as well)
CardListener = Callable[[bool, float], None]


@dataclass
class CardGuard:
    clock: Callable[[], float] = time.monotonic
    listener: CardListener | None = None
    _until: float | None = None  # card context lasts until then (None: not in card context)
    _quiet: int = 0  # caller turns without digits since card context was last fed
    _run: int = 0  # digits the caller has given in a row (turns and keys)
    _run_inputs: int = 0
    _run_keyed: bool = False
    _run_started: float | None = None
    _last_digits: float = field(default=float("-inf"))
    _speech_started: float | None = None
    _phone_question: bool = False
    # the caller gave card details at some point of this call (not merely the agent asking)
    ever: bool = False

    @property
    def active(self) -> bool:
        """The caller is giving card details (checked against the clock)."""
        if self._until is not None and self.clock() >= self._until:
            self._end()
        return self._until is not None

    def caller_speaking(self) -> None:
        """The caller started to speak: if what they say turns out to be card details, the
        recording is blanked back to here."""
        self._speech_started = self.clock()

    def agent_said(self, text: str) -> str:
        """An agent turn: what may be stored of it. An agent asking about a card starts card
        context (saying a policy that mentions one does not); one asking for a number allows
        a phone number's digits."""
        if mentions_card(text) and ("?" in text or _CARD_DETAILS.search(text)):
            self._start(rewind=0.0, by_caller=False)
            self._phone_question = False
        else:
            self._phone_question = _PHONE_QUESTION.search(text) is not None
        return redact_card_data(text, card_context=self.active)

    def caller_said(self, text: str) -> str:
        """A caller turn: card context updated, and what may be stored of it."""
        now = self.clock()
        active = self.active
        digits = sum(len(d) for _, _, d in number_runs(text) if len(d) >= 2)  # not "this one"
        if digits:
            self._extend_run(digits, self._speech_started or now)
        else:
            self._reset_run()
        card = mentions_card(text) or has_card_number(text) or self._run_is_card()
        if card:
            started = self._run_started if self._run_started is not None else now
            if self._speech_started is not None:
                started = min(started, self._speech_started)
            self._start(rewind=now - started)
        elif active and digits:
            self.ever = True  # digits while card details are being asked for or given
            self._feed()
        elif active:
            self._quiet += 1
            if self._quiet >= QUIET_TURNS:
                self._end()
        return redact_card_data(text, card_context=self.active)

    def key(self, digit: str) -> None:
        """One key pressed (before anyone acts on it)."""
        if not digit.isdigit():
            return
        self._extend_run(1, self.clock(), keyed=True)
        if self._run_is_card():
            assert self._run_started is not None
            self._start(rewind=self.clock() - self._run_started)
        elif self.active:
            self.ever = True
            self._feed()

    def keyed_turn(self, keys: str) -> str:
        """What may be stored of keys pressed in one go ("4 1 1 1 #")."""
        return redact_card_data(keys, card_context=self.active)

    def private(self, text: str) -> str:
        """Free text about this call written for staff or kept (a summary, a callback's
        reason): card data masked; every number once the call has been in card context, since
        such text is written afterwards, from the whole call."""
        return redact_card_data(text, card_context=self.active or self.ever)

    # --- inside -----------------------------------------------------------------------------
    def _extend_run(self, digits: int, at: float, *, keyed: bool = False) -> None:
        now = self.clock()
        if now - self._last_digits > RUN_GAP or self._run_started is None:
            self._reset_run()
            self._run_started = at
        self._run += digits
        self._run_inputs += 0 if keyed else 1
        self._run_keyed = self._run_keyed or keyed
        self._last_digits = now

    def _run_is_card(self) -> bool:
        """Digits in a row over several turns (or keyed): a number read out in groups."""
        if not (self._run_keyed or self._run_inputs >= 2):
            return False  # one spoken turn is judged by what it holds
        return self._run > (PHONE_DIGITS if self._phone_question else RUN_DIGITS - 1)

    def _start(self, rewind: float, *, by_caller: bool = True) -> None:
        was = self._until is not None
        self.ever = self.ever or by_caller
        self._feed()
        if not was and self.listener is not None:
            self.listener(True, min(MAX_REWIND, max(0.0, rewind) + REWIND_MARGIN))

    def _feed(self) -> None:
        self._until = self.clock() + CONTEXT_SECONDS
        self._quiet = 0

    def _reset_run(self) -> None:
        self._run, self._run_inputs, self._run_keyed, self._run_started = 0, 0, False, None

    def _end(self) -> None:
        self._until = None
        self._quiet = 0
        self._reset_run()
        if self.listener is not None:
            self.listener(False, 0.0)
