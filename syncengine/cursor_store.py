"""Writing SyncCursor rows: every changed cursor of a session in one statement.

`bulk_create(update_conflicts=True)` is already one INSERT … ON CONFLICT DO UPDATE, but it
wraps it in a transaction (BEGIN … COMMIT: two more round trips, a fifth of an idle
session's queries, issue 15). One statement is atomic on its own, so the same upsert is
sent here without that wrapper.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models.constants import OnConflict

from .models import SyncCursor

_FIELDS = ("user", "feed", "value", "updated_at")


def upsert(rows: Sequence[SyncCursor]) -> None:
    """Insert these cursors, or update the value of those the user already has."""
    if not rows:
        return
    meta = SyncCursor._meta
    SyncCursor.objects._insert(  # type: ignore[attr-defined]  # the public bulk_create adds a transaction
        list(rows),
        fields=[meta.get_field(name) for name in _FIELDS],
        on_conflict=OnConflict.UPDATE,
        update_fields=[meta.get_field("value"), meta.get_field("updated_at")],
        unique_fields=[meta.get_field("user"), meta.get_field("feed")],
    )
