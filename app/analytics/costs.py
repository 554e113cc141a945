"""What calls cost, estimated from configured per-minute prices (TRUNK_PRICE_PER_MIN_USD,
ENGINE_OPENAI_PRICE_PER_MIN_USD, ENGINE_LOCAL_PRICE_PER_MIN_USD).

The trunk bills each call per started minute (Twilio's Elastic SIP Trunking does); the engine
per minute of conversation, exact (OpenAI bills tokens, which track talk time; the local engine
costs the server it runs on). A call with no engine (straight to the front desk) pays the trunk
only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ENGINE_KINDS = ("openai", "local")


@dataclass(frozen=True, slots=True)
class Prices:
    trunk_per_min: float
    engine_per_min: Mapping[str, float] = field(default_factory=dict)


def engine_kind(engine: str | None) -> str | None:
    """calls.engine is "local" or "openai:<model>"."""
    if not engine:
        return None
    return engine.split(":", 1)[0]


def total_cost(trunk_minutes: float, engine_minutes: Mapping[str, float], prices: Prices) -> float:
    """trunk_minutes: billed (whole minutes per call); engine_minutes: exact, by engine kind."""
    cost = trunk_minutes * prices.trunk_per_min
    for kind, minutes in engine_minutes.items():
        cost += minutes * prices.engine_per_min.get(kind, 0.0)
    return cost
