"""Gmail email feeds against the Google emulator over TLS, through google-api-python-client;
and the MIME/JSON parser on its own."""

# ruff: noqa: F811 - pytest fixtures imported from gmail_fixtures are redefined as arguments

import base64
from datetime import UTC, datetime, timedelta

from syncengine.emails.feed import INBOX_FEED, SALESFORCE_FEED, SENT_FEED
from syncengine.emails.from_gmail import attachments_to_fetch, email_from_gmail
from syncengine.emails.records import Address
from syncengine.mailboxes.base import CONTACTS, EMAILS, EVENTS, TASKS
from tests.syncengine.adapters.gmail_fixtures import (  # noqa: F401  (fixtures)
    ALICE,
    NOW,
    google_server,
    mailbox,
)

from .email_fixtures import PDF, mime_with_inline_image, sandbox_ca  # noqa: F401

BOB = "Bob Buyer <bob@customer.example>"


def _deliver(mb, subject, **more):
    fields = {"sender": BOB, "to": [ALICE], "subject": subject, "text": f"{subject} body"}
    return mb.emu.add_message(ALICE, **{**fields, **more})


def _calls(mb):
    return [call.partition("?")[0] for call in mb.calls()]


def _setup(mb):
    containers = mb.containers()
    mb.emu.clear_calls()
    return containers, containers[EMAILS].external_id


def test_a_labelled_message_appears_once_then_only_new_ones(mailbox):
    containers, label = _setup(mailbox)
    adapter, emu = mailbox.adapter, mailbox.emu
    _deliver(mailbox, "Not labelled")

    first = adapter.read_email_changes({}, containers, auto_save=False)
    assert first.records == [] and first.full == [SALESFORCE_FEED]
    assert first.cursors == {SALESFORCE_FEED: str(emu.history_id(ALICE))}
    assert _calls(mailbox) == [
        "GET /gmail/v1/users/me/profile",
        "GET /gmail/v1/users/me/messages",
    ]
    assert first.api_calls == 2

    quote = _deliver(mailbox, "Quote", html="<p>Quote <b>body</b></p>", cc=["carol@x.example"])
    emu.modify_message(ALICE, quote, add=[label])
    emu.clear_calls()
    second = adapter.read_email_changes(first.cursors, containers, auto_save=False)
    [record] = second.records
    assert record.mailbox_id == quote and record.in_salesforce_folder and record.incoming
    assert record.subject == "Quote" and record.message_id.startswith("<")
    assert record.sender == Address("bob@customer.example", "Bob Buyer")
    assert record.to == (Address(ALICE),) and record.cc == (Address("carol@x.example"),)
    assert record.text_body.strip() == "Quote body"
    assert record.html_body.strip() == "<p>Quote <b>body</b></p>"
    assert record.sent_at == NOW
    # history, then one batch of messages.get
    assert _calls(mailbox) == ["GET /gmail/v1/users/me/history", "POST /batch"]
    assert second.full == []

    emu.clear_calls()
    idle = adapter.read_email_changes(second.cursors, containers, auto_save=False)
    assert idle.records == [] and idle.api_calls == 1
    assert _calls(mailbox) == ["GET /gmail/v1/users/me/history"]

    emu.modify_message(ALICE, quote, remove=[label])
    emu.modify_message(ALICE, quote, add=[label])  # off and on again: reported again, same key
    later = _deliver(mailbox, "Signed", label_ids=["INBOX", label])  # filtered on arrival
    third = adapter.read_email_changes(idle.cursors, containers, auto_save=False)
    assert {r.mailbox_id for r in third.records} == {quote, later}
    assert next(r for r in third.records if r.mailbox_id == quote).message_id == record.message_id


