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
    """Check `state`, exchange the code, and store the connection with encrypted tokens."""
    pending = session.pop(SESSION_KEY, None)
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


@transaction.atomic
def store_connection(user: Any, provider: str, grant: TokenGrant) -> Connection:
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
    connection = existing or Connection(user=user, provider=provider)
    connection.provider = provider
    connection.external_account_id = grant.account_id
    connection.external_address = grant.address
    connection.instance_url = grant.instance_url
    connection.extra = {**(connection.extra or {}), **(grant.extra or {})}
    connection.save()
    connection.store_tokens(grant.access_token, grant.refresh_token, grant.expires_at)
    connection.mark_active()
    return connection


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
