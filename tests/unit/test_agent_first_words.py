"""The call's first words follow the language the caller chose in the menu, when the engine
speaks it; otherwise they are said as written."""

import uuid

import pytest

from app.calls.agent import AgentConversation
from app.calls.engine_port import EngineCapabilities
from app.calls.session import CallSession
from app.engines.local.server import CAPABILITIES as OFFLINE
from app.hotel.config import load_hotel_config
from app.settings import PROJECT_ROOT

HOTEL = load_hotel_config(PROJECT_ROOT / "config" / "hotel.yaml")
GREETING = HOTEL.get_property("harborview").greeting_words


class Engine:
    def __init__(self, capabilities: EngineCapabilities) -> None:
        self.capabilities = capabilities
        self.said: list[str] = []
        self.asked: list[str | None] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def respond(self, instructions: str | None = None) -> None:
        self.asked.append(instructions)


def _first_words(language: str, capabilities: EngineCapabilities) -> Engine:
    agent = AgentConversation(
        connector=None,  # type: ignore[arg-type]
        property_for=HOTEL.get_property,
        fallback=("frontdesk-fallback", "s"),
    )
    agent._session = CallSession(uuid.uuid4(), "harborview", "agent", language=language)
    engine = Engine(capabilities)
    agent._first_words(engine, GREETING)  # type: ignore[arg-type]
    return engine


def test_a_spanish_caller_is_greeted_in_spanish_by_an_engine_that_speaks_it() -> None:
    engine = _first_words("es", EngineCapabilities())  # OpenAI Realtime: any language
    assert engine.said == []
    [asked] = engine.asked
    assert asked is not None and "in Spanish" in asked and GREETING in asked


@pytest.mark.parametrize(
    ("language", "capabilities"),
    [("es", OFFLINE), ("en", EngineCapabilities()), ("en", OFFLINE)],
)
def test_otherwise_the_greeting_is_said_as_written(
    language: str, capabilities: EngineCapabilities
) -> None:
    engine = _first_words(language, capabilities)
    assert engine.said == [GREETING] and engine.asked == []


def test_the_offline_engine_says_what_it_speaks() -> None:
    assert OFFLINE.speaks("en") and not OFFLINE.speaks("es") and not OFFLINE.free_instructions
    assert EngineCapabilities().speaks("es")
