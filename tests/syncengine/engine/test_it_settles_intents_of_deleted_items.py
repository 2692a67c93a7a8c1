"""Regression of the 10,000-step soak (issue 16, office365 seed 68): a session dies right
after Salesforce created a contact from a mailbox item, and the user deletes that mailbox
item before the next session. The next session settles the write intent — it finds the
created record and links it to the item — but a Graph delta never mentions an item made
and deleted after its token, so the link pointed at a gone item for good and the user's
deletion was never applied. The linked items are now confirmed by id, so the deletion
goes through the table of SPEC §4 (auto-removal on: the record is deleted). End to end,
for every mailbox kind."""

from __future__ import annotations

from syncengine.faults import AFTER_WRITE, InjectedCrash, crash_at, injected
from syncengine.models import SyncLink, SyncSession, WriteIntent

from .conftest import World

Status = SyncSession.Status


def test_it_applies_the_deletion_of_an_item_whose_create_crashed(world: World) -> None:
    world.sf_contact("Hopper", "grace@example.com")
    assert world.sync().status == Status.SUCCEEDED  # the containers, one contact down
    gone = world.add_contact("Lovelace", "ada@example.com")
    try:
        with injected(crash_at(AFTER_WRITE, "contact", "create_salesforce")):
            world.sync()
    except InjectedCrash:
        pass  # the worker died; the session row is left as a crash leaves it
    live = world.sfapp.query("SELECT Id, LastName FROM Contact", world.me)
    assert sorted(r["LastName"] for r in live) == ["Hopper", "Lovelace"]  # created, unlinked
    assert WriteIntent.objects.filter(user=world.user).exists()

    world.delete_contact(gone)  # the user deletes it before the next session

    session = world.sync()
    assert session.status == Status.SUCCEEDED, (session.status, session.error)
    assert [c["email"] for c in world.contacts()] == ["grace@example.com"]
    live = world.sfapp.query("SELECT Id, LastName FROM Contact", world.me)
    assert [r["LastName"] for r in live] == ["Hopper"]  # auto-removal on: deleted there too
    assert not SyncLink.objects.filter(user=world.user, mailbox_id=gone).exists()
    assert not WriteIntent.objects.filter(user=world.user).exists()
    assert not world.sync().changed
