"""The hotel file (`config/hotel.yaml`): its schema, and a loader whose errors an admin can act on.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored setting.
Errors name the file, the line and the key path, e.g.
`config/hotel.yaml:42: properties[0].room_types[1].base_rate: Input should be greater than 0`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SLUG = r"^[a-z0-9][a-z0-9_-]*$"
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class HotelConfigError(Exception):
    """hotel.yaml cannot be used; the message lists every problem with its line and key."""


def _at(path: str, message: str) -> ValueError:
    """A cross-field error pinned to the key it is about (relative to the model checking it),
    so the loader can report that key's own line."""
    return ValueError(f"@{path}: {message}")


def _e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(
            f"not a phone number in international form (+15551234567): {exc}"
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _money(value: Any) -> Any:
    # YAML gives floats; str() first keeps 189.99 exactly 189.99.
    if isinstance(value, float | int) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _two_places(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("at most two decimal places")
    return value


E164 = Annotated[str, AfterValidator(_e164)]
Money = Annotated[Decimal, BeforeValidator(_money), Field(gt=0), AfterValidator(_two_places)]
Slug = Annotated[str, Field(pattern=_SLUG, max_length=63)]


def to_cents(amount: Decimal) -> int:
    """Money as integer cents, the way the database keeps it."""
    return int((amount * 100).to_integral_value())


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(_Model):
    street: str
    city: str
    region: str
    postal_code: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class Policies(_Model):
    cancellation: str
    pets: str
    parking: str
    deposit: str
    smoking: str


# A language a property speaks to callers, as the dialog knows it: "en", "es".
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]


class FaqTranslation(_Model):
    """An FAQ entry in another language: the answer said to callers in it, and the words
    they ask with."""

    question: str = ""
    answer: str
    keywords: list[str] = []


class FaqEntry(_Model):
    question: str
    answer: str
    keywords: list[str] = []
    # The same entry in the property's other languages ({es: {answer: …, keywords: […]}});
    # a caller in a language without one hears the English answer.
    translations: dict[Language, FaqTranslation] = {}


class SeasonalRate(_Model):
    name: str
    start: dt.date
    end: dt.date
    rate: Money
    weekend_rate: Money | None = None
    min_stay: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SeasonalRate:
        if self.end < self.start:
            raise _at("end", f"end {self.end} is before start {self.start}")
        return self


class RoomTypeConfig(_Model):
    code: Slug
    name: str
    description: str = ""
    max_adults: Annotated[int, Field(ge=1)]
    max_children: Annotated[int, Field(ge=0)] = 0
    max_occupancy: Annotated[int, Field(ge=1)]
    inventory: Annotated[int, Field(ge=0)]
    base_rate: Money
    weekend_rate: Money | None = None  # Friday and Saturday nights
    min_stay: Annotated[int, Field(ge=1)] = 1
    seasonal_rates: list[SeasonalRate] = []

    @model_validator(mode="after")
    def _consistent(self) -> RoomTypeConfig:
        if not self.max_adults <= self.max_occupancy <= self.max_adults + self.max_children:
            raise _at(
                "max_occupancy",
                f"max_occupancy {self.max_occupancy} must be between max_adults ({self.max_adults}) "
                f"and max_adults + max_children ({self.max_adults + self.max_children})",
            )
        names = [s.name for s in self.seasonal_rates]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise _at(f"seasonal_rates[{index}].name", f"season name {name!r} is used twice")
        order = sorted(range(len(self.seasonal_rates)), key=lambda i: self.seasonal_rates[i].start)
        for first, second in itertools.pairwise(order):
            before, after = self.seasonal_rates[first], self.seasonal_rates[second]
            if after.start <= before.end:
                raise _at(
                    f"seasonal_rates[{second}].start",
                    f"season {after.name!r} overlaps season {before.name!r} (ends {before.end})",
                )
        return self


def parse_range(text: str) -> tuple[dt.time, dt.time]:
    match = _RANGE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time range like 08:00-22:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h2 == 24 and m2 != 0:
        raise ValueError(f"{text!r}: 24:00 is the latest end time")
    start = dt.time(h1, m1)
    end = dt.time.max if h2 == 24 else dt.time(h2, m2)
    if start == end:
        raise ValueError(f"{text!r} is empty")
    return start, end


class BusinessHours(_Model):
    """Opening hours per weekday; [] is closed. An end before its start runs past midnight
    (22:00-02:00 is open from 22:00 until 02:00 the next morning)."""

    mon: list[str] = []
    tue: list[str] = []
    wed: list[str] = []
    thu: list[str] = []
    fri: list[str] = []
    sat: list[str] = []
    sun: list[str] = []

    @field_validator(*WEEKDAYS)
    @classmethod
    def _ranges(cls, value: list[str]) -> list[str]:
        for text in value:
            parse_range(text)
        return value

    def _day(self, index: int) -> list[tuple[dt.time, dt.time]]:
        ranges: list[str] = getattr(self, WEEKDAYS[index])
        return [parse_range(r) for r in ranges]

    def is_open(self, at: dt.datetime) -> bool:
        """At a local (property time zone) moment: open by today's hours, or by last
        night's range that runs past midnight."""
        now = at.time()
        for start, end in self._day(at.weekday()):
            if start < end and start <= now < end:
                return True
            if end < start and now >= start:
                return True
        yesterday = (at.weekday() - 1) % 7
        return any(end < start and now < end for start, end in self._day(yesterday))


# Keys the phone menu keeps for itself (app/pbx/prompts.py says them).
RESERVED_KEYS = {"8": "call-back request", "9": "virtual receptionist"}


class DepartmentConfig(_Model):
    name: str
    description: str = ""
    extension: Annotated[str, Field(pattern=r"^\d{2,8}$")] | None = None
    queue: Slug | None = None
    dtmf: Annotated[str, Field(pattern=r"^\d$")] | None = None
    hours: BusinessHours | None = None
    # The menu key sends callers to the AI receptionist first (it books and transfers).
    ai_first: bool = False
    # The name as the phone menu says it in another language: {es: la recepción}.
    spoken_names: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_destination(self) -> DepartmentConfig:
        if self.extension is not None and self.queue is not None:
            raise _at("queue", "give exactly one of extension or queue, not both")
        if self.extension is None and self.queue is None:
            raise _at("name", "give exactly one of extension or queue")
        return self

    @property
    def destination(self) -> str:
        """Where the dialplan rings it ([frontdesk-departments]): the phone's extension, or
        queue-<name>."""
        return self.extension or f"queue-{self.queue}"


class AgentConfig(_Model):
    name: str
    persona: str
    voice: Literal[
        "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"
    ] = "marin"
    # The offline engine's voice: joe (Piper, neural; flite slt without Piper) or one of
    # flite's: slt, kal, kal16, awb, rms. "default" is joe.
    local_voice: Literal["default", "joe", "slt", "kal", "kal16", "awb", "rms"] = "joe"
    greeting: str
    # The greeting in the property's other languages ({es: …}), {property_name} filled in too.
    greetings: dict[Language, str] = {}
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] = "en-US"

    @field_validator("local_voice")
    @classmethod
    def _default_voice(cls, value: str) -> str:
        return "joe" if value == "default" else value


