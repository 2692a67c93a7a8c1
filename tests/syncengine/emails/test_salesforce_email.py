"""Email logging against the Salesforce emulator, through simple-salesforce (SPEC §6)."""

# ruff: noqa: F811 - the emulator fixtures imported below are redefined as arguments

import dataclasses
from datetime import timedelta

import pytest

from syncengine.emails.blocklist import Blocklist
from syncengine.emails.logging_plan import LogEmail, plan
from syncengine.emails.records import Address, Attachment, EmailRecord
from syncengine.salesforce.email import SalesforceEmailAdapter

# The adapters' emulator fixtures, shared by import (pytest finds them in this module).
from tests.syncengine.adapters.conftest import NOW, org, sandbox_ca, sf_server  # noqa: F401

ME = "alice@acme.example"


def adapter(org) -> SalesforceEmailAdapter:
    sf = org.sf()
    return SalesforceEmailAdapter(lambda fn: fn(sf), org.user_id, clock=lambda: org.emu.clock())


def people(org):
    emu = org.emu
    account = emu.create("Account", {"Name": "Customer Inc"})
    bob = emu.create(
        "Contact", {"LastName": "Buyer", "Email": "Bob@Customer.example", "AccountId": account}
    )
    carol = emu.create("Contact", {"LastName": "Cc", "Email": "carol@customer.example"})
    lead = emu.create("Lead", {"LastName": "Lee", "Company": "P", "Email": "lee@prospect.example"})
    converted = emu.create(
        "Lead", {"LastName": "Old", "Company": "P", "Email": "old@prospect.example"}
    )
    emu.update(converted, {"IsConverted": True})
    return {"account": account, "bob": bob, "carol": carol, "lead": lead, "converted": converted}


def email(n=1, sender="bob@customer.example", to=(ME,), cc=(), **kw):
    return EmailRecord(
        mailbox_id=f"mb{n}",
        message_id=f"<msg{n}@customer.example>",
        subject=f"Quote {n}",
        sender=Address(sender, "Bob Buyer"),
        to=tuple(Address(a) for a in to),
        cc=tuple(Address(a) for a in cc),
        sent_at=NOW - timedelta(hours=2),
        incoming=True,
        text_body=kw.pop("text_body", f"Hello {n}"),
        html_body=kw.pop("html_body", f"<p>Hello {n}</p>"),
        in_salesforce_folder=True,
        **kw,
    )


def planned(sfe, records, *, create_leads=False):
    addresses = {a.address for r in records for a in r.participants}
    return plan(
        records,
        user_addresses=[ME],
        blocklist=Blocklist.merge(user_own_addresses=[ME]),
        logged=sfe.already_logged(records),
        matches=sfe.find_people(addresses),
        now=NOW,
        first_seen={},
        create_leads_for_unknown=create_leads,
        enhanced_email=sfe.enhanced_email_enabled(),
    )


def test_enhanced_email_is_read_from_describe_once(org):
    sfe = adapter(org)
    assert sfe.enhanced_email_enabled() is True
    assert sfe.enhanced_email_enabled() is True
    assert sfe.api_calls == 1
    org.emu.enhanced_email = False
    off = adapter(org)
    assert off.enhanced_email_enabled() is False
    assert off.api_calls == 1


def test_find_people_in_one_call_without_converted_leads(org):
    ids = people(org)
    sfe = adapter(org)
    found = sfe.find_people(
        ["bob@customer.example", "LEE@prospect.example", "old@prospect.example", "x@y.example"]
    )
    assert sfe.api_calls == 1
    assert found == {
        "bob@customer.example": [(ids["bob"], "Contact", ids["account"])],
        "lee@prospect.example": [(ids["lead"], "Lead", None)],
    }


def test_find_people_quotes_addresses_and_chunks_at_100(org):
    org.emu.create("Contact", {"LastName": "O", "Email": "o'brien@customer.example"})
    sfe = adapter(org)
    many = [f"p{i}@customer.example" for i in range(150)] + ["o'brien@customer.example"]
    assert list(sfe.find_people(many)) == ["o'brien@customer.example"]
    assert sfe.api_calls == 1  # two chunks, four queries, one composite


