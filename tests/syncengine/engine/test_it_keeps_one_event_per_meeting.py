"""SPEC §2b "One meeting, one Salesforce event": two Relay users of one org with the same
meeting (same iCalendar UID) get one Salesforce Event, both linked, each mailbox one copy,
and the second user's attendees are related to that one event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sandbox.demo_users import SandboxAccount, connect_relay_user
from syncengine.models import SyncLink, SyncSession
from syncengine.session import run_session

from .conftest import EMAIL, NOW
from .meetings import meeting_in_mailbox

DAY = dt.timedelta(days=1)
BOB = "bob@acme.example"
UID = "040000008200E00074C5B7101A82E0080000000077A1B2C3D4E5F60718293A4B5C6D7E8F"


def connect_bob(world):
    if world.kind == "exchange":
        return world.connect_colleague(BOB, "Bob Brown", world.other)
    sf = world.sfapp
    sf_access, sf_refresh = sf.issue_token(world.other)
    if world.kind == "office365":
        world.stack.graph_app.add_mailbox(BOB, "Bob Brown")
        mb_access, mb_refresh = world.stack.graph_app.issue_token(BOB)
    else:
        world.stack.google_app.add_account(BOB, "Bob Brown")
        mb_access, mb_refresh = world.stack.google_app.issue_token(BOB)
    account = SandboxAccount(
        BOB, world.kind, world.other, sf_access, sf_refresh, mb_access, mb_refresh
    )
    urls = {
        "salesforce": world.stack.salesforce.base_url,
        "graph": world.stack.graph.base_url,
        "google": world.stack.google.base_url,
    }
    return connect_relay_user(account, urls, sf.org_id)


def bobs_copy(world, subject: str, start: dt.datetime, guests: list[str]) -> str:
    """Bob's copy of Ann's meeting (Ann organizes), marked for Salesforce by Bob."""
    if world.kind == "exchange":
        return str(world.ews_meeting(subject, start, guests, uid=UID, mailbox=BOB, organizer=EMAIL))
    end = start + dt.timedelta(hours=1)
    if world.kind == "office365":
        return world.mbapp.create_event(
            BOB,
            {
                "subject": subject,
                "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
                "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
                "categories": ["Salesforce"],
                "organizer": {"emailAddress": {"address": EMAIL, "name": "Ann Adams"}},
                "iCalUId": UID,
                "attendees": [
                    {"emailAddress": {"address": g, "name": g}, "type": "required"} for g in guests
                ],
            },
        )["id"]
    return world.mbapp.create_event(
        BOB,
        {
            "summary": subject,
            "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
            "organizer": {"email": EMAIL},
            "iCalUID": UID,
            "attendees": [{"email": g} for g in guests],
            "extendedProperties": {"private": {"relaySalesforce": "1"}},
        },
    )["id"]


def copies(world: Any, address: str) -> int:
    """Calendar items in one user's mailbox (Bob's has no Relay container ids to go by)."""
    if world.kind == "exchange":
        box = world.mbapp.mailbox(address)
        return len(world.mbapp.items_in(address, box.distinguished("calendar")))
    if world.kind == "office365":
        lo, hi = NOW - 30 * DAY, NOW + 90 * DAY
        return len(world.mbapp.calendar_view(address, lo, hi))
    return len(world.mbapp.events(address))


def test_it_links_the_second_user_to_the_first_users_event(world):
    ada = world.sf_contact("Lovelace", "ada@customer.example")
    grace = world.sf_contact("Hopper", "grace@customer.example")
    start = NOW + 2 * DAY
    meeting_in_mailbox(world, "Pricing", start, ["ada@customer.example", BOB], uid=UID)
    assert world.sync().status == SyncSession.Status.SUCCEEDED
    (event,) = world.sfapp.query("SELECT Id, WhoId FROM Event", world.me)
    assert event["WhoId"] == ada

    bob = connect_bob(world)
    guests = [EMAIL, "ada@customer.example", "grace@customer.example"]
    bob_item = bobs_copy(world, "Pricing", start, guests)
    world.clock.advance(minutes=1)
    session = run_session(bob, SyncSession.Trigger.MANUAL, now=world.clock())
    assert session.status == SyncSession.Status.SUCCEEDED, session.error

    events = world.sfapp.query("SELECT Id FROM Event WHERE IsChild = false", world.me)
    assert [e["Id"] for e in events] == [event["Id"]]
    link = SyncLink.objects.get(user=bob, item_type="event")
    assert (link.sf_id, link.mailbox_id) == (event["Id"], bob_item)
    rows = world.sfapp.query(
        f"SELECT RelationId, IsParent FROM EventRelation WHERE EventId = '{event['Id']}'",
        world.me,
    )
    assert {r["RelationId"] for r in rows if r["IsParent"]} == {ada, grace}
    # Each mailbox holds exactly its one copy.
    assert len(world.events()) == 1
    assert copies(world, EMAIL) == copies(world, BOB) == 1
    assert world.mbapp.sent_invitations(EMAIL) == []
    assert world.mbapp.sent_invitations(BOB) == []
    world.clock.advance(minutes=1)
    again = run_session(bob, SyncSession.Trigger.MANUAL, now=world.clock())
    assert not again.changed
    assert copies(world, BOB) == 1
