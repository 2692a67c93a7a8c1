"""An O365 `Account` for one Office 365 connection, with tokens from our encrypted store.

O365 keeps tokens in an msal cache (its token backend). MSAL's own refresh cannot be used:
its authority is hard-coded to login.microsoftonline.com and it insists on OIDC
discovery, so a configured login URL (or the sandbox) would be bypassed. Our backend's
`should_refresh_token` refreshes through `accounts.providers.microsoft` instead, stores
the rotated tokens encrypted on the Connection, and answers None ("already refreshed").
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from O365 import Account
from O365.connection import MSGraphProtocol
from O365.utils.token import BaseTokenBackend

from . import microsoft
from .http import share_connections

if TYPE_CHECKING:
    from accounts.models import Connection

# Tokens that carry no expiry are assumed to live this long (Microsoft issues ~1 hour).
DEFAULT_LIFETIME_SECONDS = 3600


class ConnectionTokenBackend(BaseTokenBackend):
    """msal-format cache seeded from a Connection; refreshes write back to it."""

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection
        self._seed(connection.access_token, connection.refresh_token, self._lifetime())

    def _lifetime(self) -> int:
        expires = self.connection.token_expires_at
        if expires is None:
            return DEFAULT_LIFETIME_SECONDS
        return int((expires - timezone.now()).total_seconds())

    def _seed(self, access: str, refresh: str, expires_in: int) -> None:
        now = time.time()
        if expires_in <= 0:
            # msal will not store an already-expired token with a negative lifetime;
            # store it as issued an hour ago instead, so O365 sees it as expired.
            now, expires_in = now - DEFAULT_LIFETIME_SECONDS, 60
        self.add(
            {
                "client_id": settings.MICROSOFT_CLIENT_ID or "relay",
                "scope": list(settings.MICROSOFT_SCOPES),
                "token_endpoint": microsoft.token_endpoint(),
                "environment": "login.microsoftonline.com",
                "response": {
                    "access_token": access,
                    "refresh_token": refresh,
                    "expires_in": expires_in,
                    "token_type": "Bearer",
                },
            },
            now=now,
        )
        self._has_state_changed = False

    def load_token(self) -> bool:
        return self.has_data

    def save_token(self, force: bool = False) -> bool:
        # The Connection is the store; refreshes write to it directly.
        return True

    def should_refresh_token(self, con: Any = None, *, username: str | None = None) -> None:
        """Refresh through our own token call (ReconnectRequired propagates to the caller)."""
        access = microsoft.refresh_access_token(self.connection)
        for entry in list(self.search(self.CredentialType.ACCESS_TOKEN)):
            self.remove_at(entry)
        for entry in list(self.search(self.CredentialType.REFRESH_TOKEN)):
            self.remove_rt(entry)
        self._seed(access, self.connection.refresh_token, self._lifetime())
        if con is not None:
            con.update_session_auth_header(access_token=access)
        return None


def build_o365_account(connection: Connection, time_zone: str = "UTC") -> Account:
    """An O365 Account for this connection against the configured Graph URL.

    An access token known to be expired is refreshed first: O365 builds its session
    from the cache, and msal hides expired tokens, so it would start with no token.
    """
    expires = connection.token_expires_at
    if expires is not None and expires <= timezone.now() + timedelta(seconds=60):
        microsoft.refresh_access_token(connection)

    class ConfiguredGraph(MSGraphProtocol):
        _protocol_url = settings.MICROSOFT_GRAPH_URL.rstrip("/") + "/"

    ca_bundle = settings.MICROSOFT_CA_BUNDLE
    account = Account(
        (settings.MICROSOFT_CLIENT_ID, settings.MICROSOFT_CLIENT_SECRET),
        protocol=ConfiguredGraph(),
        token_backend=ConnectionTokenBackend(connection),
        # O365 waits 200 ms between calls by default; Graph throttling is handled by
        # Retry-After instead, so the wait only slows sessions down.
        requests_delay=0,
        timezone=time_zone,
        timeout=settings.PROVIDER_HTTP_TIMEOUT,
        # O365 copies verify_ssl onto session.verify, so a CA bundle path works here.
        verify_ssl=ca_bundle or True,
    )
    account.con.session = account.con.get_session(load_token=True)
    # The process's connections to Graph, with O365's retry policy (accounts.providers.http).
    share_connections(account.con.session, "o365")
    if ca_bundle:
        # Else REQUESTS_CA_BUNDLE in the environment overrides session.verify.
        account.con.session.trust_env = False
    return account
