"""The call's first words follow the language the caller chose in the menu, when the engine
speaks it; otherwise they are said as written. The offline engine words its own greeting
(in the call's language, or its DEFAULT_LANGUAGE)."""

import uuid

import pytest

from app.calls.agent import AgentConversation
from app.calls.engine_port import EngineCapabilities
from app.calls.session import CallSession
from app.engines.local.server import CAPABILITIES as ENGLISH_ONLY
from app.engines.local.server import capabilities
from app.hotel import openings
from app.hotel.config import load_hotel_config
from app.settings import PROJECT_ROOT

HOTEL = load_hotel_config(PROJECT_ROOT / "config" / "hotel.yaml")
HARBORVIEW = HOTEL.get_property("harborview")  # languages: en-US, es-ES
GREETING = HARBORVIEW.greeting_words
OFFLINE = capabilities(HARBORVIEW)


class Engine:
    def __init__(self, capabilities: EngineCapabilities) -> None:
        self.capabilities = capabilities
        self.said: list[str] = []
        self.asked: list[str | None] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def respond(self, instructions: str | None = None) -> None:
        self.asked.append(instructions)


def _first_words(language: str, capabilities: EngineCapabilities, words: str = GREETING) -> Engine:
    agent = AgentConversation(
        connector=None,  # type: ignore[arg-type]
        property_for=HOTEL.get_property,
        fallback=("frontdesk-fallback", "s"),
    )
    agent._session = CallSession(uuid.uuid4(), "harborview", "agent", language=language)
    engine = Engine(capabilities)
    agent._first_words(engine, words)  # type: ignore[arg-type]
    return engine


def test_a_spanish_caller_is_greeted_in_spanish_by_an_engine_that_speaks_it() -> None:
    engine = _first_words("es", EngineCapabilities())  # OpenAI Realtime: any language
    assert engine.said == []
    [asked] = engine.asked
    assert asked is not None and "in Spanish" in asked and GREETING in asked


@pytest.mark.parametrize(
    ("language", "capabilities"), [("es", OFFLINE), ("en", OFFLINE), ("es", ENGLISH_ONLY)]
)
def test_the_offline_engine_greets_by_itself_in_the_calls_language(
    language: str, capabilities: EngineCapabilities
) -> None:
    # A response asked for with nothing said yet: the engine's dialog greets, in Spanish for
    # a caller who chose it, else in the engine's default language (DEFAULT_LANGUAGE) or,
    # for a property without Spanish, in English.
    engine = _first_words(language, capabilities)
    assert engine.said == [] and engine.asked == [None]


def test_a_spanish_caller_hears_the_offline_engines_greeting_rather_than_english() -> None:
    opening = openings.callback_request(HARBORVIEW)  # no Spanish words for it offline
    engine = _first_words("es", OFFLINE, opening)
    assert engine.said == [] and engine.asked == [None]


@pytest.mark.parametrize(
    ("language", "capabilities", "words"),
    [
        ("es", ENGLISH_ONLY, openings.callback_request(HARBORVIEW)),  # no Spanish offline
        ("en", EngineCapabilities(), GREETING),  # OpenAI in English: as before
        ("en", OFFLINE, openings.callback_request(HARBORVIEW)),  # an opening of its own
    ],
    ids=["offline-without-spanish", "openai-english", "offline-opening"],
)
def test_otherwise_the_first_words_are_said_as_written(
    language: str, capabilities: EngineCapabilities, words: str
) -> None:
    engine = _first_words(language, capabilities, words)
    assert engine.said == [words] and engine.asked == []


def test_the_offline_engine_says_what_it_speaks_for_each_property() -> None:
    assert OFFLINE.speaks("en") and OFFLINE.speaks("es") and not OFFLINE.free_instructions
    pinecrest = capabilities(HOTEL.get_property("pinecrest"))  # languages: en-US
    assert pinecrest.speaks("en") and not pinecrest.speaks("es")
    assert not ENGLISH_ONLY.speaks("es")
    assert EngineCapabilities().speaks("es")
