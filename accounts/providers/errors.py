"""The error classes every adapter maps its provider's failures to (after Twenty CRM).

They are typed values: callers decide by class and fields, never by the message text.

- `side`: which connection failed ("salesforce" | "mailbox"; "" when not known);
- `status`: the HTTP status the provider answered, when there was one;
- `retry_after`: seconds the provider asked us to wait (temporary errors);
- `permanent`: trying again without a change (reconnecting, fixing data) cannot help.
"""

from __future__ import annotations

SALESFORCE, MAILBOX = "salesforce", "mailbox"  # the values of Connection.Side


class ProviderError(Exception):
    """Something a provider said that the caller should show or log as it is."""

    default_permanent = True

    def __init__(
        self,
        message: str,
        *,
        side: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        permanent: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.side = side
        self.status = status
        self.retry_after = retry_after
        self.permanent = self.default_permanent if permanent is None else permanent


class ReconnectRequired(ProviderError):
    """The provider refused our credentials for good: the user has to connect again."""


class TemporaryProviderError(ProviderError):
    """Rate limit, 5xx or timeout: back off and try again later; nothing is lost."""

    default_permanent = False

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        *,
        side: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, side=side, status=status, retry_after=retry_after)


class OAuthFlowError(ProviderError):
    """The connect flow failed (denied consent, bad state, bad code): shown to the user."""
