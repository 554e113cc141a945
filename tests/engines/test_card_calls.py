"""Calls where the caller reads a card out in groups, by voice and on the keypad: none of its
digits (8 or more in a row) may be left in the database, the logs, or the recording.

The whole call path runs: fake ARI (recorded), real RTP, the offline engine over its real
protocol (espeak-ng speaks for the caller, Whisper hears it), PostgreSQL, the encrypted
recording decrypted and listened to again at the end.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import numpy as np
import pytest
from pyrage import x25519

from app.calls.write_behind import WriteBehind
from app.log import configure_logging
from app.storage.errors import is_transient
from app.storage.recordings import (
    LocalStorage,
    RecordingArchive,
    RecordingRepository,
    RecordingService,
    open_recording,
)
from tests.engines.test_agent_calls import (
    STT,
    Rig,
    _agent_says,
    _say,
    _speech,
    _until,
)
from tests.fakes.ari import FakeCall

CARD = "4539148803436467"  # a Luhn-valid Visa test number
GROUPS = [CARD[i : i + 4] for i in range(0, 16, 4)]
_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4"}
_WORDS |= {"five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}


def longest_card_run(texts: list[str]) -> int:
    """The longest piece of CARD in the digits of the texts, read in order (so a card split
    over rows counts whole). Digit words count as digits; a mask ("[card]") breaks the run."""
    digits = "".join(
        "-" if token == "card" else _WORDS.get(token, token)
        for text in texts
        for token in re.findall(r"\d|[a-z]+", text.lower())
        if token.isdigit() or token in _WORDS or token == "card"
    )
    return max(
        (n for n in range(1, 17) for i in range(17 - n) if CARD[i : i + n] in digits), default=0
    )


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The project's JSON logs (its redaction included) written here; logging as it was
    afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("json", "DEBUG")
    written = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(written)
    yield written
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
async def recorded(rig: Rig, tmp_path: Path) -> AsyncIterator[tuple[Rig, RecordingArchive, str]]:
    identity = x25519.Identity.generate()
    archive = RecordingArchive(LocalStorage(tmp_path / "recordings"), str(identity.to_public()))
    writes = WriteBehind(is_transient)
    writer = asyncio.create_task(writes.run(), name="recording-writes")
    rig.app.services = replace(
        rig.app.services,
        recordings=RecordingService(archive, RecordingRepository(rig.pool), writes),
    )
    yield rig, archive, str(identity)
    await writes.drain(5)
    writer.cancel()
    await asyncio.gather(writer, return_exceptions=True)


async def _ended(rig: Rig, call: FakeCall) -> asyncpg.Record:
    await rig.fake.caller_hangs_up(call)
    async with asyncio.timeout(10):
        while (
            row := await rig.pool.fetchrow(
                "SELECT * FROM calls WHERE channel_id = $1 AND state = 'ended'", call.caller_id
            )
        ) is None:
            await asyncio.sleep(0.05)
    return row


async def _stored_texts(pool: asyncpg.Pool, call_id: object) -> list[str]:
    """Everything the database keeps about the call, in the order it was said."""
    turns = await pool.fetch("SELECT text FROM turns WHERE call_id = $1 ORDER BY seq", call_id)
    tools = await pool.fetch(
        "SELECT arguments::text AS a, result::text AS r FROM tool_invocations WHERE call_id = $1",
        call_id,
    )
    return [t["text"] for t in turns] + [f"{t['a']} {t['r']}" for t in tools]


def _log_lines(err: str) -> list[str]:
    lines = [line for line in err.splitlines() if line.startswith("{")]
    assert lines and all(json.loads(line) for line in lines)  # the call did log, as JSON
    return lines


async def test_a_card_read_out_in_groups_is_kept_nowhere(
    recorded: tuple[Rig, RecordingArchive, str],
    tmp_path: Path,
    json_logs: io.StringIO,
) -> None:
    rig, archive, identity = recorded
    call = await rig.fake.incoming_call(["agent"], exten="+15550100100", caller="+14155550134")
    _, heard = await _agent_says(rig, call, "Harborview", 0)  # the greeting
    question = _speech("Do you have free wifi?", tmp_path)
    await _say(rig, call, question)
    _, heard = await _agent_says(rig, call, "Wi-Fi", heard)
    # The card, a group at a time, as a caller reads it: digits, pauses, the agent in between.
    said = [f"My card number is {' '.join(GROUPS[0])}.", *(" ".join(g) for g in GROUPS[1:])]
    assert longest_card_run(said) == 16  # what is checked below would see it, across rows
    for n, words in enumerate(said):
        await _say(rig, call, _speech(words, tmp_path), start_seq=10_000 * (n + 1))
        _, heard = await _agent_says(rig, call, "", heard)  # answered
    row = await _ended(rig, call)
    await _until(lambda: not rig.app.calls)

    # The database: turns and tool calls, read in order across rows.
    stored = await _stored_texts(rig.pool, row["id"])
    caller = await rig.pool.fetch(
        "SELECT text FROM turns WHERE call_id = $1 AND role = 'caller' ORDER BY seq", row["id"]
    )
    assert "wi" in caller[0]["text"].lower().replace("-", "")  # the question, kept as said
    assert any("[card]" in t["text"] for t in caller), caller
    assert longest_card_run(stored) < 8, stored

    # The recording, decrypted: the caller's side holds the wifi question and nothing after.
    async with asyncio.timeout(10):
        while not (found := await RecordingRepository(rig.pool).for_call(row["id"])):
            await asyncio.sleep(0.05)
    _, stored_recording, _ = found[0]
    wav = open_recording(archive.storage, stored_recording, identity)
    with wave.open(io.BytesIO(wav)) as reader:
        samples = np.frombuffer(reader.readframes(reader.getnframes()), "<i2").reshape(-1, 2)
    left = samples[:, 0].copy()
    loud = int((np.abs(left) > 300).sum())
    # All the caller's sound is the wifi question (espeak's pauses between words are quiet):
    # the four card utterances (together far longer than it) are not there.
    question_samples = len(question) * 160
    assert loud <= question_samples, (loud, question_samples)
    heard_text = STT.transcribe(left.tobytes(), 8000, "en").text
    assert "wi" in heard_text.lower().replace("-", ""), heard_text
    assert longest_card_run([heard_text]) < 8, heard_text

    # The logs.
    lines = _log_lines(json_logs.getvalue())
    assert any("recording paused for card details" in line for line in lines)
    assert max(longest_card_run([line]) for line in lines) < 8


async def test_a_card_keyed_in_groups_is_kept_nowhere_and_never_reaches_the_engine(
    recorded: tuple[Rig, RecordingArchive, str],
    json_logs: io.StringIO,
) -> None:
    rig, _, _ = recorded
    call = await rig.fake.incoming_call(["agent"])
    _, heard = await _agent_says(rig, call, "Harborview", 0)
    # A phone sends audio all along, silence too (else the call is hung up as dead).
    line = asyncio.create_task(_say(rig, call, [b"\xff" * 160] * 5000, start_seq=40_000))
    replies = []
    try:
        for group in GROUPS:
            for digit in group:
                await rig.fake.press(call, digit)
                await asyncio.sleep(0.1)
            reply, heard = await _agent_says(rig, call, "", heard)
            replies.append(reply)
            await asyncio.sleep(2.2)  # past the keypad's pause: the next group is a new entry
        telephony_call = next(iter(rig.app.calls))
        assert telephony_call.recorder is not None and telephony_call.recorder.paused
    finally:
        line.cancel()
    row = await _ended(rig, call)
    await _until(lambda: not rig.app.calls)

    # The engine heard the first group (4 digits are not a card), then never a digit: the
    # offline engine answers an entry it hears with "Thank you", one withheld with a warning.
    assert replies[0] == "Thank you. How can I help you?"
    assert all("don't give card details" in r for r in replies[1:3]), replies
    # …and never the same words a third time running: then a person is offered
    assert replies[3] != replies[2], replies
    assert "don't give card details" in replies[3] or "front desk" in replies[3], replies
    turns = await rig.pool.fetch(
        "SELECT text FROM turns WHERE call_id = $1 AND role = 'dtmf' ORDER BY seq", row["id"]
    )
    # the first group too: once the second made the run a card, the turns since it began
    # were stored again, masked
    assert [t["text"] for t in turns] == ["[card]", "[card]", "[card]", "[card]"]
    stored = await _stored_texts(rig.pool, row["id"])
    assert longest_card_run(stored) < 8, stored
    lines = _log_lines(json_logs.getvalue())
    assert max(longest_card_run([line]) for line in lines) < 8