class PropertyConfig(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
    name: str
    address: Address
    phone: E164
    dialled_numbers: list[E164] = []
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    website: Annotated[str, Field(pattern=r"^https?://")]
    booking_page_url: Annotated[str, Field(pattern=r"^https://")]
    timezone: str
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    check_in_time: dt.time
    check_out_time: dt.time
    policies: Policies
    amenities: list[str] = []
    faq: list[FaqEntry] = []
    room_types: Annotated[list[RoomTypeConfig], Field(min_length=1)]
    departments: dict[Slug, DepartmentConfig]
    business_hours: BusinessHours
    languages: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]], Field(min_length=1)
    ] = ["en-US"]
    agent: AgentConfig
    # Respellings for the offline voice (app/engines/ssml.py): a word to what is said, or to
    # a mapping by voice or engine ({flite: …}) for one that helps only some voices.
    lexicon: dict[str, str | dict[str, str]] = {}
    # The phone menu's own words, per language (en, es): welcome and menu replace what
    # `frontdesk sounds build` would otherwise say from the departments.
    phone_prompts: dict[str, dict[Literal["welcome", "menu"], str]] = {}
    # After the agent's goodbye, ask the caller to rate the call 1 to 5 on the keypad
    # (dialplan [frontdesk-survey]; skippable; the answer is stored in calls.survey_score).
    end_of_call_survey: bool = False

    def department_at(self, destination: str) -> DepartmentConfig | None:
        """The department the dialplan rang at `destination` (an extension or queue-<name>)."""
        return next((d for d in self.departments.values() if d.destination == destination), None)

    @property
    def greeting_words(self) -> str:
        """What the agent opens a call with: the persona's greeting, the name filled in."""
        return self.agent.greeting.replace("{property_name}", self.name)

    def greeting_in(self, language: str) -> str | None:
        """The greeting in a language ("en", "es"), the name filled in; None when hotel.yaml
        has none in it (English always has one)."""
        if language == "en":
            return self.greeting_words
        greeting = self.agent.greetings.get(language)
        return greeting.replace("{property_name}", self.name) if greeting is not None else None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone like America/Los_Angeles"
            ) from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _numbers_default_to_phone(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("dialled_numbers") and "phone" in data:
            return {**data, "dialled_numbers": [data["phone"]]}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> PropertyConfig:
        for index, number in enumerate(self.dialled_numbers):
            if number in self.dialled_numbers[:index]:
                raise _at(f"dialled_numbers[{index}]", f"{number} is listed twice")
        codes = [r.code for r in self.room_types]
        for index, code in enumerate(codes):
            if code in codes[:index]:
                raise _at(f"room_types[{index}].code", f"room type code {code!r} is used twice")
        if "front_desk" not in self.departments:
            raise _at(
                "departments", "a front_desk department is required (callers fall back to it)"
            )
        used: dict[str, str] = {}
        for key, department in self.departments.items():
            if department.dtmf is None:
                continue
            if department.dtmf in RESERVED_KEYS:
                raise _at(
                    f"departments.{key}.dtmf",
                    f"digit {department.dtmf} is the menu's {RESERVED_KEYS[department.dtmf]}",
                )
            if department.dtmf == "0" and key != "front_desk":
                raise _at(f"departments.{key}.dtmf", "digit 0 is the operator: the front desk")
            if department.dtmf in used:
                raise _at(
                    f"departments.{key}.dtmf",
                    f"digit {department.dtmf} is already used by {used[department.dtmf]}",
                )
            used[department.dtmf] = key
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class HotelConfig(_Model):
    properties: Annotated[list[PropertyConfig], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> HotelConfig:
        ids = [p.id for p in self.properties]
        for index, prop_id in enumerate(ids):
            if prop_id in ids[:index]:
                raise _at(f"properties[{index}].id", f"property id {prop_id!r} is used twice")
        owner: dict[str, str] = {}
        for index, prop in enumerate(self.properties):
            for position, number in enumerate(prop.dialled_numbers):
                if number in owner:
                    raise _at(
                        f"properties[{index}].dialled_numbers[{position}]",
                        f"{number} is dialled for both {owner[number]} and {prop.id}",
                    )
                owner[number] = prop.id
        return self

    def get_property(self, property_id: str) -> PropertyConfig:
        for prop in self.properties:
            if prop.id == property_id:
                return prop
        raise KeyError(f"no property {property_id!r} in the hotel configuration")

    def property_for_number(self, e164: str) -> PropertyConfig | None:
        """The property a dialled number reaches (None: not one of ours)."""
        for prop in self.properties:
            if e164 in prop.dialled_numbers:
                return prop
        return None

    @property
    def default_property(self) -> PropertyConfig:
        return self.properties[0]


# --- loading -------------------------------------------------------------------------------


def _loc_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(("function-", "constrained-")) or part in ("list", "dict"):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


def _parse_path(path: str) -> tuple[int | str, ...]:
    parts: list[int | str] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(parts)


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line (1-based) of the deepest YAML node along an error's path."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if str(kv[0].value) == str(part)), None)
            if match is not None:
                line = match[0].start_mark.line + 1  # the key's own line
                node = match[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        # other loc parts (pydantic's union branches, keys the file leaves out) have no node
    return line


def load_hotel_config(path: str | Path) -> HotelConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HotelConfigError(
            f"{path}: file not found (set HOTEL_CONFIG, or copy config/hotel.yaml)"
        ) from None
    except OSError as exc:
        raise HotelConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise HotelConfigError(f"{path}{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise HotelConfigError(f"{path}: the top level must be a mapping with a `properties` list")
    try:
        return HotelConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if message.startswith("@"):  # pinned to a key below the model that raised it
                relative, _, message = message[1:].partition(": ")
                loc += _parse_path(relative)
            line = _line_of(root, loc)
            if error["type"] == "extra_forbidden":
                message = "unknown key (check its spelling)"
            where = f"{path}:{line}" if line else str(path)
            lines.append(f"{where}: {_loc_path(loc) or '(top)'}: {message}")
        raise HotelConfigError("\n".join(lines)) from None
