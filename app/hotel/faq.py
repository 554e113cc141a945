"""Answers from the hotel's own facts (hotel.yaml): the FAQ, policies, times, address.

Matching is by words, not meaning: FAQ keywords count double, words of the question once.
Used by the get_hotel_info tool and by the offline engine's dialog manager. An entry's
`translations` answer in another language (Spanish: `es`); English is the fallback.
"""

from __future__ import annotations

import re
import unicodedata

from app.hotel.config import PropertyConfig

WORD = re.compile(r"[a-z0-9']+")
_STOP = set(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "do",
        "you",
        "have",
        "i",
        "to",
        "of",
        "for",
        "can",
        "my",
        "what",
        "there",
        "it",
        "in",
        "on",
        "at",
        "and",
        "or",
        "be",
        "with",
        "your",
        "me",
        "how",
        "does",
    ]
)
_STOP_ES = {"el", "la", "los", "las", "un", "una", "unos", "unas", "de", "del", "que", "y", "o",
            "a", "al", "en", "es", "hay", "tienen", "tiene", "puedo", "puede", "para", "con",
            "por", "mi", "me", "se", "su", "sus", "cual", "como", "donde", "cuando", "esta",
            "lo", "le", "no", "si", "hotel", "ustedes", "usted", "hacer"}  # fmt: skip
_POLICY_WORDS = {
    "cancellation": {"cancel", "cancellation", "cancelling", "refund"},
    "pets": {"pet", "pets", "dog", "dogs", "cat", "cats"},
    "parking": {"parking", "park", "car", "valet"},
    "deposit": {"deposit", "authorisation", "authorization", "incidentals"},
    "smoking": {"smoking", "smoke", "cigarette", "vape"},
}
_WHERE = {"address", "where", "directions", "located", "location", "find"}
_AMENITIES = {"amenities", "facilities", "features", "offer"}


def fold(text: str) -> str:
    """Lower case without accents, one character for one ("Habitación" → "habitacion", "ñ" →
    "n"): speech-to-text writes Spanish with accents or without, and positions in the folded
    text are positions in the original."""
    return "".join(
        unicodedata.normalize("NFD", c)[0].lower() if len(c.lower()) == 1 else c for c in text
    )


def normal(text: str) -> str:
    # "Wi-Fi", "wi fi" and "wifi" are one word to a caller; so are "check-in" and "checkin".
    return fold(text).replace("-", "").replace("wi fi", "wifi").strip()


def words_of(text: str) -> set[str]:
    return set(WORD.findall(normal(text)))


def faq_answer(prop: PropertyConfig, words: set[str], language: str = "en") -> str | None:
    """The FAQ answer the words ask for, in `language` where the entry has it (its English
    keywords match too: callers say "wifi" and "parking" in Spanish)."""
    best, best_score = None, 0.0
    for entry in prop.faq:
        translation = entry.translations.get(language) if language != "en" else None
        keywords = {normal(k) for k in entry.keywords}
        question = set(WORD.findall(normal(entry.question))) - _STOP
        if translation is not None:
            keywords |= {normal(k) for k in translation.keywords}
            question = set(WORD.findall(normal(translation.question))) - _STOP_ES
        score = 2.0 * sum(
            1 for k in keywords if k in words or (" " in k and all(p in words for p in k.split()))
        )
        score += len(question & words)
        if score > best_score:
            best = translation.answer if translation is not None else entry.answer
            best_score = score
    return best if best_score >= 2 else None


def hotel_answer(prop: PropertyConfig, topic: str) -> str | None:
    """The best answer the hotel file gives on a topic, or None."""
    words = words_of(topic)
    answer = faq_answer(prop, words)
    if answer is not None:
        return answer
    for policy, keys in _POLICY_WORDS.items():
        if words & keys:
            return str(getattr(prop.policies, policy))
    if words & _WHERE:
        a = prop.address
        return f"We are at {a.street}, {a.city}, {a.region} {a.postal_code}."
    if words & _AMENITIES:
        return "We offer " + ", ".join(prop.amenities) + "."
    if {"checkin", "checkout", "check"} & words:
        return (
            f"Check-in is from {prop.check_in_time:%H:%M} and check-out is by "
            f"{prop.check_out_time:%H:%M}."
        )
    return None
