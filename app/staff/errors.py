"""What can go wrong managing staff accounts and signing in: each error says what and why."""

from __future__ import annotations


class StaffError(Exception):
    """A request about staff accounts that cannot be done as asked (bad input, not a fault)."""


class InvalidEmailError(StaffError):
    pass


class InvalidNameError(StaffError):
    pass


class InvalidExtensionError(StaffError):
    pass


class UnknownRoleError(StaffError):
    pass


class DuplicateEmailError(StaffError):
    pass


class ExtensionTakenError(StaffError):
    pass


class UnknownPropertyError(StaffError):
    pass


class UnknownUserError(StaffError):
    pass


class SignInRefused(Exception):
    """Sign-in refused; `message` is safe to show to whoever tried."""

    message = "Wrong email or password."


class WrongCredentials(SignInRefused):
    pass


class AccountDisabled(SignInRefused):
    message = "This account is disabled. Ask your manager or administrator about it."


class TooManyAttempts(SignInRefused):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; retry in {retry_after} s")
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        self.message = (
            "Too many failed sign-ins. For your security, wait "
            f"{minutes} minute{'s' if minutes > 1 else ''} and try again."
        )


class PropertyRequiredError(StaffError):
    """Front-desk staff belong to one property; only managers and admins may span the group."""
