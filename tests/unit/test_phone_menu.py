"""The phone menu from hotel.yaml: its words (prompts), its dialplan (hotel.conf), its hours."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.hotel.config import BusinessHours, HotelConfig, HotelConfigError, load_hotel_config
from app.pbx import hotel_dialplan
from app.pbx.dialplan_lint import lint
from app.pbx.prompts import all_prompts, hotel_config_problems, property_prompts

ROOT = Path(__file__).resolve().parents[2]
HOTEL_YAML = ROOT / "config" / "hotel.yaml"


@pytest.fixture(scope="module")
def hotel() -> HotelConfig:
    return load_hotel_config(HOTEL_YAML)


def _variant(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load(HOTEL_YAML.read_text())
    change(data["properties"][0])
    path = tmp_path / "hotel.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_menu_says_each_department_key_in_order_and_the_menus_own(hotel: HotelConfig) -> None:
    prompts = {
        (p.language, p.name): p.text for p in property_prompts(hotel.get_property("harborview"))
    }
    menu = prompts[("en", "frontdesk/harborview/menu")]
    order = [
        "book a room",  # reservations: ai_first on 1
        "For the front desk, press 2",
        "For Bay Kitchen restaurant, press 3",
        "For the concierge, press 4",
        "For the events team, press 5",
        "call you back, press 8",
        "operator, press 0",
        "press star",
    ]
    positions = [menu.index(words) for words in order]
    assert positions == sorted(positions)
    assert "housekeeping" not in menu  # no key in hotel.yaml: reached through the AI only
    spanish = prompts[("es", "frontdesk/harborview/menu")]
    assert "Para la recepción, oprima 2" in spanish
    assert (
        prompts[("en", "frontdesk/harborview/welcome")]
        == "Thank you for calling the Harborview Hotel."
    )


def test_a_property_without_an_ai_key_offers_the_receptionist_on_nine(hotel: HotelConfig) -> None:
    menu = {p.name: p.text for p in property_prompts(hotel.get_property("pinecrest"))}
    text = menu["frontdesk/pinecrest/menu"]
    assert "virtual receptionist, press 9" in text
    assert "press 0" in text and text.count("press 0") == 1  # the lodge desk is the operator


def test_the_hotel_can_word_its_menu_itself(tmp_path: Path) -> None:
    def words(prop: dict[str, Any]) -> None:
        prop["phone_prompts"] = {"en": {"welcome": "Harborview, good day."}}

    hotel = load_hotel_config(_variant(tmp_path, words))
    texts = {
        p.name: p.text
        for p in property_prompts(hotel.get_property("harborview"))
        if p.language == "en"
    }
    assert texts["frontdesk/harborview/welcome"] == "Harborview, good day."


@pytest.mark.parametrize(("digit", "message"), [("8", "call-back"), ("9", "virtual receptionist")])
def test_a_department_may_not_take_a_key_the_menu_keeps(
    tmp_path: Path, digit: str, message: str
) -> None:
    def take(prop: dict[str, Any]) -> None:
        prop["departments"]["housekeeping"]["dtmf"] = digit

    with pytest.raises(HotelConfigError, match=message):
        load_hotel_config(_variant(tmp_path, take))


def test_only_the_front_desk_answers_the_operator_key(tmp_path: Path) -> None:
    def take(prop: dict[str, Any]) -> None:
        prop["departments"]["housekeeping"]["dtmf"] = "0"

    with pytest.raises(HotelConfigError, match="operator"):
        load_hotel_config(_variant(tmp_path, take))


def test_languages_the_menu_cannot_speak_are_reported(tmp_path: Path) -> None:
    def french(prop: dict[str, Any]) -> None:
        prop["languages"] = ["en-US", "fr-FR"]

    problems = hotel_config_problems(load_hotel_config(_variant(tmp_path, french)))
    assert any("fr-FR" in p for p in problems)


def test_every_language_has_the_shared_prompts_and_numbers(hotel: HotelConfig) -> None:
    names = {(p.language, p.name) for p in all_prompts(hotel)}
    for language in ("en", "es"):
        for name in (
            "frontdesk/apology",
            "frontdesk/queue-you-are-next",
            "frontdesk/invalid",
            "digits/7",
        ):
            assert (language, name) in names
    assert ("es", "digits/25") in names and ("es", "digits/and") in names  # veinticinco
    assert ("es", "frontdesk/language-choice") in names


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ({"mon": ["07:00-23:00"]}, [("07:00-22:59", "mon")]),
        ({"fri": ["07:00-23:59"]}, [("07:00-23:59", "fri")]),
        ({"tue": ["08:00-24:00"]}, [("08:00-23:59", "tue")]),
        ({"sat": ["22:00-02:00"]}, [("22:00-23:59", "sat"), ("00:00-01:59", "sun")]),
        ({"sun": ["20:00-00:00"]}, [("20:00-23:59", "sun")]),
        ({"mon": ["06:30-10:00", "17:00-22:00"]}, [("06:30-09:59", "mon"), ("17:00-21:59", "mon")]),
        ({"wed": []}, []),
    ],
)
def test_opening_hours_become_gotoiftime_ranges(
    hours: dict[str, list[str]], expected: list[tuple[str, str]]
) -> None:
    assert hotel_dialplan.time_conditions(BusinessHours(**hours)) == expected


def test_the_ranges_agree_with_is_open_minute_by_minute() -> None:
    hours = BusinessHours(mon=["07:00-23:00"], fri=["22:00-02:00"], sat=["09:00-17:00"])
    conditions = hotel_dialplan.time_conditions(hours)
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    start = dt.datetime(2026, 11, 23)  # a Monday
    for minute in range(0, 7 * 24 * 60, 7):
        at = start + dt.timedelta(minutes=minute)
        stamp, day = at.strftime("%H:%M"), days[at.weekday()]
        in_range = any(
            d == day and t.split("-")[0] <= stamp <= t.split("-")[1] for t, d in conditions
        )
        assert in_range == hours.is_open(at), at


def test_the_generated_dialplan_routes_every_number_key_and_front_desk(hotel: HotelConfig) -> None:
    text = hotel_dialplan.render(hotel)
    for prop in hotel.properties:
        for number in prop.dialled_numbers:
            assert f"exten => {number},1,Goto(frontdesk-property-{prop.id},s,1)" in text
    assert "exten => harborview,1,Goto(frontdesk-departments,queue-front-desk,1)" in text
    assert "exten => pinecrest,1,Goto(frontdesk-departments,4100,1)" in text
    assert " same => n(open),Goto(frontdesk-departments,3100,1)" in text
    assert " same => n,Set(FRONTDESK_DEST=3100)" in text  # closed: the AI knows which
    assert "GotoIfTime(07:00-22:59,mon,*,*,America/Los_Angeles?open)" in text


def test_the_committed_hotel_conf_is_what_hotel_yaml_makes(hotel: HotelConfig) -> None:
    committed = (ROOT / "dialplan" / "hotel.conf").read_text()
    assert committed == hotel_dialplan.render(hotel), "run `frontdesk dialplan build`"
    assert lint(ROOT / "asterisk-config" / "extensions.conf") == []


def test_a_hand_edited_hotel_conf_is_left_alone(hotel: HotelConfig, tmp_path: Path) -> None:
    path = tmp_path / "hotel.conf"
    assert hotel_dialplan.write(hotel, path) is True
    assert hotel_dialplan.write(hotel, path) is False  # unchanged: not rewritten
    path.write_text("; mine now\n[frontdesk-numbers]\n")
    with pytest.raises(hotel_dialplan.HandEdited):
        hotel_dialplan.write(hotel, path)
    assert path.read_text() == "; mine now\n[frontdesk-numbers]\n"
