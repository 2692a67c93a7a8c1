"""Plain HTTP for OAuth endpoints, with the configured CA bundle and timeout."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from django.utils import timezone
from requests.adapters import HTTPAdapter

from config import db_turns

from .errors import OAuthFlowError, ReconnectRequired, TemporaryProviderError

if TYPE_CHECKING:
    from accounts.models import Connection


@dataclass(frozen=True)
class TokenGrant:
    """What a token endpoint granted, plus who the account is (filled by the provider)."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    instance_url: str = ""
    account_id: str = ""
    address: str = ""
    extra: dict[str, Any] | None = None

    def __repr__(self) -> str:  # never show tokens, even in a traceback
        return f"TokenGrant(account_id={self.account_id!r}, address={self.address!r})"


def session_for(ca_bundle: str) -> requests.Session:
    """A session that trusts exactly the configured CA bundle, or the system's store.

    requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE from the environment override
    `session.verify` (its per-request merge prefers the environment), and
    simple-salesforce cannot pass `verify` per request; so with an explicit bundle the
    environment is not consulted at all.
    """
    session = requests.Session()
    if ca_bundle:
        session.verify = ca_bundle
        session.trust_env = False
    share_connections(session)
    return session


# Connections per host kept by one worker process: its threads' sessions at once, each
# with a few calls in flight (Graph batches, issue 15).
POOL_MAXSIZE = 32
_adapters: dict[str, HTTPAdapter] = {}
_adapters_lock = threading.Lock()


def shared_adapter(name: str, max_retries: Any = 0) -> HTTPAdapter:
    """The process's HTTPAdapter `name` (created with `max_retries` the first time).

    An HTTPAdapter holds urllib3's pool manager, whose connection pools are thread-safe;
    mounted on every session's requests.Session, it lets a worker's next session reuse
    the kept-alive connections (TLS handshake and CA file load done) of the last ones.
    Nothing of a user travels on it: tokens are headers of each session's own Session."""
    with _adapters_lock:
        adapter = _adapters.get(name)
        if adapter is None:
            adapter = _adapters[name] = TurnTakingAdapter(
                pool_maxsize=POOL_MAXSIZE, max_retries=max_retries
            )
        return adapter


class TurnTakingAdapter(HTTPAdapter):
    """Lets a sync session's other lanes use the database while a request is on the wire
    (config.db_turns; a no-op outside a session's lanes)."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with db_turns.off_turn():
            return super().send(request, *args, **kwargs)


def share_connections(session: requests.Session, name: str = "default") -> None:
    """Mount the process's adapter `name` on this session, with the retry policy of the
    one it replaces (sessions mounting one name must agree on it)."""
    retries = session.get_adapter("https://").max_retries  # type: ignore[attr-defined]
    adapter = shared_adapter(name, retries)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


def expires_at_from(payload: dict[str, Any]) -> datetime | None:
    seconds = payload.get("expires_in")
    if seconds in (None, ""):
        return None
    return timezone.now() + timedelta(seconds=int(seconds))


def post_token_request(
    url: str,
    data: dict[str, str],
    ca_bundle: str,
    *,
    provider_label: str,
    refreshing: bool,
    side: str = "",
) -> dict[str, Any]:
    """POST a form to a token endpoint; map its failures to our error classes.

    `invalid_grant` while refreshing means the user revoked access or the refresh token
    expired: only reconnecting helps. During the connect flow it is a flow error.
    """
    try:
        response = session_for(ca_bundle).post(
            url, data=data, timeout=settings.PROVIDER_HTTP_TIMEOUT
        )
    except requests.RequestException as exc:
        raise TemporaryProviderError(
            f"{provider_label} could not be reached: {exc}", side=side
        ) from exc
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code >= 500 or response.status_code == 429:
        raise TemporaryProviderError(
            f"{provider_label} answered {response.status_code} to a token request",
            retry_after=_retry_after(response),
            side=side,
            status=response.status_code,
        )
    if response.status_code != 200 or "access_token" not in payload:
        code = payload.get("error", f"HTTP {response.status_code}") if payload else ""
        description = payload.get("error_description", "") if payload else ""
        message = f"{provider_label} refused the authorization ({code}: {description})".strip()
        if refreshing and code in ("invalid_grant", "invalid_client", "unauthorized_client"):
            raise ReconnectRequired(
                f"{provider_label} no longer accepts Relay's access (the authorization was "
                f"revoked or has expired). Reconnect {provider_label} on the dashboard.",
                side=side,
                status=response.status_code,
            )
        if refreshing:
            raise TemporaryProviderError(message, side=side, status=response.status_code)
        raise OAuthFlowError(message, side=side, status=response.status_code)
    return payload


def refresh_grant(
    connection: Connection, url: str, client: dict[str, str], ca_bundle: str, label: str
) -> dict[str, Any]:
    """The refresh_token grant for a stored connection. A missing or refused refresh token
    marks the connection needs_reconnect (sessions stop) and raises ReconnectRequired;
    the caller stores what was granted."""
    if not connection.refresh_token:
        message = f"Relay holds no {label} refresh token: reconnect {label} on the dashboard."
        connection.mark_needs_reconnect(message)
        raise ReconnectRequired(message, side=connection.side)
    try:
        return post_token_request(
            url,
            {"grant_type": "refresh_token", "refresh_token": connection.refresh_token, **client},
            ca_bundle,
            provider_label=label,
            refreshing=True,
            side=connection.side,
        )
    except ReconnectRequired as exc:
        connection.mark_needs_reconnect(str(exc))
        raise


def fetch_identity(url: str, access_token: str, ca_bundle: str, label: str) -> dict[str, Any]:
    """Who a fresh access token belongs to (identity URL, Graph /me, userinfo)."""
    try:
        response = session_for(ca_bundle).get(
            url,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=settings.PROVIDER_HTTP_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise OAuthFlowError(f"{label} could not be reached: {exc}") from exc
    if response.status_code != 200:
        raise OAuthFlowError(f"{label} did not say who you are (HTTP {response.status_code})")
    return response.json()


def post_best_effort(url: str, data: dict[str, str], ca_bundle: str) -> None:
    """For revocation: a provider that cannot be reached or refuses has nothing to revoke."""
    with contextlib.suppress(requests.RequestException):
        session_for(ca_bundle).post(url, data=data, timeout=settings.PROVIDER_HTTP_TIMEOUT)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None
