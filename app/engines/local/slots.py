"""What a caller's English words say: dates, nights, guests, yes or no, names, numbers, which
of the rooms offered, and the phrases that steer the call ("repeat that", "start over").

The offline engine has no language model, so these are patterns over what speech-to-text
writes (Whisper writes "December 12th", "3 nights", "two adults"). Each parser returns None
when the words say nothing about its slot, so an answer can fill several slots at once
("two adults on Friday for three nights"). slots_es.py is the same for Spanish, function
for function (app/engines/local/language.py says which functions a language provides).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from app.engines.local.dates import Mention, arrival_departure, at_day, resolve
from app.hotel.config import DepartmentConfig
from app.hotel.faq import fold

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
_AMBIGUOUS_MONTHS = {"may", "mar", "sat", "sun", "wed", "jan"}  # words before they are months
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
# "the second one", "the first time": an ordinal that is not a day of the month.
_NOT_A_DAY_AFTER = {"one", "ones", "option", "options", "room", "rooms", "time", "floor", "night",
                    "nights", "person", "guest", "thing", "choice", "suite", "of"}  # fmt: skip
# Where the departure comes: what follows names the day they leave.
_DEPARTS = re.compile(
    r"\b(?:until|till|til|(?<!put me )through|thru|checking out|check out|checkout|leaving|leave|leaves|"
    r"depart|departing|departure|out on|going home)\b"
)
# Not "please" alone: "I'd like to book a room, please" to "Shall I book it?" is no yes
# (bench/conversation booked on it), nor "the very sweet, please" to "Which would you like?".
_YES = {"yes", "yeah", "yep", "yup", "sure", "correct", "right", "ok", "okay",
        "perfect", "great", "absolutely", "definitely", "fine"}  # fmt: skip
_YES_PHRASES = ("go ahead", "book it", "sounds good", "that's it", "that is it", "do it",
                "please do")  # fmt: skip
_NO = {"no", "nope", "nah", "don't", "not", "wrong", "cancel"}
_NAME_PREFIX = re.compile(
    r"^(?:yes|yeah|sure|ok|okay)?[,.]?\s*(?:my name is|my name's|the name is|the name's|"
    r"name is|it's|it is|this is|i'm|i am|under the name(?: of)?|under|in the name of)\s+",
    re.IGNORECASE,
)
# A name the caller introduces, whatever was asked ("…, my name is Maria Gonzalez").
_INTRODUCED = re.compile(
    r"\b(?:my name is|my name's|the name is|the name's|name's|under the name(?: of)?|"
    r"in the name of|put it under)\s+",
    re.IGNORECASE,
)
# Words that are not a name, whatever the question was.
_NOT_NAME = {
    *_NUMBERS, *_ORDINALS, *_WEEKDAYS, *_YES, *_NO,
    "night", "nights", "week", "adult", "adults", "child", "children", "kids", "people", "room",
    "rooms", "king", "queen", "suite", "double", "book", "booking", "the", "and", "for", "from",
    "to", "on", "in", "at", "of", "with", "what", "sorry", "again", "repeat", "number", "phone",
    "tomorrow", "today", "thanks", "thank", "you", "hello", "hi", "pardon", "that", "is", "i",
    "want", "need", "would", "like", "can", "could", "not", "just", "um", "uh", "hmm",
}  # fmt: skip
_NAME_END = {"and", "for", "from", "on", "i", "i'd", "i'm", "we", "please", "thanks", "thank",
             "with", "my", "calling", "staying", "arriving", "phone", "number"}  # fmt: skip
_TOKEN = re.compile(r"[a-z0-9']+")
_FILLER = {"um", "uh", "er", "erm", "just", "please", "only", "oh", "well", "maybe", "about",
           "i", "think", "say", "let's", "lets", "make", "it", "for", "so"}  # fmt: skip

_PARTY_FILLER = {"we", "are", "we're", "there", "will", "be", "of", "us", "in", "all", "total",
                 "people", "adults", "guests"}  # fmt: skip

# The phrases that steer a call, over words lowered with accents folded (faq.fold).
CUES: dict[str, re.Pattern[str]] = {
    "goodbye": re.compile(r"\b(bye|goodbye|that's all|that is all|nothing else|hang up)\b"),
    "done": re.compile(r"^\W*(no|nope|nah|nothing|that's it|that is it)\b[\w\s,.'!]{0,30}$"),
    "repeat": re.compile(
        r"\b(repeat (that|it|this|please|yourself)|say (that|it) again|come again|"
        r"what did you (just )?say|(didn't|did not) (catch|hear|get) (that|you|it|what)|"
        r"(can|could) you repeat)\b"
        r"|^\W*(sorry|pardon|pardon me|what|huh|excuse me|repeat|say again|again)\W*$"
    ),
    "start_over": re.compile(
        r"\b(start (over|again|afresh|from scratch)|begin again|from the (beginning|top|start)|"
        r"restart|let's start over)\b"
    ),
    # Asking for a person outright, at any stage: "let me talk to someone", "operator!"
    "person": re.compile(
        r"\b(?:talk|speak|speaking)\s+(?:to|with)\s+(?:someone|somebody|a person|a human|"
        r"a real person|a live person|an? (?:agent|representative|operator|receptionist)|"
        r"staff|reception|the front desk|front desk|a manager)\b"
        r"|\b(?:real|live) person\b|\bhuman being\b"
        r"|^\W*(?:an? )?(?:operator|human|representative|receptionist|agent|person)"
        r"(?:[\s,]+please)?\W*$"
    ),
    "transfer": re.compile(
        r"\b(put me through|transfer|speak (to|with)|talk (to|with)|connect me|get me)\b"
    ),
    "callback": re.compile(r"\b(call me back|call back|callback|ring me back|phone me back)\b"),
    "card": re.compile(
        r"\b(card number|card details|credit card|debit card|visa|mastercard|amex|"
        r"american express|expiry date|security code|cvv)\b"
    ),
    "not_ready": re.compile(
        r"(not ready|think about it|just looking|not yet|maybe later|call me back|send me|"
        r"get back to)"
    ),
}
_PERSON_WORDS = ("front desk", "operator", "human", "someone", "real person", "representative",
                 "receptionist")  # fmt: skip
_BOOKING_WORDS = {"book", "booking", "reserve", "reservation", "availability", "available",
                  "vacancy", "vacancies", "rates", "rate", "price", "stay", "nights", "night"}  # fmt: skip
_ROOM_WORDS = {"room", "rooms", "suite", "suites"}
_POSITIONS = [
    (re.compile(r"\b(cheaper|cheapest|less expensive|least expensive|lowest price|"
                r"most affordable|cheap one|budget)\b"), "cheapest"),
    (re.compile(r"\b(bigger|biggest|larger|largest|more space|most space|roomier|"
                r"more spacious|most spacious)\b"), "biggest"),
    (re.compile(r"\b(more expensive|most expensive|pricier|priciest)\b"), "dearest"),
    (re.compile(r"\bthe (last|latter)\b|\blast (one|option|room)\b"), "last"),
    (re.compile(r"\bthe (first|1st|former|top)\b|\b(first|1st|top) (one|option|room)\b"), "1"),
    (re.compile(r"\bthe (second|2nd|middle)\b|\b(second|2nd|middle) (one|option|room)\b"), "2"),
    (re.compile(r"\bthe (third|3rd)\b|\b(third|3rd) (one|option|room)\b"), "3"),
]  # fmt: skip


def _words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text).replace("-", " "))


def cue(text: str, name: str) -> bool:
    """Do the words say this ('repeat', 'start_over', 'person', 'goodbye' … see CUES)?"""
    return CUES[name].search(fold(text).replace("-", " ").strip()) is not None


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBERS.get(word)


def _ordinal_day(word: str) -> int | None:
    match = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", word)
    if match:
        return int(match.group(1)) if 1 <= int(match.group(1)) <= 31 else None
    return _ORDINALS.get(word)


def _compound_ordinals(text: str) -> str:
    """'twenty first' → '21th', 'thirty first' → '31th'."""

    def join(m: re.Match[str]) -> str:
        tens = {"twenty": 20, "thirty": 30}[m.group(1)]
        return f"{tens + _ORDINALS[m.group(2)]}th"

    return re.sub(
        r"\b(twenty|thirty)[ -](first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b",
        join,
        text.lower(),
    )


def _mentions(words: list[str]) -> list[Mention]:
    """Every day the words name, in order."""
    found: list[Mention] = []
    i = 0
    while i < len(words):
        word = words[i]
        following = words[i + 1] if i + 1 < len(words) else ""
        if word == "day" and following == "after" and words[i + 2 : i + 3] == ["tomorrow"]:
            found.append(Mention(i, offset=2))
            i += 3
            continue
        if word == "tomorrow":
            found.append(Mention(i, offset=1))
        elif word in ("today", "tonight"):
            found.append(Mention(i, offset=0))
        elif word in _MONTHS and (word not in _AMBIGUOUS_MONTHS or _ordinal_day(following)):
            month = _MONTHS[word]
            # "12th of December", "12 December": the day just found takes this month
            previous = found[-1] if found else None
            if (
                previous is not None
                and previous.day is not None
                and previous.month is None
                and (previous.at == i - 1 or (previous.at == i - 2 and words[i - 1] == "of"))
            ):
                previous.month = month
            else:
                skip = 2 if following == "the" else 1
                day = _ordinal_day(words[i + skip]) if i + skip < len(words) else None
                if day is not None:
                    found.append(Mention(i, day=day, month=month))
                    i += skip + 1
                    continue
                at = i - 2 if i >= 2 and words[i - 1] == "of" else i - 1
                before = _ordinal_day(words[at]) if at >= 0 else None
                if before is not None:
                    found.append(Mention(i, day=before, month=month))
        elif word in _WEEKDAYS:
            found.append(Mention(i, weekday=_WEEKDAYS[word]))
        elif _day_alone(words, i):
            found.append(Mention(i, day=_ordinal_day(word)))
        i += 1
    return found


def _day_alone(words: list[str], i: int) -> bool:
    """'the 12th', 'on the third', 'to the 14th', '5th': a day of the month without its month
    (a written ordinal like '5th' stands alone; a spoken one needs 'the' before it). Not 'the
    second one', 'the first time'; a bare number never is ('two adults')."""
    word = words[i]
    if word.isdigit() or _ordinal_day(word) is None:
        return False
    following = words[i + 1] if i + 1 < len(words) else ""
    if following == "of":
        return i + 2 < len(words) and words[i + 2] in _MONTHS
    if following in _NOT_A_DAY_AFTER:
        return False
    return bool(re.fullmatch(r"\d{1,2}(st|nd|rd|th)", word)) or (i >= 1 and words[i - 1] == "the")


