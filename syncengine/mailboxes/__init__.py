"""Mailbox kinds as plug-ins: one package per kind, each registering itself.

    kind = mailboxes.for_connection(connection)
    adapter = kind.adapter(connection, time_zone, clock)
    codec = kind.codec(time_zone, containers, instance_url)

See README.md here for how to add a kind.
"""

from . import exchange, gmail, office365  # noqa: F401  (each registers itself)
from .base import MailboxKind
from .registry import UnknownMailboxKind, for_connection, kind_named, register, registered

__all__ = [
    "MailboxKind",
    "UnknownMailboxKind",
    "for_connection",
    "kind_named",
    "register",
    "registered",
]
