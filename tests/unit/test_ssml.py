"""The offline voice: our SSML subset, the lexicon, the phrase cache."""

from __future__ import annotations

from app.engines.local.voice import PhraseCache, Voice, sentences
from app.engines.ssml import Pause, Speak, apply_lexicon, lexicon_for, parse, plain


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


def test_a_lexicon_entry_may_be_for_one_engine_or_voice_only() -> None:
    lexicon = {
        "Harborview": "Harbor View",
        "Embarcadero": {"flite": "em-bar-ka-DAIR-oh"},
        "BART": {"joe": "Bart", "piper": "B A R T"},
    }
    assert lexicon_for(lexicon, "joe", "piper") == {"Harborview": "Harbor View", "BART": "Bart"}
    assert lexicon_for(lexicon, "es", "espeak-ng") == {"Harborview": "Harbor View"}
    flite = lexicon_for(lexicon, "slt", "flite")
    assert flite == {"Harborview": "Harbor View", "Embarcadero": "em-bar-ka-DAIR-oh"}


class FliteLike(CountingTts):
    family = "flite"


def test_a_voice_takes_the_respellings_of_the_engine_behind_its_name() -> None:
    # "joe" said by flite (Piper missing) takes flite's respellings, not Piper's.
    tts = FliteLike()
    lexicon = {"Embarcadero": {"flite": "em-bar-ka-DAIR-oh"}, "Harborview": "Harbor View"}
    Voice(tts, lexicon, PhraseCache(), "joe").render("Harborview, near Embarcadero.")
    assert tts.said == ["Harbor View, near em-bar-ka-DAIR-oh."]
    plain_tts = CountingTts()
    Voice(plain_tts, lexicon, PhraseCache(), "joe").render("Harborview, near Embarcadero.")
    assert plain_tts.said == ["Harbor View, near Embarcadero."]


def test_a_long_first_sentence_is_spoken_in_two_pieces() -> None:
    # The caller hears the first piece while the rest is rendered (bench/voice.py).
    reply = (
        "So that's the Harbor King, arriving Friday, December 4th for 2 nights, under the name "
        "Ada Lovelace. Shall I book it?"
    )
    assert sentences(reply) == [
        "So that's the Harbor King,",
        "arriving Friday, December 4th for 2 nights, under the name Ada Lovelace.",
        "Shall I book it?",
    ]
    short = "Yes, Wi-Fi is free everywhere in the hotel. The network is open."
    assert sentences(short) == [
        "Yes, Wi-Fi is free everywhere in the hotel.",
        "The network is open.",
    ]
    # No piece shorter than a few words: "Yes," alone would be a stutter.
    assert (
        sentences("Yes, we have rooms with roll-in showers, and lifts to every floor.")[0]
        == "Yes, we have rooms with roll-in showers,"
    )
    assert sentences('A <break time="1s"/> pause, then a long sentence, kept whole.') == [
        'A <break time="1s"/> pause, then a long sentence, kept whole.'
    ]
