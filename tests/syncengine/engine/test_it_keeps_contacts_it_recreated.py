"""Old soak seeds office365:52 and gmail:34 (SPEC §3, §4; docs/decisions.md): the contact
scope is a Salesforce list view. A contact Relay brought down is deleted in Salesforce and
edited in the mailbox, so an edit beats the deletion and Relay recreates it in Salesforce
from the mailbox copy. The new record is outside the view; it used to count as "brought
down", so the next session removed the copy the user had just edited. A contact Relay
recreated from the mailbox copy counts from then on as one the user created in the
mailbox: it stays linked, in one session, with no flip-flop. End to end, every kind."""

from __future__ import annotations

from syncengine.models import SyncLink, SyncSession

from .conftest import World

Status = SyncSession.Status


def test_it_keeps_a_contact_it_recreated_outside_the_view(world: World) -> None:
    # The view filters on a field Relay does not sync: a record made from the mailbox copy
    # is outside it.
    vip = world.sf_contact("Vip", "vip@example.com", owner=world.other, Level__c="Gold")
    view = world.sfapp.add_list_view("Gold", "Gold", "everything", "Level__c = 'Gold'")
    world.settings(contact_scope="view", contact_view_id=view)
    assert world.sync().status == Status.SUCCEEDED
    [copy] = world.contacts()
    assert copy["email"] == "vip@example.com"

    world.sfapp.delete(vip, world.me)  # deleted in Salesforce ...
    world.edit_contact_email(copy["id"], "vip@new.example")  # ... edited in the mailbox
    restored = world.sync()
    assert restored.status == Status.SUCCEEDED, restored.error
    [live] = world.sf_live("Contact")
    assert live["Id"] != vip and world.sfapp.get(live["Id"])["Email"] == "vip@new.example"
    [link] = SyncLink.objects.filter(user=world.user, item_type="contact")
    assert (link.sf_id, link.mailbox_id) == (live["Id"], copy["id"])

    for _ in range(2):  # the copy the user just edited stays, and nothing flips back
        quiet = world.sync()
        assert quiet.status == Status.SUCCEEDED, quiet.error
        assert not quiet.changed, quiet.counters
        assert [c["email"] for c in world.contacts()] == ["vip@new.example"]
