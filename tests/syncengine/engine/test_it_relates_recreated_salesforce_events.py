"""Regression of the soak (gmail seeds 89 and 161; SPEC §2b, §4): a meeting the user
organizes is related in Salesforce to its customer guests; someone deletes the Salesforce
event and the user edits the meeting before the next session. An edit beats a deletion, so
Relay recreates the Salesforce event — a new record, with nobody related. The link kept
the people hash and the relations made on the deleted event, so the relation step saw
"nothing changed" and the recreated event stayed without its Contact (or Lead) for good.
End to end, for every mailbox kind, a guest of each kind."""

from __future__ import annotations

import datetime as dt

import pytest

from syncengine.models import SyncLink, SyncSession

from .conftest import EMAIL, NOW, World
from .meetings import edit_subject, meeting_in_mailbox
from .test_it_unrelates_removed_guests import who_and_parents

Status = SyncSession.Status
GUESTS = {"contact": "ada@customer.example", "lead": "pat@prospect.example"}


@pytest.mark.parametrize("guest", ["contact", "lead"])
def test_it_relates_the_guests_of_a_salesforce_event_it_recreated(world: World, guest: str) -> None:
    if guest == "contact":
        person = world.sf_contact("Lovelace", GUESTS[guest], FirstName="Ada")
    else:
        person = world.sfapp.create(
            "Lead", {"LastName": "Prospect", "Company": "P Inc", "Email": GUESTS[guest]}, world.me
        )
    item = meeting_in_mailbox(world, "Pricing", NOW + dt.timedelta(days=2), [GUESTS[guest]])
    assert world.sync().status == Status.SUCCEEDED
    [first] = world.sfapp.query("SELECT Id FROM Event", world.me)
    assert who_and_parents(world, first["Id"]) == (person, {person})

    world.sfapp.delete(first["Id"], world.me)  # deleted in Salesforce ...
    edit_subject(world, item, "Pricing, moved")  # ... and edited in the mailbox meanwhile
    restored = world.sync()
    assert restored.status == Status.SUCCEEDED, restored.error
    [event] = world.sfapp.query("SELECT Id, Subject FROM Event", world.me)
    assert event["Id"] != first["Id"] and event["Subject"] == "Pricing, moved"
    assert who_and_parents(world, event["Id"]) == (person, {person})
    link = SyncLink.objects.get(user=world.user, item_type="event", sf_id=event["Id"])
    assert link.relations.get("made") == [person]

    quiet = world.sync()
    assert quiet.status == Status.SUCCEEDED, quiet.error
    assert not quiet.changed, quiet.counters
    assert world.mbapp.sent_invitations(EMAIL) == []
