"""OAuth access and refresh tokens as the emulators hand them out."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field


@dataclass
class IssuedToken:
    principal: str  # the emulator's key for the account (user id, mailbox address)
    expires_at: float | None  # None: until revoked or force-expired
    scopes: tuple[str, ...] = ()


@dataclass
class TokenStore:
    """Access tokens expire (by lifetime or on request); refresh tokens until revoked."""

    access_lifetime: float | None = 3600.0
    _access: dict[str, IssuedToken] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> principal
    _codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (principal, uri)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue_code(self, principal: str, redirect_uri: str) -> str:
        code = "code-" + secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = (principal, redirect_uri)
        return code

    def redeem_code(self, code: str, redirect_uri: str | None) -> str | None:
        """The principal for a one-time authorization code, or None if unknown/used/mismatched."""
        with self._lock:
            entry = self._codes.pop(code, None)
        if entry is None:
            return None
        principal, expected_uri = entry
        if redirect_uri is not None and redirect_uri != expected_uri:
            return None
        return principal

    def issue(self, principal: str, with_refresh: bool = True) -> tuple[str, str | None]:
        access = "at-" + secrets.token_urlsafe(24)
        refresh = "rt-" + secrets.token_urlsafe(24) if with_refresh else None
        expires = time.time() + self.access_lifetime if self.access_lifetime else None
        with self._lock:
            self._access[access] = IssuedToken(principal, expires)
            if refresh:
                self._refresh[refresh] = principal
        return access, refresh

    def refresh(self, refresh_token: str) -> str | None:
        """A new access token for a live refresh token, else None (invalid_grant)."""
        with self._lock:
            principal = self._refresh.get(refresh_token)
        if principal is None:
            return None
        access, _ = self.issue(principal, with_refresh=False)
        return access

    def principal_for(self, access_token: str) -> str | None:
        with self._lock:
            tok = self._access.get(access_token)
        if tok is None or (tok.expires_at is not None and tok.expires_at <= time.time()):
            return None
        return tok.principal

    def revoke(self, token: str) -> bool:
        with self._lock:
            found = self._access.pop(token, None) is not None
            principal = self._refresh.pop(token, None)
            if principal is not None:
                found = True
                # Revoking a refresh token ends the access tokens it produced too.
                for key in [k for k, v in self._access.items() if v.principal == principal]:
                    del self._access[key]
        return found

    def expire_access_tokens(self, principal: str | None = None) -> int:
        """Make current access tokens invalid (all, or one principal's); refresh still works."""
        with self._lock:
            keys = [k for k, v in self._access.items() if principal in (None, v.principal)]
            for key in keys:
                del self._access[key]
        return len(keys)

    def revoke_refresh_tokens(self, principal: str | None = None) -> int:
        with self._lock:
            keys = [k for k, v in self._refresh.items() if principal in (None, v)]
            for key in keys:
                del self._refresh[key]
        return len(keys)

    def issue_static(self, principal: str, access: str, refresh: str | None = None) -> None:
        """Register known tokens (seeding a demo or a test without walking OAuth)."""
        expires = time.time() + self.access_lifetime if self.access_lifetime else None
        with self._lock:
            self._access[access] = IssuedToken(principal, expires)
            if refresh:
                self._refresh[refresh] = principal