def test_auto_save_reads_inbox_and_sent_with_the_right_direction(mailbox):
    containers, label = _setup(mailbox)
    adapter, emu = mailbox.adapter, mailbox.emu
    question = _deliver(mailbox, "Question")
    answer = _deliver(mailbox, "Answer", sender=f"Alice <{ALICE}>", to=[BOB], label_ids=["SENT"])
    _deliver(mailbox, "Old", date=NOW - timedelta(days=45))  # beyond the 30 days
    _deliver(mailbox, "Draft", label_ids=["DRAFT"])
    filed = _deliver(mailbox, "Filed", label_ids=["INBOX", label])

    first = adapter.read_email_changes({}, containers, auto_save=True)

    by_id = {r.mailbox_id: r for r in first.records}
    assert set(by_id) == {question, answer, filed}
    assert by_id[question].incoming and not by_id[question].in_salesforce_folder
    assert not by_id[answer].incoming
    assert by_id[filed].incoming and by_id[filed].in_salesforce_folder
    assert set(first.cursors) == {SALESFORCE_FEED, INBOX_FEED, SENT_FEED}
    assert sorted(first.full) == sorted(first.cursors)
    # profile once, one list per feed, one batch of gets
    assert _calls(mailbox) == [
        "GET /gmail/v1/users/me/profile",
        *["GET /gmail/v1/users/me/messages"] * 3,
        "POST /batch",
    ]

    emu.clear_calls()
    units = adapter.quota_units
    idle = adapter.read_email_changes(first.cursors, containers, auto_save=True)
    assert idle.records == [] and idle.api_calls == 1
    assert _calls(mailbox) == ["POST /batch"]  # the three history.list in one batch
    assert adapter.quota_units - units == 3

    reply = _deliver(mailbox, "Re: Answer")
    sent = _deliver(mailbox, "Follow-up", sender=ALICE, to=[BOB], label_ids=["SENT"])
    again = adapter.read_email_changes(idle.cursors, containers, auto_save=True)
    assert {(r.mailbox_id, r.incoming) for r in again.records} == {(reply, True), (sent, False)}


def test_attachments_keep_the_pdf_and_mark_the_inline_image(mailbox):
    containers, label = _setup(mailbox)
    emu = mailbox.emu
    mid = _deliver(mailbox, "placeholder", label_ids=["INBOX", label])
    with emu.lock:  # the emulator files only plain attachments: put the full MIME in place
        emu.account(ALICE).messages[mid]["raw"] = mime_with_inline_image(BOB, ALICE, "Offer", NOW)
    plain = _deliver(mailbox, "Plain", attachments=[("notes.txt", "text/plain", b"a,b\n")])
    emu.modify_message(ALICE, plain, add=[label])
    emu.clear_calls()

    feed = mailbox.adapter.read_email_changes({}, containers, auto_save=False)

    offer = next(r for r in feed.records if r.mailbox_id == mid)
    assert offer.message_id == "<inline-and-pdf@example.org>" and offer.subject == "Offer"
    assert offer.text_body.strip() == "See the logo and the offer."
    assert 'src="cid:logo@example.org"' in offer.html_body
    logo, pdf = sorted(offer.attachments, key=lambda a: a.inline, reverse=True)
    assert (logo.inline, logo.content, logo.content_type) == (True, None, "image/png")
    assert logo.size > 0
    assert (pdf.name, pdf.content_type, pdf.inline, pdf.content) == (
        "offer.pdf",
        "application/pdf",
        False,
        PDF,
    )
    notes = next(r for r in feed.records if r.mailbox_id == plain)
    [text] = notes.attachments
    assert (text.name, text.content, text.inline) == ("notes.txt", b"a,b\n", False)
    assert notes.text_body.strip() == "Plain body"  # the attached .txt is not the body
    # profile, list, one batch of gets, one batch of the two attachments.get (not the image)
    assert _calls(mailbox) == [
        "GET /gmail/v1/users/me/profile",
        "GET /gmail/v1/users/me/messages",
        "POST /batch",
        "POST /batch",
    ]
    assert feed.api_calls == 4


def test_a_stale_history_id_lists_the_label_again_without_an_error(mailbox):
    containers, label = _setup(mailbox)
    adapter, emu = mailbox.adapter, mailbox.emu
    first = adapter.read_email_changes({}, containers, auto_save=True)
    filed = _deliver(mailbox, "Filed", label_ids=["INBOX", label])
    emu.expire_history(ALICE)
    emu.clear_calls()

    again = adapter.read_email_changes(first.cursors, containers, auto_save=True)

    assert sorted(again.full) == sorted([SALESFORCE_FEED, INBOX_FEED, SENT_FEED])
    assert [r.mailbox_id for r in again.records] == [filed]
    assert all(c == str(emu.history_id(ALICE)) for c in again.cursors.values())
    assert _calls(mailbox) == [
        "POST /batch",  # three history.list: 404 each
        "GET /gmail/v1/users/me/profile",
        *["GET /gmail/v1/users/me/messages"] * 3,
        "POST /batch",
    ]
    idle = adapter.read_email_changes(again.cursors, containers, auto_save=True)
    assert idle.records == [] and idle.full == []


def test_many_labelled_messages_are_fetched_in_batches_of_50(mailbox):
    containers, label = _setup(mailbox)
    first = mailbox.adapter.read_email_changes({}, containers, auto_save=False)
    for n in range(120):
        _deliver(mailbox, f"M{n}", label_ids=["INBOX", label])
    mailbox.emu.clear_calls()
    feed = mailbox.adapter.read_email_changes(first.cursors, containers, auto_save=False)
    assert len(feed.records) == 120
    assert _calls(mailbox) == ["GET /gmail/v1/users/me/history", *["POST /batch"] * 3]


