"""The hotel file: the demo loads, and every kind of mistake names its line and key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.hotel.config import BusinessHours, HotelConfigError, load_hotel_config, to_cents

DEMO = Path(__file__).resolve().parents[2] / "config" / "hotel.yaml"


def _line(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in the file")


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> tuple[Path, str]:
    text = DEMO.read_text()
    assert old in text, old
    text = text.replace(old, new, count)
    path = tmp_path / "hotel.yaml"
    path.write_text(text)
    return path, text


def _error(path: Path) -> str:
    with pytest.raises(HotelConfigError) as caught:
        load_hotel_config(path)
    return str(caught.value)


def test_the_demo_file_loads() -> None:
    config = load_hotel_config(DEMO)
    assert [p.id for p in config.properties] == ["harborview", "pinecrest"]
    main = config.default_property
    assert main.dialled_numbers == ["+15550100100", "+15550100101"]
    assert config.properties[1].dialled_numbers == ["+15550100200"]  # defaults to its phone
    assert config.property_for_number("+15550100101") is main
    assert config.property_for_number("+15550199999") is None
    assert config.get_property("pinecrest").timezone == "America/Denver"
    with pytest.raises(KeyError, match="no property 'nowhere'"):
        config.get_property("nowhere")
    assert main.check_in_time == dt.time(15, 0)
    assert "front_desk" in main.departments and main.departments["restaurant"].extension == "3100"
    assert len(main.faq) >= 10 and len(main.room_types) >= 4


def test_money_keeps_its_cents() -> None:
    assert to_cents(Decimal("189.99")) == 18999
    assert to_cents(Decimal("0.1") + Decimal("0.2")) == 30
    king = load_hotel_config(DEMO).default_property.room_types[0]
    assert to_cents(king.base_rate) == 18900


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "message"),
    [
        (
            "    check_in_time:",
            "    check_in_tme:",
            "check_in_tme",
            "properties[0].check_in_tme",
            "unknown key",
        ),
        (
            "        base_rate: 189.00",
            "        base_rate: -5",
            "base_rate: -5",
            "properties[0].room_types[0].base_rate",
            "greater than 0",
        ),
        (
            "        base_rate: 189.00",
            "        base_rate: 189.005",
            "base_rate: 189.005",
            "properties[0].room_types[0].base_rate",
            "two decimal places",
        ),
        (
            "        max_occupancy: 3",
            "        max_occupancy: 7",
            "max_occupancy: 7",
            "properties[0].room_types[0].max_occupancy",
            "max_occupancy 7 must be between",
        ),
        (
            "start: 2027-06-15, end: 2027-09-06, rate: 249.00",
            "start: 2026-12-25, end: 2027-09-06, rate: 249.00",
            "2026-12-25",
            "properties[0].room_types[0].seasonal_rates[0].start",
            "season 'summer' overlaps season 'holidays'",
        ),
        (
            "      - code: double-queen",
            "      - code: king  # again",
            "code: king  # again",
            "properties[0].room_types[1].code",
            "room type code 'king' is used twice",
        ),
        (
            '      - "+15550100101"',
            '      - "+15550100200"',
            "  - id: pinecrest",
            "properties[1].dialled_numbers[0]",
            "+15550100200 is dialled for both harborview and pinecrest",
        ),
        (
            "timezone: America/Los_Angeles",
            "timezone: Mars/Olympus",
            "Mars/Olympus",
            "properties[0].timezone",
            "not an IANA time zone",
        ),
        (
            'phone: "+15550100100"',
            'phone: "12"',
            'phone: "12"',
            "properties[0].phone",
            "not a phone number",
        ),
        (
            "      front_desk:\n        name: the front desk",
            "      lobby:\n        name: the front desk",
            "  departments:",
            "properties[0].departments",
            "front_desk department is required",
        ),
        (
            '          mon: ["08:00-20:00"]',
            '          mon: ["8am-8pm"]',
            "8am-8pm",
            "properties[0].departments.reservations.hours.mon",
            "not a time range",
        ),
        (
            '        dtmf: "3"',
            '        dtmf: "2"  # taken',
            'dtmf: "2"  # taken',
            "properties[0].departments.restaurant.dtmf",
            "digit 2 is already used by front_desk",
        ),
        (
            '        extension: "3100"',
            '        extension: "3100"\n        queue: kitchen',
            "queue: kitchen",
            "properties[0].departments.restaurant.queue",
            "exactly one of extension or queue",
        ),
        (
            "      voice: marin ",
            "      voice: nova ",
            "voice: nova",
            "properties[0].agent.voice",
            "Input should be 'alloy'",
        ),
    ],
)
def test_mistakes_name_their_line_and_key(
    tmp_path: Path, old: str, new: str, needle: str, path: str, message: str
) -> None:
    file, text = _broken(tmp_path, old, new)
    error = _error(file)
    assert f"{path}:" in error, error
    assert message in error, error
    assert f"hotel.yaml:{_line(text, needle)}:" in error, error


def test_every_mistake_is_listed(tmp_path: Path) -> None:
    text = (
        DEMO.read_text()
        .replace("inventory: 40", "inventory: -1")
        .replace("check_out_time", "checkout")
    )
    (tmp_path / "hotel.yaml").write_text(text)
    error = _error(tmp_path / "hotel.yaml")
    assert "room_types[0].inventory" in error and "properties[0].checkout: unknown key" in error
    assert "properties[0].check_out_time: Field required" in error


def test_broken_yaml_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "hotel.yaml"
    bad.write_text("properties:\n  - id: x\n    name: [unclosed\n")
    assert "hotel.yaml:4: not valid YAML" in _error(
        bad
    ) or "hotel.yaml:3: not valid YAML" in _error(bad)
    bad.write_text("- just a list\n")
    assert "top level must be a mapping" in _error(bad)
    assert "file not found" in _error(tmp_path / "missing.yaml")
    bad.write_text("properties: []\n")
    assert "properties: List should have at least 1 item" in _error(bad)


def test_yaml_cannot_build_python_objects(tmp_path: Path) -> None:
    bad = tmp_path / "hotel.yaml"
    bad.write_text("properties: !!python/object/apply:os.system ['true']\n")
    assert "not valid YAML" in _error(bad)


def _at(day: str, hhmm: str) -> dt.datetime:
    # 2026-11-23 is a Monday
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    date = dt.date(2026, 11, 23) + dt.timedelta(days=days.index(day))
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(date, dt.time(hour, minute), ZoneInfo("America/Los_Angeles"))


def test_the_greeting_and_faq_in_another_language() -> None:
    prop = load_hotel_config(DEMO).get_property("harborview")
    assert prop.greeting_in("en") == prop.greeting_words
    assert prop.greeting_in("es") == (
        "Gracias por llamar al Harborview Hotel. Soy Ava, ¿en qué puedo ayudarle?"
    )
    assert load_hotel_config(DEMO).get_property("pinecrest").greeting_in("es") is None
    wifi = prop.faq[0].translations["es"]
    assert "wifi" in wifi.keywords and wifi.answer.startswith("Sí, el wifi es gratuito")


def test_business_hours() -> None:
    hours = BusinessHours(
        mon=["08:00-12:00", "13:00-17:00"], fri=["22:00-02:00"], sat=["00:00-24:00"]
    )
    assert hours.is_open(_at("mon", "08:00"))
    assert not hours.is_open(_at("mon", "12:30"))  # lunch
    assert not hours.is_open(_at("mon", "17:00"))  # the end is exclusive
    assert not hours.is_open(_at("sun", "10:00"))  # closed all day
    assert hours.is_open(_at("fri", "23:00"))
    assert hours.is_open(_at("sat", "01:59"))  # Friday night running past midnight
    assert hours.is_open(_at("sat", "23:59"))
    assert not hours.is_open(_at("tue", "01:00"))  # Monday has no overnight range
    with pytest.raises(ValueError, match="24:00 is the latest"):
        BusinessHours(mon=["08:00-24:30"])
