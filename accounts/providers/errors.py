"""The error classes every adapter maps its provider's failures to (after Twenty CRM)."""

from __future__ import annotations


class ProviderError(Exception):
    """Something a provider said that the caller should show or log as it is."""


class ReconnectRequired(ProviderError):
    """The provider refused our credentials for good: the user has to connect again."""


class TemporaryProviderError(ProviderError):
    """Rate limit, 5xx or timeout: back off and try again later; nothing is lost."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OAuthFlowError(ProviderError):
    """The connect flow failed (denied consent, bad state, bad code): shown to the user."""
