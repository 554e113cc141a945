"""The Stasis arguments, parsed once: each shape the dialplan and our own calls send."""

from __future__ import annotations

import uuid

import pytest

from app.calls.arrival import Arrival, Why

CALLBACK = uuid.UUID("5b0f3c1e-2a57-4c59-9d0e-8f4f8a2b1c3d")


@pytest.mark.parametrize(
    ("args", "why", "fields"),
    [
        (["agent"], Why.NONE, {}),
        (["agent", "after-hours", ""], Why.AFTER_HOURS, {}),
        (["agent", "menu", ""], Why.MENU, {}),
        (["agent", "menu-reservations", ""], Why.DEPARTMENT, {"department_key": "reservations"}),
        (["agent", "callback", ""], Why.CALLBACK_KEY, {}),
        (["agent", "closed", "3300"], Why.CLOSED, {"destination": "3300"}),
        (
            ["agent", "unanswered", "queue-front-desk", "pinecrest"],
            Why.UNANSWERED,
            {"destination": "queue-front-desk", "property_id": "pinecrest"},
        ),
        (["agent", "unanswered", "3100"], Why.UNANSWERED, {"destination": "3100"}),
        # an admin's own reason, or one missing what it names: a plain call to the agent
        (["agent", "vip-line"], Why.OTHER, {}),
        (["agent", "closed"], Why.OTHER, {}),
        (["agent", "menu-"], Why.OTHER, {}),
    ],
)
def test_each_way_the_dialplan_sends_a_caller(
    args: list[str], why: Why, fields: dict[str, str]
) -> None:
    arrival = Arrival.parse(args)
    assert arrival.mode == "agent" and arrival.why is why and not arrival.outbound
    for name in ("department_key", "destination", "property_id"):
        assert getattr(arrival, name) == fields.get(name), name
    assert arrival.ivr_path == tuple(a for a in args[1:] if a)  # what the call's row keeps


def test_a_call_we_placed_names_its_callback_and_property() -> None:
    arrival = Arrival.parse(["callback", str(CALLBACK), "harborview"])
    assert arrival.outbound and arrival.callback_id == CALLBACK
    assert arrival.property_id == "harborview"
    assert arrival.ivr_path == ()  # the guest did not come through the menu


def test_a_malformed_callback_id_is_no_callback() -> None:
    arrival = Arrival.parse(["callback", "not-a-uuid"])
    assert arrival.outbound and arrival.callback_id is None and arrival.property_id is None


def test_no_arguments_at_all() -> None:
    assert Arrival.parse([]).mode == ""
    assert Arrival.parse(["echo"]) == Arrival("echo")
