"""SPEC §2b "one removed in the mailbox removes it": a guest the user adds to a meeting Relay
brought down from Salesforce is related by Relay (the event's WhoId), so Relay also
unrelates them when the user removes the guest again — for every mailbox kind, with and
without Shared Activities (found by the engine model)."""

from __future__ import annotations

import datetime as dt

import pytest

from syncengine.models import SyncLink, SyncSession

from .conftest import EMAIL, NOW, World
from .meetings import set_attendees

Status = SyncSession.Status


def who_and_parents(world: World, event_id: str) -> tuple[str | None, set[str]]:
    [row] = world.sfapp.query(f"SELECT Id, WhoId FROM Event WHERE Id = '{event_id}'", world.me)
    rows = world.sfapp.query(
        f"SELECT RelationId, IsParent FROM EventRelation WHERE EventId = '{event_id}'", world.me
    )
    return row["WhoId"], {r["RelationId"] for r in rows if r["IsParent"]}


@pytest.mark.parametrize("shared", [True, False], ids=["shared-activities", "whoid-only"])
def test_it_unrelates_a_guest_removed_from_a_salesforce_meeting(world: World, shared) -> None:
    world.sfapp.shared_activities = shared
    ada = world.sf_contact("Lovelace", "ada@customer.example", FirstName="Ada")
    event = world.sf_event("Kick-off", NOW + dt.timedelta(days=2))
    assert world.sync().status == Status.SUCCEEDED
    [copy] = world.events()

    set_attendees(world, copy["id"], ["ada@customer.example"])
    related = world.sync()
    assert related.status == Status.SUCCEEDED, related.error
    assert who_and_parents(world, event) == (ada, {ada} if shared else set())
    link = SyncLink.objects.get(user=world.user, item_type="event", sf_id=event)
    assert link.relations.get("made") == [ada]

    set_attendees(world, copy["id"], [])
    unrelated = world.sync()
    assert unrelated.status == Status.SUCCEEDED, unrelated.error
    assert who_and_parents(world, event) == (None, set())
    # Nothing is left to settle: the copy was not given a block naming the removed guest
    # (read from the session's stale feed row), to be taken out again one session later.
    assert not world.sync().changed
    assert world.mbapp.sent_invitations(EMAIL) == []