# -- the parser on its own ----------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _gmail_json(headers, parts=None, body=None, labels=("INBOX",)):
    payload = {
        "mimeType": "multipart/mixed" if parts else "text/plain",
        "headers": [{"name": k, "value": v} for k, v in headers],
        "filename": "",
    }
    if parts:
        payload["parts"] = parts
    else:
        payload["body"] = body or {"size": 0}
    return {
        "id": "18f1a2b3c4d5e6f7",
        "labelIds": list(labels),
        "internalDate": "1715799600000",
        "payload": payload,
    }


def test_items_and_emails_read_together_count_every_call_in_the_feed(mailbox):
    """Gmail cannot batch its Tasks and Gmail reads together: they go at once, each its
    own call, and the feed counts the calls of both, as on Office 365."""
    containers, label = _setup(mailbox)
    adapter = mailbox.adapter
    mailbox.emu.create_task(ALICE, containers[TASKS].external_id, {"title": "Call Bob"})
    filed = _deliver(mailbox, "Filed", label_ids=["INBOX", label])
    before = adapter.api_calls
    cursors = dict.fromkeys([CONTACTS, TASKS, EVENTS])
    changes, feed = adapter.read_all_with_emails(cursors, {}, containers, auto_save=False)
    assert [i["title"] for i in changes[TASKS].items] == ["Call Bob"]
    assert [r.mailbox_id for r in feed.records] == [filed]
    assert feed.api_calls == adapter.api_calls - before > len(mailbox.calls("/gmail/v1"))


def test_parser_decodes_rfc2047_names_subjects_and_charsets():
    latin = "Réunion à 14h".encode("latin-1")
    message = _gmail_json(
        [
            (
                "Subject",
                "=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\r\n =?utf-8?q?_=E2=80=93_Angebot?=",
            ),
            ("From", '"=?iso-8859-1?q?Ren=E9_Dupont?=" <rene@x.example>'),
            ("To", '"Doe, Jane" <jane@y.example>, bob@z.example, =?utf-8?b?w4lt?= <em@z.example>'),
            ("Cc", "undisclosed-recipients:;"),
            ("Message-ID", " <m1@x.example> "),
            ("Date", "Wed, 15 May 2024 21:00:00 +0200"),
        ],
        parts=[
            {
                "mimeType": "text/plain",
                "headers": [{"name": "Content-Type", "value": 'text/plain; charset="iso-8859-1"'}],
                "filename": "",
                "body": {"size": len(latin), "data": _b64(latin)},
            }
        ],
        labels=("SENT", "Label_7"),
    )
    record = email_from_gmail(message, salesforce_label="Label_7")
    assert record.subject == "Grüße aus Köln \u2013 Angebot"
    assert record.sender == Address("rene@x.example", "René Dupont")
    assert record.to == (
        Address("jane@y.example", "Doe, Jane"),
        Address("bob@z.example"),
        Address("em@z.example", "Ém"),
    )
    assert record.cc == ()
    assert record.message_id == "<m1@x.example>"
    assert record.sent_at == datetime(2024, 5, 15, 19, 0, tzinfo=UTC)
    assert record.text_body == "Réunion à 14h" and record.html_body == ""
    assert not record.incoming and record.in_salesforce_folder


def test_parser_without_message_id_html_only_and_a_huge_body():
    html = "<div>" + "word " * 400_000 + "</div>"
    message = _gmail_json(
        [("From", "bot@x.example"), ("Subject", "No id")],
        parts=[
            {
                "mimeType": "text/html",
                "headers": [{"name": "Content-Type", "value": "text/html; charset=utf-8"}],
                "filename": "",
                "body": {"size": len(html), "data": _b64(html.encode())},
            },
            {
                "mimeType": "application/pdf",
                "headers": [{"name": "Content-Disposition", "value": "attachment"}],
                "filename": "a.pdf",
                "body": {"size": 3, "attachmentId": "ANG1"},
            },
        ],
    )
    record = email_from_gmail(message, attachment_data={"ANG1": b"pdf"})
    again = email_from_gmail(message)
    assert record.message_id == again.message_id and record.message_id.endswith("@relay.invalid>")
    assert record.html_body == html and len(record.text_body) > 1_900_000  # nothing cut
    assert record.sent_at == datetime(2024, 5, 15, 19, 0, tzinfo=UTC)  # internalDate
    assert record.incoming and not record.in_salesforce_folder
    assert attachments_to_fetch(message) == ["ANG1"]
    [pdf] = record.attachments
    assert (pdf.name, pdf.content, pdf.attachment_id) == ("a.pdf", b"pdf", "ANG1")
    assert again.attachments[0].content is None  # not fetched: no bytes, no error
