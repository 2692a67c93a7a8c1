"""Connecting and disconnecting provider accounts: the business actions behind the views."""

from __future__ import annotations

import secrets
import time
from collections.abc import MutableMapping
from types import ModuleType
from typing import Any

from django.db import transaction

from accounts.models import Connection
from accounts.providers import google, microsoft, salesforce
from accounts.providers.errors import OAuthFlowError
from accounts.providers.http import TokenGrant

PROVIDER_MODULES: dict[str, ModuleType] = {
    Connection.Provider.SALESFORCE: salesforce,
    Connection.Provider.OFFICE365: microsoft,
    Connection.Provider.GMAIL: google,
}
SESSION_KEY = "relay_oauth_pending"
# A consent page left open longer than this is stale: start again.
STATE_MAX_AGE_SECONDS = 15 * 60


def provider_label(provider: str) -> str:
    return Connection.Provider(provider).label


def begin_connect(
    session: MutableMapping[str, Any], provider: str, redirect_uri: str, login_host: str = ""
) -> str:
    """Remember a fresh `state` in the user's session and return the consent page URL."""
    module = PROVIDER_MODULES[provider]
    state = secrets.token_urlsafe(32)
    session[SESSION_KEY] = {
        "provider": provider,
        "state": state,
        "login_host": login_host or "production",
        "started": time.time(),
    }
    return module.authorize_url(
        state=state, redirect_uri=redirect_uri, login_host=login_host or "production"
    )


def complete_connect(
    session: MutableMapping[str, Any],
    user: Any,
    provider: str,
    params: MutableMapping[str, str],
    redirect_uri: str,
) -> Connection:
    """Check `state`, exchange the code, and store the connection with encrypted tokens.

    The pending connect is consumed only once `state` matches: a forged or stale callback
    (someone else's link) is refused and leaves the user's own connect in progress intact."""
    pending = session.get(SESSION_KEY)
    label = provider_label(provider)
    given_state = params.get("state", "")
    if (
        not pending
        or pending.get("provider") != provider
        or not given_state
        or not secrets.compare_digest(given_state, pending.get("state", ""))
    ):
        raise OAuthFlowError(
            f"This {label} sign-in answer does not belong to a connection you started "
            "(the state did not match). Nothing was connected; please start again."
        )
    session.pop(SESSION_KEY, None)  # the state matched: this answer is the one awaited
    if time.time() - pending.get("started", 0) > STATE_MAX_AGE_SECONDS:
        raise OAuthFlowError(f"The {label} sign-in took too long. Please start again.")
    if params.get("error"):
        reason = params.get("error_description") or params["error"]
        raise OAuthFlowError(f"{label} did not grant access: {reason}")
    code = params.get("code", "")
    if not code:
        raise OAuthFlowError(f"{label} sent no authorization code. Please start again.")
    grant = PROVIDER_MODULES[provider].exchange_code(
        code=code, redirect_uri=redirect_uri, login_host=pending.get("login_host", "production")
    )
    return store_connection(user, provider, grant)


def store_connection(user: Any, provider: str, grant: TokenGrant) -> Connection:
    """Save the grant; a reconnect then revokes the refresh token the new one replaces, after
    the commit and outside the transaction (the revocation is a network call)."""
    connection, replaced = _save_grant(user, provider, grant)
    if replaced is not None:
        PROVIDER_MODULES[provider].revoke(replaced)
    return connection


def _replaced_tokens(existing: Connection, grant: TokenGrant) -> Connection | None:
    """An unsaved copy of `existing` holding only the refresh token the grant replaces."""
    old_refresh = existing.refresh_token
    if not old_refresh or old_refresh == grant.refresh_token:
        return None
    replaced = Connection(
        provider=existing.provider, instance_url=existing.instance_url, extra=existing.extra
    )
    replaced.refresh_token = old_refresh
    replaced.access_token = ""
    return replaced


@transaction.atomic
def _save_grant(
    user: Any, provider: str, grant: TokenGrant
) -> tuple[Connection, Connection | None]:
    side = Connection.side_for(provider)
    existing = Connection.objects.select_for_update().filter(user=user, side=side).first()
    if existing and existing.status != Connection.Status.DISCONNECTED:
        if existing.provider != provider:
            raise OAuthFlowError(
                f"You already have {provider_label(existing.provider)} connected. "
                "Disconnect it first, then connect the other mailbox."
            )
        if existing.external_account_id and existing.external_account_id != grant.account_id:
            raise OAuthFlowError(
                f"You signed in as another {provider_label(provider)} account "
                f"({grant.address}) than the connected one ({existing.external_address}). "
                "Disconnect first if you want to switch accounts."
            )
    replaced = (
        _replaced_tokens(existing, grant)
        if existing and existing.provider == provider and grant.refresh_token
        else None
    )
    connection = existing or Connection(user=user, provider=provider)
    connection.provider = provider
    connection.external_account_id = grant.account_id
    connection.external_address = grant.address
    connection.instance_url = grant.instance_url
    connection.extra = {**(connection.extra or {}), **(grant.extra or {})}
    connection.save()
    connection.store_tokens(grant.access_token, grant.refresh_token, grant.expires_at)
    connection.mark_active()
    return connection, replaced


@transaction.atomic
def disconnect(connection: Connection) -> Connection:
    """Revoke what the provider lets us revoke, then forget the tokens."""
    module = PROVIDER_MODULES.get(connection.provider)
    if module is not None:  # Exchange Server: no user token to revoke
        module.revoke(connection)
    connection.access_token = ""
    connection.refresh_token = ""
    connection.token_expires_at = None
    connection.status = Connection.Status.DISCONNECTED
    connection.save()
    return connection
