"""The offline engine's dialog manager: rule-based, honest about what it is.

No language model ships as a package, so the offline brain matches what the caller said
against a few intents, in this order: "repeat that"; goodbye; card details (refused); a
person ("let me talk to someone", at any stage); "start over"; the answer to an offer of a
person or a call back; a call back; a department; a booking (the booking flow, which calls
the hotel tools through function calls); the hotel's own facts (FAQ).

A caller is never stranded: a question is asked at most twice (the second time with an
example), then a person or a call back is offered; a third time, the front desk. The same
sentence is never said three times in a row, except when the caller asks to hear it again.

The dialog speaks English or Spanish (`language`, set from the call: the menu's key or the
first words heard); what that changes lives in language.py's modules, not here. One
DialogManager per conversation: it remembers where the booking stands.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from app.calls.languages import language_name
from app.engines.local.booking_flow import BookingFlow, Step, ToolCall
from app.engines.local.language import Parser, language_code, parser, wording
from app.engines.local.wording import Wording
from app.hotel.config import PropertyConfig
from app.hotel.faq import WORD, faq_answer, normal

# The agent writes keys pressed in English, whatever the call's language.
_KEYED = re.compile(r"pressed (\d|\*|#) on the (?:telephone )?keypad")
_KEYED_MANY = re.compile(r"keyed ([\d*]+) on the (?:telephone )?keypad")
# Said back to the guest when we call ("calling you back about …"), and seen by staff.
_REASON_BOOKING = "your booking enquiry"
_REASON_CALL = "your call to us earlier"
# For staff, when the dialog gives up on understanding the caller.
_NOT_UNDERSTOOD = "The AI receptionist could not understand the caller."


@dataclass(frozen=True)
class Reply:
    text: str
    end_call: bool = False
    transfer_to: str | None = None  # a department key of hotel.yaml
    # For staff, before the caller joins (a warm transfer); empty: a blind one.
    transfer_summary: str = ""
    call: ToolCall | None = None  # a hotel tool to run; its result comes back to `tool_result`
    question: str | None = None  # the question `text` asks ("length", "rescue" …), if any


class DialogManager:
    """`language` ("en" or "es", settable at any time) is the language the caller is heard
    and answered in; `greeting()` is in it too."""

    def __init__(
        self, prop: PropertyConfig, today: dt.date | None = None, language: str = "en"
    ) -> None:
        self.prop = prop
        self.today = today or dt.datetime.now(prop.zone).date()
        self._fixed_day = today is not None  # a given day (tests, replays) is not the clock's
        self._language = language_code(language)
        self._callback_asked = False  # "when shall we call you back?" is the open question
        self.booking: BookingFlow | None = None
        self.tools: set[str] = set()  # what the client registered (session.update)
        self._offered_more = False  # "anything else?" was asked: a plain "no" ends the call
        self._asked: dict[str, int] = {}  # the dialog's own questions → times asked
        self._rescue: str | None = None  # "rescue" or "rescue_desk": a person was offered
        self._said: list[str] = []  # everything said, in order (never a third time running)
        self._last = ""  # what "repeat that" repeats
        self._last_question: str | None = None
        self._caller_name: str | None = None  # introduced before any booking

    # --- the call's language --------------------------------------------------------------------
    @property
    def language(self) -> str:
        return self._language

    @language.setter
    def language(self, value: str) -> None:
        self._language = language_code(value)
        if self.booking is not None:
            self.booking.language = self._language

    @property
    def words(self) -> Wording:
        return wording(self.prop, self._language)

    @property
    def parse(self) -> Parser:
        return parser(self._language)

    def _open_booking(self) -> BookingFlow | None:
        """The booking under way, if one is (not yet booked or given up)."""
        return self.booking if self.booking is not None and self.booking.stage != "done" else None

    def greeting(self) -> str:
        text = self.words.greeting()
        self._last, self._last_question = text, None
        return text

    def expecting(self) -> str | None:
        """Answers the question just asked invites, worded as callers say them, for the
        speech-to-text to listen for; None when nothing in particular was asked."""
        if self._rescue:
            return None
        if self._callback_asked:
            return self.words.hint("callback_when")
        if (booking := self._open_booking()) is not None:
            return booking.expecting()
        return None

    # --- the caller speaks ----------------------------------------------------------------------
    def again(self) -> Reply:
        """The last thing said, once more ("repeat that", or a reply a noise cut off)."""
        return Reply(self._last or self.greeting(), question=self._last_question)

    def reply(self, utterance: str) -> Reply:
        said = normal(utterance)
        if not WORD.findall(said):
            return self._out(self._ask_here("unheard"))
        self._asked.pop("unheard", None)
        if self.parse.cue(utterance, "repeat"):
            return self.again()
        reply = self._route(utterance, said)
        if reply.question != "cant_help":
            self._asked.pop("cant_help", None)
        return self._out(reply)

    def _route(self, utterance: str, said: str) -> Reply:
        p, w = self.parse, self.words
        offered_more, self._offered_more = self._offered_more, False
        if p.cue(utterance, "goodbye") or (offered_more and p.cue(utterance, "done")):
            return Reply(w.say("goodbye"), end_call=True)
        if p.cue(utterance, "card") or len(p.parse_digits(said)) >= 12:
            return self._card_details()
        if p.cue(utterance, "person"):
            return self._transfer("front_desk", utterance)
        if p.cue(utterance, "start_over"):
            return self._start_over()
        if self._rescue is not None:
            return self._rescued(utterance, said)
        if self._callback_asked or p.cue(utterance, "callback"):
            return self._callback(utterance)
        department = self._department_in(said)
        if p.cue(utterance, "transfer") and department is not None:
            return self._transfer(department, utterance)
        if (booking := self._open_booking()) is not None:
            return self._step(booking.hear(utterance))
        keyed = _KEYED.search(said)
        if keyed:
            return self._keyed(keyed.group(1))
        if _KEYED_MANY.search(said):
            return Reply(w.say("keyed_many"))
        answer = faq_answer(self.prop, set(WORD.findall(said)), self._language)
        if department in (None, "reservations", "front_desk") and (
            BookingFlow.wanted(utterance, self.today, self._language)
            or (answer is None and self._about_a_stay(utterance))
        ):
            self.booking = self._new_booking()
            return self._step(self.booking.hear(utterance))
        if department is not None:
            return self._transfer(department, utterance)
        if answer is not None:
            return Reply(answer)
        name = p.introduced_name(utterance)
        if name is not None:  # kept for the booking they are about to ask for
            self._caller_name = name
            return Reply(f"{w.say('name_thanks', name=name)} {w.say('how_help')}")
        return self._ask_here("cant_help")

    def _about_a_stay(self, utterance: str) -> bool:
        """A date, a length or a party said out of the blue ("Friday, for two adults"): a
        hotel receptionist hears a booking."""
        p = self.parse
        return (
            p.parse_dates(utterance, self.today)[0] is not None
            or p.parse_nights(utterance) is not None
            or p.parse_guests(utterance)[0] is not None
        )

    def _new_booking(self) -> BookingFlow:
        return BookingFlow(
            self.prop,
            self.today,
            can_text_links="generate_payment_link" in self.tools,
            language=self._language,
            name=self._caller_name,
        )

    def _out(self, reply: Reply) -> Reply:
        """Remember what is said (for "repeat that"); never the same words three times in a
        row: the third time, a person or a call back is offered instead."""
        plain = reply.call is None and reply.transfer_to is None and not reply.end_call
        if plain and self._said[-2:] == [reply.text, reply.text]:
            reply = self._offer_rescue("")
        self._said = [*self._said[-1:], reply.text]
        if reply.call is None:  # "Let me check that for you" is not worth repeating
            self._last, self._last_question = reply.text, reply.question
        return reply

    def _step(self, step: Step) -> Reply:
        if step.escalate:
            return self._offer_rescue(step.text, after_error=not step.question)
        self._offered_more = step.done
        return Reply(step.text, call=step.call, question=step.question)

    def _ask_here(self, key: str, **values: Any) -> Reply:
        """One of the dialog's own questions (not the booking's): twice, then a person."""
        attempt = self._asked.get(key, 0) + 1
        if attempt > 2:
            self._asked.pop(key, None)
            return self._offer_rescue("")
        self._asked[key] = attempt
        return Reply(self.words.ask(key, attempt, **values), question=key)

    # --- a person or a call back, instead of a third time ---------------------------------------
    def _offer_rescue(
        self, before: str, after_error: bool = False, desk_only: bool = False
    ) -> Reply:
        w = self.words
        key = "rescue" if "schedule_callback" in self.tools and not desk_only else "rescue_desk"
        attempt = self._asked.get("rescue", 0) + 1
        if attempt > 2:  # offered twice: the front desk sorts it out
            self._rescue = None
            self._asked.pop("rescue", None)
            desk = w.department("front_desk")
            return self._transfer(
                "front_desk", note=_NOT_UNDERSTOOD, text=w.say("rescue_transfer", desk=desk)
            )
        self._asked["rescue"] = attempt
        self._rescue = key
        apology = "" if attempt > 1 or after_error else w.say("not_getting")
        question = w.ask(key, attempt, desk=w.department("front_desk"))
        text = " ".join(part for part in (before, apology, question) if part)
        return Reply(text, question=key)

    def _rescued(self, utterance: str, said: str) -> Reply:
        """The answer to "shall I put you through, or have someone call you back?"."""
        p, offered = self.parse, self._rescue
        answer = p.parse_yes_no(utterance)
        position = p.parse_position(utterance)
        department = self._department_in(said)
        if offered == "rescue" and (p.cue(utterance, "callback") or position == "2"):
            self._rescue = None
            return self._callback(utterance)
        if department is not None or position == "1" or (offered == "rescue_desk" and answer):
            self._rescue = None
            return self._transfer(department or "front_desk", utterance)
        if answer is False:  # neither: go on trying
            self._rescue = None
            if (booking := self._open_booking()) is not None:
                return self._step(booking.retry())
            return Reply(f"{self.words.say('keep_trying')} {self.words.say('how_help')}")
        before = ""
        if (booking := self._open_booking()) is not None:
            step = booking.hear(utterance)  # perhaps the answer, after all
            if not step.escalate:
                self._rescue = None
                self._asked.pop("rescue", None)
                return self._step(step)
            before = step.text
        else:  # something else the dialog understands, perhaps
            self._rescue = None
            reply = self._route(utterance, said)
            if reply.question != "cant_help":
                self._asked.pop("rescue", None)
                return reply
            self._asked.pop("cant_help", None)
        return self._offer_rescue(before, desk_only=offered == "rescue_desk")

    def _start_over(self) -> Reply:
        self._rescue, self._callback_asked = None, False
        self._asked.clear()
        start = self.words.say("start_over")
        if self.booking is None:
            return Reply(f"{start} {self.words.say('how_help')}")
        self.booking = self._new_booking()
        return self._step(self.booking.next([start]))

    # --- call backs, cards, transfers -----------------------------------------------------------
    def _now(self) -> dt.datetime:
        if self._fixed_day:  # mid-morning of the given day
            return dt.datetime.combine(self.today, dt.time(9), tzinfo=self.prop.zone)
        return dt.datetime.now(self.prop.zone)

    def _callback(self, utterance: str) -> Reply:
        if "schedule_callback" not in self.tools:
            self._callback_asked = False
            return self._transfer("front_desk")
        when = self.parse.parse_when(utterance, self._now())
        if when is None:
            attempt = self._asked.get("callback_when", 0) + 1
            if attempt > 2:  # no time heard twice: the desk can sort it out
                self._callback_asked = False
                self._asked.pop("callback_when", None)
                return self._offer_rescue("", desk_only=True)
            self._callback_asked = True
            self._asked["callback_when"] = attempt
            return Reply(self.words.ask("callback_when", attempt), question="callback_when")
        self._callback_asked = False
        self._asked.pop("callback_when", None)
        reason = _REASON_BOOKING if self.booking else _REASON_CALL
        return Reply(
            self.words.say("arranging"),
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
            return self._step(booking.offer_payment_link())
        return Reply(self.words.say("card"))

    def _department_in(self, said: str) -> str | None:
        """A department the words name (a key or its name); a person means the front desk."""
        p = self.parse
        for key, department in self.prop.departments.items():
            if key != "front_desk" and any(
                phrase and phrase in said for phrase in p.department_phrases(key, department)
            ):
                return key
        desk = p.department_phrases("front_desk", self.prop.departments["front_desk"])
        if any(phrase in said for phrase in (*p.person_words(), *desk)) or "front desk" in said:
            return "front_desk"
        return None

    def _transfer(self, key: str, utterance: str = "", note: str = "", text: str = "") -> Reply:
        """Put through; with the caller's words, staff hear them first (warm), with where the
        booking stood and the caller's language."""
        w = self.words
        self._rescue = None
        summary = []
        if utterance.strip():
            summary.append(f'They said: "{utterance.strip()}"')
        if summary or note:
            if note:
                summary.insert(0, note)
            if (booking := self._open_booking()) is not None:
                summary.append(booking.staff_summary())
            if self._language != "en":
                summary.append(f"The caller speaks {language_name(self._language)}.")
        return Reply(
            text or w.say("transfer", department=w.department(key)),
            transfer_to=key,
            transfer_summary=" ".join(s for s in summary if s),
        )

    # --- tools answer ---------------------------------------------------------------------------
    def tool_result(self, name: str, output: dict[str, Any]) -> Reply:
        """A tool the dialog asked for has answered (function_call_output)."""
        return self._out(self._tool_result(name, output))

    def _tool_result(self, name: str, output: dict[str, Any]) -> Reply:
        w = self.words
        if name == "schedule_callback":
            error = output.get("error")
            if error:
                spoken = w.tool_error(str(error))
                if spoken is None:
                    return self._offer_rescue(w.say("error"), after_error=True, desk_only=True)
                self._callback_asked = spoken.rstrip().endswith("?")
                return Reply(spoken, question="callback_when" if self._callback_asked else None)
            self._offered_more = True
            return Reply(f"{w.callback_arranged(output, self._now())} {w.say('anything_else')}")
        if self.booking is None:
            return Reply(w.say("anything_else"))
        return self._step(self.booking.tool_result(name, output))

    def tool_unavailable(self, name: str) -> Reply:
        w = self.words
        return self._out(
            Reply(
                w.say("unavailable", department=w.department("front_desk")),
                transfer_to="front_desk",
            )
        )

    def _keyed(self, key: str) -> Reply:
        """Keys pressed while talking to the agent: the IVR's digits still work."""
        for department_key, department in self.prop.departments.items():
            if department.dtmf == key:
                return self._transfer(department_key)
        if key == "0":
            return self._transfer("front_desk")
        return Reply(self.words.say("how_help"))
