"""What a caller's words say about a booking: dates, nights, guests, yes or no, names, numbers.

The offline engine has no language model, so these are patterns over what speech-to-text
writes (Whisper writes "December 12th", "3 nights", "two adults"). Each parser returns None
when the words say nothing about its slot, so an answer can fill several slots at once
("two adults on Friday for three nights").
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "couple": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "fourteen": 14, "twenty": 20, "thirty": 30,
}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_YES = {"yes", "yeah", "yep", "yup", "sure", "correct", "right", "ok", "okay", "please",
        "perfect", "great", "absolutely", "definitely", "fine"}  # fmt: skip
_YES_PHRASES = ("go ahead", "book it", "sounds good", "that's it", "that is it", "do it")
_NO = {"no", "nope", "nah", "don't", "not", "wrong", "cancel"}
_NAME_PREFIX = re.compile(
    r"^(?:yes|yeah|sure|ok|okay)?[,.]?\s*(?:my name is|my name's|the name is|name is|"
    r"it's|it is|this is|i'm|i am|under)\s+",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[a-z0-9']+")
_DEPARTURE = re.compile(
    r"\b(?:until|till|til|through|checking out|check out|checkout|leaving|leave|departing|"
    r"depart|going home|out on)\b"
)
# A name given in passing, whatever was asked: only after words that introduce one.
_NAME_INTRO = re.compile(
    r"\b(?:my name is|my name's|the name is|name is|under the name(?: of)?|it's under|"
    r"booking for|book it under|put it under)\s+(.+)",
    re.IGNORECASE,
)
_NOT_NAME = {"and", "for", "i", "i'd", "i'm", "we", "we'd", "please", "the", "a", "from",
             "on", "with", "calling", "phoning", "looking", "checking", "arriving", "just"}  # fmt: skip


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("-", " "))


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBERS.get(word)


def _ordinal_day(word: str) -> int | None:
    match = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", word)
    if match:
        return int(match.group(1))
    return _ORDINALS.get(word)


def _compound_ordinals(text: str) -> str:
    """'twenty first' → '21st', 'thirty first' → '31st'."""

    def join(m: re.Match[str]) -> str:
        tens = {"twenty": 20, "thirty": 30}[m.group(1)]
        return f"{tens + _ORDINALS[m.group(2)]}th"

    return re.sub(
        r"\b(twenty|thirty)[ -](first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b",
        join,
        text.lower(),
    )


def _next_weekday(today: dt.date, weekday: int) -> dt.date:
    ahead = (weekday - today.weekday()) % 7 or 7
    return today + dt.timedelta(days=ahead)


def _future(year: int, month: int, day: int, today: dt.date) -> dt.date | None:
    for y in (year, year + 1):
        try:
            candidate = dt.date(y, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """The first date in the words, in the future: 'tomorrow', 'Friday', 'December 12th',
    'the 12th of December', 'on the 3rd'."""
    words = _words(_compound_ordinals(text))
    joined = " ".join(words)
    if "day after tomorrow" in joined:
        return today + dt.timedelta(days=2)
    if "tomorrow" in words:
        return today + dt.timedelta(days=1)
    if "today" in words or "tonight" in words:
        return today
    for i, word in enumerate(words):
        if word in _MONTHS and word not in ("may", "mar", "sat", "sun", "wed"):
            month = _MONTHS[word]
            after = _ordinal_day(words[i + 1]) if i + 1 < len(words) else None
            before = None
            if i >= 1:
                before = _ordinal_day(words[i - 1])
                if before is None and i >= 2 and words[i - 1] == "of":
                    before = _ordinal_day(words[i - 2])
            day = after or before
            if day:
                return _future(today.year, month, day, today)
        if word == "may" and i + 1 < len(words) and _ordinal_day(words[i + 1]):
            return _future(today.year, 5, _ordinal_day(words[i + 1]) or 1, today)
    for word in words:
        if word in _WEEKDAYS:
            return _next_weekday(today, _WEEKDAYS[word])
    match = re.search(r"\bthe (\d{1,2})(?:st|nd|rd|th)\b", joined) or re.search(
        r"\bthe (" + "|".join(_ORDINALS) + r")\b", joined
    )
    if match:
        day = _ordinal_day(match.group(1))
        if day:
            month = today.month if day >= today.day else today.month % 12 + 1
            year = today.year if month >= today.month else today.year + 1
            return _future(year, month, day, today)
    return None


def parse_dates(text: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """(arrival, departure): 'Friday for two nights' → (Friday, None); 'from the 12th to the
    14th' and 'until Sunday' name a departure; a departure is always after the arrival."""
    lowered = text.lower()
    match = _DEPARTURE.search(lowered)
    if match is None and re.search(r"\bfrom\b.*\bto\b", lowered):
        match = re.search(r"\bto\b(?!.*\bfrom\b)", lowered[lowered.index("from") :])
        if match is not None:
            start = lowered.index("from") + match.start()
            before, after = lowered[:start], lowered[start:]
            return _arrival_departure(before, after, today)
    if match is None:
        return _two_dates(lowered, today)
    return _arrival_departure(lowered[: match.start()], lowered[match.end() :], today)


