"""The offline engine's voice: SSML subset and lexicon on top of a text-to-speech engine, and
a cache of rendered phrases (greetings, goodbyes, anything said twice) shared by all calls."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from app.engines.speech import TextToSpeech
from app.engines.ssml import Lexicon, Pause, Speak, apply_lexicon, lexicon_for, parse

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'¿¡ÁÉÍÓÚÑ])")  # Spanish too
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")
# Where a long clause without punctuation can be split and still sound like one: before a
# preposition or conjunction that starts a phrase of its own.
_PHRASE_START = re.compile(r"\s+(?=(?:with|on|for|from|and|at|until|to|when|which|but|if)\s)")
# A first sentence longer than this is split: a neural voice takes 2 to 3 ms per character
# to render on this machine, and the caller hears nothing until the first piece is done
# (bench/README.md, bench/voice: the ≤ 150 ms target to first audio). The rest of the reply is
# rendered while the first piece plays.
FIRST_PIECE_CHARS = 40
LONG_CHARS = 50  # a first piece longer than this, without a comma: split before a phrase
MIN_TAIL_CHARS = 12  # what follows a cut is never a word or two


def _cut(sentence: str, at: re.Match[str] | None) -> list[str]:
    return [sentence] if at is None else [sentence[: at.start()], sentence[at.end() :]]


def _split_first(sentence: str) -> list[str]:
    """A long first sentence in pieces: at its first comma (or semicolon, colon), however
    short what comes before ("Of course," "Yes,": a speaker pauses there anyway); a first
    piece still long, before a phrase near its 40th character."""
    if len(sentence) <= FIRST_PIECE_CHARS:
        return [sentence]
    commas = [
        m for m in _CLAUSE_END.finditer(sentence) if len(sentence) - m.end() >= MIN_TAIL_CHARS
    ]
    pieces = _cut(sentence, commas[0] if commas else None)
    head = pieces[0]
    if len(head) > LONG_CHARS:
        phrases = [
            m
            for m in _PHRASE_START.finditer(head)
            if 20 <= m.start() <= 60 and len(head) - m.end() >= 15
        ]
        best = min(phrases, key=lambda m: abs(m.start() - FIRST_PIECE_CHARS), default=None)
        pieces[:1] = _cut(head, best)
    return pieces


def sentences(text: str) -> list[str]:
    """A reply in the pieces it is spoken in: sentences, so the first one can be heard while
    the next is rendered, the first one split when it is long. Text with markup stays whole
    (a tag may span sentences)."""
    if "<" in text:
        return [text]
    parts = [part for part in _SENTENCE_END.split(text.strip()) if part]
    return _split_first(parts[0]) + parts[1:] if parts else parts


def prerender_texts(greeting: str, fixed_replies: list[str]) -> list[str]:
    """What to render into the phrase cache at start-up: the greeting's pieces and the first
    piece of each reply that never changes (the FAQ's answers, the dialog's questions). The
    slowest first audio measured was such a piece (bench/README.md); a cached one is instant."""
    pieces = sentences(greeting) + [sentences(text)[0] for text in fixed_replies if text.strip()]
    return list(dict.fromkeys(pieces))


class PhraseCache:
    """Rendered audio by (voice, text): the second caller hears the greeting without waiting
    for the synthesiser. Bounded (least recently used goes first); thread-safe, since
    synthesis runs in worker threads."""

    def __init__(self, max_entries: int = 256) -> None:
        self._max = max_entries
        self._audio: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self._lock:
            audio = self._audio.get(key)
            if audio is None:
                self.misses += 1
                return None
            self._audio.move_to_end(key)
            self.hits += 1
            return audio

    def put(self, key: tuple[str, str], audio: bytes) -> None:
        with self._lock:
            self._audio[key] = audio
            self._audio.move_to_end(key)
            while len(self._audio) > self._max:
                self._audio.popitem(last=False)


class Voice:
    """Text (with our SSML subset) to 16-bit PCM at the engine's rate. Blocking: call it from
    a worker thread."""

    def __init__(
        self, tts: TextToSpeech, lexicon: Lexicon, cache: PhraseCache, name: str = ""
    ) -> None:
        self._tts = tts
        # The engine behind the name: "joe" is flite's slt when Piper is missing, and takes
        # flite's respellings then.
        self._lexicon = lexicon_for(lexicon, name, getattr(tts, "family", ""))
        self._cache = cache
        self._name = name
        self.rate = tts.rate

    def render(self, text: str) -> bytes:
        key = (self._name, text)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        parts: list[bytes] = []
        for segment in parse(text):
            if isinstance(segment, Pause):
                parts.append(b"\x00\x00" * (self.rate * segment.ms // 1000))
            elif isinstance(segment, Speak) and segment.text:
                parts.append(self._tts.synthesize(apply_lexicon(segment.text, self._lexicon)))
        audio = b"".join(parts)
        self._cache.put(key, audio)
        return audio
