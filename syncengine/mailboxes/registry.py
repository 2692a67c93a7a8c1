"""The registered mailbox kinds, by name (the Connection.provider value).

A kind's package registers itself when imported (`register(KIND)` in its __init__);
`syncengine.mailboxes` imports every kind package once, so the registry is complete as
soon as anything from `syncengine.mailboxes` is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import MailboxKind

if TYPE_CHECKING:
    from accounts.models import Connection

_KINDS: dict[str, MailboxKind] = {}


class UnknownMailboxKind(LookupError):
    """A connection names a mailbox kind no package registered."""


def register(kind: MailboxKind) -> MailboxKind:
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        raise ValueError(f"Mailbox kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def registered() -> tuple[MailboxKind, ...]:
    """Every registered kind, in registration order."""
    return tuple(_KINDS.values())


def kind_named(name: str) -> MailboxKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownMailboxKind(f"No mailbox kind {name!r} is registered") from None


def for_connection(connection: Connection) -> MailboxKind:
    """The kind of a mailbox connection: the one place the engine learns it."""
    return kind_named(connection.provider)
