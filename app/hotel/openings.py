"""The agent's first words when a call is not a plain one: the hotel's wording, one place.

Each takes the property the call is for (its departments, its agent's name); the plain
greeting is the persona's own (PropertyConfig.greeting_words)."""

from __future__ import annotations

from app.hotel.config import PropertyConfig


def _department_name(prop: PropertyConfig, destination: str) -> str:
    department = prop.department_at(destination)
    return department.name if department is not None else "the team"


def after_unanswered(prop: PropertyConfig, destination: str) -> str:
    """Back from a department's phone or queue that nobody answered."""
    return (
        f"I'm sorry, nobody at {_department_name(prop, destination)} could take your call just "
        "now. I can arrange for them to call you back, or help you myself. What would you "
        "prefer?"
    )


def department_closed(prop: PropertyConfig, destination: str) -> str:
    """The caller pressed the key of a department that is closed now."""
    name = _department_name(prop, destination)
    return (
        f"{name[:1].upper()}{name[1:]} is closed right now. I can help you myself, take a "
        "message, or arrange a call back when they open. What would you like?"
    )


def callback_request(prop: PropertyConfig) -> str:
    """The caller pressed the menu's call-back key."""
    return (
        "You asked for a call back. What number should we call, when suits you, "
        "and what is it about?"
    )


def calling_back(prop: PropertyConfig, reason: str) -> str:
    """A call we placed, answered by the guest."""
    return (
        f"Hello, this is {prop.agent.name} from the {prop.name}, calling you back about "
        f"{reason}. Is now a good time?"
    )
