"""`frontdesk doctor` warns of configured OpenAI models whose shutdown OpenAI has announced."""

import datetime as dt

from app.doctor import _models, model_shutdowns
from app.settings import load_settings

BEFORE = dt.date(2026, 12, 2)


def test_the_default_models_are_named_with_their_shutdown_dates() -> None:
    settings = load_settings(engine="openai", openai_api_key="sk-test")
    assert model_shutdowns(settings, BEFORE) == [
        "OPENAI_REALTIME_MODEL=gpt-realtime: OpenAI shuts it down on 2027-01-20 (in 49 days)",
        "OPENAI_TRANSCRIBE_MODEL=gpt-4o-mini-transcribe: OpenAI shuts it down on 2027-02-26 "
        "(in 86 days)",
    ]
    finding = _models(settings)
    assert finding.level == "warn" and "2027-01-20" in finding.status.detail
    assert finding.status.fix is not None and "current model" in finding.status.fix


def test_a_model_past_its_shutdown_is_said_to_be_shut_down() -> None:
    settings = load_settings(
        engine="openai", openai_api_key="sk-test", openai_transcribe_model="whisper-1"
    )
    [realtime, transcribe] = model_shutdowns(settings, dt.date(2027, 3, 1))
    assert realtime == "OPENAI_REALTIME_MODEL=gpt-realtime: OpenAI shut it down on 2027-01-20"
    assert transcribe.endswith("whisper-1: OpenAI shut it down on 2027-02-26")


def test_models_without_an_announced_shutdown_are_fine() -> None:
    settings = load_settings(
        engine="openai",
        openai_api_key="sk-test",
        openai_realtime_model="gpt-realtime-2",
        openai_transcribe_model="gpt-transcribe",
    )
    assert model_shutdowns(settings, BEFORE) == []
    finding = _models(settings)
    assert finding.level == "ok" and "gpt-realtime-2, gpt-transcribe" in finding.status.detail


def test_the_offline_engine_uses_no_openai_model() -> None:
    finding = _models(load_settings(engine="local"))
    assert finding.level == "ok" and "offline engine" in finding.status.detail
