"""Caller sentiment with VADER (app/analytics/sentiment.py): accuracy on hand-labelled hotel
calls, and what is not scored."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from app.analytics.sentiment import Polarity, polarity, score_call, score_text
from app.calls.records import Turn, TurnRole

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "sentiment" / "hotel_calls.jsonl"
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def _turn(seq: int, role: TurnRole, text: str, language: str | None = "en") -> Turn:
    return Turn(seq=seq, role=role, text=text, started_at=NOW, language=language)


def test_accuracy_on_labelled_hotel_call_utterances_is_at_least_80_percent() -> None:
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    assert len(rows) >= 60
    assert {r["label"] for r in rows} == {"positive", "neutral", "negative"}
    misses = []
    for row in rows:
        score = score_text(row["text"], "en")
        assert score is not None
        if polarity(score) != Polarity(row["label"]):
            misses.append(f"{score:+.3f} {row['label']}: {row['text']}")
    accuracy = 1 - len(misses) / len(rows)
    print(
        f"sentiment accuracy {accuracy:.1%} on {len(rows)} utterances; misses:", *misses, sep="\n"
    )
    assert accuracy >= 0.80, misses


def test_buckets_use_vaders_thresholds() -> None:
    assert polarity(0.05) is Polarity.POSITIVE and polarity(0.0499) is Polarity.NEUTRAL
    assert polarity(-0.05) is Polarity.NEGATIVE and polarity(-0.0499) is Polarity.NEUTRAL


def test_spanish_and_other_languages_are_not_scored() -> None:
    assert score_text("Muchas gracias, es perfecto.", "es") is None
    assert score_text("Terrible, horrible service", "es-419") is None  # the language decides
    assert score_text("Merci beaucoup", "fr") is None
    assert score_text("Thank you so much", "en-US") is not None


def test_a_turn_without_words_is_not_scored() -> None:
    assert score_text("", "en") is None
    assert score_text("[card number] 1234", "en") is not None  # words around a mask
    assert score_text("••••", "en") is None


def test_hotel_phrases_vader_misses_read_negative() -> None:
    for said in ("I already told you that.", "I was on hold forever.", "Transferred again!"):
        score = score_text(said, "en")
        assert score is not None and polarity(score) is Polarity.NEGATIVE, (said, score)
    score = score_text("I'd like to book a room.", "en")  # a request, not praise
    assert score is not None and polarity(score) is Polarity.NEUTRAL


def test_the_calls_sentiment_is_the_mean_of_its_scored_caller_turns() -> None:
    turns = [
        _turn(0, TurnRole.AGENT, "Wonderful to hear from you, this is Ava!"),
        _turn(1, TurnRole.CALLER, "Thank you so much, that's perfect."),
        _turn(2, TurnRole.CALLER, "Muchas gracias", language="es"),
        _turn(3, TurnRole.CALLER, "This is the worst service I've ever had."),
        _turn(4, TurnRole.DTMF, "1"),
    ]
    result = score_call(turns, "en")
    assert set(result.turns) == {1, 2, 3}  # caller turns only
    assert result.turns[2] is None
    first, third = result.turns[1], result.turns[3]
    assert first is not None and third is not None and first > 0 > third
    assert result.call is not None and abs(result.call - (first + third) / 2) < 1e-9


def test_a_call_with_no_scored_turn_has_no_sentiment() -> None:
    spanish = [_turn(1, TurnRole.CALLER, "Quiero una habitación", language=None)]
    assert score_call(spanish, "es").call is None  # the call's language stands in
    assert score_call([], "en").call is None
