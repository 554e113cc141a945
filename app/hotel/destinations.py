"""Who the product may dial or text: one destination policy for every number it reaches
(callbacks, payment-link and confirmation texts), so a caller cannot turn the agent into a
toll-fraud or SMS-pumping machine paid by the hotel.

A number passes when all of these hold:
- it is a valid number (phonenumbers) of the property's own country or of a country the
  hotel allows (DESTINATION_COUNTRIES). Countries are phonenumbers *regions*, so the
  Caribbean and the other countries that share +1 are not "the US" (Jamaica is JM, +1 876);
- its type is one a guest can be reached on: fixed line, mobile (or either), VoIP, toll-free.
  Never premium rate or shared cost (the caller's bill becomes the hotel's); never UAN
  (company "universal access" numbers, often special-rate), personal numbers (UK 070, a known
  fraud route that bills like premium), pagers, voicemail access or unknown types: no guest
  needs a call back on one, and we cannot vouch for what they cost;
- its digits (E.164 without the +) match none of BLOCKED_PREFIXES: the same regular
  expressions the dialplan's staff dial-out and callback context apply, read from
  dialplan/extensions.conf (the one place to edit them);
- caps: at most `per_call` texts and callbacks arranged in one call, and `per_number_day` to
  one number in 24 hours, counted in the database (so they hold across calls and restarts).

A refusal is a DestinationRefused (a ToolError: the agent may say it) and is logged with the
number masked.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

import phonenumbers
from phonenumbers import PhoneNumberType

from app.hotel.callbacks import CallbackStore, NewCallback
from app.hotel.errors import ToolError
from app.log import get_logger
from app.messaging.outbox import OutgoingSms, SmsOutbox
from app.redaction import mask_phone

log = get_logger(__name__)

Kind = Literal["call", "text"]

# The kinds of number a guest can be called or texted on; everything else is refused.
REACHABLE_TYPES = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.VOIP,
        PhoneNumberType.TOLL_FREE,
    }
)
CAP_WINDOW = dt.timedelta(hours=24)
DEFAULT_PER_CALL = 3
DEFAULT_PER_NUMBER_DAY = 5


class DestinationRefused(ToolError):
    """The policy refused a number; the message is for the caller's ear."""

    def __init__(self, spoken: str, rule: str) -> None:
        super().__init__(spoken)
        self.rule = rule  # which rule refused it: invalid, country, type, prefix, per_call, …


def country_regions(raw: str) -> frozenset[str]:
    """DESTINATION_COUNTRIES as regions: 'CA, GB' -> {'CA', 'GB'}; ValueError for a code
    phonenumbers does not know (a typo must not silently allow or refuse a country)."""
    regions = {part.strip().upper() for part in raw.replace(";", ",").split(",") if part.strip()}
    unknown = sorted(r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS)
    if unknown:
        raise ValueError(
            f"unknown country code(s) {', '.join(unknown)}: use ISO 3166 two-letter codes "
            "separated by commas (e.g. CA,GB)"
        )
    return frozenset(regions)


def compile_prefixes(prefixes: Iterable[str]) -> re.Pattern[str] | None:
    """The dialplan's BLOCKED_PREFIXES alternatives as one anchored pattern (None: none)."""
    parts = [p for p in prefixes if p]
    if not parts:
        return None
    try:
        return re.compile("^(" + "|".join(parts) + ")")
    except re.error as exc:
        raise ValueError(f"BLOCKED_PREFIXES is not a valid regular expression: {exc}") from None


def calling_codes(regions: Iterable[str]) -> list[str]:
    """The country calling codes of some regions, for the dialplan ('US','CA','GB' -> 1, 44)."""
    codes = {phonenumbers.country_code_for_region(r) for r in regions}
    return [str(c) for c in sorted(codes) if c]


@dataclass(frozen=True)
class DestinationRules:
    also_allowed: frozenset[str] = frozenset()  # regions besides the property's own
    blocked_prefixes: tuple[str, ...] = ()  # regular expressions on the digits without +
    per_call: int = DEFAULT_PER_CALL
    per_number_day: int = DEFAULT_PER_NUMBER_DAY
    _blocked: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_blocked", compile_prefixes(self.blocked_prefixes))

    def allowed_regions(self, home: str) -> frozenset[str]:
        return self.also_allowed | {home}

    def refusal(self, e164: str, home: str, kind: Kind) -> DestinationRefused | None:
        """Why this number may not be called or texted, or None when it may (no caps here)."""
        verb = "call" if kind == "call" else "text"
        try:
            number = phonenumbers.parse(e164, home)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            return DestinationRefused(
                "That phone number doesn't look complete. Could you give it to me again, "
                "with the area code?",
                "invalid",
            )
        if phonenumbers.region_code_for_number(number) not in self.allowed_regions(home):
            return DestinationRefused(
                f"I'm sorry, I can't {verb} that number: we can only reach numbers in "
                f"{_countries(self.allowed_regions(home))}. Is there another number I can use?",
                "country",
            )
        if phonenumbers.number_type(number) not in REACHABLE_TYPES:
            return DestinationRefused(
                f"I'm sorry, I can't {verb} that number: we don't reach premium-rate or "
                "special service numbers. Could you give me a mobile or home number?",
                "type",
            )
        digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
        if self._blocked is not None and self._blocked.match(digits):
            return DestinationRefused(
                f"I'm sorry, I can't {verb} that number from here. Is there another number "
                "I can use?",
                "prefix",
            )
        return None


