"""Salesforce: the OAuth 2.0 web-server flow and a simple-salesforce client that refreshes.

Salesforce's token response has no `expires_in` (the org's session timeout governs), so
Relay refreshes reactively: a 401 INVALID_SESSION_ID → one refresh → one retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlencode

import requests
from django.conf import settings
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from .errors import SALESFORCE, ReconnectRequired, TemporaryProviderError
from .http import (
    TokenGrant,
    fetch_identity,
    post_best_effort,
    post_token_request,
    refresh_grant,
    session_for,
)

if TYPE_CHECKING:
    from accounts.models import Connection

T = TypeVar("T")
LABEL = "Salesforce"
LOGIN_HOSTS = ("production", "sandbox")


def login_url_for(login_host: str) -> str:
    """The login server for a production org or a sandbox org."""
    if login_host == "sandbox":
        return settings.SALESFORCE_SANDBOX_LOGIN_URL.rstrip("/")
    return settings.SALESFORCE_LOGIN_URL.rstrip("/")


def authorize_url(*, state: str, redirect_uri: str, login_host: str = "production") -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": "api refresh_token",
            "state": state,
        }
    )
    return f"{login_url_for(login_host)}/services/oauth2/authorize?{query}"


def exchange_code(*, code: str, redirect_uri: str, login_host: str = "production") -> TokenGrant:
    """Trade the authorization code for tokens and find out which user and org they are."""
    login_url = login_url_for(login_host)
    payload = post_token_request(
        f"{login_url}/services/oauth2/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "client_secret": settings.SALESFORCE_CLIENT_SECRET,
            "redirect_uri": redirect_uri,
        },
        settings.SALESFORCE_CA_BUNDLE,
        provider_label=LABEL,
        refreshing=False,
    )
    identity = fetch_identity(
        payload["id"], payload["access_token"], settings.SALESFORCE_CA_BUNDLE, LABEL
    )
    return TokenGrant(
        access_token=payload["access_token"],
        refresh_token=payload.get("refresh_token"),
        instance_url=payload["instance_url"].rstrip("/"),
        account_id=identity.get("user_id", ""),
        address=identity.get("email") or identity.get("username", ""),
        extra={
            "org_id": identity.get("organization_id", ""),
            "username": identity.get("username", ""),
            "login_host": login_host,
        },
    )


def refresh_access_token(connection: Connection) -> str:
    """Get a new access token with the stored refresh token and store it encrypted."""
    login_url = login_url_for(connection.extra.get("login_host", "production"))
    payload = refresh_grant(
        connection,
        f"{login_url}/services/oauth2/token",
        {
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "client_secret": settings.SALESFORCE_CLIENT_SECRET,
        },
        settings.SALESFORCE_CA_BUNDLE,
        LABEL,
    )
    # Refresh-token rotation is optional in Salesforce: keep the old one unless replaced.
    connection.store_tokens(payload["access_token"], payload.get("refresh_token"))
    if payload.get("instance_url"):
        connection.instance_url = payload["instance_url"].rstrip("/")
        connection.save(update_fields=["instance_url", "updated_at"])
    return payload["access_token"]


def revoke(connection: Connection) -> None:
    """Best effort: a token Salesforce cannot revoke any more is as good as revoked."""
    token = connection.refresh_token or connection.access_token
    if not token:
        return
    login_url = login_url_for(connection.extra.get("login_host", "production"))
    post_best_effort(
        f"{login_url}/services/oauth2/revoke", {"token": token}, settings.SALESFORCE_CA_BUNDLE
    )


class SalesforceClient:
    """A simple-salesforce `Salesforce` for one connection, refreshed on an expired session."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.session = session_for(settings.SALESFORCE_CA_BUNDLE)
        self._sf = self._build(connection.access_token)

    def _build(self, access_token: str) -> Salesforce:
        return Salesforce(
            instance_url=self.connection.instance_url,
            session_id=access_token,
            version=settings.SALESFORCE_API_VERSION,
            session=self.session,
        )

    @property
    def sf(self) -> Salesforce:
        return self._sf

    def call(self, fn: Callable[[Salesforce], T]) -> T:
        """Run `fn(sf)`; on an expired session refresh once and run it again."""
        try:
            return fn(self._sf)
        except SalesforceExpiredSession:
            self._sf = self._build(refresh_access_token(self.connection))
            try:
                return fn(self._sf)
            except SalesforceExpiredSession as exc:
                message = "Salesforce refused a freshly refreshed session: reconnect Salesforce."
                self.connection.mark_needs_reconnect(message)
                raise ReconnectRequired(message, side=SALESFORCE) from exc
        except requests.RequestException as exc:
            raise TemporaryProviderError(
                f"Salesforce could not be reached: {exc}", side=SALESFORCE
            ) from exc

    @property
    def api_usage(self) -> dict[str, object]:
        """The org's API usage from the last response's Sforce-Limit-Info header."""
        return dict(self._sf.api_usage)
