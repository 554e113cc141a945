"""The sentiment of what a caller said, scored offline at hang-up with VADER (PyPI
`vadersentiment`, whose lexicon ships inside the package: nothing is downloaded).

A caller's turn scores VADER's compound value, −1 (very negative) … 1 (very positive); the
call's sentiment is the mean of its scored caller turns. The agent's turns are not scored:
they say how the agent speaks, not how the caller feels.

English only, honestly: VADER's lexicon and rules are English, and no Spanish (or other)
sentiment model ships as a package here, so a turn in any other language is *not scored*
(None, stored as NULL), never guessed and never counted as neutral. A turn without a language
of its own takes the call's; without either it is read as English, the product's default.

VADER was built on social-media text; a hotel's phone line has phrases of its own. The small
domain lexicon below adds them (each with the reason), scored on VADER's −4 … 4 word scale;
tests/fixtures/sentiment/hotel_calls.jsonl (labelled by hand, never to fit the model) measures
the whole (tests/unit/test_sentiment.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from app.calls.records import Turn, TurnRole

POSITIVE_AT = 0.05  # VADER's own thresholds for its compound score
NEGATIVE_AT = -0.05

# Words and phrases of hotel calls VADER does not know (or weighs as in a tweet).
# VADER reads single tokens: a phrase is folded into one token before scoring.
HOTEL_PHRASES: dict[str, tuple[str, float]] = {
    # a request, not a liking ("I'd like to book a room" is no praise)
    "i'd like": ("idlike", 0.0),
    "i would like": ("idlike", 0.0),
    "we'd like": ("idlike", 0.0),
    "we would like": ("idlike", 0.0),
    # the friction of a phone line, which VADER's words miss
    "already told you": ("alreadytoldyou", -2.0),
    "transferred again": ("transferredagain", -2.0),
    "on hold forever": ("onholdforever", -2.5),
    "hold again": ("holdagain", -1.5),
    "too expensive": ("tooexpensive", -1.5),
    "thanks for nothing": ("thanksfornothing", -2.5),  # an idiom, VADER reads "thanks"
}
HOTEL_WORDS: dict[str, float] = {
    "okay": 0.0,  # on the phone an acknowledgement ("okay." while dates are read), not praise
    "ok": 0.0,
    "refund": -1.0,  # a caller asks for one when something went wrong
    "complicated": -1.0,
}
_PHRASE = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(HOTEL_PHRASES, key=len, reverse=True)) + r")\b"
)


class Polarity(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


def polarity(score: float) -> Polarity:
    """The bucket a score falls in (VADER's thresholds)."""
    if score >= POSITIVE_AT:
        return Polarity.POSITIVE
    if score <= NEGATIVE_AT:
        return Polarity.NEGATIVE
    return Polarity.NEUTRAL


@functools.cache  # read once; two threads racing at first use each build one, harmlessly
def _vader() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()  # reads the lexicon shipped in the package
    analyzer.lexicon.update(HOTEL_WORDS)
    analyzer.lexicon.update({token: score for token, score in HOTEL_PHRASES.values()})
    return analyzer


def scores_language(language: str | None) -> bool:
    """Whether a turn in this language is scored (English only; None is read as English)."""
    return language is None or language.split("-")[0].lower() == "en"


def score_text(text: str, language: str | None) -> float | None:
    """One utterance's compound score, or None when it is not scored (not English, no words)."""
    if not scores_language(language) or not any(c.isalpha() for c in text):
        return None
    folded = _PHRASE.sub(lambda m: HOTEL_PHRASES[m.group(1)][0], text.lower().replace("’", "'"))
    compound = float(_vader().polarity_scores(folded)["compound"])
    return max(-1.0, min(1.0, compound))


@dataclass(frozen=True)
class CallSentiment:
    turns: dict[int, float | None]  # caller turns by seq: their score, None = not scored
    call: float | None  # the mean of the scored ones, None when none was


def score_call(turns: Iterable[Turn], call_language: str | None) -> CallSentiment:
    """Every caller turn of a call scored, and the call's mean (blocking: run off the loop)."""
    scored: dict[int, float | None] = {}
    for turn in turns:
        if turn.role is TurnRole.CALLER:
            scored[turn.seq] = score_text(turn.text, turn.language or call_language)
    values = [s for s in scored.values() if s is not None]
    return CallSentiment(scored, sum(values) / len(values) if values else None)
