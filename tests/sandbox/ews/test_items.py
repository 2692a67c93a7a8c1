"""Items through exchangelib: markers, categories, conflicts, deletes, moves, MIME, invitations."""

import datetime as dt
from typing import Any

import pytest
from exchangelib import (
    Attendee,
    CalendarItem,
    Contact,
    EWSTimeZone,
    ExtendedProperty,
    FileAttachment,
    Mailbox,
    Message,
)
from exchangelib.errors import ErrorIrresolvableConflict, ErrorItemNotFound
from exchangelib.folders import Folder
from exchangelib.items import (
    ALWAYS_OVERWRITE,
    NEVER_OVERWRITE,
    SEND_TO_ALL_AND_SAVE_COPY,
    SEND_TO_NONE,
)

from .conftest import ANN

BERLIN = EWSTimeZone("Europe/Berlin")


class SalesforceId(ExtendedProperty):
    property_set_id = "1a3c137e-86df-405b-92f4-4c0a716fc87e"
    property_name = "RelaySalesforceId"
    property_type = "String"


@pytest.fixture(autouse=True)
def _marker_registered():
    # exchangelib registers per class, process-wide; the Exchange kind may have registered
    # the same property (same set and name) already: add it only where missing.
    added = [
        cls for cls in (Contact, CalendarItem) if "relay_sf_id" not in {f.name for f in cls.FIELDS}
    ]
    for cls in added:
        cls.register("relay_sf_id", SalesforceId)
    yield
    for cls in added:
        cls.deregister("relay_sf_id")


def _contact(account, **kwargs):
    item = Contact(folder=account.contacts, display_name="Ann Lee", given_name="Ann", **kwargs)
    item.save()
    return item


def test_it_keeps_the_marker_and_categories(account, ews):
    item = _contact(account, surname="Lee", categories=["Salesforce", "VIP"], relay_sf_id="003A")
    got = account.contacts.get(id=item.id)
    assert (got.relay_sf_id, got.categories, got.surname) == ("003A", ["Salesforce", "VIP"], "Lee")
    found = account.contacts.filter(relay_sf_id="003A")
    assert [c.id for c in found] == [item.id]
    got.relay_sf_id = None
    got.save(update_fields=["relay_sf_id"])  # DeleteItemField on the extended property
    assert account.contacts.get(id=item.id).relay_sf_id is None


def test_it_fetches_a_batch_and_reports_unknown_ids_per_item(account):
    a, b = _contact(account, surname="A"), _contact(account, surname="B")
    missing = Contact(account=account, id=a.id[:-6] + "AAAAA=", changekey="x")
    results = list(account.fetch(ids=[a, missing, b]))
    assert [r.surname for r in (results[0], results[2])] == ["A", "B"]
    assert isinstance(results[1], ErrorItemNotFound)


def test_it_resolves_change_key_conflicts_as_exchange_does(account, ews):
    item = _contact(account, surname="Lee", job_title="CEO")
    stale = account.contacts.get(id=item.id)
    ews.app.touch_item(ANN, item.id, Surname="Changed-in-Outlook")

    stale.job_title = "CTO"  # a different property: AutoResolve merges
    stale.save(update_fields=["job_title"])
    merged = account.contacts.get(id=item.id)
    assert (merged.surname, merged.job_title) == ("Changed-in-Outlook", "CTO")

    old_key = merged.changekey
    ews.app.touch_item(ANN, item.id, Surname="Again")
    merged.surname = "Relay"  # the same property: irresolvable
    with pytest.raises(ErrorIrresolvableConflict):
        merged.save(update_fields=["surname"])
    merged.changekey = old_key
    with pytest.raises(ErrorIrresolvableConflict):
        merged.save(update_fields=["job_title"], conflict_resolution=NEVER_OVERWRITE)
    merged.save(update_fields=["surname"], conflict_resolution=ALWAYS_OVERWRITE)
    assert account.contacts.get(id=item.id).surname == "Relay"


def test_it_moves_deleted_items_or_hard_deletes(account, ews):
    soft, hard = _contact(account, surname="Soft"), _contact(account, surname="Hard")
    soft_id = soft.id
    soft.move_to_trash()  # DeleteType MoveToDeletedItems
    hard.delete()  # DeleteType HardDelete
    [trashed] = list(account.trash.all())
    assert trashed.surname == "Soft"
    assert trashed.id != soft_id  # a move gives the item a new id
    assert account.contacts.all().count() == 0
    with pytest.raises(ErrorItemNotFound):
        account.contacts.get(id=soft_id)
    trashed.delete()
    assert account.trash.all().count() == 0


