"""Whose extension a SIP request through the browser phones' relay claims to be
(app/web/sip_relay.py, claimed_user): what the From check reads must be what Asterisk reads,
the URI, never a display name written to look like one."""

from __future__ import annotations

import pytest

from app.web.sip_relay import claimed_user


def _request(from_value: str, method: str = "INVITE", to_tag: bool = False) -> str:
    return (
        f"{method} sip:2500@frontdesk SIP/2.0\r\n"
        "Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1\r\n"
        f"From: {from_value}\r\n"
        f"To: <sip:2500@frontdesk>{';tag=9' if to_tag else ''}\r\n"
        "Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("from_value", "claimed"),
    [
        ("<sip:2002@frontdesk>;tag=1", "2002"),
        ('"Sam" <sip:2002@frontdesk>;tag=1', "2002"),
        ("sip:2002@frontdesk;tag=1", "2002"),
        ("<sips:2002@frontdesk>;tag=1", "2002"),
        # a display name that looks like the user's own URI, the real one another's
        ('"sip:2002@x" <sip:2003@frontdesk>;tag=1', "2003"),
        ("sip:2002@x <sip:2003@frontdesk>;tag=1", "2003"),
        ('"a <sip:2002@x> b" <sip:2003@frontdesk>;tag=1', "2003"),
        ('"quote \\" <sip:2002@x>" <sip:2003@frontdesk>;tag=1', "2003"),
        ("<tel:+15550100>;tag=1", ""),  # no SIP user: never equal to an extension
    ],
)
def test_the_from_check_reads_the_uri_not_the_display_name(from_value: str, claimed: str) -> None:
    assert claimed_user(_request(from_value)) == claimed


def test_the_compact_from_header_is_read_too() -> None:
    message = _request("<sip:2002@frontdesk>").replace("From:", "f:")
    assert claimed_user(message) == "2002"


def test_a_register_is_checked_even_with_a_to_tag_and_an_in_dialog_request_is_not() -> None:
    assert claimed_user(_request("<sip:2003@frontdesk>", "REGISTER", to_tag=True)) == "2003"
    assert claimed_user(_request("<sip:2003@frontdesk>", "BYE", to_tag=True)) is None


def test_a_response_claims_nobody() -> None:
    assert claimed_user("SIP/2.0 200 OK\r\nFrom: <sip:2003@frontdesk>\r\n\r\n") is None
