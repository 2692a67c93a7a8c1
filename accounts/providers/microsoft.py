"""Microsoft identity platform (v2.0) OAuth for Office 365 mailboxes.

The O365 client (`syncengine` adapters) gets its tokens from `ConnectionTokenBackend`
(see `accounts.providers.o365_client`), never from MSAL's own refresh, whose authority is
hard-coded to login.microsoftonline.com and could not reach a sandbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings

from .http import TokenGrant, expires_at_from, fetch_identity, post_token_request, refresh_grant

if TYPE_CHECKING:
    from accounts.models import Connection

LABEL = "Office 365"


def _endpoint(kind: str) -> str:
    base = settings.MICROSOFT_LOGIN_URL.rstrip("/")
    return f"{base}/{settings.MICROSOFT_TENANT}/oauth2/v2.0/{kind}"


def token_endpoint() -> str:
    return _endpoint("token")


def graph_url() -> str:
    return settings.MICROSOFT_GRAPH_URL.rstrip("/") + "/v1.0/"


def authorize_url(*, state: str, redirect_uri: str, **_: str) -> str:
    query = urlencode(
        {
            "client_id": settings.MICROSOFT_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "response_mode": "query",
            "scope": " ".join(settings.MICROSOFT_SCOPES),
            "state": state,
        }
    )
    return f"{_endpoint('authorize')}?{query}"


def exchange_code(*, code: str, redirect_uri: str, **_: str) -> TokenGrant:
    payload = post_token_request(
        _endpoint("token"),
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": settings.MICROSOFT_CLIENT_ID,
            "client_secret": settings.MICROSOFT_CLIENT_SECRET,
            "scope": " ".join(settings.MICROSOFT_SCOPES),
        },
        settings.MICROSOFT_CA_BUNDLE,
        provider_label=LABEL,
        refreshing=False,
    )
    me = fetch_identity(
        graph_url() + "me", payload["access_token"], settings.MICROSOFT_CA_BUNDLE, "Microsoft Graph"
    )
    return TokenGrant(
        access_token=payload["access_token"],
        refresh_token=payload.get("refresh_token"),
        expires_at=expires_at_from(payload),
        instance_url=settings.MICROSOFT_GRAPH_URL.rstrip("/"),
        account_id=me.get("id", ""),
        address=me.get("mail") or me.get("userPrincipalName", ""),
        extra={"user_principal_name": me.get("userPrincipalName", "")},
    )


def refresh_access_token(connection: Connection) -> str:
    """Refresh with the stored refresh token; Microsoft rotates refresh tokens, keep the new."""
    payload = refresh_grant(
        connection,
        _endpoint("token"),
        {
            "client_id": settings.MICROSOFT_CLIENT_ID,
            "client_secret": settings.MICROSOFT_CLIENT_SECRET,
            "scope": " ".join(settings.MICROSOFT_SCOPES),
        },
        settings.MICROSOFT_CA_BUNDLE,
        LABEL,
    )
    connection.store_tokens(
        payload["access_token"], payload.get("refresh_token"), expires_at_from(payload)
    )
    return payload["access_token"]


def revoke(connection: Connection) -> None:
    """Microsoft has no token revocation endpoint for this flow; forgetting is enough."""
