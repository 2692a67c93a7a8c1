"""SPEC §2b "Down-sync never invites anyone": whatever Relay writes to a calendar, the
emulators record no invitation, update or cancellation (they record every message the real
API would have sent: Graph for any write to an organized meeting with attendees, Google for
any write without sendUpdates=none)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from syncengine.models import SyncLink, SyncSession

from .conftest import EMAIL, NOW, sf_stamp
from .meetings import meeting_in_mailbox

DAY = dt.timedelta(days=1)


def sent(world) -> list[dict]:
    return world.mbapp.sent_invitations(EMAIL)


def guests(world: Any) -> list[Any]:
    """The attendees of the one mailbox copy (Relay gives none to what it writes)."""
    (event,) = world.events()
    if world.kind == "exchange":  # CalendarView leaves attendees out: the stored item
        (item,) = [e for e in world.ews_items("events") if e.id == event["id"]]
        return [*(item.required_attendees or []), *(item.optional_attendees or [])]
    return list(event["raw"].get("attendees") or [])


def test_it_brings_a_salesforce_meeting_with_invitees_down_without_inviting_anyone(world):
    ada = world.sf_contact("Lovelace", "ada@customer.example", FirstName="Ada")
    grace = world.sf_contact("Hopper", "grace@customer.example", FirstName="Grace")
    event = world.sf_event("Kick-off", NOW + 2 * DAY, WhoId=ada)
    world.sfapp.create("EventRelation", {"EventId": event, "RelationId": grace}, world.me)
    world.sfapp.create("EventRelation", {"EventId": event, "RelationId": world.other}, world.me)

    first = world.sync()
    assert first.status == SyncSession.Status.SUCCEEDED, first.error
    assert [e["subject"] for e in world.events()] == ["Kick-off"]
    assert guests(world) == []
    assert sent(world) == []

    world.sfapp.update(event, {"Subject": "Kick-off (moved)"}, world.me)
    world.sfapp.update(
        event,
        {
            "StartDateTime": sf_stamp(NOW + 3 * DAY),
            "EndDateTime": sf_stamp(NOW + 3 * DAY + dt.timedelta(hours=1)),
        },
        world.me,
    )
    moved = world.sync()
    assert moved.status == SyncSession.Status.SUCCEEDED, moved.error
    assert [e["subject"] for e in world.events()] == ["Kick-off (moved)"]
    assert guests(world) == []
    assert sent(world) == []

    world.sfapp.delete(event, world.me)
    gone = world.sync()
    assert gone.status == SyncSession.Status.SUCCEEDED, gone.error
    assert world.events() == []
    assert sent(world) == []


def test_it_takes_a_mailbox_meeting_up_without_messaging_its_attendees(world):
    guests = ["ada@customer.example", "bob@acme.example"]
    item = meeting_in_mailbox(world, "Pricing call", NOW + 2 * DAY, guests)

    up = world.sync()
    assert up.status == SyncSession.Status.SUCCEEDED, up.error
    assert [e["Subject"] for e in world.sfapp.query("SELECT Subject FROM Event", world.me)] == [
        "Pricing call"
    ]
    link = SyncLink.objects.get(user=world.user, item_type="event")
    assert link.mailbox_id == item
    assert sent(world) == []

    idle = world.sync()
    assert not idle.changed
    assert sent(world) == []
