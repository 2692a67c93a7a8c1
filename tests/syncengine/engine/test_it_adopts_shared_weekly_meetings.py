"""SPEC §2b "One meeting, one Salesforce event", for a weekly meeting: every occurrence of a
series carries the series' one iCalendar UID (Google gives every instance the same
`iCalUID`; the emulators of the other kinds do the same). When a colleague of the same org
already linked each occurrence to its Salesforce event, the second user's occurrences are
linked to those events occurrence by occurrence (by UID and start) — not only the first,
with a second Salesforce event made for every other one. End to end, for every kind."""

from __future__ import annotations

import datetime as dt

from syncengine.models import SyncLink, SyncSession
from syncengine.session import run_session

from .conftest import EMAIL, NOW
from .meetings import weekly_meeting_in_mailbox
from .test_it_keeps_one_event_per_meeting import BOB, UID, connect_bob

WEEKS = 3


def _starts(world) -> dict[str, str]:
    rows = world.sfapp.query("SELECT Id, StartDateTime FROM Event WHERE IsChild = false", world.me)
    return {r["Id"]: r["StartDateTime"] for r in rows}


def test_it_links_every_occurrence_to_the_colleagues_event(world):
    first = (NOW + dt.timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    weekly_meeting_in_mailbox(world, "Standup", first, WEEKS, ["ada@customer.example"], UID)
    assert world.sync().status == SyncSession.Status.SUCCEEDED
    events = _starts(world)
    assert len(events) == WEEKS
    ann = {link.mailbox_id: link.sf_id for link in SyncLink.objects.filter(user=world.user)}
    assert set(ann.values()) == set(events)

    bob = connect_bob(world)
    guests = [EMAIL, "ada@customer.example"]
    weekly_meeting_in_mailbox(
        world, "Standup", first, WEEKS, guests, UID, mailbox=BOB, organizer=EMAIL
    )
    world.clock.advance(minutes=1)
    session = run_session(bob, SyncSession.Trigger.MANUAL, now=world.clock())
    assert session.status == SyncSession.Status.SUCCEEDED, session.error

    assert _starts(world) == events  # no second Salesforce event for any occurrence
    links = SyncLink.objects.filter(user=bob, item_type="event")
    assert sorted(link.sf_id for link in links) == sorted(events)
    world.clock.advance(minutes=1)
    again = run_session(bob, SyncSession.Trigger.MANUAL, now=world.clock())
    assert again.status == SyncSession.Status.SUCCEEDED and not again.changed
    assert _starts(world) == events
