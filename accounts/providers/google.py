"""Google OAuth 2.0 for Gmail mailboxes (People, Calendar, Tasks and Gmail APIs)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings

from .errors import OAuthFlowError
from .http import (
    TokenGrant,
    expires_at_from,
    fetch_identity,
    post_best_effort,
    post_token_request,
    refresh_grant,
)

if TYPE_CHECKING:
    from accounts.models import Connection

LABEL = "Google"


def authorize_url(*, state: str, redirect_uri: str, **_: str) -> str:
    query = urlencode(
        {
            "client_id": settings.GOOGLE_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(settings.GOOGLE_SCOPES),
            "state": state,
            # A refresh token is only issued with offline access, and again only on consent.
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
        }
    )
    return f"{settings.GOOGLE_AUTH_URL}?{query}"


def exchange_code(*, code: str, redirect_uri: str, **_: str) -> TokenGrant:
    payload = post_token_request(
        settings.GOOGLE_TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": settings.GOOGLE_CLIENT_ID,
            "client_secret": settings.GOOGLE_CLIENT_SECRET,
        },
        settings.GOOGLE_CA_BUNDLE,
        provider_label=LABEL,
        refreshing=False,
    )
    if not payload.get("refresh_token"):
        raise OAuthFlowError(
            "Google granted no refresh token, so Relay could not sync while you are away. "
            "Remove Relay at myaccount.google.com/permissions and connect again."
        )
    info = fetch_identity(
        settings.GOOGLE_USERINFO_URL, payload["access_token"], settings.GOOGLE_CA_BUNDLE, LABEL
    )
    return TokenGrant(
        access_token=payload["access_token"],
        refresh_token=payload["refresh_token"],
        expires_at=expires_at_from(payload),
        account_id=str(info.get("sub") or info.get("id") or info.get("email", "")),
        address=info.get("email", ""),
        extra={},
    )


def refresh_access_token(connection: Connection) -> str:
    payload = refresh_grant(
        connection,
        settings.GOOGLE_TOKEN_URL,
        {"client_id": settings.GOOGLE_CLIENT_ID, "client_secret": settings.GOOGLE_CLIENT_SECRET},
        settings.GOOGLE_CA_BUNDLE,
        LABEL,
    )
    connection.store_tokens(
        payload["access_token"], payload.get("refresh_token"), expires_at_from(payload)
    )
    return payload["access_token"]


def revoke(connection: Connection) -> None:
    token = connection.refresh_token or connection.access_token
    if token:
        post_best_effort(settings.GOOGLE_REVOKE_URL, {"token": token}, settings.GOOGLE_CA_BUNDLE)
