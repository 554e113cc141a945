"""Settings: defaults, environment, and a clear refusal of bad values."""

from __future__ import annotations

import pathlib

import pytest

from app.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in (
        "OPENAI_API_KEY",
        "ENGINE",
        "DATABASE_URL",
        "VOICE_RECORDING_ENABLED",
        "RECORDING_PUBLIC_KEY",
        "MAX_CALL_DURATION_MINUTES",
        "RECORDING_STORAGE",
        "WEB_SECURE_COOKIES",
        "WEB_SESSION_HOURS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))  # no stray .env


def test_defaults_are_safe() -> None:
    settings = load_settings()
    assert settings.web_host == "127.0.0.1"
    assert str(settings.asterisk_ari_url).startswith("http://127.0.0.1:")
    assert settings.asterisk_ari_password is None  # no default password
    assert settings.engine_kind == "local"
    assert settings.voice_recording_enabled is False
    assert settings.web_secure_cookies is True
    assert settings.web_session_hours == 12


def test_engine_follows_the_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert load_settings().engine_kind == "openai"
    monkeypatch.setenv("ENGINE", "local")
    assert load_settings().engine_kind == "local"


def test_empty_values_in_dotenv_mean_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    pathlib.Path(str(tmp_path), ".env").write_text("OPENAI_API_KEY=\nWEB_PORT=8123\n")
    settings = load_settings()
    assert settings.openai_api_key is None
    assert settings.web_port == 8123


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "MAX_CALL_DURATION_MINUTES",
            "abc",
            "MAX_CALL_DURATION_MINUTES='abc': Input should be a valid integer",
        ),
        (
            "MAX_CALL_DURATION_MINUTES",
            "0",
            "MAX_CALL_DURATION_MINUTES='0': Input should be greater than or equal to 1",
        ),
        ("RECORDING_STORAGE", "ftp", "RECORDING_STORAGE='ftp': Input should be 'local' or 's3'"),
        (
            "TWILIO_PHONE_NUMBER",
            "555-1234",
            "TWILIO_PHONE_NUMBER='555-1234': String should match pattern",
        ),
        ("DEFAULT_LANGUAGE", "english", "DEFAULT_LANGUAGE='english'"),
        ("OPENAI_VOICE", "nova", "OPENAI_VOICE='nova': must be one of alloy"),
        ("WEB_PORT", "70000", "WEB_PORT='70000': Input should be less than or equal to 65535"),
        ("VOICE_ENABLED", "maybe", "VOICE_ENABLED='maybe': Input should be a valid boolean"),
        ("VOICE_RECORDING_ENABLED", "true", "needs RECORDING_PUBLIC_KEY"),
        ("ENGINE", "openai", "ENGINE=openai needs OPENAI_API_KEY"),
        ("STAFF_NETWORKS", "192.168.20.0/24,guest-wifi", "STAFF_NETWORKS='192.168.20.0/24,guest"),
        ("STAFF_NETWORKS", "0.0.0.0/0", "'0.0.0.0/0' is every address"),
        ("CARRIER_NETWORKS", "::/0", "'::/0' is every address"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert expected in str(caught.value)


def test_networks_are_read_as_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARRIER_NETWORKS", "54.172.60.0/30, 54.244.51.0/30")
    monkeypatch.setenv("STAFF_NETWORKS", "192.168.20.7/24 10.1.2.3")
    settings = load_settings()
    assert settings.carrier_networks == ("54.172.60.0/30", "54.244.51.0/30")
    assert settings.staff_networks == ("192.168.20.0/24", "10.1.2.3/32")


def test_no_networks_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CARRIER_NETWORKS", "STAFF_NETWORKS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.carrier_networks == () and settings.staff_networks == ()


def test_secrets_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECORDING_IDENTITY", "super-secret-value")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "RECORDING_IDENTITY" in str(caught.value)
    assert "super-secret-value" not in str(caught.value)
