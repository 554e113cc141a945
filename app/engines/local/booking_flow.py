"""The offline engine's booking conversation: fill the slots, quote, confirm, book.

  collect   arrival, nights (or departure) and guests; then check_availability
  choose    the quote was read out; the caller picks a room (by name, "the first one",
            "the cheapest"), or says yes to the one offered
  name      "May I have your name for the booking?"
  phone     "Shall I use the number you're calling from?" (else the caller reads one)
  confirm   everything read back; yes → create_reservation
  change    "what would you like to change?"
  pay       "shall I text you a link to pay?" → generate_payment_link
  lead      not ready to book: "shall the team contact you?" → create_lead

Whatever was asked, every answer is searched for every slot: a name given when the nights
were asked is kept (and not asked for later), a room named early is kept, a second date is
the departure, "two nights" is the length wherever it comes. The next question is always the
first slot still missing, so nothing given is asked for again. A change of dates, guests or
an unquoted room goes back to a fresh quote.

Each question is asked at most twice, the second time with an example of an answer; a third
time the flow says so (Step.escalate) and the dialog offers a person or a call back instead.
The tools do the checking (past dates, room sizes) and their errors are read out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from app.engines.local.language import Parser, parser, wording
from app.engines.local.wording import Wording, cents
from app.hotel.config import PropertyConfig, RoomTypeConfig
from app.hotel.faq import words_of

_ROOM_CONTEXT = {"room", "suite", "king", "queen", "bed", "double", "accessible", "habitacion",
                 "cuarto", "cama"}  # fmt: skip


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
    # The question would be asked a third time: `text` is only what comes before it, and the
    # dialog offers a person or a call back instead.
    escalate: bool = False
    question: str | None = None  # the question `text` asks ("length", "name" …)


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
    language: str = "en"  # "en" or "es": the words heard and said (the dialog sets it)
    chosen: bool = False  # the caller took a room of the quote
    phone_settled: bool = False  # the number calling, or one read out
    other_number: bool = False  # "no, use another number": the digits are asked for
    asked: dict[str, int] = field(default_factory=dict)  # question → times asked
    pending: str | None = None  # the question asked last
    total_cents: int = 0  # of the reservation made
    no_rooms: bool = False  # the last quote had nothing: "try other dates?"
    readback: str = ""  # the last read-back: a new one is a new question

    @property
    def parse(self) -> Parser:
        return parser(self.language)

    @property
    def words(self) -> Wording:
        return wording(self.prop, self.language)

    @staticmethod
    def wanted(utterance: str, today: dt.date, language: str = "en") -> bool:
        """Booking words ("book", "reservar"), or a room with a date or a length of stay;
        "my room is cold" is not a booking."""
        return parser(language).wants_booking(utterance, today)

    @property
    def length_known(self) -> bool:
        return self.nights is not None or self.check_out is not None

    @property
    def stay_nights(self) -> int:
        """The stay's length, given as nights or as a departure (0 while neither is known)."""
        assert self.check_in is not None
        return self.nights or ((self.check_out or self.check_in) - self.check_in).days

    def _requote(self) -> None:
        """Back to collecting: what was quoted no longer holds (and a read-back of the new
        quote is a new question)."""
        self.stage, self.options, self.chosen = "collect", [], False
        self.asked.pop("confirm", None)
        self.readback = ""

    # --- the caller speaks ----------------------------------------------------------------------
    def hear(self, utterance: str) -> Step:
        p, say = self.parse, self.words.say
        acks: list[str] = []
        if self.confirmation_code:  # booked: only the payment link is left to settle
            return self.offer_answer(self._yes_no(utterance))
        choice = self._choice(utterance)
        changed = self._take_stay(utterance, dates=choice is None or not choice[1])
        switched = choice is not None and (choice[0] != self.room or not self.chosen)
        if choice is not None and switched:
            self.room, self.chosen = choice[0], True
            acks.append(say("room_chosen", room=choice[0].name))
        name = p.introduced_name(utterance)
        if name is None and self.stage == "name" and not changed and choice is None:
            name = p.parse_name(utterance)
        if name is not None:
            self.name = name
            acks.append(say("name_thanks", name=name))
        digits = p.parse_digits(utterance)
        if len(digits) >= 10:
            self.phone, self.phone_settled = digits, True
        if changed and self.stage != "collect":
            self._requote()
        elif changed and self.pending and self.room is not None and self._room_in(utterance):
            acks.append(say("room_noted", room=self.room.name))  # named out of turn: kept
        answer = self._yes_no(utterance)
        stage = self.stage
        took = switched or name is not None
        if stage in ("choose", "name", "phone", "confirm", "change") and p.cue(
            utterance, "not_ready"
        ):
            return self._ask_lead(acks, say("lead_not_ready"))
        if stage == "choose" and choice is None:
            bookable = self._bookable()
            # A yes takes the one room offered ("Would you like me to book the Double
            # Queen?"). Not a room of several: "The Bay Suite, please" when it was not
            # offered, a room name misheard ("the very sweet, please"): the "please" is no
            # yes to the first room read; the question again.
            names_a_room = bool(words_of(utterance) & _ROOM_CONTEXT)
            one_offered = self.pending == "room_one"
            if answer is True and bookable and one_offered and not names_a_room:
                offered = self.room if self._offered(self.room) else None
                self.room = offered or self._config_room(bookable[0]["room_type"])
                self.chosen = True
                acks.append(say("room_chosen", room=self.room.name))
            elif answer is False:
                return self._ask_lead(acks, say("lead_declined"))
        elif stage == "phone" and not self.phone_settled:
            if answer is True and not self.other_number:
                self.phone, self.phone_settled = None, True
            elif answer is False or digits:
                self.other_number = True
        elif stage == "confirm" and not took:
            if answer is True:
                return Step(say("booking_now"), ToolCall("create_reservation", self._reservation()))
            if answer is False:
                self.stage = "change"
                self.asked.pop("change", None)
                return self._ask("change", [], room=self._a_room())
        elif stage == "change" and not (took or answer is True):
            return self._ask("change", acks, room=self._a_room())
        elif stage == "lead":
            if answer is True:
                return Step(say("noting_lead"), ToolCall("create_lead", self._lead()))
            if answer is False:
                self.stage = "done"
                return Step(f"{say('no_problem')} {say('anything_else')}", done=True)
            return self._ask_lead(acks, "")
        elif stage == "collect" and answer is False and self.no_rooms and self.check_in is None:
            self.stage = "done"  # "try other dates?" "no"
            return Step(f"{say('no_problem')} {say('anything_else')}", done=True)
        return self.next(acks)

    def offer_payment_link(self) -> Step:
        """The caller wants to pay (or started reading a card): a link by text instead."""
        self.stage, self.pending = "pay", "pay"
        self.asked["pay"] = 1
        return Step(self.words.say("offer_link"), question="pay")

    def offer_answer(self, answer: bool | None) -> Step:
        say = self.words.say
        if answer is True and self.confirmation_code:
            return Step(
                say("sending"),
                ToolCall("generate_payment_link", {"confirmation_code": self.confirmation_code}),
            )
        if answer is None:
            return self._ask("pay", [], summary="", offer="")
        self.stage = "done"
        return Step(f"{say('pay_later')} {say('anything_else')}", done=True)

    def retry(self) -> Step:
        """The caller would rather go on than talk to a person: the question once more, in
        its second wording."""
        if self.pending is not None:
            self.asked[self.pending] = 1
        return self.next([self.words.say("keep_trying")])

    def _yes_no(self, utterance: str) -> bool | None:
        keyed = self.parse.parse_digits(utterance)
        if "keypad" in utterance and keyed in ("1", "2"):
            return keyed == "1"  # "press 1 for yes, 2 for no"
        return self.parse.parse_yes_no(utterance)

    def _take_stay(self, utterance: str, dates: bool = True) -> bool:
        """Fill what the words say about the stay; True when something changed that needs a
        new quote."""
        p = self.parse
        before = (self.check_in, self.check_out, self.nights, self.adults, self.children, self.room)
        if dates:
            self._take_dates(utterance)
        nights = p.parse_nights(utterance, asked=self.pending == "length")
        if nights is not None:
            self.nights, self.check_out = nights, None
        adults, children = p.parse_guests(
            utterance, asked=self.pending == "guests" and self.adults is None
        )
        if adults is not None:
            self.adults = adults
        if children is not None:
            self.children = children
        room = self._room_in(utterance)
        if room is not None and not self._offered(room):
            self.room = room
        after = (self.check_in, self.check_out, self.nights, self.adults, self.children, self.room)
        return after != before

    def _take_dates(self, utterance: str) -> None:
        p = self.parse
        arrival, departure = p.parse_dates(utterance, self.today, arrival=self.check_in)
        if (
            arrival is not None
            and departure is None
            and self.check_in is not None
            and not self.length_known
            and self.pending != "arrival"
        ):
            # One date, the arrival known, the length asked: the day they leave.
            later = p.parse_dates(utterance, self.check_in)[0]
            if later is not None and later > self.check_in:
                arrival, departure = None, later
        if arrival is not None and (self.stage == "collect" or arrival != self.check_in):
            if self.check_in is not None and self.check_out is not None and departure is None:
                # a new arrival keeps the length of the stay
                self.nights, self.check_out = (self.check_out - self.check_in).days, None
            self.check_in = arrival
        if departure is not None:
            self.check_out, self.nights = departure, None
        if self.check_in and self.check_out and self.check_out <= self.check_in:
            self.check_out = None

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
        return bool(words & _ROOM_CONTEXT)

    def _bookable(self) -> list[dict[str, Any]]:
        return [o for o in self.options if o.get("bookable")]

    def _offered(self, room: RoomTypeConfig | None) -> bool:
        return room is not None and any(o["room_type"] == room.code for o in self._bookable())

    def _choice(self, utterance: str) -> tuple[RoomTypeConfig, bool] | None:
        """A room of the quote just read: (the room, chosen by position)."""
        shown = self._bookable()[:3]
        if not shown or self.stage in ("collect", "pay", "lead", "done"):
            return None
        position = self.parse.parse_position(utterance)
        if position is not None:
            if position.isdigit():
                index = int(position) - 1
                option = shown[index] if index < len(shown) else None
            elif position == "last":
                option = shown[-1]
            elif position == "cheapest":
                option = min(shown, key=lambda o: cents(o.get("total")))
            elif position == "dearest":
                option = max(shown, key=lambda o: cents(o.get("total")))
            else:  # the biggest: the most guests, then the dearer
                option = max(
                    shown,
                    key=lambda o: (
                        self._config_room(o["room_type"]).max_occupancy,
                        cents(o.get("total")),
                    ),
                )
            return (self._config_room(option["room_type"]), True) if option else None
        room = self._room_in(utterance)
        if room is not None and self._offered(room):
            return room, False
        return None

    def _config_room(self, code: str) -> RoomTypeConfig:
        return next(r for r in self.prop.room_types if r.code == code)

    def _a_room(self) -> str:
        return (self.room or self.prop.room_types[0]).name

    def expecting(self) -> str | None:
        """The answers the question just asked invites (see DialogManager.expecting). Never
        yes or no: they are heard well without help, and a prompt ending in "yes" is what
        Whisper writes back on noise."""
        hint = self.words.hint
        if self.stage == "collect":
            if self.check_in is None:
                return hint("arrival")
            if not self.length_known:
                return hint("length")
            if self.adults is None:
                return hint("guests")
        if self.stage in ("collect", "change"):  # "What would you like to change?": any of it
            rooms = ". ".join(hint("room", room=r.name) for r in self.prop.room_types[:3])
            return hint("change", rooms=rooms)
        if self.stage == "choose":  # the rooms just read out
            bookable = self._bookable()[:3]
            rooms = ". ".join(hint("room", room=o["name"]) for o in bookable)
            return rooms + "." if bookable else None
        if self.stage == "phone":
            return hint("phone")
        return None  # yes or no (confirm, pay, lead), a name: nothing to add

    # --- questions ------------------------------------------------------------------------------
    def _ask(
        self,
        key: str,
        acks: list[str],
        first: str | None = None,
        second: str | None = None,
        **values: Any,
    ) -> Step:
        """Ask `key` (after `acks`): the first wording, then the second; never a third time.
        `first` / `second`: other words for that time of asking."""
        attempt = self.asked.get(key, 0) + 1
        self.pending = key
        if attempt > 2:
            return Step(" ".join(acks), escalate=True, question=key)
        self.asked[key] = attempt
        own = first if attempt == 1 else second
        text = own or self.words.ask(key, attempt, **values)
        return Step(" ".join([*acks, text]).strip(), question=key)

    def next(self, acks: list[str]) -> Step:
        """The first slot still missing, asked; or the tool that comes next."""
        say = self.words.say
        if self.check_in is None or not self.length_known or self.adults is None:
            self._requote()
            if self.check_in is None:
                first = say("other_dates") if self.no_rooms else None
                return self._ask("arrival", acks, first)
            if not self.length_known:
                return self._ask("length", acks)
            return self._ask("guests", acks)
        if not self.options:
            self.stage = "collect"
            arguments = self._stay_arguments()
            if self.room is not None:
                arguments["room_type"] = self.room.code
            return Step(
                " ".join([*acks, say("checking")]), ToolCall("check_availability", arguments)
            )
        if not self.chosen:
            self.stage = "choose"
            return self._ask_room(acks)
        if self.name is None:
            self.stage = "name"
            return self._ask("name", acks)
        if not self.phone_settled:
            self.stage = "phone"
            return self._ask("phone_digits" if self.other_number else "phone", acks)
        self.stage = "confirm"
        assert self.room is not None and self.check_in is not None and self.adults is not None
        nights = self.stay_nights
        readback = self.words.readback(
            self.room.name, self.check_in, nights, self.adults, self.children, self.name,
            self.today,
        )  # fmt: skip
        # A correction made at the read-back (a name, a room of the same quote) is read back
        # in full, but it is the same question asked again: twice, then a person is offered
        # ("No, the name is Luis Moreno" heard wrong every time must not go round for ever).
        # A new quote (other dates, guests) starts the question afresh (_requote).
        changed, self.readback = readback != self.readback, readback
        full = self.words.ask("confirm", 1, readback=readback) if changed else None
        return self._ask("confirm", acks, second=full, readback=readback)

    def _ask_room(self, acks: list[str]) -> Step:
        bookable = self._bookable()
        if len(bookable) == 1 or self._offered(self.room):
            offered = self.room if self._offered(self.room) else None
            name = offered.name if offered else str(bookable[0]["name"])
            return self._ask("room_one", acks, room=name)
        names = [str(o["name"]) for o in bookable[:3]]
        return self._ask("room", acks, rooms=self.words.rooms(names))

    def _ask_lead(self, acks: list[str], offer: str) -> Step:
        self.stage = "lead"
        return self._ask("lead", acks, offer=offer)

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
        nights = self.stay_nights
        interest = f"{room} from {self.check_in.isoformat()} for {nights} nights"
        if self.language != "en":
            interest += f" (the caller speaks {self.language})"  # for whoever calls back
        arguments: dict[str, Any] = {
            "interest": interest,
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

    def staff_summary(self) -> str:
        """Where the booking stood, for the person the caller is put through to."""
        parts = []
        if self.check_in:
            parts.append(f"arriving {self.check_in.isoformat()}")
        if self.check_out:
            parts.append(f"leaving {self.check_out.isoformat()}")
        elif self.nights:
            parts.append(f"{self.nights} nights")
        if self.adults:
            parts.append(
                f"{self.adults} adults" + (f", {self.children} children" if self.children else "")
            )
        if self.room:
            parts.append(self.room.name)
        if self.name:
            parts.append(f"name {self.name}")
        return f"Booking so far: {', '.join(parts)}." if parts else ""

    # --- a tool answered ------------------------------------------------------------------------
    def tool_result(self, name: str, output: dict[str, Any]) -> Step:
        words = self.words
        error = output.get("error")
        if error:
            return self._after_error(str(error))
        self.asked.clear()  # the booking moved on: its questions start afresh
        if name == "check_availability":
            self.options = list(output.get("options") or [])
            summary = words.quote(output, self.today)
            if not self._bookable():
                self._requote()
                short = [
                    o for o in output.get("options") or []
                    if int(o.get("rooms_left") or 0) > 0
                    and int(o.get("minimum_nights") or 0) > int(output.get("nights") or 0)
                ]  # fmt: skip
                if short:  # long enough, it could be booked: ask the length again
                    self.nights = self.check_out = None
                    return self._ask("length", [summary], words.say("fewer_nights"))
                self.check_in, self.no_rooms = None, True
                return self.next([summary])
            self.no_rooms = False
            self.stage = "choose"
            return self._ask_room([summary])
        if name == "create_reservation":
            self.confirmation_code = str(output.get("confirmation_code") or "") or None
            self.total_cents = cents(output.get("total"))
            summary = words.booked(output, self.adults or 1, self.children, self.today)
            if self.can_text_links and self.confirmation_code:
                self.stage = "pay"
                return self._ask("pay", [], summary=summary, offer=words.say("pay_offer"))
            self.stage = "done"
            return Step(f"{summary} {words.say('anything_else')}", done=True)
        if name == "generate_payment_link":
            self.stage = "done"
            sent = words.link_sent(output, self.total_cents)
            return Step(f"{sent} {words.say('anything_else')}", done=True)
        if name == "create_lead":
            self.stage = "done"
            return Step(f"{words.lead_noted(output)} {words.say('anything_else')}", done=True)
        return Step(words.say("anything_else"), done=True)

    def _after_error(self, error: str) -> Step:
        """The tool said no (in English words for the caller); forget the slot it was about,
        and ask for it. An error this language has no words for: an apology, and a person."""
        lowered = error.lower()
        spoken = self.words.tool_error(error)
        # "…Shall I look at a larger room?": the party is right, that room is too small
        if any(w in lowered for w in ("taken", "room called", "did you mean", "larger room")):
            self.room = None
        elif "needs at least" in lowered:
            self.nights = self.check_out = None
        elif "date" in lowered or "night" in lowered or "passed" in lowered:
            self.check_in = self.check_out = self.nights = None
        elif "adult" in lowered or "guests" in lowered:
            self.adults, self.room = None, None
        elif "phone" in lowered:
            self.stage, self.phone_settled, self.other_number = "phone", False, True
            self.pending = "phone_digits"
            if spoken is None:
                return Step(self.words.say("error"), escalate=True)
            return Step(spoken, question="phone_digits")
        self._requote()
        if spoken is None:
            return Step(self.words.say("error"), escalate=True)
        if spoken.rstrip().endswith("?"):
            return Step(spoken)
        return self.next([spoken])
