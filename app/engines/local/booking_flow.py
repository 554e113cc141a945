"""The offline engine's booking conversation: fill the slots, quote, confirm, book.

  collect   arrival, nights (or departure) and guests; then check_availability
  choose    the quote was read out; the caller picks a room (or yes to the first)
  name      "May I have your name for the booking?"
  phone     "Shall I use the number you're calling from?" (else the caller reads one)
  confirm   everything read back; yes → create_reservation
  lead      not ready to book: "shall the team contact you?" → create_lead

Every answer may also change earlier slots ("actually, make it three nights"): a change of
dates, guests or room goes back to a fresh quote. Whatever was asked, every slot an answer
gives is kept (a name given when the nights were asked, a departure date, a room). Each
question is asked at most twice, the second time with an example; after that the flow stops
asking and offers a person or a call back (Step.escalate). The tools do the checking (past
dates, room sizes) and their errors are read out as they are.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.engines.local import slots
from app.hotel.config import PropertyConfig, RoomTypeConfig
from app.hotel.faq import words_of
from app.hotel.spoken import spoken_date


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """What the booking flow says next, and the tool it wants run (its result comes back)."""

    text: str
    call: ToolCall | None = None
    done: bool = False  # the booking conversation is over (booked, or given up)
    escalate: bool = False  # asked twice without an answer: a person or a callback offered
    hand_over: bool = False  # offered already and still no answer: the front desk takes over


# Each question: how it is first asked, and the second time, rephrased with an example.
QUESTIONS = {
    "arrival": ("What date would you like to arrive?",
                "Which day would you arrive? For example, 'the twelfth of December', or 'this Friday'."),
    "length": ("And how many nights will you be staying?",
               "How long would you stay? For example, 'three nights', or 'until the fifth'."),
    "guests": ("How many adults will be staying, and any children?",
               "How many people is the room for? For example, 'two adults and one child', or 'just me'."),
    "name": ("May I have your name for the booking?",
             "What name should the booking be under? For example, 'my name is Anna Smith'."),
    "phone": ("Shall I use the number you're calling from for the booking?",
              "Shall I use the number you're calling from? Say 'yes', or read me another number digit by digit."),
    "confirm": ("Shall I book it?", "Shall I go ahead and book it? Please say yes or no."),
    "pay": ("Would you like me to text you a secure link to pay now? Otherwise you can pay at check-in.",
            "Shall I text you the payment link? Please say yes or no."),
    "lead": ("Would you like our reservations team to contact you about it on the number you're calling from?",
             "Shall our reservations team call you about it? Please say yes or no."),
}  # fmt: skip
ESCALATION = (
    "I'm sorry, I'm not getting this right. I can put you through to our front desk, or "
    "have someone call you back. Which would you prefer?"
)

_BOOKING_WORDS = {"book", "booking", "reserve", "reservation", "availability", "available",
                  "vacancy", "vacancies", "rates", "rate", "price", "stay", "nights", "night"}  # fmt: skip
_NOT_READY = ("not ready", "think about it", "just looking", "not yet", "maybe later", "call me back",
              "send me", "get back to")  # fmt: skip


@dataclass
class BookingFlow:
    prop: PropertyConfig
    today: dt.date
    stage: str = "collect"
    check_in: dt.date | None = None
    check_out: dt.date | None = None
    nights: int | None = None
    adults: int | None = None
    children: int = 0
    room: RoomTypeConfig | None = None
    name: str | None = None
    phone: str | None = None  # digits read out; None = the number calling
    options: list[dict[str, Any]] = field(default_factory=list)
    can_text_links: bool = False  # the payment link tool is on offer
    confirmation_code: str | None = None
    asked: Counter[str] = field(default_factory=Counter)  # question → times asked in a row
    offers: int = 0  # times a person or a call back was offered

    def ask(self, key: str, lead: str = "") -> Step:
        """A question of QUESTIONS: its first wording, its example the second time, and no
        third time: a person or a call back is offered instead."""
        self.asked[key] += 1
        times = self.asked[key]
        if times > 2:
            return self.escalation(lead)
        text = QUESTIONS[key][min(times, 2) - 1]
        return Step(f"{lead} {text}".strip())

    def escalation(self, lead: str = "") -> Step:
        """The offer of a person or a call back; the second time, the front desk at once."""
        self.offers += 1
        self.asked.clear()  # after the offer the caller gets a fresh try
        if self.offers > 1:
            return Step(lead, hand_over=True)
        return Step(f"{lead} {ESCALATION}".strip(), escalate=True)

    def answered(self, *keys: str) -> None:
        for key in keys:
            self.asked.pop(key, None)

    @staticmethod
    def wanted(utterance: str, today: dt.date) -> bool:
        """Booking words ("book", "availability"), or a room with a date or a length of stay
        ("a king room from the 8th"); "my room is cold" is not a booking."""
        words = words_of(utterance)
        if words & _BOOKING_WORDS:
            return True
        if words & {"checking", "arrive", "arriving", "arrival", "staying", "coming"}:
            return slots.parse_dates(utterance, today)[0] is not None
        if words & {"room", "rooms", "suite", "suites"}:
            return (
                slots.parse_dates(utterance, today)[0] is not None
                or slots.parse_nights(utterance) is not None
            )
        return False

    # --- the caller speaks ----------------------------------------------------------------------
    def hear(self, utterance: str) -> Step:
        corrected = self._take_caller(utterance)
        if self.stage == "choose":  # naming one of the rooms just offered is a choice
            room = self._room_in(utterance) or self._room_at(utterance)
            if room is not None and any(
                o["room_type"] == room.code and o.get("bookable") for o in self.options
            ):
                self.room = room
                self.answered("choose")
                return self._ask_name()
        if self._take_stay(utterance) and self.stage not in ("collect", "name", "phone"):
            self.stage, self.options = "collect", []
        if self.stage == "collect":
            return self._next_question()
        if self.stage == "choose":
            return self._choose(utterance)
        if self.stage == "name":
            self.name = self.name or slots.parse_name(utterance)
            return self._ask_phone() if self.name else self.ask("name", "Sorry.")
        if self.stage == "phone":
            return self._phone(utterance)
        if self.stage == "confirm":
            answer = self._yes_no(utterance)
            if answer is True:
                return Step(
                    "Booking that for you now.", ToolCall("create_reservation", self._reservation())
                )
            if corrected:  # "no, the name is Anna Novak": read it back again
                self.answered("confirm")
                return self._read_back()
            if answer is False:
                self.stage = "collect"
                return Step("All right, nothing is booked. What would you like to change?")
            return self.ask("confirm")
        if self.stage == "pay":
            return self.offer_answer(self._yes_no(utterance))
        if self.stage == "lead":
            answer = self._yes_no(utterance)
            if answer is True:
                return Step("I'll note that for the team.", ToolCall("create_lead", self._lead()))
            if answer is None:
                return self.ask("lead")
            self.stage = "done"
            return Step("No problem. Is there anything else I can help you with?", done=True)
        return self._next_question()

    def _take_caller(self, utterance: str) -> bool:
        """A name or a phone number given in passing, at any stage, is kept; True when one
        changed."""
        before = (self.name, self.phone)
        name = slots.parse_name_given(utterance)
        if name is not None:
            self.name = name
            self.answered("name")
        digits = slots.parse_digits(utterance)
        if 10 <= len(digits) <= 11 and self.stage not in ("phone",):
            self.phone = digits
        return (self.name, self.phone) != before

    def _room_at(self, utterance: str) -> RoomTypeConfig | None:
        """'The first one', 'the cheaper one': a room by its place in what was read out."""
        bookable = [o for o in self.options if o.get("bookable")][:3]
        where = slots.parse_position(utterance)
        if where is None or not bookable:
            return None
        if where == "cheapest":
            chosen = min(bookable, key=lambda o: float(o.get("total") or 0))
        elif where == "dearest":
            chosen = max(bookable, key=lambda o: float(o.get("total") or 0))
        elif isinstance(where, int) and -len(bookable) <= where < len(bookable):
            chosen = bookable[where]
        else:
            return None
        return self._config_room(str(chosen["room_type"]))

    def offer_payment_link(self) -> Step:
        """The caller wants to pay (or started reading a card): a link by text instead."""
        self.stage = "pay"
        return Step(
            "Please don't give card details over the phone. I can text you a secure link to "
            "pay instead. Shall I send it?"
        )

    def offer_answer(self, answer: bool | None) -> Step:
        if answer is True and self.confirmation_code:
            return Step(
                "Sending it now.",
                ToolCall("generate_payment_link", {"confirmation_code": self.confirmation_code}),
            )
        if answer is None:
            return self.ask("pay")
        self.stage = "done"
        return Step(
            "No problem, you can pay at check-in. Is there anything else I can help you with?",
            done=True,
        )

    def _yes_no(self, utterance: str) -> bool | None:
        keyed = slots.parse_digits(utterance)
        if "keypad" in utterance and keyed in ("1", "2"):
            return keyed == "1"  # "press 1 for yes, 2 for no"
        return slots.parse_yes_no(utterance)

    def _take_stay(self, utterance: str) -> bool:
        """Fill what the words say about the stay; True when something changed."""
        before = (self.check_in, self.check_out, self.nights, self.adults, self.children, self.room)
        # A bare number answers "how many adults?" only once that was the question.
        asked_guests = self.stage == "collect" and self.check_in is not None and self.length_known
        arrival, departure = slots.parse_dates(utterance, self.today)
        nights = slots.parse_nights(utterance)
        if (
            departure is None
            and arrival is not None
            and self.check_in is not None
            and not self.length_known
            and arrival > self.check_in
        ):
            # the arrival is known and the length was asked: a later date is the departure
            arrival, departure = self.check_in, arrival
        if arrival is not None and (self.stage == "collect" or arrival != self.check_in):
            self.check_in = arrival
        if departure is not None:
            self.check_out, self.nights = departure, None
        elif nights is not None:
            self.nights, self.check_out = nights, None
        adults, children = slots.parse_guests(utterance, asked=asked_guests and self.adults is None)
        if adults is not None:
            self.adults = adults
        if children is not None:
            self.children = children
        room = self._room_in(utterance)
        if room is not None:
            self.room = room
        after = (self.check_in, self.check_out, self.nights, self.adults, self.children, self.room)
        if self.check_in is not None:
            self.answered("arrival")
        if self.length_known:
            self.answered("length")
        if self.adults is not None:
            self.answered("guests")
        return after != before

    @property
    def length_known(self) -> bool:
        return self.nights is not None or self.check_out is not None

    def _room_in(self, utterance: str) -> RoomTypeConfig | None:
        words = words_of(utterance)
        best, best_score, tie = None, 0, False
        for room in self.prop.room_types:
            name_words = words_of(room.name)
            score = 2 * len(name_words & words) if name_words <= words else len(name_words & words)
            if set(room.code.split("-")) <= words:
                score += 1
            if score > best_score:
                best, best_score, tie = room, score, False
            elif score == best_score and score > 0:
                tie = True
        if tie or best_score < 1 or (best_score == 1 and not self._room_context(words)):
            return None
        return best

    @staticmethod
    def _room_context(words: set[str]) -> bool:
        # "king" alone names a room only when the caller is talking about rooms or beds.
        return bool(words & {"room", "suite", "king", "queen", "bed", "double", "accessible"})

    def expecting(self) -> str | None:
        """The answers the question just asked invites (see DialogManager.expecting). Never
        yes or no: they are heard well without help, and a prompt ending in "yes" is what
        Whisper writes back on noise."""
        if self.stage == "collect":
            if self.check_in is None:
                return "We would like to arrive on the twelfth of December. This Friday. Tomorrow."
            if not self.length_known:
                return "Three nights. Two nights, please. Just one night. A week."
            if self.adults is None:
                return "Two adults and one child. Just me, one adult. Two adults, no children."
            # "What would you like to change?": any of it
            rooms = ". ".join(f"The {r.name}" for r in self.prop.room_types[:3])
            return f"From the twelfth of December. Three nights. Two adults. {rooms}."
        if self.stage == "choose":  # the rooms just read out
            bookable = [o for o in self.options if o.get("bookable")][:3]
            return ". ".join(f"The {o['name']}" for o in bookable) + "." if bookable else None
        if self.stage == "phone":
            return "Use five five five, one two three, four five six seven."
        return None  # yes or no (confirm, pay, lead), a name: nothing to add

    # --- questions ------------------------------------------------------------------------------
    def _next_question(self) -> Step:
        self.stage = "collect"
        if self.check_in is None:
            first = not self.asked["arrival"] and self.adults is None and not self.length_known
            return self.ask("arrival", "I'd be glad to help with a booking." if first else "")
        if not self.length_known:
            return self.ask("length")
        if self.adults is None:
            return self.ask("guests")
        arguments = self._stay_arguments()
        if self.room is not None:
            arguments["room_type"] = self.room.code
        return Step("Let me check that for you.", ToolCall("check_availability", arguments))

    def _choose(self, utterance: str) -> Step:
        bookable = [o for o in self.options if o.get("bookable")]
        lowered = utterance.lower()
        if any(p in lowered for p in _NOT_READY):
            self.stage = "lead"
            return Step(
                "Of course. Would you like our reservations team to contact you about it "
                "on the number you're calling from?"
            )
        answer = self._yes_no(utterance)
        if answer is True and bookable:
            self.room = self._config_room(bookable[0]["room_type"])
            return self._ask_name()
        if answer is False:
            self.stage = "lead"
            return Step(
                "No problem. Would you like our reservations team to contact you with an "
                "offer for those dates?"
            )
        names = " or the ".join(o["name"] for o in bookable[:3])
        self.asked["choose"] += 1
        if self.asked["choose"] > 2:
            return self.escalation()
        if self.asked["choose"] == 2:
            return Step(
                f"Which room would you like? You can say its name, or 'the first one'. The {names}?"
            )
        return Step(f"Which would you like: the {names}?")

    def _config_room(self, code: str) -> RoomTypeConfig:
        return next(r for r in self.prop.room_types if r.code == code)

    def _ask_name(self) -> Step:
        assert self.room is not None
        if self.name:  # given earlier, in passing
            return self._ask_phone(f"The {self.room.name}, lovely.")
        self.stage = "name"
        return self.ask("name", f"The {self.room.name}, lovely.")

    def _ask_phone(self, lead: str = "") -> Step:
        if self.phone:  # read out earlier
            return self._read_back()
        self.stage = "phone"
        return self.ask("phone", f"{lead} Thank you, {self.name}.".strip())

    def _phone(self, utterance: str) -> Step:
        digits = slots.parse_digits(utterance)
        if len(digits) >= 10:
            self.phone = digits
            return self._read_back()
        answer = self._yes_no(utterance)
        if answer is True:
            self.phone = None
            return self._read_back()
        if answer is False or digits:
            self.asked["number"] += 1
            if self.asked["number"] > 2:
                return self.escalation()
            if self.asked["number"] == 2:
                return Step(
                    "Please read me the number digit by digit, for example 'four one five, five five five, zero one three four'."
                )
            return Step(
                "What number should we use? Please say it digit by digit, with the area code."
            )
        return self.ask("phone")

    def _read_back(self) -> Step:
        self.stage = "confirm"
        assert self.room is not None and self.check_in is not None
        nights = self.nights or ((self.check_out or self.check_in) - self.check_in).days
        guests = f"{self.adults} adult{'s' if self.adults != 1 else ''}"
        if self.children:
            guests += f" and {self.children} {'child' if self.children == 1 else 'children'}"
        return self.ask(
            "confirm",
            f"So that's the {self.room.name}, arriving {spoken_date(self.check_in, self.today)} "
            f"for {nights} night{'s' if nights != 1 else ''}, for {guests}, under the name "
            f"{self.name}.",
        )

    def _stay_arguments(self) -> dict[str, Any]:
        assert self.check_in is not None
        arguments: dict[str, Any] = {
            "check_in": self.check_in.isoformat(),
            "adults": self.adults,
            "children": self.children,
        }
        if self.check_out is not None:
            arguments["check_out"] = self.check_out.isoformat()
        else:
            arguments["nights"] = self.nights
        return arguments

    def _reservation(self) -> dict[str, Any]:
        assert self.room is not None and self.name is not None
        arguments = {**self._stay_arguments(), "room_type": self.room.code, "guest_name": self.name}
        if self.phone:
            arguments["phone"] = self.phone
        return arguments

    def _lead(self) -> dict[str, Any]:
        assert self.check_in is not None
        room = self.room.name if self.room else "a room"
        nights = self.nights or ((self.check_out or self.check_in) - self.check_in).days
        arguments: dict[str, Any] = {
            "interest": f"{room} from {self.check_in.isoformat()} for {nights} nights",
            "consent_to_contact": True,
            "check_in": self.check_in.isoformat(),
            "adults": self.adults,
            "children": self.children,
        }
        if self.check_out:
            arguments["check_out"] = self.check_out.isoformat()
        if self.name:
            arguments["name"] = self.name
        if self.room:
            arguments["room_type"] = self.room.code
        return arguments

    # --- a tool answered ------------------------------------------------------------------------
    def tool_result(self, name: str, output: dict[str, Any]) -> Step:
        error = output.get("error")
        if error:
            return self._after_error(name, str(error))
        if name == "check_availability":
            self.options = list(output.get("options") or [])
            summary = str(output.get("summary", ""))
            bookable = [o for o in self.options if o.get("bookable")]
            if not bookable:
                self.stage = "collect"
                self.check_in = None
                return Step(f"{summary} Would you like to try other dates?")
            self.stage = "choose"
            if len(bookable) == 1 or self.room is not None:
                return Step(f"{summary} Would you like me to book the {bookable[0]['name']}?")
            return Step(f"{summary} Which would you like?")
        if name == "create_reservation":
            self.confirmation_code = str(output.get("confirmation_code") or "") or None
            if self.can_text_links and self.confirmation_code:
                self.stage = "pay"
                return self.ask("pay", str(output.get("summary", "")))
            self.stage = "done"
            return Step(
                f"{output.get('summary', '')} Is there anything else I can help you with?",
                done=True,
            )
        if name == "generate_payment_link":
            self.stage = "done"
            return Step(
                f"{output.get('summary', '')} Is there anything else I can help you with?",
                done=True,
            )
        if name == "create_lead":
            self.stage = "done"
            return Step(
                f"{output.get('summary', '')} Is there anything else I can help you with?",
                done=True,
            )
        return Step("Is there anything else I can help you with?", done=True)

    def _after_error(self, name: str, error: str) -> Step:
        """The tool said no, in words for the caller; forget the slot it was about."""
        lowered = error.lower()
        if "taken" in lowered or "room called" in lowered or "did you mean" in lowered:
            self.room = None
        elif "date" in lowered or "night" in lowered or "passed" in lowered:
            self.check_in = self.check_out = self.nights = None
        elif "adult" in lowered or "guests" in lowered:
            self.adults, self.room = None, None
        elif "phone" in lowered:
            self.stage = "phone"
            return Step(error)
        self.stage, self.options = "collect", []
        if error.rstrip().endswith("?"):
            return Step(error)
        following = self._next_question()
        return Step(f"{error} {following.text}", following.call)
