"""Email logging inside the session (SPEC §6), end to end against the emulators, for both
mailbox kinds: the folder/label, Contact over Lead, once only, Enhanced Email off, files,
auto-save and the blocklist, pending then matched, given up after 30 days, new Leads, and
a crash mid-session."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from syncengine import email_session
from syncengine.models import LoggedEmail, SyncLogEntry, SyncSession
from tests.syncengine.emails.email_fixtures import PDF, PNG, mime_with_inline_image

from .conftest import EMAIL

BOB = "bob@customer.example"
CAROL = "carol@customer.example"
NINA = "nina@newco.example"


@dataclass
class Filed:
    mailbox_id: str
    message_id: str


def deliver(
    world,
    subject: str,
    *,
    sender: str = BOB,
    to: tuple[str, ...] = (EMAIL,),
    cc: tuple[str, ...] = (),
    pdf: bool = False,
    filed: bool = True,
    outgoing: bool = False,
) -> Filed:
    """A message in the user's mailbox, moved to the Salesforce folder / labelled (`filed`)."""
    if world.kind == "exchange":
        mime = EmailMessage()
        mime["From"] = f"{sender.split('@')[0].title()} <{sender}>"
        mime["To"] = ", ".join(to)
        if cc:
            mime["Cc"] = ", ".join(cc)
        mime["Subject"] = subject
        mime["Date"] = format_datetime(world.clock())
        message_id = make_msgid(domain="customer.example")
        mime["Message-ID"] = message_id
        mime.set_content(subject)
        mime.add_alternative(f"<p>{subject}</p>", subtype="html")
        if pdf:
            mime.add_attachment(PDF, maintype="application", subtype="pdf", filename="offer.pdf")
        folder = world.container("emails") if filed else ("sentitems" if outgoing else "inbox")
        if outgoing and filed:
            world.mbapp.create_item(EMAIL, ews_message(), "sentitems", mime=mime.as_bytes())
        item = world.mbapp.create_item(EMAIL, ews_message(), folder, mime=mime.as_bytes())
        return Filed(item.id, message_id)
    if world.kind == "office365":
        attachments = [{"name": "offer.pdf", "contentType": "application/pdf", "content": PDF}]
        fields: dict[str, Any] = {
            "subject": subject,
            "from": {"emailAddress": {"address": sender, "name": sender.split("@")[0].title()}},
            "toRecipients": [{"emailAddress": {"address": a}} for a in to],
            "ccRecipients": [{"emailAddress": {"address": a}} for a in cc],
            "body": {"contentType": "html", "content": f"<p>{subject}</p>"},
            "attachments": attachments if pdf else [],
        }
        message = world.mbapp.create_message(EMAIL, "sentitems" if outgoing else "inbox", fields)
        if filed:
            message = world.mbapp.move_message(EMAIL, message["id"], world.container("emails"))
        return Filed(message["id"], message["internetMessageId"])
    labels = ["SENT"] if outgoing else ["INBOX"]
    if filed:
        labels.append(world.container("emails"))
    mid = world.mbapp.add_message(
        EMAIL,
        sender=sender,
        to=list(to),
        cc=list(cc),
        subject=subject,
        text=subject,
        html=f"<p>{subject}</p>",
        attachments=[("offer.pdf", "application/pdf", PDF)] if pdf else [],
        label_ids=labels,
    )
    return Filed(mid, _gmail_message_id(world, mid))


def _gmail_message_id(world, mid: str) -> str:
    raw = world.mbapp.account(EMAIL).messages[mid]["raw"]
    for line in raw.decode(errors="replace").splitlines():
        if line.lower().startswith("message-id:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no Message-ID")


