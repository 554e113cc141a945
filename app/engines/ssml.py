"""The SSML subset our text-to-speech understands, and the hotel's pronunciation lexicon.

  <break time="500ms"/> or <break time="1s"/>      a pause
  <say-as interpret-as="digits">4011</say-as>       "4 0 1 1"
  <say-as interpret-as="characters">MBT3</say-as>   "M, B, T, 3" (spell-out is the same)
  <say-as interpret-as="telephone">+14155550134</say-as>  digits in groups, with pauses
  <say-as interpret-as="date">2026-12-04</say-as>   "Friday, December 4th"
  <speak>…</speak> and any other tag: the words inside are kept, the tag is dropped

The lexicon (hotel.yaml `lexicon:`) respells words the voice gets wrong; it applies to whole
words, in any case. A plain entry is for every voice ("Harborview: Harbor View"); a mapping is by
voice name or engine, for a respelling that helps one voice and hurts another
("Embarcadero: {flite: em-bar-ka-DAIR-oh}": Piper says the word right as it is).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape

from app.hotel.spoken import spoken_date

_TAG = re.compile(
    r"<break\b(?P<break>[^>]*)/?>|<say-as\b(?P<attrs>[^>]*)>(?P<inner>.*?)</say-as>|<[^>]+>",
    re.IGNORECASE | re.DOTALL,
)
_TIME = re.compile(r'time\s*=\s*"(\d+(?:\.\d+)?)\s*(ms|s)"', re.IGNORECASE)
_INTERPRET = re.compile(r'interpret-as\s*=\s*"([a-z-]+)"', re.IGNORECASE)
MAX_BREAK_MS = 5000


@dataclass(frozen=True)
class Speak:
    text: str


@dataclass(frozen=True)
class Pause:
    ms: int


Segment = Speak | Pause


def _say_as(kind: str, inner: str) -> list[Segment]:
    value = unescape(inner).strip()
    if kind == "digits":
        return [Speak(" ".join(c for c in value if c.isdigit()))]
    if kind in ("characters", "spell-out"):
        return [Speak(", ".join(c for c in value if not c.isspace()))]
    if kind == "telephone":
        digits = "".join(c for c in value if c.isdigit())
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]  # North American numbers are said without the country code
        groups = [digits[:3], digits[3:6], digits[6:]] if len(digits) == 10 else [digits]
        segments: list[Segment] = []
        for group in groups:
            if segments:
                segments.append(Pause(250))
            segments.append(Speak(" ".join(group)))
        return segments
    if kind == "date":
        try:
            return [Speak(spoken_date(dt.date.fromisoformat(value)))]
        except ValueError:
            return [Speak(value)]
    return [Speak(value)]


def parse(text: str) -> list[Segment]:
    """Speakable segments of a text that may carry our SSML subset."""
    segments: list[Segment] = []
    position = 0
    for match in _TAG.finditer(text):
        before = unescape(text[position : match.start()])
        if before.strip():
            segments.append(Speak(before.strip()))
        if match.group("break") is not None:
            time = _TIME.search(match.group("break"))
            ms = 500
            if time:
                ms = int(float(time.group(1)) * (1 if time.group(2).lower() == "ms" else 1000))
            segments.append(Pause(min(MAX_BREAK_MS, ms)))
        elif match.group("inner") is not None:
            kind = _INTERPRET.search(match.group("attrs") or "")
            segments.extend(_say_as(kind.group(1).lower() if kind else "", match.group("inner")))
        position = match.end()
    rest = unescape(text[position:])
    if rest.strip():
        segments.append(Speak(rest.strip()))
    return segments


def plain(text: str) -> str:
    """What a transcript shows: the words, without the markup."""
    return " ".join(s.text for s in parse(text) if isinstance(s, Speak))


Lexicon = Mapping[str, str | Mapping[str, str]]


def lexicon_for(lexicon: Lexicon, voice: str, engine: str) -> dict[str, str]:
    """The respellings one voice uses: the plain entries, and those given for its name
    (joe, slt, es) or, failing that, its engine (piper, flite, espeak-ng)."""
    chosen: dict[str, str] = {}
    for word, said in lexicon.items():
        if isinstance(said, str):
            chosen[word] = said
        elif voice in said or engine in said:
            chosen[word] = said.get(voice, said.get(engine, word))
    return chosen


def apply_lexicon(text: str, lexicon: Mapping[str, str]) -> str:
    for word, said in lexicon.items():
        text = re.sub(rf"\b{re.escape(word)}\b", said, text, flags=re.IGNORECASE)
    return text
