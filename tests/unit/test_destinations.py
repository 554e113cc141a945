"""The destination policy's rules, without the database: countries, number types, the
dialplan's BLOCKED_PREFIXES (one list, read from dialplan/extensions.conf), the settings that
configure it, and the dialplan's copy of the countries (hotel.conf's DESTINATION_CODES)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from app import main
from app.doctor import callback_endpoint_problem
from app.hotel.config import load_hotel_config
from app.hotel.destinations import (
    DestinationPolicy,
    DestinationRefused,
    DestinationRules,
    Usage,
    calling_codes,
    compile_prefixes,
    country_regions,
)
from app.pbx import hotel_dialplan
from app.pbx.dialplan_globals import DialplanGlobalsError, blocked_prefixes, read_globals
from app.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS = ROOT / "dialplan" / "extensions.conf"
HOTEL = load_hotel_config(ROOT / "config" / "hotel.yaml")
RULES = DestinationRules(blocked_prefixes=blocked_prefixes(EXTENSIONS))


def refused_by(rules: DestinationRules, number: str, home: str = "US") -> str | None:
    refusal = rules.refusal(number, home, "call")
    return refusal.rule if refusal is not None else None


@pytest.mark.parametrize(
    "number",
    [
        "+14155550134",  # San Francisco, fixed line or mobile
        "+18002345678",  # toll-free: free to call
    ],
)
def test_home_country_numbers_a_guest_answers_are_allowed(number: str) -> None:
    assert refused_by(RULES, number) is None


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("+15550100123", "invalid"),  # 555-01XX: fiction's numbers, no real line
        ("+1415555", "invalid"),
        ("not a number", "invalid"),
        ("+18765550123", "country"),  # Jamaica, inside +1: not the US
        ("+12423456789", "country"),  # the Bahamas
        ("+16135550123", "country"),  # Canada: not allowed unless listed
        ("+442079460000", "country"),  # London
        ("+19002345678", "type"),  # US premium rate
        ("+15002345678", "type"),  # US 500: a personal number, billed like premium
    ],
)
def test_numbers_outside_the_rules_are_refused_and_say_why(number: str, rule: str) -> None:
    assert refused_by(RULES, number) == rule


def test_an_allowed_country_is_reached_and_its_premium_numbers_are_not() -> None:
    rules = DestinationRules(
        also_allowed=frozenset({"GB", "FR", "CA"}), blocked_prefixes=RULES.blocked_prefixes
    )
    assert refused_by(rules, "+442079460000") is None  # London fixed line
    assert refused_by(rules, "+447400123456") is None  # UK mobile
    assert refused_by(rules, "+16135550123") is None  # Ottawa
    assert refused_by(rules, "+449012345678") == "type"  # UK premium rate
    assert refused_by(rules, "+33884012345") == "type"  # French shared cost
    assert refused_by(rules, "+445512345678") == "type"  # UK UAN (company, special rate)
    assert refused_by(rules, "+447012345678") == "type"  # UK 070 personal number
    assert refused_by(rules, "+447640123456") == "type"  # UK pager
    assert refused_by(rules, "+18765550123") == "country"  # Jamaica is still not listed
    assert refused_by(rules, "+4930123456") == "country"  # Germany is not listed


def test_the_blocked_prefixes_refuse_what_the_number_type_lets_through() -> None:
    # NXX-976 numbers are ordinary US numbers to phonenumbers; only the prefix list knows
    # they are premium rate. Without the list the same number passes.
    assert refused_by(DestinationRules(), "+12129761234") is None
    assert refused_by(RULES, "+12129761234") == "prefix"


def test_a_home_country_abroad_is_the_home() -> None:
    assert refused_by(RULES, "+442079460000", home="GB") is None
    assert refused_by(RULES, "+14155550134", home="GB") == "country"


def test_texts_and_calls_are_refused_in_words_the_caller_understands() -> None:
    call = RULES.refusal("+18765550123", "US", "call")
    text = RULES.refusal("+19002345678", "US", "text")
    assert call is not None and text is not None
    assert str(call).startswith("I'm sorry, I can't call that number")
    assert "the United States" in str(call)
    assert str(text).startswith("I'm sorry, I can't text that number")
    assert "premium-rate" in str(text)


class NoUsage:
    async def usage(self, call_id: object, e164: str, since: object) -> Usage:
        return Usage(0, 0)


def test_a_refusal_is_logged_with_the_number_masked() -> None:
    policy = DestinationPolicy(RULES, NoUsage(), {"harborview": "US"})
    with capture_logs() as logs, pytest.raises(DestinationRefused):
        policy.screen("+18765550123", "harborview", "call")
    [entry] = [e for e in logs if e["event"] == "destination refused"]
    assert entry["number"] == "+*******0123" and entry["rule"] == "country"
    assert "8765550" not in repr(logs)


def test_a_property_the_hotel_no_longer_has_reaches_nobody() -> None:
    # (A callback stored for it must be refused, not crash the scheduler's round.)
    policy = DestinationPolicy(RULES, NoUsage(), {"harborview": "US"})
    with pytest.raises(DestinationRefused) as refused:
        policy.screen("+14155550134", "closed-hotel", "call")
    assert refused.value.rule == "property"
    policy.screen("+14155550134", "harborview", "call")  # the same number, a known property


# --- one list for the dialplan and the app ---------------------------------------------------


def test_the_app_reads_the_blocked_prefixes_the_dialplan_applies() -> None:
    [line] = [
        line for line in EXTENSIONS.read_text().splitlines() if line.startswith("BLOCKED_PREFIXES=")
    ]
    assert RULES.blocked_prefixes == (line.split("=", 1)[1].strip(),)


def test_the_dialplans_home_country_is_the_properties_country() -> None:
    # The staff dial-out's "national" and the app's home country must be the same country.
    homes = {p.address.country for p in HOTEL.properties}
    assert [read_globals(EXTENSIONS)["HOME_COUNTRY"]] == calling_codes(homes)


@pytest.mark.parametrize(
    ("digits", "blocked"),
    [  # the staff dial-out's live test numbers (tests/live/test_staff_outbound_live.py)
        ("19005550123", True),
        ("12129761234", True),
        ("18765550123", True),
        ("18095550123", True),  # the Dominican Republic
        ("15550100123", False),
        ("442079460000", False),
    ],
)
def test_the_prefix_list_refuses_what_the_staff_dial_out_refuses(
    digits: str, blocked: bool
) -> None:
    pattern = compile_prefixes(RULES.blocked_prefixes)
    assert pattern is not None
    assert bool(pattern.match(digits)) is blocked


def test_globals_are_read_as_asterisk_reads_them(tmp_path: Path) -> None:
    conf = tmp_path / "extensions.conf"
    conf.write_text("[globals]\nA = 1 ; a comment\nBLOCKED_PREFIXES=1900|44\\;x\n[other]\nA=2\n")
    assert read_globals(conf) == {"A": "1", "BLOCKED_PREFIXES": "1900|44;x"}
    assert blocked_prefixes(conf) == ("1900|44;x",)
    conf.write_text("[globals]\nBLOCKED_PREFIXES=\n")
    assert blocked_prefixes(conf) == ()  # empty: none
    conf.write_text("[globals]\nHOME_COUNTRY=1\n")
    with pytest.raises(DialplanGlobalsError, match="no BLOCKED_PREFIXES"):
        blocked_prefixes(conf)
    with pytest.raises(DialplanGlobalsError, match="cannot read"):
        blocked_prefixes(tmp_path / "missing.conf")


def test_a_broken_prefix_expression_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="BLOCKED_PREFIXES is not a valid regular expression"):
        DestinationRules(blocked_prefixes=("1(900",))


def test_the_dialplans_country_codes_are_the_policys_countries() -> None:
    committed = (ROOT / "dialplan" / "hotel.conf").read_text()
    [line] = re.findall(r"^DESTINATION_CODES=(.*)$", committed, re.MULTILINE)
    homes = {p.address.country for p in HOTEL.properties}
    assert line.split("|") == calling_codes(homes) == ["1"]
    with_abroad = hotel_dialplan.render(HOTEL, {"GB", "FR", "CA"})
    assert "DESTINATION_CODES=1|33|44\n" in with_abroad
    assert hotel_dialplan.lags(HOTEL, ROOT / "dialplan" / "hotel.conf", {"GB"})


# --- settings ----------------------------------------------------------------------------------


def test_destination_settings_have_safe_defaults() -> None:
    settings = load_settings()
    assert settings.destination_regions == frozenset()
    assert settings.destination_max_per_call == 3
    assert settings.destination_max_per_number_day == 5
    assert settings.callback_endpoint == "Local/{number}@frontdesk-callback-out/n"
    assert callback_endpoint_problem(settings.callback_endpoint) is None


def test_countries_are_read_as_a_list_of_codes() -> None:
    assert country_regions(" ca, gb ;FR") == {"CA", "GB", "FR"}
    assert load_settings(destination_countries="CA,GB").destination_regions == {"CA", "GB"}


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"destination_countries": "CA,UK"}, "DESTINATION_COUNTRIES='CA,UK': unknown country"),
        ({"destination_max_per_call": 0}, "DESTINATION_MAX_PER_CALL"),
        ({"destination_max_per_number_day": 1000}, "DESTINATION_MAX_PER_NUMBER_DAY"),
        ({"callback_endpoint": "Local/x@frontdesk-callback-out/n"}, "CALLBACK_ENDPOINT"),
    ],
)
def test_bad_destination_settings_stop_start_up_naming_the_variable(
    overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(named)):
        load_settings(**overrides)


@pytest.mark.parametrize(
    ("endpoint", "problem"),
    [
        ("PJSIP/{number}@trunk", "skip the dialplan's country and BLOCKED_PREFIXES checks"),
        ("Local/{number}@frontdesk-outbound/n", "skip the dialplan's"),
        ("SIP/trunk/{number}", "skip the dialplan's"),
        ("Local/{number}@frontdesk-callback-out", "lacks /n"),
    ],
)
def test_doctor_warns_of_callbacks_that_skip_the_dialplans_checks(
    endpoint: str, problem: str
) -> None:
    found = callback_endpoint_problem(endpoint)
    assert found is not None and problem in found


@pytest.mark.parametrize(
    ("globals_text", "named"),
    [
        (
            "[globals]\nBLOCKED_PREFIXES=1(900\n",
            "BLOCKED_PREFIXES is not a valid regular expression",
        ),
        ("[globals]\nHOME_COUNTRY=1\n", "no BLOCKED_PREFIXES in [globals]"),
    ],
)
def test_a_dialplan_the_app_cannot_read_the_list_from_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, globals_text: str, named: str
) -> None:
    (tmp_path / "extensions.conf").write_text(globals_text)
    monkeypatch.setattr(main, "DIALPLAN_DIR", tmp_path)
    with pytest.raises(SettingsError, match=re.escape(named)):
        main.destination_rules(load_settings())
