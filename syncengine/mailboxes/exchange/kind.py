"""Exchange Server on premises (EWS through exchangelib) as a registered mailbox kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from accounts.exchange_connect import server_for
from accounts.models import Connection
from accounts.providers.exchange import open_mailbox, translated
from syncengine.mappers.exchange import register_marker

from ..base import CAN_SUPPRESS_INVITES, ContainerRef, MailboxCodec
from .adapter import ExchangeAdapter
from .codec import exchange_codec


class ExchangeKind:
    name = Connection.Provider.EXCHANGE.value
    # Calendar writes go with SendToNone / SaveOnly: Exchange never mails an invitation.
    capabilities: frozenset[str] = frozenset({CAN_SUPPRESS_INVITES})

    def adapter(
        self, connection: Connection, time_zone: str, clock: Callable[[], dt.datetime] | None
    ) -> ExchangeAdapter:
        register_marker()
        with translated():
            account = open_mailbox(server_for(connection), connection.external_address)
        return ExchangeAdapter(account, time_zone, clock=clock)

    def codec(
        self, time_zone: str, containers: Mapping[str, ContainerRef], instance_url: str
    ) -> MailboxCodec:
        return exchange_codec(time_zone)


KIND = ExchangeKind()