def test_email_message_with_relations_and_account(org):
    ids = people(org)
    sfe = adapter(org)
    record = email(cc=("carol@customer.example", "lee@prospect.example"))
    actions = planned(sfe, [record])
    [result] = sfe.log(actions)
    assert result.ok and result.kind == "email_message" and not result.notes
    msg = org.emu.get(result.id)
    assert msg["MessageIdentifier"] == "<msg1@customer.example>"
    assert msg["RelatedToId"] == ids["account"]
    assert msg["FromAddress"] == "bob@customer.example" and msg["FromName"] == "Bob Buyer"
    assert msg["ToAddress"] == ME
    assert msg["CcAddress"] == "carol@customer.example; lee@prospect.example"
    assert msg["Incoming"] is True and msg["Status"] == "3"
    assert msg["TextBody"] == "Hello 1" and msg["HtmlBody"] == "<p>Hello 1</p>"
    rels = org.emu.query(
        "SELECT RelationId, RelationType FROM EmailMessageRelation "
        f"WHERE EmailMessageId = '{result.id}' AND RelationId != null"
    )
    linked = {(r["RelationId"], r["RelationType"]) for r in rels}
    # Contacts preferred: the lead in Cc is not linked.
    assert linked == {(ids["bob"], "FromAddress"), (ids["carol"], "CcAddress")}


def test_task_form_with_who_what_and_the_message_id_line(org):
    ids = people(org)
    org.emu.enhanced_email = False
    sfe = adapter(org)
    [action] = planned(sfe, [email()])
    [result] = sfe.log([action])
    assert result.ok and result.kind == "task"
    task = org.emu.get(result.id)
    assert task["Subject"] == "Email: Quote 1"
    assert task["TaskSubtype"] == "Email" and task["Status"] == "Completed"
    assert task["WhoId"] == ids["bob"] and task["WhatId"] == ids["account"]
    assert task["ActivityDate"] == (NOW - timedelta(hours=2)).date().isoformat()
    assert task["Description"].startswith("From: bob@customer.example\nTo: alice@acme.example")
    assert task["Description"].endswith("Hello 1\n\nMessage-ID: <msg1@customer.example>")
    again = adapter(org)
    assert again.already_logged([email()]) == {"msg1@customer.example"}
    [second] = again.log([action])
    assert second.skipped and second.id is None


def files_of(org, parent):
    links = org.emu.query(
        f"SELECT ContentDocumentId FROM ContentDocumentLink WHERE LinkedEntityId = '{parent}'"
    )
    docs = {link["ContentDocumentId"] for link in links}
    versions = org.emu.query("SELECT Title, ContentDocumentId, ContentSize FROM ContentVersion")
    return sorted(
        (v["Title"], v["ContentSize"]) for v in versions if v["ContentDocumentId"] in docs
    )


ATTACHMENTS = (
    Attachment("quote.pdf", "application/pdf", 5, content=b"%PDF1"),
    Attachment("logo.png", "image/png", 3, inline=True, content=b"PNG"),
    Attachment("data.csv", "text/csv", 3, content=b"a,b"),
    Attachment("huge.zip", "application/zip", 26 * 1024 * 1024),
)


def test_attachments_become_files_on_the_email_and_inline_ones_are_left_out(org):
    people(org)
    sfe = adapter(org)
    [result] = sfe.log(planned(sfe, [email(attachments=ATTACHMENTS)]))
    assert result.ok and len(result.files) == 2
    assert files_of(org, result.id) == [("data.csv", 3), ("quote.pdf", 5)]
    assert result.notes == [
        "attachment 'huge.zip' left out: 27262976 bytes is over the 26214400 byte limit"
    ]
    version = org.emu.get(result.files[0])
    assert version["PathOnClient"] == "quote.pdf"


def test_attachments_on_the_task_form(org):
    """Salesforce publishes files to a Task when the org has no Enhanced Email."""
    people(org)
    org.emu.enhanced_email = False
    sfe = adapter(org)
    [result] = sfe.log(planned(sfe, [email(attachments=ATTACHMENTS[:3])]))
    assert result.ok and result.kind == "task"
    assert files_of(org, result.id) == [("data.csv", 3), ("quote.pdf", 5)]


def test_a_file_salesforce_refuses_is_a_note_not_a_failure(org):
    people(org)
    # An org whose files cannot be published to emails (as with a restrictive setup).
    obj = org.emu.store.schema["ContentVersion"]
    field = obj.fields["FirstPublishLocationId"]
    obj.fields["FirstPublishLocationId"] = dataclasses.replace(
        field, reference_to=tuple(t for t in field.reference_to if t != "EmailMessage")
    )
    sfe = adapter(org)
    [result] = sfe.log(planned(sfe, [email(attachments=ATTACHMENTS[:1])]))
    assert result.ok and result.files == []
    assert result.notes[0].startswith("attachment 'quote.pdf' failed: FIELD_INTEGRITY_EXCEPTION")


