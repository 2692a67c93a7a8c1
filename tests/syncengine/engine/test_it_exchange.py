"""What only the Exchange Server kind has to prove, end to end against the EWS emulator:
Relay's calendar writes never send an invitation or cancellation (SendToNone), and a
deleted occurrence of a series leaves through the CalendarView expansion."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.ews import builders as ews_builders
from syncengine import mailboxes
from syncengine.mailboxes.base import CAN_SUPPRESS_INVITES
from syncengine.mailboxes.exchange.feeds import EventCursor
from syncengine.models import SyncLink, SyncSession

from .conftest import EMAIL, NOW, make_world

Status = SyncSession.Status


@pytest.fixture
def world(sandbox, settings, db):
    return make_world("exchange", sandbox, settings)


def _sf_events(world):
    return world.sfapp.query("SELECT Id, Subject FROM Event", world.me)


def test_it_never_sends_an_invitation_when_it_writes_a_meeting(world):
    assert CAN_SUPPRESS_INVITES in mailboxes.kind_named("exchange").capabilities
    start = NOW + dt.timedelta(days=2)
    world.mbapp.create_item(
        EMAIL,
        ews_builders.event(
            "Review with Bob",
            start,
            start + dt.timedelta(hours=1),
            categories=["Salesforce"],
            attendees=[("bob@customer.example", "Accept")],
        ),
    )
    first = world.sync()  # up to Salesforce, then the marker is written on the meeting
    assert first.status == Status.SUCCEEDED, first.error
    [row] = _sf_events(world)
    world.sfapp.update(row["Id"], {"Subject": "Review with Bob (moved)"}, world.me)
    second = world.sync()  # an UpdateItem of a meeting with an attendee
    assert second.status == Status.SUCCEEDED, second.error
    [event] = world.events()
    assert event["subject"] == "Review with Bob (moved)"
    assert [a.mailbox.email_address for a in event["raw"].required_attendees or ()] == [
        "bob@customer.example"
    ]
    world.sf_event("Lunch", NOW + dt.timedelta(days=3))
    assert world.sync().status == Status.SUCCEEDED
    assert world.mbapp.invitations_sent(EMAIL) == []


def test_it_lets_a_deleted_occurrence_leave_and_keeps_the_others(world):
    world.settings(time_zone="Europe/Berlin")
    first = (NOW + dt.timedelta(days=1)).date()
    start = dt.datetime(first.year, first.month, first.day, 7, tzinfo=dt.UTC)
    series = world.mbapp.create_item(
        EMAIL,
        ews_builders.event(
            "Standup",
            start,
            start + dt.timedelta(minutes=15),
            time_zone="W. Europe Standard Time",
            categories=["Salesforce"],
            weekly_on=[first.strftime("%A")],
            occurrences=3,
        ),
    )
    assert world.sync().status == Status.SUCCEEDED
    assert len(_sf_events(world)) == 3
    world.mbapp.delete_occurrence_as_user(EMAIL, series.id, 2)

    session = world.sync()
    assert session.status in (Status.SUCCEEDED, Status.NEEDS_CONFIRMATION), session.error
    links = SyncLink.objects.filter(user=world.user, item_type="event")
    if session.status == Status.SUCCEEDED:
        assert len(_sf_events(world)) == 2 and links.count() == 2
    else:  # the deletion brake held it: nothing lost
        assert links.filter(state="held_deletion").count() == 1
        assert len(_sf_events(world)) == 3


def test_an_event_cursor_that_is_not_ours_means_a_full_read():
    assert EventCursor.parse(None) is None
    assert EventCursor.parse("not json") is None
    assert EventCursor.parse('{"w": null}') is None
    cursor = EventCursor("state", NOW, {"m1": {"uid": "u", "occ": ["a", "b"]}})
    again = EventCursor.parse(cursor.dump())
    assert again == cursor and again.occurrence_ids(["m1", "gone"]) == {"a", "b"}
