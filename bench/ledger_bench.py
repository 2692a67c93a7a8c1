#!/usr/bin/env python
"""Item ledger benchmark: bytes per row (table + indexes) and the Items search / session
page timings with 10,000 ledger rows for one user. Prints JSON.

    python bench/ledger_bench.py [--rows 10000]

SQLite (the dbstat virtual table gives each table's and index's pages); rows look like a
real session's: contact names with addresses, Salesforce and Graph-length mailbox ids,
a reason sentence.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXCLUDED = "This contact is owned by 0058d000000ABCDEFG; your scope is Only my contacts."


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from syncengine.models import ItemLedgerEntry, SyncSession
    from tests.factories import UserFactory

    call_command("migrate", verbosity=0)
    user = UserFactory(email="bench@relay.example")
    session = SyncSession.objects.create(user=user, trigger="schedule", status="succeeded")
    now = timezone.now()
    ItemLedgerEntry.objects.bulk_create(
        (
            ItemLedgerEntry(
                user=user,
                session=session,
                item_type="contact",
                sf_id=f"0038d00000{i:08d}",
                mailbox_id="AAMkAGI2TG93AAA=" + f"{i:0120d}",
                name=f"Person{i} Lastname <person{i}@customer{i % 97}.example>",
                action="skipped" if i % 3 else "created",
                direction="down",
                reason_code="not_in_contact_scope" if i % 3 else "synced",
                reason=EXCLUDED if i % 3 else "Created in the mailbox from Salesforce.",
                created_at=now,
            )
            for i in range(args.rows)
        ),
        batch_size=1000,
    )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, SUM(pgsize) FROM dbstat WHERE name = 'syncengine_itemledgerentry' "
            "OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = "
            "'syncengine_itemledgerentry' AND type = 'index') GROUP BY name"
        )
        sizes = dict(cur.fetchall())
    total = sum(sizes.values())
    client = Client()
    client.force_login(user)
    timings = {}
    for label, url in (
        ("items_search_ms", "/sync/items/?q=person123"),
        ("session_page_ms", f"/sync/history/{session.pk}/"),
        ("session_page_filtered_ms", f"/sync/history/{session.pk}/?action=created"),
    ):
        client.get(url)  # warm
        start = time.perf_counter()
        for _ in range(5):
            assert client.get(url).status_code == 200
        timings[label] = round((time.perf_counter() - start) * 1000 / 5, 1)
    print(
        json.dumps(
            {
                "rows": args.rows,
                "bytes_total": total,
                "bytes_per_row": round(total / args.rows, 1),
                "bytes_per_10000_rows": round(total * 10_000 / args.rows),
                "by_table_and_index": sizes,
                **timings,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
