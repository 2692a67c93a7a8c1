"""An authorized HTTP transport for one Gmail connection (google-api-python-client).

google-auth refreshes on a 401 by calling `credentials.refresh`; ours goes through
`accounts.providers.google`, so the new access token is stored encrypted on the
Connection and a refused refresh marks it needs_reconnect (ReconnectRequired).
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

import google_auth_httplib2
import httplib2
from django.conf import settings
from google.oauth2.credentials import Credentials

from . import google

if TYPE_CHECKING:
    from accounts.models import Connection


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
        connection = self._relay_connection
        self.token = google.refresh_access_token(connection)
        expires = connection.token_expires_at
        self.expiry = expires.astimezone(UTC).replace(tzinfo=None) if expires else None


def authorized_http(connection: Connection) -> google_auth_httplib2.AuthorizedHttp:
    """httplib2 with the configured CA bundle (httplib2 ignores REQUESTS_CA_BUNDLE)."""
    http = httplib2.Http(
        ca_certs=settings.GOOGLE_CA_BUNDLE or None, timeout=settings.PROVIDER_HTTP_TIMEOUT
    )
    return google_auth_httplib2.AuthorizedHttp(ConnectionCredentials(connection), http=http)
