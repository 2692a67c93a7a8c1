"""An idle session (nothing changed on either side) is what a worker runs most: its cost in
API calls and SQL queries is part of the contract (issue 15's fleet budget)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from syncengine.models import SyncSession

IDLE_MAILBOX_CALLS = {"office365": 1, "gmail": 4, "exchange": 4}
# one $batch; People, Calendar, Tasks, Gmail; one SyncFolderItems per folder (EWS)


def test_it_answers_an_idle_session_with_one_call_per_feed_and_few_queries(world):
    world.sf_contact("Lovelace", "ada@example.com")
    world.add_contact("Typed", "typed@example.com")
    world.sync()
    world.clock.advance(minutes=30)
    world.sync()  # reads back the echoes of the first session's writes
    world.clock.advance(minutes=30)
    with CaptureQueriesContext(connection) as queries:
        idle = world.sync()
    assert idle.status == SyncSession.Status.SUCCEEDED and not idle.changed
    assert (idle.sf_calls_seen, idle.mb_calls_seen) == (1, IDLE_MAILBOX_CALLS[world.kind])
    # Issue 15's fleet budget: <= 15 SQL queries per idle session (cursors in one upsert).
    assert len(queries) <= 15, [q["sql"][:120] for q in queries.captured_queries]


def test_it_leaves_types_a_user_never_had_alone_when_idle(world: Any) -> None:
    # No task and no event on either side: no Salesforce row ever sets their cursors, so
    # every read of them is "full" — empty, it must not make the session plan them anew.
    world.sf_contact("Lovelace", "ada@example.com")
    world.sync()
    world.clock.advance(minutes=30)
    world.sync()
    world.clock.advance(minutes=30)
    with CaptureQueriesContext(connection) as queries:
        idle = world.sync()
    assert idle.status == SyncSession.Status.SUCCEEDED and not idle.changed
    loaded = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "syncengine_synclink"' in q["sql"]
        and any(f"\"item_type\" = '{t}'" in q["sql"] for t in ("task", "event"))
    ]
    assert loaded == []  # neither type's links were loaded to be planned