def parse_date(text: str, today: dt.date) -> dt.date | None:
    """The first date in the words, in the future: 'tomorrow', 'Friday', 'December 12th',
    'the 12th of December', 'on the 3rd'."""
    mentions = _mentions(_words(_compound_ordinals(text)))
    return resolve(mentions[0], today, today) if mentions else None


def parse_dates(
    text: str, today: dt.date, arrival: dt.date | None = None
) -> tuple[dt.date | None, dt.date | None]:
    """(arrival, departure): 'Friday for two nights' → (Friday, None); 'from the 12th to the
    14th', 'until Sunday' and a second date ('in on the 3rd and … December 5th') name a
    departure, always after the arrival (the one in the words, else `arrival`)."""
    lowered = _compound_ordinals(fold(text).replace("-", " "))
    words = _words(lowered)
    departs = _DEPARTS.search(lowered)
    departs_at = len(_words(lowered[: departs.start()])) if departs else None
    return arrival_departure(_mentions(words), departs_at, today, arrival)


def parse_nights(text: str, asked: bool = False) -> int | None:
    """'three nights', 'a week', 'the weekend'; a bare 'three' when nights were just asked."""
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
    if asked:
        rest = [w for w in words if w not in _FILLER]
        if len(rest) == 1 and rest[0] not in ("a", "an") and _number(rest[0]):
            return _number(rest[0])
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
    if asked and adults is None:  # "three", "we are three", "two of us please"
        rest = [w for w in words if w not in _FILLER and w not in _PARTY_FILLER]
        if len(rest) == 1 and rest[0] not in ("a", "an") and _number(rest[0]):
            adults = _number(rest[0])
    if re.search(r"\bno (kids|children)\b", joined):
        children = 0
    return adults, children


