"""Gmail (People, Tasks, Calendar and Gmail APIs through google-api-python-client) as a
registered mailbox kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from django.conf import settings

from accounts.models import Connection
from accounts.providers.google_client import authorized_http, refresh_if_stale

from ..base import ContainerRef, MailboxCodec
from .adapter import GmailAdapter
from .client import build_google_services
from .codec import google_codec


class GmailKind:
    name = Connection.Provider.GMAIL.value
    capabilities: frozenset[str] = frozenset()

    def adapter(
        self, connection: Connection, time_zone: str, clock: Callable[[], dt.datetime] | None
    ) -> GmailAdapter:
        http = authorized_http(connection)
        services = build_google_services(
            http, settings.GOOGLE_API_BASE_URL or None, settings.GOOGLE_CA_BUNDLE or None
        )
        return GmailAdapter(
            services, time_zone, clock=clock, fresh_token=lambda: refresh_if_stale(http)
        )

    def codec(
        self, time_zone: str, containers: Mapping[str, ContainerRef], instance_url: str
    ) -> MailboxCodec:
        return google_codec(time_zone, containers, instance_url)


KIND = GmailKind()
