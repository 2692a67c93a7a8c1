"""The recorder explains, it never decides: its own failure leaves the session alone."""

import datetime as dt

import pytest

from syncengine import ledger
from syncengine.models import ItemLedgerEntry, SyncSession
from syncengine.planner import CreateMailbox, ItemType, Plan, SalesforceRecord, SyncRules

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2024, 3, 15, 12, tzinfo=dt.UTC)


def test_a_recorder_failure_is_logged_and_swallowed(user, monkeypatch, caplog):
    session = SyncSession.objects.create(user=user, trigger="manual")
    monkeypatch.setattr(ledger, "_mark_errors", lambda *a: 1 / 0)
    read = {"003A": SalesforceRecord("003A", ItemType.CONTACT, {"last_name": "A"}, "005U", NOW)}
    written = ledger.record_plan(
        session, ItemType.CONTACT, Plan(ItemType.CONTACT), links={}, sf_records=read,
        mailbox_records={}, rules=SyncRules(user_sf_id="005U"), now=NOW,
    )  # fmt: skip
    assert written == 0
    assert "ledger: recording session" in caplog.text


def test_it_records_what_the_plan_created_and_what_a_rule_kept_out(user):
    session = SyncSession.objects.create(user=user, trigger="manual")
    mine = SalesforceRecord("003A", ItemType.CONTACT, {"last_name": "Mine"}, "005U", NOW)
    theirs = SalesforceRecord("003B", ItemType.CONTACT, {"last_name": "Theirs"}, "005X", NOW)
    plan = Plan(
        ItemType.CONTACT, (CreateMailbox("003A", mine.fields, mine.content_hash, mine.facts),)
    )
    written = ledger.record_plan(
        session, ItemType.CONTACT, plan, links={}, sf_records={"003A": mine, "003B": theirs},
        mailbox_records={}, rules=SyncRules(user_sf_id="005U"), now=NOW,
    )  # fmt: skip
    assert written == 2
    rows = {r.sf_id: r for r in ItemLedgerEntry.objects.filter(session=session)}
    assert (rows["003A"].action, rows["003A"].reason_code, rows["003A"].name) == (
        "created", "synced", "Mine",
    )  # fmt: skip
    assert (rows["003B"].action, rows["003B"].reason_code) == ("skipped", "not_in_contact_scope")
