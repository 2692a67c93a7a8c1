"""A big book through the People API must not cost more memory than the pages and batches
in hand: what a write answered (the created people) is freed as soon as the engine drops
it, and a feed page keeps only what Relay reads of each person."""

# ruff: noqa: F811 - pytest fixtures imported from gmail_fixtures are redefined as arguments

import gc
import weakref

from syncengine.mailboxes.base import CONTACTS
from syncengine.mappers.google import contact_to_google

from .gmail_fixtures import google_server, mailbox  # noqa: F401  (fixtures)


def _contacts(n):
    return [
        contact_to_google(
            {"first_name": f"Ann{i}", "last_name": f"Lee{i}", "email": f"ann{i}@acme.example",
             "phone": f"+1 555 {i:07d}"},
            sf_id=f"003A0000000{i:04d}AAA",
        )
        for i in range(n)
    ]  # fmt: skip


def test_created_people_are_freed_with_the_results_not_at_the_next_full_collection(mailbox):
    containers = mailbox.containers()
    gc.disable()  # what a big session sees: full collections are rare between writes
    try:
        results = mailbox.adapter.create(CONTACTS, _contacts(3), containers)
        assert all(r.ok for r in results)
        held = weakref.ref(results[0])
        del results
        assert held() is None  # no reference cycle keeps every answer alive
    finally:
        gc.enable()


def test_a_feed_page_keeps_no_per_field_metadata(mailbox):
    containers = mailbox.containers()
    mailbox.adapter.create(CONTACTS, _contacts(2), containers)
    changes = mailbox.adapter.read_changes(CONTACTS, None, containers)
    assert len(changes.items) == 2
    for person in changes.items:
        assert person["emailAddresses"][0]["value"].endswith("@acme.example")
        assert person["metadata"]["sources"][0]["etag"]  # the person's own metadata stays
        fields = [v for v in person.values() if isinstance(v, list)]
        assert fields and all("metadata" not in item for f in fields for item in f)
