"""Errors from the telephony side, with what Asterisk said."""

from __future__ import annotations


class TelephonyError(Exception):
    """An ARI request failed: `status` is the HTTP status (0 when Asterisk was unreachable)."""

    def __init__(self, status: int, message: str, method: str = "", path: str = "") -> None:
        super().__init__(f"{method} {path}: {status} {message}".strip())
        self.status = status
        self.message = message
        self.method = method
        self.path = path

    @property
    def not_found(self) -> bool:
        return self.status == 404
