"""Office 365 email feeds against the Graph emulator over TLS, through O365; and the parser."""

# ruff: noqa: F811 - pytest fixtures imported from conftest_office365 are redefined as arguments

from datetime import UTC, datetime

from syncengine.emails.feed import INBOX_FEED, SALESFORCE_FEED, SENT_FEED
from syncengine.emails.from_graph import email_from_graph
from syncengine.emails.records import Address
from syncengine.mailboxes.base import EMAILS, TASKS
from syncengine.mailboxes.office365.mail import OutlookMail
from tests.syncengine.adapters.conftest_office365 import (  # noqa: F401  (fixtures)
    ANN,
    graph_server,
    mailbox,
    o365_ca,
)

from .email_fixtures import PDF, PNG

BOB = {"emailAddress": {"name": "Bob Buyer", "address": "bob@customer.example"}}
CAROL = {"emailAddress": {"name": "Carol", "address": "carol@customer.example"}}


def _message(subject, sender=BOB, to=(CAROL,), **more):
    return {
        "subject": subject,
        "from": sender,
        "toRecipients": list(to),
        "body": {"contentType": "html", "content": f"<p>{subject}</p>"},
        **more,
    }


def _setup(mb):
    containers = mb.adapter.ensure_containers({})
    return containers, containers[EMAILS].external_id


def _deliver_and_file(mb, folder, subject, **more):
    """Delivered to the inbox, then moved to the Salesforce folder by the user."""
    message = mb.emu.create_message(ANN, "inbox", _message(subject, **more))
    return mb.emu.move_message(ANN, message["id"], folder)


def _http_calls(mb):
    return [f"{c.method} {c.path.partition('?')[0]}" for c in mb.emu.calls]


def test_a_message_moved_to_the_folder_appears_once_then_only_new_ones(mailbox):
    containers, folder = _setup(mailbox)
    adapter = mailbox.adapter
    mailbox.emu.create_message(ANN, "inbox", _message("Not filed"))
    before = adapter.api_calls

    first = adapter.read_email_changes({}, containers, auto_save=False)
    assert first.records == [] and first.full == [SALESFORCE_FEED]
    assert set(first.cursors) == {SALESFORCE_FEED} and "$deltatoken=" in first.cursors["emails"]
    assert first.api_calls == adapter.api_calls - before == 1

    filed = _deliver_and_file(mailbox, folder, "Quote for 20 seats")
    second = adapter.read_email_changes(first.cursors, containers, auto_save=False)
    [record] = second.records
    assert record.message_id == filed["internetMessageId"]
    assert record.subject == "Quote for 20 seats" and record.in_salesforce_folder
    assert record.sender == Address("bob@customer.example", "Bob Buyer")
    assert record.to == (Address("carol@customer.example", "Carol"),)
    assert record.incoming  # from Bob, not from the mailbox owner
    assert (
        record.html_body == "<p>Quote for 20 seats</p>" and record.text_body == "Quote for 20 seats"
    )
    assert second.full == []

    mailbox.emu.clear_calls()
    idle = adapter.read_email_changes(second.cursors, containers, auto_save=False)
    assert idle.records == [] and idle.api_calls == 1
    assert _http_calls(mailbox) == [f"GET /v1.0/me/mailFolders/{folder}/messages/delta"]

    later = _deliver_and_file(mailbox, folder, "Signed order")
    third = adapter.read_email_changes(idle.cursors, containers, auto_save=False)
    assert [r.message_id for r in third.records] == [later["internetMessageId"]]