def deliver_with_inline_image(world, subject: str) -> Filed:
    """A filed message with an inline PNG and a PDF attachment."""
    if world.kind == "exchange":
        raw = mime_with_inline_image(BOB, EMAIL, subject, world.clock())
        item = world.mbapp.create_item(EMAIL, ews_message(), world.container("emails"), mime=raw)
        return Filed(item.id, "<inline-and-pdf@example.org>")
    if world.kind == "office365":
        message = world.mbapp.create_message(
            EMAIL,
            world.container("emails"),
            {
                "subject": subject,
                "from": {"emailAddress": {"address": BOB}},
                "toRecipients": [{"emailAddress": {"address": EMAIL}}],
                "body": {"contentType": "html", "content": '<img src="cid:logo@example.org">'},
                "attachments": [
                    {
                        "name": "logo.png",
                        "contentType": "image/png",
                        "content": PNG,
                        "isInline": True,
                        "contentId": "logo@example.org",
                    },
                    {"name": "offer.pdf", "contentType": "application/pdf", "content": PDF},
                ],
            },
        )
        return Filed(message["id"], message["internetMessageId"])
    filed = deliver(world, "placeholder")
    app = world.mbapp
    with app.lock:  # the emulator files plain attachments only: put the full MIME in place
        raw = mime_with_inline_image(BOB, EMAIL, subject, world.clock())
        app.account(EMAIL).messages[filed.mailbox_id]["raw"] = raw
    return Filed(filed.mailbox_id, "<inline-and-pdf@example.org>")


def ews_message():
    from sandbox.ews.soap import el, t

    return el(t("Message"))


def move_out_and_back(world, filed: Filed) -> None:
    if world.kind == "exchange":
        from exchangelib.folders import Inbox, Messages, Root

        account = world.ews_account()
        [message] = account.fetch(ids=[(filed.mailbox_id, None)])
        root = Root(account=account)
        message.move(Inbox(root=root))
        message.move(Messages(root=root, id=world.container("emails")))
    elif world.kind == "office365":
        out = world.mbapp.move_message(EMAIL, filed.mailbox_id, "inbox")
        world.mbapp.move_message(EMAIL, out["id"], world.container("emails"))
    else:
        label = world.container("emails")
        world.mbapp.modify_message(EMAIL, filed.mailbox_id, remove=[label])
        world.mbapp.modify_message(EMAIL, filed.mailbox_id, add=[label])


# -- Salesforce, as seen by an admin --------------------------------------------------------


def logged(world) -> list[dict[str, Any]]:
    return world.sfapp.query(
        "SELECT Id, Subject, MessageIdentifier, RelatedToId, Incoming FROM EmailMessage",
        world.me,
    )


def relations(world, email_id: str) -> set[tuple[str, str]]:
    rows = world.sfapp.query(
        "SELECT RelationId, RelationType FROM EmailMessageRelation "
        f"WHERE EmailMessageId = '{email_id}' AND RelationId != null",
        world.me,
    )
    return {(r["RelationId"], r["RelationType"]) for r in rows}


def files_of(world, parent: str) -> list[str]:
    links = world.sfapp.query(
        f"SELECT ContentDocumentId FROM ContentDocumentLink WHERE LinkedEntityId = '{parent}'",
        world.me,
    )
    docs = {link["ContentDocumentId"] for link in links}
    versions = world.sfapp.query("SELECT Title, ContentDocumentId FROM ContentVersion", world.me)
    return sorted(v["Title"] for v in versions if v["ContentDocumentId"] in docs)


def email_counts(session: SyncSession) -> dict[str, int]:
    up = session.counters["email"]["up"]
    return {k: v for k, v in up.items() if v}


def ok(session: SyncSession) -> SyncSession:
    assert session.status == SyncSession.Status.SUCCEEDED, session.error
    return session


def customer(world) -> dict[str, str]:
    account = world.sfapp.create("Account", {"Name": "Customer Inc"}, world.me)
    contact = world.sf_contact("Buyer", BOB, FirstName="Bob", AccountId=account)
    lead = world.sfapp.create(
        "Lead", {"LastName": "Buyer", "Company": "Customer Inc", "Email": BOB}, world.me
    )
    return {"account": account, "contact": contact, "lead": lead}


# -- the tests -------------------------------------------------------------------------------


