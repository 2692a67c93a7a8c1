"""Regression of the soak (issue 16, SPEC §5, office365 seed 60): a contact deleted in
Salesforce and then edited in the mailbox is restored — created again in Salesforce in
place of the deleted record. When Salesforce applies that create but its answer is lost,
the next session must settle the write intent by finding the restored record. It did not:
the mailbox item was still linked to the deleted record the restore replaces, so the
intent was taken for "linked by other means meanwhile" and dropped, and the planner
restored the contact a second time — two Salesforce contacts for one mailbox contact.
End to end, for every mailbox kind."""

from __future__ import annotations

from syncengine.models import SyncLink, SyncSession, WriteIntent

from .conftest import World
from .test_it_survives_crashes import mailbox_edit, sf_rows

Status = SyncSession.Status


def test_it_restores_a_deleted_contact_once_when_the_create_answer_is_lost(world: World) -> None:
    item = world.add_contact("Lovelace", "ada@example.com")
    assert world.sync().status == Status.SUCCEEDED  # the containers, the contact up
    [first] = sf_rows(world, "contact")
    world.sfapp.delete(first["Id"], world.me)  # deleted in Salesforce ...
    mailbox_edit(world, "contact", item, "email")  # ... and edited in the mailbox: restored

    world.sfapp.lose_response_next(1, match="composite/sobjects", method="POST")
    lost = world.sync()
    assert lost.status == Status.RETRY_LATER, (lost.status, lost.error)
    [restored] = sf_rows(world, "contact")  # Salesforce applied the restore
    assert restored["Id"] != first["Id"]
    assert WriteIntent.objects.filter(user=world.user).exists()

    healed = world.sync()
    assert healed.status == Status.SUCCEEDED, (healed.status, healed.error)
    rows = sf_rows(world, "contact")
    assert [(r["Id"], r["Email"]) for r in rows] == [(restored["Id"], "edited@example.com")]
    assert [c["email"] for c in world.contacts()] == ["edited@example.com"]
    links = SyncLink.objects.filter(user=world.user, item_type="contact")
    assert [(link.sf_id, link.mailbox_id) for link in links] == [(restored["Id"], item)]
    assert not WriteIntent.objects.filter(user=world.user).exists()
    quiet = world.sync()
    assert quiet.status == Status.SUCCEEDED, quiet.error
    assert not quiet.changed
