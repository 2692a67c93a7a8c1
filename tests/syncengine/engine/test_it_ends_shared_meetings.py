"""A meeting two Relay users of one org share (one Salesforce Event, both linked), when its
organizer deletes it (docs/decisions.md, "When the organizer deletes a shared meeting"),
and the org's Shared Activities describe, which their sessions share (one a day per org).
"""

from __future__ import annotations

import datetime as dt

from syncengine.models import SyncLink, SyncSession
from syncengine.salesforce.relations import SHARED_ACTIVITIES_PROBE
from syncengine.session import run_session

from .conftest import EMAIL, NOW
from .meetings import meeting_in_mailbox
from .test_it_keeps_one_event_per_meeting import BOB, UID, bobs_copy, connect_bob

DAY = dt.timedelta(days=1)
Status = SyncSession.Status


def _shared_meeting(world):
    """Ann organizes, Bob holds his copy; both sessions ran: one Event, two links."""
    world.sf_contact("Lovelace", "ada@customer.example")
    start = NOW + 2 * DAY
    ann_item = meeting_in_mailbox(world, "Pricing", start, ["ada@customer.example", BOB], uid=UID)
    assert world.sync().status == Status.SUCCEEDED
    bob = connect_bob(world)
    bob_item = bobs_copy(world, "Pricing", start, [EMAIL, "ada@customer.example"])
    assert _bob_sync(world, bob).status == Status.SUCCEEDED
    (event,) = world.sfapp.query("SELECT Id FROM Event WHERE IsChild = false", world.me)
    links = SyncLink.objects.filter(item_type="event", sf_id=event["Id"])
    assert sorted(links.values_list("mailbox_id", flat=True)) == sorted([ann_item, bob_item])
    return bob, event["Id"], ann_item, bob_item


def _bob_sync(world, bob) -> SyncSession:
    world.clock.advance(minutes=1)
    session = run_session(bob, SyncSession.Trigger.MANUAL, now=world.clock())
    world.clock.advance(minutes=1)
    return session


def _events(world) -> list[dict]:
    return world.sfapp.query("SELECT Id FROM Event WHERE IsChild = false", world.me)


def _delete_as_user(world, address: str, item_id: str) -> None:
    """The user (or the cancellation reaching an attendee) deletes the calendar item."""
    if world.kind == "exchange":
        world.mbapp.delete_item_as_user(address, item_id)
    else:
        world.mbapp.delete_event(address, item_id)


def _no_messages(world) -> None:
    assert world.mbapp.sent_invitations(EMAIL) == []
    assert world.mbapp.sent_invitations(BOB) == []


def test_it_deletes_the_one_event_once_when_the_organizer_deletes_the_meeting(world):
    bob, event_id, ann_item, bob_item = _shared_meeting(world)

    _delete_as_user(world, EMAIL, ann_item)  # Ann cancels in her calendar
    ann = world.sync()
    assert ann.status == Status.SUCCEEDED, ann.error
    assert _events(world) == []  # events always auto-remove: the shared Event goes
    assert not SyncLink.objects.filter(user=world.user, item_type="event").exists()
    # Bob's session does not read Ann's event (he is neither its owner nor invited in
    # Salesforce): his copy stays linked until his calendar drops it or a reconciliation.
    assert SyncLink.objects.filter(user=bob, item_type="event", sf_id=event_id).exists()

    _delete_as_user(world, BOB, bob_item)  # the cancellation removes Bob's copy
    gone = _bob_sync(world, bob)
    assert gone.status == Status.SUCCEEDED, gone.error
    assert not SyncLink.objects.filter(user=bob, item_type="event").exists()
    assert _events(world) == []  # nothing re-created, nothing duplicated
    assert not _bob_sync(world, bob).changed
    _no_messages(world)


def test_it_removes_a_sharers_copy_left_behind_at_the_weekly_reconciliation(world):
    bob, event_id, ann_item, bob_item = _shared_meeting(world)
    _delete_as_user(world, EMAIL, ann_item)
    assert world.sync().status == Status.SUCCEEDED
    assert _events(world) == []

    world.clock.advance(days=8)  # past Bob's routine reconciliation (once a week)
    later = _bob_sync(world, bob)
    assert later.status == Status.SUCCEEDED, later.error
    assert not SyncLink.objects.filter(user=bob, item_type="event", sf_id=event_id).exists()
    assert bob_item not in {e["id"] for e in _bob_events(world)}  # Bob is no organizer
    assert _events(world) == []
    _no_messages(world)


def _bob_events(world) -> list[dict]:
    if world.kind == "exchange":
        box = world.mbapp.mailbox(BOB)
        return [{"id": i.id} for i in world.mbapp.items_in(BOB, box.distinguished("calendar"))]
    if world.kind == "office365":
        lo, hi = world.clock() - dt.timedelta(days=400), world.clock() + dt.timedelta(days=400)
        return world.mbapp.calendar_view(BOB, lo, hi)
    return world.mbapp.events(BOB)


def _describes(world) -> int:
    probe = f"sobjects/{SHARED_ACTIVITIES_PROBE}/describe"
    with world.sfapp.lock:
        return sum(1 for c in world.sfapp.calls if c.path.endswith(probe))


def test_it_describes_the_org_once_for_all_its_users_and_sessions(world):
    before = _describes(world)
    _shared_meeting(world)  # two users, each relating a meeting: one describe
    assert _describes(world) - before == 1

    meeting_in_mailbox(world, "Follow-up", NOW + 3 * DAY, ["ada@customer.example"])
    assert world.sync().status == Status.SUCCEEDED
    assert _describes(world) - before == 1  # cached on the org's connections

    world.clock.advance(days=2)  # the cached answer is a day old: described again
    meeting_in_mailbox(world, "Review", NOW + 4 * DAY, ["ada@customer.example"])
    assert world.sync().status == Status.SUCCEEDED
    assert _describes(world) - before == 2
    assert len(_events(world)) == 3