def test_auto_save_reads_inbox_and_sent_with_the_right_direction(mailbox):
    containers, folder = _setup(mailbox)
    emu, adapter = mailbox.emu, mailbox.adapter
    received = emu.create_message(ANN, "inbox", _message("Question"))
    sent = emu.create_message(
        ANN, "sentitems", _message("Answer", sender={"emailAddress": {"address": ANN}}, to=[BOB])
    )
    emu.create_message(
        ANN, "inbox", _message("Old news", receivedDateTime="2024-03-01T08:00:00Z")
    )  # older than 30 days: not auto-saved
    emu.create_message(ANN, "drafts", _message("Draft", isDraft=True))
    # A mail Ann sent and then filed: outgoing, found by comparing with the owner.
    own = emu.create_message(
        ANN, "sentitems", _message("Filed reply", sender={"emailAddress": {"address": ANN}})
    )
    emu.move_message(ANN, own["id"], folder)
    emu.clear_calls()

    feed = adapter.read_email_changes({}, containers, auto_save=True)

    by_subject = {r.subject: r for r in feed.records}
    assert set(by_subject) == {"Question", "Answer", "Filed reply"}
    assert by_subject["Question"].incoming and not by_subject["Question"].in_salesforce_folder
    assert not by_subject["Answer"].incoming
    assert by_subject["Answer"].message_id == sent["internetMessageId"]
    assert not by_subject["Filed reply"].incoming and by_subject["Filed reply"].in_salesforce_folder
    assert set(feed.cursors) == {SALESFORCE_FEED, INBOX_FEED, SENT_FEED}
    assert all(c.endswith("#owner=ann@contoso.example") for c in feed.cursors.values())
    # One $batch of the three delta GETs (the inbox/sent ones bounded by $filter), then one
    # GET /me to learn the owner, once for this mailbox (it is kept in the cursors).
    assert _http_calls(mailbox) == ["POST /v1.0/$batch", "GET /v1.0/me"]
    assert feed.api_calls == 2

    first_inbox_url = OutlookMail(adapter)._initial(INBOX_FEED).url
    assert "/me/mailFolders/inbox/messages/delta?$select=" in first_inbox_url
    assert first_inbox_url.endswith("$filter=receivedDateTime%20ge%202024-04-15T12%3A00%3A00Z")

    emu.clear_calls()
    reply = emu.create_message(ANN, "inbox", _message("Re: Answer"))
    again = adapter.read_email_changes(feed.cursors, containers, auto_save=True)
    assert [(r.message_id, r.incoming) for r in again.records] == [
        (reply["internetMessageId"], True)
    ]
    assert _http_calls(mailbox) == ["POST /v1.0/$batch"]  # the owner came with the cursor
    assert received["internetMessageId"] not in {r.message_id for r in again.records}

    # Auto-save turned off: the inbox and sent cursors are dropped.
    off = adapter.read_email_changes(again.cursors, containers, auto_save=False)
    assert set(off.cursors) == {SALESFORCE_FEED} and off.records == []


def test_a_message_moved_from_the_inbox_to_the_folder_is_one_record(mailbox):
    containers, folder = _setup(mailbox)
    adapter = mailbox.adapter
    first = adapter.read_email_changes({}, containers, auto_save=True, owner=ANN)
    message = mailbox.emu.create_message(ANN, "inbox", _message("Moved"))
    copy = mailbox.emu.create_message(
        ANN, folder, _message("Moved", internetMessageId=message["internetMessageId"])
    )
    mailbox.emu.move_message(ANN, message["id"], folder)
    feed = adapter.read_email_changes(first.cursors, containers, auto_save=True)
    [record] = feed.records
    assert record.in_salesforce_folder and record.message_id == copy["internetMessageId"]


def test_attachments_keep_the_pdf_and_mark_the_inline_image(mailbox):
    containers, folder = _setup(mailbox)
    message = mailbox.emu.create_message(
        ANN,
        folder,
        _message(
            "Offer",
            attachments=[
                {
                    "name": "logo.png",
                    "contentType": "image/png",
                    "content": PNG,
                    "isInline": True,
                    "contentId": "logo@example.org",
                },
                {"name": "offer.pdf", "contentType": "application/pdf", "content": PDF},
            ],
        ),
    )
    plain = mailbox.emu.create_message(ANN, folder, _message("No attachment"))
    mailbox.emu.clear_calls()

    feed = mailbox.adapter.read_email_changes({}, containers, auto_save=False, owner=ANN)

    by_id = {r.mailbox_id: r for r in feed.records}
    assert len(by_id) == 2 and by_id.keys() != {message["id"], plain["id"]}  # immutable ids
    offer = next(r for r in feed.records if r.subject == "Offer")
    logo, pdf = sorted(offer.attachments, key=lambda a: a.name)
    assert (logo.name, logo.inline, logo.content, logo.size) == ("logo.png", True, None, len(PNG))
    assert (pdf.name, pdf.content_type, pdf.inline) == ("offer.pdf", "application/pdf", False)
    assert pdf.content == PDF and pdf.size == len(PDF) and pdf.attachment_id
    assert next(r for r in feed.records if r.subject == "No attachment").attachments == ()
    # The delta GET, then the attachments GETs of the messages with attachments, batched.
    assert _http_calls(mailbox) == [
        f"GET /v1.0/me/mailFolders/{folder}/messages/delta",
        "POST /v1.0/$batch",
    ]


