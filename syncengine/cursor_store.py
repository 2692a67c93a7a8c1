"""Writing SyncCursor rows: every changed cursor of a session in one statement.

`bulk_create(update_conflicts=True)` is already one INSERT … ON CONFLICT DO UPDATE, but it
wraps it in a transaction (BEGIN … COMMIT: two more round trips, a sixth of an idle
session's queries, issue 15). One statement is atomic on its own, so the same upsert is
sent here without that wrapper (PostgreSQL and SQLite ≥ 3.24 share this syntax).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import DateTimeField
from django.utils import timezone

from .models import SyncCursor


def upsert(rows: Sequence[SyncCursor]) -> None:
    """Insert these cursors, or update the value of those the user already has."""
    if not rows:
        return
    meta = SyncCursor._meta
    connection = connections[router.db_for_write(SyncCursor)]
    quote = connection.ops.quote_name
    columns = {f.name: quote(f.column or f.name) for f in meta.concrete_fields}
    user, feed, value, updated = (columns[n] for n in ("user", "feed", "value", "updated_at"))
    stamp = SyncCursor._meta.get_field("updated_at")
    assert isinstance(stamp, DateTimeField)
    now = stamp.get_db_prep_value(timezone.now(), connection)
    params = [p for row in rows for p in (row.user_id, row.feed, row.value, now)]
    table = quote(meta.db_table)
    rows_sql = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    upsert_sql = f"ON CONFLICT ({user}, {feed}) DO UPDATE SET {value} = EXCLUDED.{value}, "
    upsert_sql += f"{updated} = EXCLUDED.{updated}"
    insert = f"INSERT INTO {table} ({user}, {feed}, {value}, {updated}) VALUES "  # noqa: S608 - the model's quoted names only; values are params
    sql = insert + rows_sql + " " + upsert_sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
