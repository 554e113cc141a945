"""Structured logs: JSON or console, call_id on every line of a call, nothing sensitive."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from app.log import bind_call, configure_logging, get_logger

CARD = "4111 1111 1111 1111"
PHONE = "+15551234567"


def _lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_lines_from_structlog_and_stdlib_loggers_are_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "INFO")
    log = get_logger("test")
    with bind_call("call-1"):
        log.info(f"caller read {CARD}", caller=PHONE, nested={"cards": [CARD], "phone": PHONE})
        logging.getLogger("aiohttp.access").info("GET /x from %s", PHONE)
        try:
            raise ValueError(f"bad card {CARD} from {PHONE}")
        except ValueError:
            log.exception("tool failed")
    log.info("outside the call")

    err = capsys.readouterr().err
    assert "4111" not in err and "5551234567" not in err and "555123" not in err
    first, access, failure, outside = _lines(err)
    assert first["event"] == "caller read [card]"
    assert first["caller"] == "+*******4567"
    assert first["nested"] == {"cards": ["[card]"], "phone": "+*******4567"}
    assert first["call_id"] == access["call_id"] == failure["call_id"] == "call-1"
    assert access["logger"] == "aiohttp.access" and access["event"] == "GET /x from +*******4567"
    assert "ValueError: bad card [card] from +*******4567" in str(failure["exception"])
    assert "call_id" not in outside


async def test_call_ids_do_not_leak_between_concurrent_calls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "INFO")
    log = get_logger("calls")

    async def call(call_id: str) -> None:
        with bind_call(call_id):
            for step in range(3):
                log.info("step", step=step, owner=call_id)
                await asyncio.sleep(0)

    await asyncio.gather(call("a"), call("b"))
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 6
    assert all(line["call_id"] == line["owner"] for line in lines)


def test_console_format_is_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("console", "DEBUG")
    configure_logging("console", "DEBUG")  # twice: still one handler, one line
    get_logger("x").debug("card", number=CARD, caller=PHONE)
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "[card]" in err and "+*******4567" in err and "4111" not in err


def test_level_filters(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "WARNING")
    get_logger("x").info("quiet")
    get_logger("x").warning("loud")
    assert [line["event"] for line in _lines(capsys.readouterr().err)] == ["loud"]
