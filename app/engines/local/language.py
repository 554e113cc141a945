"""The languages the offline dialog speaks: for each, a parser of the caller's words
(slots.py, slots_es.py) and the receptionist's own words (wording.py, wording_es.py).

The dialog asks `parser(language)` and `wording(prop, language)` instead of branching on the
language: a new language is a new pair of modules and a line here.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from app.calls.languages import base_language
from app.engines.local import slots, slots_es
from app.engines.local.wording import Wording
from app.engines.local.wording_es import SpanishWording
from app.hotel.config import DepartmentConfig, PropertyConfig

LANGUAGES = ("en", "es")


class Parser(Protocol):
    """What a language's slots module provides (each function: see slots.py)."""

    def cue(self, text: str, name: str) -> bool: ...
    def parse_dates(
        self, text: str, today: dt.date, arrival: dt.date | None = None
    ) -> tuple[dt.date | None, dt.date | None]: ...
    def parse_nights(self, text: str, asked: bool = False) -> int | None: ...
    def parse_guests(self, text: str, asked: bool = False) -> tuple[int | None, int | None]: ...
    def parse_yes_no(self, text: str) -> bool | None: ...
    def parse_name(self, text: str) -> str | None: ...
    def introduced_name(self, text: str) -> str | None: ...
    def parse_digits(self, text: str) -> str: ...
    def parse_position(self, text: str) -> str | None: ...
    def parse_when(self, text: str, now: dt.datetime) -> dt.datetime | None: ...
    def wants_booking(self, text: str, today: dt.date) -> bool: ...
    def department_phrases(self, key: str, department: DepartmentConfig) -> list[str]: ...
    def person_words(self) -> tuple[str, ...]: ...


_PARSERS: dict[str, Parser] = {"en": slots, "es": slots_es}
_WORDINGS: dict[str, type[Wording]] = {"en": Wording, "es": SpanishWording}


def language_code(language: str | None) -> str:
    """'es', 'es-ES', 'ES' → 'es'; anything the dialog does not speak → 'en'."""
    code = base_language(language)
    return code if code in LANGUAGES else "en"


def parser(language: str) -> Parser:
    return _PARSERS[language_code(language)]


def wording(prop: PropertyConfig, language: str) -> Wording:
    return _WORDINGS[language_code(language)](prop)
