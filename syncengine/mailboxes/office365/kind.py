"""Office 365 (Microsoft Graph through O365) as a registered mailbox kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from accounts.models import Connection
from accounts.providers.o365_client import build_o365_account

from ..base import ContainerRef, MailboxCodec
from .adapter import Office365Adapter
from .codec import graph_codec


class Office365Kind:
    name = Connection.Provider.OFFICE365.value
    capabilities: frozenset[str] = frozenset()

    def adapter(
        self, connection: Connection, time_zone: str, clock: Callable[[], dt.datetime] | None
    ) -> Office365Adapter:
        return Office365Adapter(build_o365_account(connection, time_zone), time_zone, clock=clock)

    def codec(
        self, time_zone: str, containers: Mapping[str, ContainerRef], instance_url: str
    ) -> MailboxCodec:
        return graph_codec(time_zone, containers, instance_url)


KIND = Office365Kind()