def parse_yes_no(text: str) -> bool | None:
    words = set(_words(text))
    lowered = fold(text)
    no = bool(words & _NO)
    yes = bool(words & _YES) or any(p in lowered for p in _YES_PHRASES)
    if yes and not no:
        return True
    if no and not yes:
        return False
    return None  # "no, that's fine", "yes, not now": ask again


def _name_words(text: str) -> str | None:
    """The name at the start of `text`: up to four words, until punctuation or a word that
    ends it ('…Gonzalez and we arrive…')."""
    head = re.split(r"[,;!?\d]|\.(?:\s|$)", text.strip(), maxsplit=1)[0]
    parts: list[str] = []
    for part in head.split():
        if part.lower() in _NAME_END:
            break
        parts.append(part)
    if not parts or len(parts) > 4:
        return None
    if not all(re.fullmatch(r"[^\W\d_][^\W\d_'.-]*", p) for p in parts):
        return None
    if any(p.lower().strip(".") in _NOT_NAME for p in parts):
        return None
    return " ".join(p[0].upper() + p[1:] for p in parts)


def parse_name(text: str) -> str | None:
    """The answer to 'may I have your name?': 'It's John Smith.', 'Ada Lovelace'."""
    cleaned = _NAME_PREFIX.sub("", text.strip()).strip(" .,!?")
    if len(cleaned.split()) > 4:
        return None
    return _name_words(cleaned)