def _countries(regions: frozenset[str]) -> str:
    names = sorted(_REGION_NAMES.get(r, r) for r in regions)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# How the agent names the usual countries; others are said by their code.
_REGION_NAMES = {
    "US": "the United States",
    "CA": "Canada",
    "MX": "Mexico",
    "GB": "the United Kingdom",
    "IE": "Ireland",
    "FR": "France",
    "DE": "Germany",
    "ES": "Spain",
    "IT": "Italy",
    "AU": "Australia",
}


@dataclass(frozen=True)
class Usage:
    in_call: int  # texts queued and callbacks arranged during one call
    to_number: int  # texts and callbacks to one number within the window


class UsageLedger(Protocol):
    async def usage(self, call_id: uuid.UUID | None, e164: str, since: dt.datetime) -> Usage:
        """What was already sent or arranged: by this call, and to this number since then."""
        ...


class DestinationPolicy:
    """The rules plus the caps, counted by a ledger (the database in production)."""

    def __init__(
        self,
        rules: DestinationRules,
        ledger: UsageLedger,
        homes: Mapping[str, str],  # property id -> its country (hotel.yaml address.country)
    ) -> None:
        self.rules = rules
        self._ledger = ledger
        self._homes = dict(homes)

    def screen(self, e164: str, property_id: str, kind: Kind) -> None:
        """The rules without the caps (the scheduler's last check before it dials)."""
        home = self._homes.get(property_id)
        refused = (
            self.rules.refusal(e164, home, kind)
            if home is not None
            else DestinationRefused(  # e.g. a callback of a property hotel.yaml no longer has
                "I'm sorry, I can't reach that number from here.", "property"
            )
        )
        if refused is not None:
            _log_refusal(e164, kind, refused)
            raise refused

    async def admit(
        self,
        e164: str,
        property_id: str,
        kind: Kind,
        call_id: uuid.UUID | None,
        now: dt.datetime | None = None,
    ) -> None:
        """May we text or arrange a call to this number now? DestinationRefused if not."""
        self.screen(e164, property_id, kind)
        now = now or dt.datetime.now(dt.UTC)
        used = await self._ledger.usage(call_id, e164, now - CAP_WINDOW)
        refused: DestinationRefused | None = None
        if call_id is not None and used.in_call >= self.rules.per_call:
            refused = DestinationRefused(
                "I've already sent as many messages and arranged as many calls as I can on "
                "this call. The front desk can help with anything more.",
                "per_call",
            )
        elif used.to_number >= self.rules.per_number_day:
            refused = DestinationRefused(
                "We've already been in touch with that number several times today, so I "
                "can't send anything more to it until tomorrow. The front desk can help.",
                "per_number_day",
            )
        if refused is not None:
            _log_refusal(e164, kind, refused, in_call=used.in_call, to_number=used.to_number)
            raise refused


def _log_refusal(e164: str, kind: Kind, refused: DestinationRefused, **counts: int) -> None:
    log.warning(
        "destination refused", number=mask_phone(e164), kind=kind, rule=refused.rule, **counts
    )


class ScreenedOutbox:
    """The SMS outbox behind the policy: every text the product queues passes it first."""

    def __init__(self, outbox: SmsOutbox, policy: DestinationPolicy) -> None:
        self._outbox = outbox
        self._policy = policy

    async def enqueue(self, message: OutgoingSms) -> uuid.UUID:
        await self._policy.admit(message.to_e164, message.property_id, "text", message.call_id)
        return await self._outbox.enqueue(message)


class ScreenedCallbacks:
    """The callback store behind the policy: no callback is arranged to a refused number."""

    def __init__(self, store: CallbackStore, policy: DestinationPolicy) -> None:
        self._store = store
        self._policy = policy

    async def add(self, callback: NewCallback) -> uuid.UUID:
        await self._policy.admit(
            callback.phone_e164, callback.property_id, "call", callback.call_id
        )
        return await self._store.add(callback)
