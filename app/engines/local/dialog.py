"""The offline engine's dialog manager: rule-based, honest about what it is.

No language model ships as a package, so the offline brain matches what the caller said
against the hotel's own facts (FAQ keywords, departments) and a few intents (goodbye, a person).
Booking conversations with slots and tool calls are the next step (they need the hotel tools).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.hotel.config import PropertyConfig
from app.hotel.faq import WORD, faq_answer, normal

_GOODBYE = {"bye", "goodbye", "that's all", "that is all", "nothing else", "hang up"}
_PERSON = {
    "front desk",
    "operator",
    "human",
    "person",
    "someone",
    "agent",
    "representative",
    "receptionist",
}
_KEYED = re.compile(r"pressed (\d|\*|#) on the (?:telephone )?keypad")


@dataclass(frozen=True)
class Reply:
    text: str
    end_call: bool = False
    transfer_to: str | None = None  # a department key of hotel.yaml


class DialogManager:
    def __init__(self, prop: PropertyConfig) -> None:
        self.prop = prop

    def greeting(self) -> str:
        return self.prop.agent.greeting.replace("{property_name}", self.prop.name)

    def reply(self, utterance: str) -> Reply:
        said = normal(utterance)
        words = set(WORD.findall(said))
        if not words:
            return Reply("Sorry, I didn't catch that. Could you say it again?")
        keyed = _KEYED.search(said)
        if keyed:
            return self._keyed(keyed.group(1))
        if any(phrase in said for phrase in _GOODBYE):
            return Reply(f"Thank you for calling the {self.prop.name}. Goodbye.", end_call=True)
        for key, department in self.prop.departments.items():
            if key != "front_desk" and (
                key.replace("_", " ") in said or department.name.lower() in said
            ):
                return Reply(
                    f"Of course, I'll put you through to {department.name}.", transfer_to=key
                )
        if any(phrase in said for phrase in _PERSON):
            desk = self.prop.departments["front_desk"].name
            return Reply(f"Of course, I'll put you through to {desk}.", transfer_to="front_desk")
        answer = faq_answer(self.prop, words)
        if answer is not None:
            return Reply(answer)
        return Reply(
            "I'm sorry, I can't help with that myself. I can answer questions about the hotel, "
            "or put you through to the front desk."
        )

    def _keyed(self, key: str) -> Reply:
        """Keys pressed while talking to the agent: the IVR's digits still work."""
        for department_key, department in self.prop.departments.items():
            if department.dtmf == key:
                return Reply(
                    f"Of course, I'll put you through to {department.name}.",
                    transfer_to=department_key,
                )
        if key == "0":
            desk = self.prop.departments["front_desk"].name
            return Reply(f"Of course, I'll put you through to {desk}.", transfer_to="front_desk")
        return Reply("How can I help you?")