def introduced_name(text: str) -> str | None:
    """A name the caller gives whatever was asked: '…my name is Maria Gonzalez'."""
    match = _INTRODUCED.search(text)
    return _name_words(text[match.end() :]) if match else None


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


def parse_position(text: str) -> str | None:
    """Which of the rooms just offered: '1', '2', '3', 'last', 'cheapest', 'biggest',
    'dearest'; None when the words pick none by position ('the first of December' is a date)."""
    lowered = fold(text)
    if re.search(
        r"\b(first|second|third|1st|2nd|3rd|last)\s+of\s+(" + "|".join(_MONTHS) + ")", lowered
    ):
        return None
    for pattern, position in _POSITIONS:
        if pattern.search(lowered):
            return position
    return None


def wants_booking(text: str, today: dt.date) -> bool:
    """Booking words ("book", "availability"), or a room with a date, a length of stay or its
    kind ("a king room from the 8th", "the king room, please"); "my room is cold" is not."""
    words = set(_words(text))
    if words & _BOOKING_WORDS:
        return True
    if words & _ROOM_WORDS:
        return (
            parse_date(text, today) is not None
            or parse_nights(text) is not None
            or bool(re.search(r"\b(king|queen|suite|double|twin|single) rooms?\b", " ".join(words)))
        )
    return False


def department_phrases(key: str, department: DepartmentConfig) -> list[str]:
    """How a caller names a department: its key ('restaurant') and its name."""
    return [key.replace("_", " "), department.name.lower()]


def person_words() -> tuple[str, ...]:
    """Words that mean the front desk when a transfer is asked for ('talk to someone')."""
    return _PERSON_WORDS


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
    return at_day(parse_date(text, now.date()), parse_time(text), now)