def test_a_filed_message_is_logged_once_linked_to_the_contact_with_its_account(world):
    ids = customer(world)
    ok(world.sync())  # containers exist now; the first session logs nothing
    filed = deliver(world, "Quote for 20 seats")

    first = ok(world.sync())
    [email] = logged(world)
    assert email["MessageIdentifier"] == f"<{filed.message_id.strip('<>')}>"
    assert email["RelatedToId"] == ids["account"] and email["Incoming"] is True
    assert relations(world, email["Id"]) == {(ids["contact"], "FromAddress")}  # not the Lead
    assert email_counts(first) == {"created": 1}
    assert first.changed
    row = LoggedEmail.objects.get(user=world.user)
    assert (row.status, row.salesforce_id, row.form) == ("logged", email["Id"], "email_message")
    assert row.record == {}
    # feed + describe + find_people + already_logged + create + the sender relation
    print(world.kind, "logging session calls", first.api_calls_salesforce)

    idle = ok(world.sync())
    assert len(logged(world)) == 1 and email_counts(idle) == {}
    assert idle.api_calls_salesforce == 1 == idle.sf_calls_seen  # nothing more than the feed
    assert idle.api_calls_mailbox == (1 if world.kind == "office365" else 4)

    move_out_and_back(world, filed)
    again = ok(world.sync())
    assert len(logged(world)) == 1
    assert again.api_calls_salesforce == 1  # known as logged: not even a lookup
    assert LoggedEmail.objects.get(user=world.user).attempts == 1


def test_without_enhanced_email_a_completed_task_with_files_but_no_inline_image(world):
    ids = customer(world)
    world.sfapp.enhanced_email = False
    ok(world.sync())
    deliver_with_inline_image(world, "Offer with logo")

    session = ok(world.sync())
    assert email_counts(session) == {"created": 1}
    [task] = world.sfapp.query(
        "SELECT Id, Subject, Status, TaskSubtype, WhoId, WhatId FROM Task "
        "WHERE TaskSubtype = 'Email'",
        world.me,
    )
    assert task["Subject"] == "Email: Offer with logo"
    assert (task["Status"], task["WhoId"], task["WhatId"]) == (
        "Completed",
        ids["contact"],
        ids["account"],
    )
    assert files_of(world, task["Id"]) == ["offer.pdf"]  # the inline logo is left out
    assert LoggedEmail.objects.get(user=world.user).form == "task"

    ok(world.sync())
    assert len(world.sfapp.query("SELECT Id FROM Task WHERE TaskSubtype = 'Email'", world.me)) == 1


def test_auto_save_logs_matching_mail_both_ways_and_never_blocked_or_internal(world):
    ids = customer(world)
    carol = world.sf_contact("Cc", CAROL)
    for address in ("pat@gmail.com", "zed@blocked.example", "colleague@acme.example"):
        world.sf_contact("Blocked", address)  # Contacts whose addresses may never link
    ok(world.sync())
    world.settings(email_auto_save=True, blocklist="blocked.example")
    deliver(world, "Question", filed=False)
    deliver(world, "Answer", sender=EMAIL, to=(CAROL,), filed=False, outgoing=True)
    deliver(world, "Private", sender="pat@gmail.com", filed=False)
    deliver(world, "Blocked", sender="zed@blocked.example", filed=False)
    deliver(world, "Internal", sender="colleague@acme.example", filed=False)
    deliver(world, "Newsletter", sender="news@unknown.example", filed=False)

    session = ok(world.sync())
    by_subject = {e["Subject"]: e for e in logged(world)}
    assert set(by_subject) == {"Question", "Answer"}
    assert by_subject["Question"]["Incoming"] is True
    assert by_subject["Answer"]["Incoming"] is False
    assert relations(world, by_subject["Answer"]["Id"]) == {(carol, "ToAddress")}
    assert relations(world, by_subject["Question"]["Id"]) == {(ids["contact"], "FromAddress")}
    assert email_counts(session) == {"created": 2}
    # Auto-saved mail that does not match leaves no row: no retry, nothing to remember.
    assert LoggedEmail.objects.filter(user=world.user).count() == 2

    ok(world.sync())
    assert len(logged(world)) == 2


