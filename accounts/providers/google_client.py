"""An authorized HTTP transport for one Gmail connection (google-api-python-client).

google-auth refreshes on a 401 by calling `credentials.refresh`; ours goes through
`accounts.providers.google`, so the new access token is stored encrypted on the
Connection and a refused refresh marks it needs_reconnect (ReconnectRequired).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from collections.abc import Iterator
from datetime import UTC
from typing import TYPE_CHECKING, Any

import google_auth_httplib2
import httplib2
from django.conf import settings
from google.oauth2.credentials import Credentials

from config import db_turns

from . import google

if TYPE_CHECKING:
    from accounts.models import Connection


class RefreshOffThread(RuntimeError):
    """A token refresh was asked for inside `refresh_elsewhere`: a session's independent
    reads run on helper threads at once, and four of them must not each refresh and store
    the token on the Connection (a database write from a thread that is not the
    session's); the caller reads again on the session's thread, which may refresh."""


_NO_REFRESH: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "relay_google_no_refresh", default=False
)


@contextlib.contextmanager
def refresh_elsewhere() -> Iterator[None]:
    """Inside: a token refresh raises RefreshOffThread instead of running."""
    token = _NO_REFRESH.set(True)
    try:
        yield
    finally:
        _NO_REFRESH.reset(token)


class ConnectionCredentials(Credentials):
    def __init__(self, connection: Connection) -> None:
        expires = connection.token_expires_at
        super().__init__(
            token=connection.access_token,
            refresh_token=connection.refresh_token,
            token_uri=settings.GOOGLE_TOKEN_URL,
            client_id=settings.GOOGLE_CLIENT_ID,
            client_secret=settings.GOOGLE_CLIENT_SECRET,
            # google-auth compares naive UTC datetimes.
            expiry=expires.astimezone(UTC).replace(tzinfo=None) if expires else None,
        )
        self._relay_connection = connection

    def refresh(self, request: Any) -> None:
        if _NO_REFRESH.get():
            raise RefreshOffThread("the Google token is refreshed on the session's thread")
        connection = self._relay_connection
        self.token = google.refresh_access_token(connection)
        expires = connection.token_expires_at
        self.expiry = expires.astimezone(UTC).replace(tzinfo=None) if expires else None


def authorized_http(connection: Connection) -> google_auth_httplib2.AuthorizedHttp:
    """httplib2 with the configured CA bundle (httplib2 ignores REQUESTS_CA_BUNDLE), on the
    process's shared transport: the connection's own credentials, kept-alive connections."""
    http = shared_transport(settings.GOOGLE_CA_BUNDLE or None, settings.PROVIDER_HTTP_TIMEOUT)
    return google_auth_httplib2.AuthorizedHttp(ConnectionCredentials(connection), http=http)


def refresh_if_stale(http: google_auth_httplib2.AuthorizedHttp) -> None:
    """Refresh the access token now, on this thread, when google-auth would refresh it
    before the next request (expired, or about to): helper threads then never need to."""
    if not http.credentials.valid:
        http.credentials.refresh(google_auth_httplib2.Request(http.http))


class PerThreadHttp(httplib2.Http):
    """An httplib2.Http whose open connections are kept per thread.

    httplib2.Http is not thread-safe: it keeps its open connections in `self.connections`,
    and two threads must never use one connection at once (google-api-python-client's
    thread-safety notes: one Http per thread). Here that dict is the calling thread's, so
    one object serves every thread of a worker process, and a thread's next session
    reuses the connections (TLS handshake, CA file load) its last one left open. Nothing
    else of httplib2's state changes per request here: credentials travel in each
    request's Authorization header (google_auth_httplib2.AuthorizedHttp), never on the
    transport."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._local = threading.local()
        super().__init__(*args, **kwargs)

    @property
    def connections(self) -> dict[str, Any]:
        mine: dict[str, Any] | None = getattr(self._local, "connections", None)
        if mine is None:
            mine = self._local.connections = {}
        return mine

    @connections.setter
    def connections(self, value: dict[str, Any]) -> None:
        self._local.connections = value

    def request(self, *args: Any, **kwargs: Any) -> Any:
        # On the wire, a sync session's other lanes may use the database (config.db_turns).
        with db_turns.off_turn():
            return super().request(*args, **kwargs)


@functools.lru_cache(maxsize=16)
def shared_transport(
    ca_certs: str | None, timeout: float, *, without_proxy: bool = False
) -> PerThreadHttp:
    """The process's transport for one CA bundle and timeout (`without_proxy`: a loopback
    host, reached directly whatever the proxy variables say)."""
    extra: dict[str, Any] = {"proxy_info": None} if without_proxy else {}
    return PerThreadHttp(ca_certs=ca_certs, timeout=timeout, **extra)
