"""The offline engine's dialog manager: rule-based, honest about what it is.

No language model ships as a package, so the offline brain matches what the caller said
against a few intents, in this order: goodbye; a booking (the booking flow, which calls the
hotel tools through function calls); a department or a person (transfer); the hotel's own
facts (FAQ). One DialogManager per conversation: it remembers where the booking stands.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from app.engines.local import booking_flow, slots
from app.engines.local.booking_flow import BookingFlow, Step, ToolCall
from app.hotel.config import PropertyConfig
from app.hotel.faq import WORD, faq_answer, normal

_GOODBYE = {"bye", "goodbye", "that's all", "that is all", "nothing else", "hang up"}
_PERSON = {
    "front desk",
    "operator",
    "human",
    "someone",
    "real person",
    "representative",
    "receptionist",
}
_KEYED = re.compile(r"pressed (\d|\*|#) on the (?:telephone )?keypad")
_KEYED_MANY = re.compile(r"keyed ([\d*]+) on the (?:telephone )?keypad")
_TRANSFER = re.compile(
    r"\b(put me through|transfer|speak (to|with)|talk (to|with)|connect me|get me)\b"
)
_CARD = re.compile(
    r"\b(card number|card details|credit card|debit card|visa|mastercard|amex|american express|expiry date|security code|cvv)\b"
)
_CALLBACK = re.compile(r"\b(call me back|call back|callback|ring me back|phone me back)\b")
_DONE = re.compile(r"^\W*(no|nope|nah|nothing|that's it|that is it)\b[\w\s,.'!]{0,30}$")
_REPEAT = re.compile(
    r"\b(repeat (that|it|this|yourself)|repeat\b|say (that|it) again|pardon|come again|"
    r"what did you say|didn't (catch|hear) (that|you|it))\b"
)
_START_OVER = re.compile(
    r"\b(start (over|again|afresh)|begin again|from the (beginning|start|top)|from scratch)\b"
)
_WANT_DESK = re.compile(r"\b(front desk|person|someone|somebody|human|put me through|transfer)\b")


@dataclass(frozen=True)
class Reply:
    text: str
    end_call: bool = False
    transfer_to: str | None = None  # a department key of hotel.yaml
    # For staff, before the caller joins (a warm transfer); empty: a blind one.
    transfer_summary: str = ""
    call: ToolCall | None = None  # a hotel tool to run; its result comes back to `tool_result`


def _reply(step: Step) -> Reply:
    return Reply(step.text, call=step.call)


class DialogManager:
    """Understands one caller. Never strands them: "repeat that", "start over" and "let me
    talk to someone" work at any point; no sentence is said three times in a row (the third
    time a person or a call back is offered instead, and after that offer twice, the front
    desk)."""

    def __init__(
        self, prop: PropertyConfig, today: dt.date | None = None, language: str = "en"
    ) -> None:
        self.prop = prop
        self.language = language  # "en" or "es": what the replies are worded in (settable)
        self.today = today or dt.datetime.now(prop.zone).date()
        self._fixed_day = today is not None  # a given day (tests, replays) is not the clock's
        self._callback_asked = False  # "when shall we call you back?" is the open question
        self.booking: BookingFlow | None = None
        self.tools: set[str] = set()  # what the client registered (session.update)
        self._offered_more = False  # "anything else?" was asked: a plain "no" ends the call
        self._offered_help = False  # a person or a call back was offered: "yes" takes it
        self._said: list[str] = []  # what the agent said, latest last (tool results included)

    def greeting(self) -> str:
        if self.language == "es":
            return f"Gracias por llamar al {self.prop.name}. Soy {self.prop.agent.name}, ¿en qué puedo ayudarle?"
        return self.prop.greeting_words

    def expecting(self) -> str | None:
        """Answers the question just asked invites, worded as callers say them, for the
        speech-to-text to listen for; None when nothing in particular was asked."""
        if self._callback_asked:
            return "Tomorrow morning. This afternoon at three. On this number, please."
        if self.booking is not None and self.booking.stage != "done":
            return self.booking.expecting()
        return None

    def reply(self, utterance: str) -> Reply:
        said = normal(utterance)
        if _REPEAT.search(said) and self._said:
            return Reply(self._said[-1])  # asked for: the one repeat that is no loop
        return self._spoken(self._reply(utterance))

    def _spoken(self, reply: Reply) -> Reply:
        """Never the same sentence three times in a row: the third time, help is offered
        instead; the help offer itself a third time, the caller goes to the front desk."""
        if reply.call is None and self._said[-2:] == [reply.text, reply.text]:
            if reply.text == booking_flow.ESCALATION:
                reply = self._transfer("front_desk")
            else:
                self._offered_help = True
                reply = Reply(booking_flow.ESCALATION)
        self._said = [*self._said[-3:], reply.text]
        return reply

    def _reply(self, utterance: str) -> Reply:
        said = normal(utterance)
        words = set(WORD.findall(said))
        if not words:
            return Reply("Sorry, I didn't catch that. Could you say it again?")
        offered_help, self._offered_help = self._offered_help, False
        if offered_help:
            taken = self._take_help(utterance, said)
            if taken is not None:
                return taken
        offered_more, self._offered_more = self._offered_more, False
        if any(phrase in said for phrase in _GOODBYE) or (offered_more and _DONE.match(said)):
            return Reply(f"Thank you for calling the {self.prop.name}. Goodbye.", end_call=True)
        if _CARD.search(said) or len(slots.parse_digits(said)) >= 12:
            return self._card_details()
        if self._callback_asked or _CALLBACK.search(said):
            return self._callback(utterance)
        asks_transfer = _TRANSFER.search(said) is not None
        department = self._department_in(said)
        if asks_transfer and department is not None:
            return self._transfer(department, utterance)
        if _START_OVER.search(said) and self.booking is not None:
            self.booking = self._new_booking()
            step = self.booking.ask("arrival", "Of course, let's start again.")
            return Reply(step.text)
        if self.booking is not None and self.booking.stage != "done":
            return self._step(self.booking.hear(utterance))
        keyed = _KEYED.search(said)
        if keyed:
            return self._keyed(keyed.group(1))
        if _KEYED_MANY.search(said):
            return Reply("Thank you. How can I help you?")
        if BookingFlow.wanted(utterance, self.today) and department in (
            None,
            "reservations",
            "front_desk",
        ):
            self.booking = self._new_booking()
            return self._step(self.booking.hear(utterance))
        if department is not None:
            return self._transfer(department, utterance)
        answer = faq_answer(self.prop, words)
        if answer is not None:
            return Reply(answer)
        self._offered_help = True  # "yes" now means the front desk
        return Reply(
            "I'm sorry, I can't help with that myself. I can check rooms and prices, book a "
            "stay, answer questions about the hotel, or put you through to the front desk."
        )

    def _new_booking(self) -> BookingFlow:
        return BookingFlow(
            self.prop, self.today, can_text_links="generate_payment_link" in self.tools
        )

    def _step(self, step: Step) -> Reply:
        if step.hand_over:
            desk = self._transfer(
                "front_desk", about="They want to book a room; we could not understand each other."
            )
            return Reply(f"{step.text} {desk.text}".strip(), transfer_to=desk.transfer_to,
                         transfer_summary=desk.transfer_summary)  # fmt: skip
        if step.escalate:
            self._offered_help = True
        return _reply(step)

    def _take_help(self, utterance: str, said: str) -> Reply | None:
        """The answer to "the front desk, or a call back?": either, or None to carry on (the
        caller answered the question after all)."""
        if _CALLBACK.search(said) or "call me" in said or "call back" in said:
            return self._callback(utterance)
        yes = slots.parse_yes_no(utterance)
        short_yes = yes is True and len(WORD.findall(said)) <= 5  # "yes, please", not a request
        if _WANT_DESK.search(said) or (short_yes and not self._booking_slots_in(utterance)):
            return self._transfer(
                "front_desk",
                about="They asked for a person after we could not understand each other.",
            )
        return None

    def _booking_slots_in(self, utterance: str) -> bool:
        """Words that answer a booking question ("yes, two nights") rather than the offer."""
        return (
            slots.parse_nights(utterance) is not None
            or slots.parse_dates(utterance, self.today)[0] is not None
            or slots.parse_guests(utterance)[0] is not None
        )

    def _now(self) -> dt.datetime:
        if self._fixed_day:  # mid-morning of the given day
            return dt.datetime.combine(self.today, dt.time(9), tzinfo=self.prop.zone)
        return dt.datetime.now(self.prop.zone)

    def _callback(self, utterance: str) -> Reply:
        if "schedule_callback" not in self.tools:
            self._callback_asked = False
            return self._transfer("front_desk")
        when = slots.parse_when(utterance, self._now())
        if when is None:
            if self._callback_asked:  # asked once already: the desk can sort it out
                self._callback_asked = False
                return Reply("Sorry, I didn't catch a time. Could you say a day and a time?")
            self._callback_asked = True
            return Reply("Of course. When would be a good time for us to call you back?")
        self._callback_asked = False
        # Said back to the guest when we call ("calling you back about …").
        reason = "your booking enquiry" if self.booking else "your call to us earlier"
        return Reply(
            "Let me arrange that.",
            call=ToolCall(
                "schedule_callback",
                {"when": when.replace(tzinfo=None).isoformat(timespec="minutes"), "reason": reason},
            ),
        )

    def _card_details(self) -> Reply:
        """Never take a card by voice: stop the caller, offer the link (when there is a
        booking to pay for and the tool is there), else the front desk."""
        booking = self.booking
        if booking is not None and booking.confirmation_code and booking.can_text_links:
            return _reply(booking.offer_payment_link())
        return Reply(
            "Please don't give card details over the phone; we never take them this way. "
            "Once you have a booking I can text you a secure payment link."
        )

    def _department_in(self, said: str) -> str | None:
        """A department the words name (a key or its name); a person means the front desk."""
        for key, department in self.prop.departments.items():
            if key != "front_desk" and (
                key.replace("_", " ") in said or department.name.lower() in said
            ):
                return key
        if any(phrase in said for phrase in _PERSON) or "front desk" in said:
            return "front_desk"
        return None

    def _transfer(self, key: str, utterance: str = "", about: str = "") -> Reply:
        """Put through; with the caller's words (or what the call was about), staff hear
        them first (warm)."""
        name = self.prop.departments[key].name
        summary = f'They said: "{utterance.strip()}"' if utterance.strip() else about
        return Reply(
            f"Of course, I'll put you through to {name}.", transfer_to=key, transfer_summary=summary
        )

    def tool_result(self, name: str, output: dict[str, Any]) -> Reply:
        """A tool the dialog asked for has answered (function_call_output)."""
        reply = self._tool_result(name, output)
        self._said = [*self._said[-3:], reply.text]
        return reply

    def _tool_result(self, name: str, output: dict[str, Any]) -> Reply:
        if name == "schedule_callback":
            self._offered_more = "error" not in output
            text = str(output.get("error") or output.get("summary", ""))
            return Reply(f"{text} Is there anything else I can help you with?")
        if self.booking is None:
            return Reply("Is there anything else I can help you with?")
        step = self.booking.tool_result(name, output)
        self._offered_more = step.done
        return self._step(step)

    def tool_unavailable(self, name: str) -> Reply:
        desk = self.prop.departments["front_desk"].name
        return Reply(
            f"I'm sorry, I can't do that over the phone right now. I'll put you through to {desk}.",
            transfer_to="front_desk",
        )

    def _keyed(self, key: str) -> Reply:
        """Keys pressed while talking to the agent: the IVR's digits still work."""
        for department_key, department in self.prop.departments.items():
            if department.dtmf == key:
                return self._transfer(department_key)
        if key == "0":
            return self._transfer("front_desk")
        return Reply("How can I help you?")
