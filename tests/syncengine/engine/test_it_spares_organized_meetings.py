"""SPEC §2b, "Down-sync never invites anyone", for meetings the user organizes.

Graph mails every attendee of a meeting its owner organizes on any PATCH or DELETE and
cannot be told not to (API-NOTES §J). So a Salesforce edit or deletion of such a meeting
is not written to Office 365: the link records that Salesforce's version was seen (no
retry each session), a later edit in Outlook still goes up, and the item ledger says why.
The kinds that can write silently (Google sendUpdates=none, EWS SendToNone) apply the
change as usual, and every emulator records zero invitations either way.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.ews import builders as ews_builders
from syncengine.models import ItemLedgerEntry, SyncLink, SyncLogEntry, SyncSession

from .conftest import EMAIL, NOW
from .meetings import edit_subject, meeting_in_mailbox

DAY = dt.timedelta(days=1)
GUESTS = ["ada@customer.example", "bob@partner.example"]
Status = SyncSession.Status


def organized_meeting(world, subject: str) -> str:
    start = NOW + 2 * DAY
    if world.kind == "exchange":
        item = world.mbapp.create_item(
            EMAIL,
            ews_builders.event(
                subject,
                start,
                start + dt.timedelta(hours=1),
                categories=["Salesforce"],
                attendees=[(g, "Unknown") for g in GUESTS],
            ),
        )
        return item.id
    return meeting_in_mailbox(world, subject, start, GUESTS)


def invitations(world) -> list:
    if world.kind == "exchange":
        return world.mbapp.invitations_sent(EMAIL)
    return world.mbapp.sent_invitations(EMAIL)


def sf_subjects(world) -> list[str]:
    return [e["Subject"] for e in world.sfapp.query("SELECT Subject FROM Event", world.me)]


def mailbox_subjects(world) -> list[str]:
    return [e["subject"] for e in world.events()]


def _up(world, subject: str) -> tuple[str, str]:
    item = organized_meeting(world, subject)
    first = world.sync()
    assert first.status == Status.SUCCEEDED, first.error
    link = SyncLink.objects.get(user=world.user, item_type="event")
    assert link.mailbox_id == item
    assert invitations(world) == []
    return link.sf_id, item


def _latest_ledger(world, session) -> ItemLedgerEntry:
    return ItemLedgerEntry.objects.get(session=session, item_type="event")


office365_only = pytest.mark.parametrize("world", ["office365"], indirect=True)


@office365_only
def test_it_does_not_write_a_salesforce_edit_to_an_outlook_meeting_it_would_announce(world):
    sf_id, _ = _up(world, "Pricing call")
    world.sfapp.update(sf_id, {"Subject": "Pricing call (Salesforce)"}, world.me)

    edited = world.sync()
    assert edited.status == Status.SUCCEEDED, edited.error
    assert mailbox_subjects(world) == ["Pricing call"]  # not written: it would mail 2 people
    assert invitations(world) == []
    entry = _latest_ledger(world, edited)
    assert (entry.action, entry.reason_code) == ("skipped", "organized_meeting")
    assert "2 attendees" in entry.reason and "change it in your calendar" in entry.reason
    assert any("organize" in p for p in world.sessions[-1].log.values_list("message", flat=True))

    # Salesforce's version was seen: the next sessions neither retry nor report it again.
    again = world.sync()
    assert again.status == Status.SUCCEEDED, again.error
    assert not again.changed
    assert again.sf_calls_seen == 1
    assert not SyncLogEntry.objects.filter(session=again).exists()
    assert mailbox_subjects(world) == ["Pricing call"]

    # A later edit in Outlook goes up as usual (the meeting in Outlook is what attendees see).
    [event] = world.events()
    edit_subject(world, event["id"], "Pricing call, final")
    up = world.sync()
    assert up.status == Status.SUCCEEDED, up.error
    assert sf_subjects(world) == ["Pricing call, final"]
    assert invitations(world) == []


@office365_only
def test_it_keeps_an_outlook_meeting_deleted_in_salesforce_and_says_why(world):
    sf_id, item = _up(world, "Board prep")
    world.sfapp.delete(sf_id, world.me)

    gone = world.sync()
    assert gone.status == Status.SUCCEEDED, gone.error
    assert mailbox_subjects(world) == ["Board prep"]  # deleting it would mail cancellations
    assert invitations(world) == []
    assert not SyncLink.objects.filter(user=world.user, item_type="event").exists()
    entry = _latest_ledger(world, gone)
    assert (entry.action, entry.reason_code, entry.mailbox_id) == (
        "skipped",
        "organized_meeting",
        item,
    )
    assert "kept in your calendar" in entry.reason and "2 attendees" in entry.reason

    idle = world.sync()
    assert idle.status == Status.SUCCEEDED, idle.error
    assert not idle.changed and sf_subjects(world) == []
    assert invitations(world) == []


@office365_only
def test_it_still_writes_to_an_outlook_meeting_once_it_has_no_attendees(world):
    sf_id, item = _up(world, "Solo slot")
    world.mbapp.update_event(EMAIL, item, {"attendees": []})
    assert world.sync().status == Status.SUCCEEDED  # read: nobody to mail any more
    world.sfapp.update(sf_id, {"Subject": "Solo slot (moved)"}, world.me)

    edited = world.sync()
    assert edited.status == Status.SUCCEEDED, edited.error
    assert mailbox_subjects(world) == ["Solo slot (moved)"]
    assert invitations(world) == []


@pytest.mark.parametrize("world", ["gmail", "exchange"], indirect=True)
def test_it_applies_salesforce_changes_where_the_mailbox_writes_silently(world):
    sf_id, _ = _up(world, "Pricing call")
    world.sfapp.update(sf_id, {"Subject": "Pricing call (Salesforce)"}, world.me)

    edited = world.sync()
    assert edited.status == Status.SUCCEEDED, edited.error
    assert mailbox_subjects(world) == ["Pricing call (Salesforce)"]
    assert _latest_ledger(world, edited).reason_code == "synced"
    assert invitations(world) == []

    world.sfapp.delete(sf_id, world.me)
    gone = world.sync()
    assert gone.status == Status.SUCCEEDED, gone.error
    assert mailbox_subjects(world) == []
    assert invitations(world) == []
