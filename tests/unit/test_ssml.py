"""The offline voice: our SSML subset, the lexicon, the phrase cache."""

from __future__ import annotations

from app.engines.local.voice import PhraseCache, Voice, prerender_texts, sentences
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


def test_a_long_first_sentence_is_spoken_in_pieces() -> None:
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
    # At the first comma however short the piece before it (a speaker pauses there anyway),
    # never leaving a word or two after it.
    assert sentences("Yes, Wi-Fi is free everywhere in the hotel.")[0] == "Yes,"
    assert sentences("And how many nights, roughly, will you stay?") == [
        "And how many nights,",
        "roughly, will you stay?",
    ]
    assert sentences("We have rooms for up to sixty people, or so.") == [
        "We have rooms for up to sixty people, or so."
    ]
    # Without a comma, a long one before a phrase near its 40th character.
    assert sentences(
        "I've sent a text to the number ending 0 1 8 8 with a secure link to pay."
    ) == [
        "I've sent a text to the number ending 0 1 8 8",
        "with a secure link to pay.",
    ]
    assert sentences("Thank you for calling the Harborview Hotel. Goodbye.") == [
        "Thank you for calling the Harborview Hotel.",
        "Goodbye.",
    ]
    assert sentences('A <break time="1s"/> pause, then a long sentence, kept whole.') == [
        'A <break time="1s"/> pause, then a long sentence, kept whole.'
    ]


def test_spanish_replies_are_spoken_sentence_by_sentence() -> None:
    assert sentences("Permítame comprobarlo. ¿Cuántas noches se quedará? ¡Perfecto!") == [
        "Permítame comprobarlo.",
        "¿Cuántas noches se quedará?",
        "¡Perfecto!",
    ]


def test_the_pieces_to_prerender_are_the_greeting_and_each_fixed_replys_first() -> None:
    texts = prerender_texts(
        "Thank you for calling. How can I help?",
        ["Of course, I'll put you through to the front desk.", "Of course, I'll hold.", ""],
    )
    # Short replies stay whole; a long one's first piece is what the caller waits for.
    assert texts == [
        "Thank you for calling.",
        "How can I help?",
        "Of course,",
        "Of course, I'll hold.",
    ]
