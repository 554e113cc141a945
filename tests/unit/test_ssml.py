"""The offline voice: our SSML subset, the lexicon, the phrase cache."""

from __future__ import annotations

from app.engines.local.voice import PhraseCache, Voice
from app.engines.ssml import Pause, Speak, apply_lexicon, parse, plain


def test_breaks_and_say_as() -> None:
    assert parse('<speak>Hello<break time="300ms"/>there</speak>') == [
        Speak("Hello"),
        Pause(300),
        Speak("there"),
    ]
    assert parse('Wait<break time="1.5s"/>.')[1] == Pause(1500)
    assert parse('<break time="90s"/>') == [Pause(5000)]  # capped: never minutes of silence
    assert parse('Code <say-as interpret-as="characters">MB3</say-as>.') == [
        Speak("Code"),
        Speak("M, B, 3"),
        Speak("."),
    ]
    assert parse('<say-as interpret-as="digits">40-11</say-as>') == [Speak("4 0 1 1")]
    assert parse('<say-as interpret-as="telephone">+14155550134</say-as>') == [
        Speak("4 1 5"),
        Pause(250),
        Speak("5 5 5"),
        Pause(250),
        Speak("0 1 3 4"),
    ]
    assert parse('<say-as interpret-as="date">2026-12-04</say-as>') == [
        Speak("Friday, December 4th")
    ]
    assert parse('<say-as interpret-as="date">soon</say-as>') == [Speak("soon")]
    assert parse("<emphasis>Fish &amp; chips</emphasis>") == [Speak("Fish & chips")]
    assert plain('Call <say-as interpret-as="digits">12</say-as><break/> now') == "Call 1 2 now"


def test_the_lexicon_respells_whole_words_only() -> None:
    lexicon = {"Embarcadero": "em-bar-ka-DAIR-oh", "BART": "bart"}
    said = apply_lexicon("Take BART to embarcadero; barter not.", lexicon)
    assert said == "Take bart to em-bar-ka-DAIR-oh; barter not."


class CountingTts:
    rate = 8000

    def __init__(self) -> None:
        self.said: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.said.append(text)
        return b"\x01\x00" * 80 * len(text)


def test_phrases_are_rendered_once_and_pauses_are_silence() -> None:
    tts, cache = CountingTts(), PhraseCache(max_entries=2)
    voice = Voice(tts, {"BART": "bart"}, cache, "slt")
    first = voice.render('Take BART.<break time="100ms"/>Bye.')
    assert tts.said == ["Take bart.", "Bye."]
    assert first.count(b"\x00\x00" * 800) == 1  # 100 ms of silence at 8 kHz
    assert voice.render('Take BART.<break time="100ms"/>Bye.') == first
    assert tts.said == ["Take bart.", "Bye."] and cache.hits == 1
    voice.render("one")
    voice.render("two")  # the cache holds two: the first phrase is gone
    voice.render('Take BART.<break time="100ms"/>Bye.')
    assert len(tts.said) == 6
    other = Voice(tts, {}, cache, "kal")  # another voice never gets slt's audio
    other.render("two")
    assert tts.said[-1] == "two"
