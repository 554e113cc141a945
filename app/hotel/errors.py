"""Errors of the hotel domain that a caller may hear."""

from __future__ import annotations


class ToolError(Exception):
    """A tool could not do what was asked. The message is written for the caller's ear:
    the agent may speak it as it is ("That date has already passed…")."""


class SoldOut(ToolError):
    """The room was taken by another booking between the quote and the reservation."""