def test_unmatched_waits_then_is_logged_once_with_its_file_and_gives_up_after_30_days(world):
    ok(world.sync())
    filed = deliver(world, "From a newcomer", sender=NINA, pdf=True)

    waiting = ok(world.sync())
    assert logged(world) == [] and email_counts(waiting) == {}
    row = LoggedEmail.objects.get(user=world.user)
    assert row.status == "pending" and row.record["subject"] == "From a newcomer"
    assert row.record["attachments"][0]["name"] == "offer.pdf"
    assert not waiting.changed

    retry = ok(world.sync())
    assert logged(world) == []
    # The pending message is planned from its row: one find_people, no mailbox read.
    assert retry.api_calls_salesforce == 2
    assert retry.api_calls_mailbox == (1 if world.kind == "office365" else 4)

    nina = world.sf_contact("Newcomer", NINA)
    matched = ok(world.sync())
    [email] = logged(world)
    assert email["MessageIdentifier"] == f"<{filed.message_id.strip('<>')}>"
    assert relations(world, email["Id"]) == {(nina, "FromAddress")}
    assert files_of(world, email["Id"]) == ["offer.pdf"]  # fetched again for the upload
    assert email_counts(matched) == {"created": 1}
    row.refresh_from_db()
    assert row.status == "logged" and row.attempts == 3 and row.record == {}
    ok(world.sync())
    assert len(logged(world)) == 1

    deliver(world, "Nobody knows me", sender="omar@nowhere.example")
    ok(world.sync())
    world.clock.advance(days=30)
    gave_up = ok(world.sync())
    row = LoggedEmail.objects.get(user=world.user, subject="Nobody knows me")
    assert row.status == "given_up" and email_counts(gave_up) == {"skipped": 1}
    entry = SyncLogEntry.objects.get(session=gave_up, item_type="email")
    assert "within 30 days" in entry.message
    after = ok(world.sync())
    assert after.api_calls_salesforce == 1 and len(logged(world)) == 1


def test_the_create_lead_option_logs_an_unknown_sender_against_a_new_lead(world):
    ok(world.sync())
    world.settings(create_leads_for_unknown=True)
    deliver(world, "Hello from NewCo", sender=NINA)

    session = ok(world.sync())
    [lead] = world.sfapp.query("SELECT Id, Email, Company, LastName FROM Lead", world.me)
    assert (lead["Email"], lead["Company"]) == (NINA, "newco.example")
    [email] = logged(world)
    assert relations(world, email["Id"]) == {(lead["Id"], "FromAddress")}
    assert email_counts(session) == {"created": 1}

    ok(world.sync())
    assert len(world.sfapp.query("SELECT Id FROM Lead", world.me)) == 1
    assert len(logged(world)) == 1


def test_a_crash_mid_session_then_the_next_logs_only_what_is_missing(world, monkeypatch):
    customer(world)
    ok(world.sync())
    deliver(world, "A")
    ok(world.sync())

    # Logged in Salesforce, then the crash before Relay wrote its rows and cursors.
    deliver(world, "B")
    deliver(world, "C")
    real = email_session.write_rows

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(email_session, "write_rows", crash)
    crashed = world.sync()
    assert crashed.status == SyncSession.Status.FAILED
    assert sorted(e["Subject"] for e in logged(world)) == ["A", "B", "C"]
    monkeypatch.setattr(email_session, "write_rows", real)

    deliver(world, "D")
    healed = ok(world.sync())
    assert sorted(e["Subject"] for e in logged(world)) == ["A", "B", "C", "D"]
    assert email_counts(healed) == {"created": 1, "skipped": 2}
    assert set(LoggedEmail.objects.filter(user=world.user).values_list("status", flat=True)) == {
        "logged"
    }

    # Salesforce refuses the create call once: retried by the next session, logged once.
    deliver(world, "E")
    world.sfapp.fail_next(1, 503, match="composite/sobjects")
    refused = world.sync()
    assert refused.status == SyncSession.Status.RETRY_LATER, refused.error
    ok(world.sync())
    subjects = [e["Subject"] for e in logged(world)]
    assert sorted(subjects) == ["A", "B", "C", "D", "E"]


def test_the_lead_option_is_a_detailed_settings_switch_off_by_default(db):
    from syncsettings.forms import DetailedSettingsForm
    from syncsettings.models import SyncSettings
    from tests.factories import UserFactory

    sync_settings = SyncSettings.for_user(UserFactory())
    assert not sync_settings.create_leads_for_unknown
    data = {"auto_remove_contacts": "on", "time_zone": "UTC", "create_leads_for_unknown": "on"}
    form = DetailedSettingsForm(data, instance=sync_settings)
    assert form.is_valid(), form.errors
    assert form.save().create_leads_for_unknown
    assert 'name="create_leads_for_unknown"' in str(form["create_leads_for_unknown"])
