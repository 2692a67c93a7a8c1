"""Regression of the soak (office365 seed 89; SPEC §2b, §4, §5): the user deletes a meeting
in the mailbox whose guest Relay related in Salesforce, and the Salesforce event is edited
before the next session — an edit beats a deletion, so Relay recreates the mailbox copy.
Down-sync never invites, so that copy has no guests. One session later its first read
took the empty guest list for "the user removed the guest" and unrelated them: the
session after a clean one wrote, and the relation Relay had made was lost. The restored
copy is Relay's own write: the relations stay, and the next session is quiet. End to end,
for every mailbox kind."""

from __future__ import annotations

import datetime as dt

from syncengine.models import SyncSession

from .conftest import EMAIL, NOW, World
from .meetings import set_attendees
from .model_mailbox import delete_item
from .test_it_unrelates_removed_guests import who_and_parents

Status = SyncSession.Status


def test_it_keeps_the_relations_of_a_meeting_it_restored(world: World) -> None:
    ada = world.sf_contact("Lovelace", "ada@customer.example", FirstName="Ada")
    event = world.sf_event("Kick-off", NOW + dt.timedelta(days=2))
    assert world.sync().status == Status.SUCCEEDED
    [copy] = world.events()
    set_attendees(world, copy["id"], ["ada@customer.example"])
    assert world.sync().status == Status.SUCCEEDED
    related = who_and_parents(world, event)
    assert related[0] == ada

    if world.kind == "exchange":  # the user deletes the meeting in the mailbox ...
        delete_item(world, copy["id"])
    else:
        world.mbapp.delete_event(EMAIL, copy["id"])
    world.sfapp.update(event, {"Subject": "Kick-off, moved"}, world.me)  # ... edited there
    restored = world.sync()
    assert restored.status == Status.SUCCEEDED, restored.error
    [again] = world.events()
    assert again["id"] != copy["id"]  # recreated from Salesforce
    assert who_and_parents(world, event) == related

    quiet = world.sync()
    assert quiet.status == Status.SUCCEEDED, quiet.error
    assert not quiet.changed, quiet.counters
    assert who_and_parents(world, event) == related  # the guest Relay related stays
    assert world.mbapp.sent_invitations(EMAIL) == []
