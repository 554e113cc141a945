"""Answers from the hotel's own facts (hotel.yaml): the FAQ, policies, times, address.

Matching is by words, not meaning: FAQ keywords count double, words of the question once.
Used by the get_hotel_info tool and by the offline engine's dialog manager.
"""

from __future__ import annotations

import re

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
_POLICY_WORDS = {
    "cancellation": {"cancel", "cancellation", "cancelling", "refund"},
    "pets": {"pet", "pets", "dog", "dogs", "cat", "cats"},
    "parking": {"parking", "park", "car", "valet"},
    "deposit": {"deposit", "authorisation", "authorization", "incidentals"},
    "smoking": {"smoking", "smoke", "cigarette", "vape"},
}
_WHERE = {"address", "where", "directions", "located", "location", "find"}
_AMENITIES = {"amenities", "facilities", "features", "offer"}


def normal(text: str) -> str:
    # "Wi-Fi", "wi fi" and "wifi" are one word to a caller; so are "check-in" and "checkin".
    return text.lower().replace("-", "").replace("wi fi", "wifi").strip()


def words_of(text: str) -> set[str]:
    return set(WORD.findall(normal(text)))


def faq_answer(prop: PropertyConfig, words: set[str]) -> str | None:
    best, best_score = None, 0.0
    for entry in prop.faq:
        keywords = {normal(k) for k in entry.keywords}
        question = set(WORD.findall(normal(entry.question))) - _STOP
        score = 2.0 * sum(
            1 for k in keywords if k in words or (" " in k and all(p in words for p in k.split()))
        )
        score += len(question & words)
        if score > best_score:
            best, best_score = entry.answer, score
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