def test_it_moves_mail_to_the_salesforce_folder_with_mime_and_attachments(account, ews):
    folder = Folder(parent=account.msg_folder_root, name="Salesforce Emails")
    folder.save()
    mime = (
        b"From: Bob <bob@client.example>\r\nTo: ann@corp.example\r\nSubject: Quote\r\n"
        b"Message-ID: <q1@client.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nPlease find the quote.\r\n--b\r\n"
        b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="q.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n--b--\r\n"
    )
    Message(folder=account.inbox, mime_content=mime).save()
    [message] = list(account.inbox.all())
    message.move(folder)
    assert account.inbox.all().count() == 0
    [moved] = list(folder.all())
    assert moved.subject == "Quote"
    assert moved.sender.email_address == "bob@client.example"
    assert b"Please find the quote." in moved.mime_content
    [attachment] = moved.attachments
    assert isinstance(attachment, FileAttachment)
    assert (attachment.name, attachment.content) == ("q.pdf", b"%PDF-1.4")


def test_it_records_an_invitation_only_when_one_would_be_sent(account, ews):
    start = dt.datetime(2026, 5, 4, 10, 0, tzinfo=BERLIN)
    quiet = CalendarItem(
        folder=account.calendar,
        subject="Quiet",
        start=start,
        end=start + dt.timedelta(hours=1),
        required_attendees=[Attendee(mailbox=Mailbox(email_address="bob@client.example"))],
    )
    quiet.save(send_meeting_invitations=SEND_TO_NONE)
    quiet.subject = "Quiet, moved"
    quiet.save(send_meeting_invitations=SEND_TO_NONE)
    quiet.delete(send_meeting_cancellations=SEND_TO_NONE)
    assert ews.app.invitations_sent(ANN) == []

    loud = CalendarItem(
        folder=account.calendar,
        subject="Loud",
        start=start,
        end=start + dt.timedelta(hours=1),
        required_attendees=[Attendee(mailbox=Mailbox(email_address="bob@client.example"))],
    )
    loud.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    [sent] = ews.app.invitations_sent(ANN)
    assert (sent.kind, sent.subject, sent.recipients) == ("request", "Loud", ["bob@client.example"])
    assert sent.setting == "SendToAllAndSaveCopy"
    loud.delete(send_meeting_cancellations=SEND_TO_ALL_AND_SAVE_COPY)
    assert [i.kind for i in ews.app.invitations_sent(ANN)] == ["request", "cancellation"]


def test_it_reads_attendee_responses(account, ews):
    from sandbox.ews import builders

    start = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)
    element = builders.event(
        "Review",
        start,
        start + dt.timedelta(hours=1),
        attendees=[("bob@client.example", "Accept"), ("eve@client.example", "Decline")],
    )
    made = ews.app.create_item(ANN, element, "calendar")
    got = account.calendar.get(id=made.id)
    assert [(a.mailbox.email_address, a.response_type) for a in got.required_attendees] == [
        ("bob@client.example", "Accept"),
        ("eve@client.example", "Decline"),
    ]


def test_it_names_the_organizer_keeps_the_uid_and_records_a_reply(account: Any, ews: Any) -> None:
    from exchangelib.items import SEND_TO_NONE

    from sandbox.ews import builders

    start = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)
    uid = "040000008200E00074C5B7101A82E00800000000RELAYTEST"
    mine = CalendarItem(
        folder=account.calendar,
        subject="Pricing",
        start=start,
        end=start + dt.timedelta(hours=1),
        uid=uid,
        required_attendees=[Attendee(mailbox=Mailbox(email_address="bob@client.example"))],
        optional_attendees=[Attendee(mailbox=Mailbox(email_address="eve@client.example"))],
    )
    mine.save(send_meeting_invitations=SEND_TO_NONE)
    got = account.calendar.get(id=mine.id)
    assert (got.organizer.email_address, got.my_response_type, got.uid) == (
        ANN,
        "Organizer",
        uid,
    )
    assert [a.mailbox.email_address for a in got.optional_attendees] == ["eve@client.example"]

    ews.app.respond_as_attendee(ANN, mine.id, "bob@client.example", "Decline")
    replied = account.calendar.get(id=mine.id)
    assert replied.changekey != got.changekey  # a change of the organizer's item
    [bob] = replied.required_attendees
    assert (bob.response_type, bob.last_response_time is not None) == ("Decline", True)

    invited = builders.event(
        "Pricing", start, start + dt.timedelta(hours=1), uid=uid, organizer="carl@client.example"
    )
    copy = ews.app.create_item(ANN, invited, "calendar")
    theirs = account.calendar.get(id=copy.id)
    assert (theirs.organizer.email_address, theirs.my_response_type, theirs.uid) == (
        "carl@client.example",
        "Accept",
        uid,
    )
    assert ews.app.sent_invitations(ANN) == []


def test_it_counts_calls_in_flight_per_impersonated_mailbox(account: Any, ews: Any) -> None:
    ews.app.set_latency(0.02)
    try:
        list(account.calendar.all().only("id"))
    finally:
        ews.app.set_latency()
    assert ews.app.peak_in_flight(ANN) == 1
    assert ews.app.peak_in_flight("nobody@corp.example") == 0