def test_an_idle_email_read_rides_the_other_feeds_batch(mailbox):
    containers, folder = _setup(mailbox)
    adapter = mailbox.adapter
    mailbox.emu.create_task(ANN, containers[TASKS].external_id, {"title": "Call Bob"})
    _deliver_and_file(mailbox, folder, "Filed")
    item_cursors = {"contact": None, "task": None, "event": None}
    changes, feed = adapter.read_all_with_emails(
        item_cursors, {}, containers, auto_save=True, owner=ANN
    )
    assert len(changes["task"].items) == 1 and [r.subject for r in feed.records] == ["Filed"]
    cursors = {t: c.cursor for t, c in changes.items()}

    mailbox.emu.clear_calls()
    before = adapter.api_calls
    idle, idle_mail = adapter.read_all_with_emails(
        cursors, feed.cursors, containers, auto_save=True
    )
    assert adapter.api_calls - before == 1 == idle_mail.api_calls  # 0 extra for the email feeds
    assert [(c.path, c.units) for c in mailbox.emu.calls] == [("/v1.0/$batch", 6)]
    assert idle_mail.records == [] and all(not c.items for c in idle.values())
    assert set(idle_mail.cursors) == {SALESFORCE_FEED, INBOX_FEED, SENT_FEED}

    # The same idle read of the item feeds alone is also one call: the mail adds nothing.
    mailbox.emu.clear_calls()
    adapter.read_all_changes({t: c.cursor for t, c in idle.items()}, containers)
    assert [(c.path, c.units) for c in mailbox.emu.calls] == [("/v1.0/$batch", 3)]


def test_an_expired_cursor_reads_the_folder_again_in_full(mailbox):
    containers, folder = _setup(mailbox)
    filed = _deliver_and_file(mailbox, folder, "Filed")
    first = mailbox.adapter.read_email_changes({}, containers, auto_save=False, owner=ANN)
    mailbox.emu.expire_delta_tokens(ANN)
    again = mailbox.adapter.read_email_changes(first.cursors, containers, auto_save=False)
    assert again.full == [SALESFORCE_FEED]
    assert [r.message_id for r in again.records] == [filed["internetMessageId"]]
    assert "$deltatoken=" in again.cursors[SALESFORCE_FEED]


def test_a_deleted_salesforce_folder_is_created_again(mailbox):
    containers, folder = _setup(mailbox)
    first = mailbox.adapter.read_email_changes({}, containers, auto_save=False, owner=ANN)
    box = mailbox.emu.mailboxes[ANN]
    del box.mail_folders[folder]
    again = mailbox.adapter.read_email_changes(first.cursors, containers, auto_save=False)
    assert again.records == [] and again.full == [SALESFORCE_FEED]
    assert mailbox.adapter.containers[EMAILS].external_id != folder


# -- the parser on its own ----------------------------------------------------------------


def test_parser_reads_addresses_dates_and_keeps_huge_bodies_whole():
    huge = "<p>" + "x" * 2_000_000 + "</p>"
    record = email_from_graph(
        {
            "id": "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A",
            "internetMessageId": "<abc@mail.example>",
            "subject": "Grüße \u2013 devis n°42",
            "from": {"emailAddress": {"name": "Ann Smith", "address": "Ann@Contoso.example"}},
            "toRecipients": [
                {
                    "emailAddress": {
                        "name": "bob@customer.example",
                        "address": "bob@customer.example",
                    }
                },
                {"emailAddress": {"name": "No address"}},
            ],
            "ccRecipients": [{"emailAddress": {"name": "Émile Zola", "address": "ez@x.example"}}],
            "bccRecipients": [{"emailAddress": {"address": "hidden@x.example"}}],
            "sentDateTime": "2024-05-14T09:30:00Z",
            "body": {"contentType": "html", "content": huge},
        },
        owner="ann@contoso.example",
    )
    assert record.sender == Address("Ann@Contoso.example", "Ann Smith")
    assert not record.incoming  # the owner wrote it (case-blind)
    assert record.to == (Address("bob@customer.example"),)  # no address: no participant
    assert record.cc == (Address("ez@x.example", "Émile Zola"),)
    assert record.bcc == (Address("hidden@x.example"),)
    assert record.sent_at == datetime(2024, 5, 14, 9, 30, tzinfo=UTC)
    assert record.subject == "Grüße \u2013 devis n°42"
    assert record.html_body == huge and len(record.text_body) == 2_000_000


def test_parser_derives_a_stable_key_without_an_internet_message_id():
    message = {
        "id": "AAkALgImmutable=",
        "subject": "",
        "sender": {"emailAddress": {"address": "bot@x.example"}},
        "body": {"contentType": "text", "content": "plain\r\ntext"},
    }
    one, two = email_from_graph(message), email_from_graph(dict(message))
    assert one.message_id == two.message_id and one.message_id.endswith("@relay.invalid>")
    assert email_from_graph({**message, "id": "other"}).message_id != one.message_id
    assert one.sender == Address("bot@x.example")  # `sender` when `from` is missing
    assert (one.text_body, one.html_body, one.sent_at) == ("plain\r\ntext", "", None)
