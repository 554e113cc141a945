"""Everything the offline receptionist says, in English; wording_es.py says it in Spanish.

Questions come in two wordings: the first time, and a second one with an example of an
answer ("For example, 'three nights' or 'until the fifth'"); a question is never asked a
third time (the dialog offers a person or a call back instead). The hotel's tools answer
with English summaries: English reads them out as they are, another language words the
same facts from the tool's other fields.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, ClassVar

from app.hotel.config import PropertyConfig
from app.hotel.spoken import spoken_date, spoken_money


def cents(amount: Any) -> int:
    """'458.00' (a tool's decimal amount) as cents."""
    try:
        return int(Decimal(str(amount)) * 100)
    except ArithmeticError:
        return 0


class Wording:
    LANGUAGE: ClassVar[str] = "en"
    PHRASES: ClassVar[dict[str, str]] = {
        "goodbye": "Thank you for calling the {hotel}. Goodbye.",
        "card": "Please don't give card details over the phone; we never take them this way. "
        "Once you have a booking I can text you a secure payment link.",
        "offer_link": "Please don't give card details over the phone. I can text you a secure "
        "link to pay instead. Shall I send it?",
        "keyed_many": "Thank you. How can I help you?",
        "how_help": "How can I help you?",
        "transfer": "Of course, I'll put you through to {department}.",
        "unavailable": "I'm sorry, I can't do that over the phone right now. I'll put you "
        "through to {department}.",
        "arranging": "Let me arrange that.",
        "anything_else": "Is there anything else I can help you with?",
        "rescue_transfer": "Let me put you through to {desk}; they'll be glad to help.",
        "not_getting": "I'm sorry, I'm not getting this right.",
        "keep_trying": "All right, let's try once more.",
        "start_over": "Of course, let's start again.",
        "checking": "Let me check that for you.",
        "booking_now": "Booking that for you now.",
        "sending": "Sending it now.",
        "noting_lead": "I'll note that for the team.",
        "room_chosen": "The {room}, lovely.",
        "room_noted": "The {room}, noted.",
        "name_thanks": "Thank you, {name}.",
        "pay_later": "No problem, you can pay at check-in.",
        "no_problem": "No problem.",
        "error": "I'm sorry, something went wrong on my side.",
        "other_dates": "Would you like to try other dates?",
        "fewer_nights": "How many nights would you like instead?",
        "lead_not_ready": "Of course. Would you like our reservations team to contact you "
        "about it on the number you're calling from?",
        "lead_declined": "No problem. Would you like our reservations team to contact you with "
        "an offer for those dates?",
        "pay_offer": "Would you like me to text you a secure link to pay now? Otherwise you "
        "can pay at check-in.",
    }
    QUESTIONS: ClassVar[dict[str, tuple[str, str]]] = {
        "arrival": (
            "I'd be glad to help with a booking. What date would you like to arrive?",
            "What day will you arrive? For example, 'this Friday' or 'December the twelfth'.",
        ),
        "length": (
            "And how many nights will you be staying?",
            "How long will you stay? For example, 'three nights' or 'until the fifth'.",
        ),
        "guests": (
            "How many adults will be staying, and any children?",
            "How many people is the room for? For example, 'two adults' or 'two adults and "
            "one child'.",
        ),
        "room": (
            "Which would you like?",
            "Which would you like: {rooms}? For example, 'the first one' or 'the cheapest'.",
        ),
        "room_one": (
            "Would you like me to book the {room}?",
            "Shall I book the {room}? Please say yes or no.",
        ),
        "name": (
            "May I have your name for the booking?",
            "What name should I put the booking under? For example, 'Maria Gonzalez'.",
        ),
        "phone": (
            "Shall I use the number you're calling from for the booking?",
            "Shall I use the number you're calling from? Please say yes, or read me another "
            "number.",
        ),
        "phone_digits": (
            "What number should we use? Please say it digit by digit, with the area code.",
            "Please read me the number digit by digit, for example 'four one five, five five "
            "five, zero one three four'.",
        ),
        "confirm": (
            "{readback} Shall I book it?",
            "Shall I go ahead and book it? Please say yes or no.",
        ),
        "change": (
            "All right, nothing is booked. What would you like to change?",
            "What should I change? For example, 'three nights', 'two adults' or 'the {room}'.",
        ),
        "pay": ("{summary} {offer}", "Shall I text you the payment link? Please say yes or no."),
        "lead": ("{offer}", "Shall our team contact you about it? Please say yes or no."),
        "callback_when": (
            "Of course. When would be a good time for us to call you back?",
            "Sorry, I didn't catch a time. Could you say a day and a time? For example, "
            "'tomorrow at 3 pm'.",
        ),
        "unheard": (
            "Sorry, I didn't catch that. Could you say it again?",
            "I'm sorry, I still didn't hear you. Could you say that once more, a little "
            "closer to the phone?",
        ),
        "cant_help": (
            "I'm sorry, I can't help with that myself. I can check rooms and prices, book a "
            "stay, answer questions about the hotel, or put you through to the front desk.",
            "I'm sorry, I still can't help with that. For example, you can say 'I'd like to "
            "book a room', 'is breakfast included?' or 'the front desk, please'.",
        ),
        # A person or a call back, instead of asking a third time.
        "rescue": (
            "I can put you through to {desk}, or arrange for someone to call you back. Which "
            "would you prefer?",
            "Would you like {desk}, or a call back? Please say 'front desk' or 'call me back'.",
        ),
        "rescue_desk": (
            "Shall I put you through to {desk}?",
            "Would you like me to put you through to {desk}? Please say yes or no.",
        ),
    }
    # What speech-to-text should listen for after each question (DialogManager.expecting).
    HINTS: ClassVar[dict[str, str]] = {
        "callback_when": "Tomorrow morning. This afternoon at three. On this number, please.",
        "arrival": "We would like to arrive on the twelfth of December. This Friday. Tomorrow.",
        "length": "Three nights. Two nights, please. Just one night. A week.",
        "guests": "Two adults and one child. Just me, one adult. Two adults, no children.",
        "change": "From the twelfth of December. Three nights. Two adults. {rooms}.",
        "phone": "Use five five five, one two three, four five six seven.",
        "room": "The {room}",
    }

    def __init__(self, prop: PropertyConfig) -> None:
        self.prop = prop

    # --- phrases --------------------------------------------------------------------------------
    def say(self, key: str, **values: Any) -> str:
        return self.PHRASES[key].format(hotel=self.prop.name, **values)

    def ask(self, key: str, attempt: int, **values: Any) -> str:
        """A question, the first time (attempt 1) or the second, rephrased with an example."""
        first, second = self.QUESTIONS[key]
        return (first if attempt <= 1 else second).format(**values).strip()

    def hint(self, key: str, **values: Any) -> str:
        return self.HINTS[key].format(**values)

    def greeting(self) -> str:
        return self.prop.greeting_words

    def fixed_lines(self) -> list[str]:
        """What this receptionist says the same way on every call: the phrases and questions
        with nothing of the caller's in them (the hotel's name is fixed), and the FAQ's
        answers in this language. The engine renders them at start-up (voice.prerender_texts)."""
        lines = []
        for text in self.PHRASES.values():
            try:
                lines.append(text.format(hotel=self.prop.name))
            except (KeyError, IndexError):
                continue  # needs the call's own values
        lines += [q for pair in self.QUESTIONS.values() for q in pair if "{" not in q]
        for entry in self.prop.faq:
            translation = entry.translations.get(self.LANGUAGE)
            lines.append(translation.answer if translation is not None else entry.answer)
        return lines

    def department(self, key: str) -> str:
        """A department as the receptionist names it ('the front desk')."""
        return self.prop.departments[key].name

    def room(self, name: str) -> str:
        """A room type with its article, for a list of rooms ('the Harbor King')."""
        return f"the {name}"

    def rooms(self, names: list[str], last: str = "or") -> str:
        """'the Harbor King, the Accessible King or the Double Queen'."""
        rooms = [self.room(n) for n in names]
        return f" {last} ".join([", ".join(rooms[:-1]), rooms[-1]] if len(rooms) > 1 else rooms)

    # --- facts as words -------------------------------------------------------------------------
    def date(self, day: dt.date, today: dt.date) -> str:
        return spoken_date(day, today)

    def money(self, amount_cents: int) -> str:
        return spoken_money(amount_cents, self.prop.currency)

    def readback(
        self,
        room: str,
        check_in: dt.date,
        nights: int,
        adults: int,
        children: int,
        name: str,
        today: dt.date,
    ) -> str:
        guests = f"{adults} adult{'s' if adults != 1 else ''}"
        if children:
            guests += f" and {children} {'child' if children == 1 else 'children'}"
        return (
            f"So that's the {room}, arriving {self.date(check_in, today)} for {nights} "
            f"night{'s' if nights != 1 else ''}, for {guests}, under the name {name}."
        )

    # --- what the tools said --------------------------------------------------------------------
    def quote(self, output: dict[str, Any], today: dt.date) -> str:
        return str(output.get("summary", ""))

    def booked(self, output: dict[str, Any], adults: int, children: int, today: dt.date) -> str:
        return str(output.get("summary", ""))

    def link_sent(self, output: dict[str, Any], total_cents: int) -> str:
        return str(output.get("summary", ""))

    def lead_noted(self, output: dict[str, Any]) -> str:
        return str(output.get("summary", ""))

    def callback_arranged(self, output: dict[str, Any], now: dt.datetime) -> str:
        return str(output.get("summary", ""))

    def tool_error(self, error: str) -> str | None:
        """A tool's error in this language; None when it has no wording for it (the dialog
        then apologises and offers a person)."""
        return error

    @staticmethod
    def ending(summary: str) -> str | None:
        """The last digits of a phone number a tool's summary names ('ending 0 1 3 4')."""
        match = re.search(r"ending ((?:\d ?){2,6})", summary)
        return match.group(1).strip() if match else None