def _two_dates(text: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """'December third and December fifth', 'the 3rd, the 5th': a second, later date said
    with the arrival is the departure, whatever joins them (speech-to-text mangles the verb:
    "leave them in", "and leaving")."""
    dates = [d for part in re.split(r",|\band\b|\bthen\b", text) if (d := parse_date(part, today))]
    arrival = dates[0] if dates else None
    later = [d for d in dates[1:] if arrival is not None and d > arrival]
    return arrival, (later[0] if later else None)


def _arrival_departure(
    before: str, after: str, today: dt.date
) -> tuple[dt.date | None, dt.date | None]:
    arrival = parse_date(before, today)
    departure = parse_date(after, arrival or today)
    if departure is not None and arrival is not None and departure <= arrival:
        departure = None
    return arrival, departure


def parse_nights(text: str) -> int | None:
    words = _words(text)
    for i, word in enumerate(words):
        if word in ("night", "nights") and i >= 1:
            count = _number(words[i - 1])
            if count:
                return count
        if word in ("week", "weeks") and i >= 1:
            count = _number(words[i - 1])
            if count:
                return 7 * count
        if word == "weekend":
            return 2
    return None


def parse_guests(text: str, asked: bool = False) -> tuple[int | None, int | None]:
    """(adults, children): 'two adults and a child', 'for 3 people', 'just me'; when the
    question was 'how many guests?', a bare number answers it."""
    words = _words(text)
    joined = " ".join(words)
    adults = children = None
    for i, word in enumerate(words):
        count = _number(words[i - 1]) if i >= 1 else None
        if word in ("adult", "adults", "people", "persons", "guests", "grownups") and count:
            adults = count
        elif word in ("child", "children", "kids", "kid", "kiddos") and count:
            children = count
        elif word == "of" and i + 1 < len(words) and words[i + 1] == "us" and count:
            adults = count
    if adults is None:
        if re.search(r"\b(just me|myself|only me|on my own|alone|just one)\b", joined):
            adults = 1
        elif re.search(r"\b(my wife|my husband|my partner|the two of us|a couple)\b", joined):
            adults = 2
    if asked and adults is None:
        numbers = [n for w in words if (n := _number(w)) is not None and w not in ("a", "an")]
        if numbers:
            adults = numbers[0]
    if re.search(r"\bno (kids|children)\b", joined):
        children = 0
    return adults, children


def parse_yes_no(text: str) -> bool | None:
    words = set(_words(text))
    lowered = text.lower()
    no = bool(words & _NO)
    yes = bool(words & _YES) or any(p in lowered for p in _YES_PHRASES)
    if yes and not no:
        return True
    if no and not yes:
        return False
    if no and yes:  # "no, that's fine" is a no to the question; "yes, not now"…: ask again
        return None
    return None


def parse_name(text: str) -> str | None:
    cleaned = _NAME_PREFIX.sub("", text.strip()).strip(" .,!?")
    parts = [p for p in re.split(r"\s+", cleaned) if re.fullmatch(r"[A-Za-z][A-Za-z'.-]*", p)]
    if not parts or len(parts) > 4:
        return None
    return " ".join(p[0].upper() + p[1:] for p in parts)


def parse_name_given(text: str) -> str | None:
    """A name the caller introduces in any answer ("…, and my name is Maria Gonzalez")."""
    match = _NAME_INTRO.search(text)
    if match is None:
        return None
    parts: list[str] = []
    for raw in re.split(r"\s+", match.group(1)):
        word = raw.strip(" .,!?;:")
        if not re.fullmatch(r"[A-Za-z][A-Za-z'.-]*", word) or word.lower() in _NOT_NAME:
            break
        parts.append(word[0].upper() + word[1:])
        if len(parts) == 3 or raw.endswith((".", ",", "!", "?", ";")):
            break
    return " ".join(parts) or None


_POSITIONS = {"first": 0, "1st": 0, "top": 0, "second": 1, "2nd": 1, "middle": 1, "third": 2,
              "3rd": 2, "last": -1, "final": -1}  # fmt: skip


def parse_position(text: str) -> int | str | None:
    """A choice among what was read out: an index ('the first one', 'the last'; -1 is the
    last), 'cheapest' or 'dearest' ('the cheaper one', 'the biggest'); None when none."""
    words = _words(text)
    joined = " ".join(words)
    if re.search(r"\b(cheap\w*|less expensive|least expensive|lowest|budget)\b", joined):
        return "cheapest"
    if re.search(
        r"\b(most expensive|dearest|biggest|bigger|largest|best|nicest|fanciest)\b", joined
    ):
        return "dearest"
    for word in words:
        if word in _POSITIONS and re.search(
            rf"\b(the|that) {word}\b|\b{word} (one|option|room|suite)\b", joined
        ):
            return _POSITIONS[word]
    return None


def parse_digits(text: str) -> str:
    """The digits a caller read out: '415 555 0134', 'four one five, double five…'."""
    out: list[str] = []
    words = re.findall(r"\d+|[a-z]+", text.lower())
    repeat = 1
    for word in words:
        if word.isdigit():
            out.append(word * repeat if len(word) == 1 else word)
            repeat = 1
        elif word in ("double", "triple"):
            repeat = 2 if word == "double" else 3
        elif word in _DIGIT_WORDS:
            out.append(_DIGIT_WORDS[word] * repeat)
            repeat = 1
    return "".join(out)


_PARTS_OF_DAY = {"morning": dt.time(10), "noon": dt.time(12), "midday": dt.time(12),
                 "lunchtime": dt.time(12, 30), "afternoon": dt.time(15), "evening": dt.time(18)}  # fmt: skip


def parse_time(text: str) -> dt.time | None:
    """'at 3 pm', 'half past four'… kept simple: '3 pm', '3:30 p.m.', '15:00', 'in the morning'."""
    lowered = text.lower().replace("a.m.", "am").replace("p.m.", "pm")
    match = re.search(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|o'clock)?\b", lowered)
    words = _words(lowered)
    if match and (match.group(2) or match.group(3) or "at" in words):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        suffix = match.group(3)
        if suffix == "pm" and hour < 12:
            hour += 12
        elif suffix == "am" and hour == 12:
            hour = 0
        elif suffix is None and 1 <= hour <= 7:  # "at 3" on the phone means the afternoon
            hour += 12
        if hour < 24 and minute < 60:
            return dt.time(hour, minute)
    for part, at in _PARTS_OF_DAY.items():
        if part in words:
            return at
    return None


def parse_when(text: str, now: dt.datetime) -> dt.datetime | None:
    """A moment in the future, in `now`'s time zone: 'tomorrow at 3 pm', 'in two hours',
    'Friday morning'."""
    words = _words(text)
    for i, word in enumerate(words[:-1]):
        if word == "in" and i + 2 < len(words) and words[i + 2].startswith(("hour", "minute")):
            count = _number(words[i + 1])
            if count:
                unit = "hours" if words[i + 2].startswith("hour") else "minutes"
                return now + dt.timedelta(**{unit: count})
    day = parse_date(text, now.date())
    at = parse_time(text)
    if day is None and at is None:
        return None
    when = dt.datetime.combine(day or now.date(), at or dt.time(10), tzinfo=now.tzinfo)
    if day is None and when <= now:
        when += dt.timedelta(days=1)
    return when
