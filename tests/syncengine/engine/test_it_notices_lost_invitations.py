"""An invitation withdrawn in Salesforce by deleting the user's EventRelation row.

Salesforce documents that directly deleted TaskRelation rows skip the Recycle Bin (queryAll
never shows them; only getDeleted does) and says nothing either way for EventRelation
(sandbox/salesforce/FIDELITY.md). The engine must notice the lost invitation in both kinds
of org: from the deleted row when queryAll shows it, else from the user's child copy of the
event, which goes with the invitation (an Event, so it does pass through the bin).
"""

from __future__ import annotations

import datetime as dt

import pytest

from syncengine.models import SyncLink, SyncSession

from .conftest import NOW

Status = SyncSession.Status


@pytest.mark.parametrize("in_bin", [False, True], ids=["row-skips-bin", "row-in-bin"])
def test_it_stops_syncing_a_meeting_whose_invitation_was_deleted(world, in_bin):
    world.sfapp.event_relation_in_bin = in_bin
    start = NOW + dt.timedelta(days=2)
    theirs = world.sfapp.create(
        "Event",
        {
            "Subject": "Bob's review",
            "StartDateTime": start.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "EndDateTime": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        },
        world.other,
    )
    invitation = world.sfapp.create(
        "EventRelation", {"EventId": theirs, "RelationId": world.me}, world.other
    )
    down = world.sync()
    assert down.status == Status.SUCCEEDED, down.error
    assert [e["subject"] for e in world.events()] == ["Bob's review"]
    link = SyncLink.objects.get(user=world.user, item_type="event", sf_id=theirs)
    assert link.state == SyncLink.State.LINKED

    world.sfapp.delete(invitation, world.other)  # Bob withdraws Ann's invitation
    lost = world.sync()
    assert lost.status == Status.SUCCEEDED, lost.error
    link.refresh_from_db()
    # Not invited any more: the link freezes (never a deletion), down-sync stops.
    assert link.state == SyncLink.State.FROZEN

    world.sfapp.update(theirs, {"Subject": "Bob's review (moved)"}, world.other)
    later = world.sync()
    assert later.status == Status.SUCCEEDED, later.error
    assert [e["subject"] for e in world.events()] == ["Bob's review"]