def test_oversize_bodies_are_truncated_with_a_note(org):
    people(org)
    sfe = adapter(org)
    big = "x" * 200_000
    [result] = sfe.log(planned(sfe, [email(text_body=big, html_body=big)]))
    assert result.ok
    assert result.notes == [
        "TextBody truncated from 200000 to 131072 characters",
        "HtmlBody truncated from 200000 to 131072 characters",
    ]
    msg = org.emu.get(result.id)
    assert len(msg["TextBody"]) == 131072
    assert msg["TextBody"].endswith("TextBody had 200000 characters, the limit is 131072.]")


def test_oversize_body_on_the_task_form_keeps_the_message_id_line(org):
    people(org)
    org.emu.enhanced_email = False
    sfe = adapter(org)
    [result] = sfe.log(planned(sfe, [email(text_body="y" * 40_000)]))
    assert result.ok and result.notes[0].startswith("Description truncated from 40000")
    description = org.emu.get(result.id)["Description"]
    assert len(description) == 32000
    assert description.endswith("Message-ID: <msg1@customer.example>")


def test_a_second_log_of_the_same_message_ids_creates_nothing(org):
    people(org)
    first = adapter(org)
    actions = planned(first, [email(1), email(2)])
    assert all(r.ok and not r.skipped for r in first.log(actions))
    assert all(r.skipped for r in first.log(actions))  # same instance: remembered, 0 calls
    second = adapter(org)
    results = second.log(actions)  # a later session replaying a stale plan
    assert [r.skipped for r in results] == [True, True]
    assert second.api_calls == 2  # describe + one lookup, no create
    assert len(org.emu.query("SELECT Id FROM EmailMessage")) == 2


def test_a_crash_mid_batch_then_a_rerun_logs_only_the_rest(org):
    people(org)
    records = [email(n) for n in range(250)]
    sfe = adapter(org)
    actions = planned(sfe, records)
    original = sfe._post
    posts = []

    def crash_on_second(records):
        posts.append(len(records))
        if len(posts) == 2:
            raise ConnectionError("network gone")
        return original(records)

    sfe._post = crash_on_second
    with pytest.raises(ConnectionError):
        sfe.log(actions)
    assert posts == [200, 50]
    assert len(org.emu.query("SELECT Id FROM EmailMessage")) == 200

    rerun = adapter(org)
    results = rerun.log(planned(rerun, records))
    assert sum(1 for r in results if r.ok and not r.skipped) == 50
    assert len(org.emu.query("SELECT Id FROM EmailMessage")) == 250
    # the plan skipped the 200 already there: only 50 LogEmail reached the adapter
    assert len(results) == 50


def test_create_lead_for_an_unknown_sender_then_log_against_it(org):
    people(org)
    sfe = adapter(org)
    record = email(sender="nina@newco.example")
    actions = planned(sfe, [record], create_leads=True)
    lead_result, log_result = sfe.log(actions)
    assert lead_result.ok and lead_result.kind == "lead"
    lead = org.emu.get(lead_result.id)
    assert (lead["LastName"], lead["FirstName"], lead["Company"]) == (
        "Buyer",
        "Bob",
        "newco.example",
    )
    assert log_result.ok
    rels = org.emu.query(
        f"SELECT RelationId FROM EmailMessageRelation WHERE EmailMessageId = '{log_result.id}'"
        " AND RelationType = 'FromAddress' AND RelationId != null"
    )
    assert [r["RelationId"] for r in rels] == [lead_result.id]


def test_call_count_ten_emails_three_attachments(org):
    people(org)
    sfe = adapter(org)
    records = [email(n, attachments=ATTACHMENTS[:1] if n < 3 else ()) for n in range(10)]
    actions = planned(sfe, records)  # describe + already_logged + find_people
    assert sum(isinstance(a, LogEmail) for a in actions) == 10
    results = sfe.log(actions)  # EmailMessage collection + files/relations collection
    assert all(r.ok for r in results)
    assert sum(len(r.files) for r in results) == 3
    assert sfe.api_calls == 5
