"""Pointing python-o365 (2.1.10) at the emulator: protocol, token backend, CA bundle.

O365 cannot refresh against an emulator by itself: msal's authority is hard-coded to
login.microsoftonline.com. `EmulatorTokenBackend.should_refresh_token` therefore does the
refresh itself (POST grant_type=refresh_token to the emulator's token URL), stores the
rotated pair, puts the new access token on the session and returns None ("already done").

O365's `verify_ssl` is typed bool but is only copied onto each session's `verify`, so a CA
bundle path works there. However requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE from the
environment override `session.verify`, so the session must also get `trust_env = False`
(which only drops env proxies/netrc, irrelevant for 127.0.0.1).
"""

from __future__ import annotations

import time
from typing import Any

import requests
from O365 import Account
from O365.connection import MSGraphProtocol
from O365.utils.token import BaseTokenBackend

CLIENT_ID = "relay-sandbox-client"
SCOPES = ["https://graph.microsoft.com/.default"]


class EmulatorTokenBackend(BaseTokenBackend):
    """Holds one mailbox's tokens in msal's cache format, refreshing against `token_url`."""

    def __init__(self, token_url: str, ca_bundle: str | bool, username: str) -> None:
        super().__init__()
        self.token_url = token_url
        self.ca_bundle = ca_bundle
        self.username = username
        self.refreshes = 0

    def store(
        self, access: str, refresh: str, expires_in: int = 3600, now: float | None = None
    ) -> None:
        """Put a token pair in the cache (`now` in the past seeds an already-expired token)."""
        self.add(
            {
                "client_id": CLIENT_ID,
                "scope": SCOPES,
                "token_endpoint": self.token_url,
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
        self._has_state_changed = True

    def refresh_token_value(self) -> str | None:
        token = self.get_refresh_token()
        return token.get("secret") if token else None

    def load_token(self) -> bool:
        return self.has_data

    def save_token(self, force: bool = False) -> bool:
        return True

    def should_refresh_token(self, con: Any = None, *, username: str | None = None) -> bool | None:
        response = requests.post(
            self.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "refresh_token": self.refresh_token_value() or "",
                "scope": " ".join(SCOPES),
            },
            verify=self.ca_bundle,
            timeout=10,
        )
        response.raise_for_status()  # invalid_grant → requests.HTTPError (400)
        body = response.json()
        # Drop the old pair so msal's cache holds exactly the rotated one.
        for kind in (self.CredentialType.ACCESS_TOKEN, self.CredentialType.REFRESH_TOKEN):
            for entry in list(self.search(kind)):
                self.remove_at(
                    entry
                ) if kind == self.CredentialType.ACCESS_TOKEN else self.remove_rt(entry)
        self.store(body["access_token"], body["refresh_token"], int(body["expires_in"]))
        self.refreshes += 1
        if con is not None:
            con.update_session_auth_header(access_token=body["access_token"])
        return None

    def expire_access_token(self) -> None:
        """Make the cached access token look expired (msal then hides it), as after an hour."""
        access = self.get_access_token()
        refresh = self.refresh_token_value()
        if access and refresh:
            self.remove_at(access)
            self.store(access["secret"], refresh, expires_in=60, now=time.time() - 3600)


def make_account(
    base_url: str,
    ca_bundle: str | bool,
    upn: str,
    access: str,
    refresh: str,
    timezone: str = "UTC",
    **kwargs: Any,
) -> tuple[Account, EmulatorTokenBackend]:
    """An O365 Account talking to the emulator at `base_url` over TLS trusted via `ca_bundle`."""

    class SandboxGraph(MSGraphProtocol):
        _protocol_url = base_url.rstrip("/") + "/"

    backend = EmulatorTokenBackend(f"{base_url}/common/oauth2/v2.0/token", ca_bundle, upn)
    backend.store(access, refresh)
    account = Account(
        (CLIENT_ID, "secret"),
        protocol=SandboxGraph(),
        token_backend=backend,
        requests_delay=0,
        timezone=timezone,
        verify_ssl=ca_bundle,  # type: ignore[arg-type]  # O365 copies it to session.verify
        **kwargs,
    )
    account.con.session = account.con.get_session(load_token=True)
    account.con.session.trust_env = False  # else REQUESTS_CA_BUNDLE overrides verify
    return account, backend
