"""Incremental reads: one Composite call when idle, each change once, paging, invitations."""

import math
from datetime import UTC, datetime, timedelta

from syncengine.salesforce.adapter import SalesforceAdapter
from syncengine.salesforce.types import SalesforceCursor

from .conftest import NOW


def contact(org, last, **fields):
    return org.emu.create("Contact", {"LastName": last, **fields}, org.user_id)


def event(org, owner, subject, start=NOW + timedelta(days=1)):
    return org.emu.create(
        "Event",
        {"Subject": subject, "StartDateTime": start, "DurationInMinutes": 30},
        owner,
    )


def test_it_costs_one_call_when_idle(org):
    contact(org, "Smith")
    org.emu.create("Task", {"Subject": "Call"}, org.user_id)
    event(org, org.user_id, "Lunch")
    adapter = org.adapter()
    first = adapter.read_changes({})
    assert first.full == {"Contact", "Task", "Event", "EventRelation"}
    assert len(first.contacts.records) == len(first.tasks.records) == 1
    assert len(first.events.records) == 1

    org.emu.advance(minutes=30)
    org.emu.clear_calls()
    second = adapter.read_changes(first.cursors)

    assert second.empty
    assert second.api_calls == 1
    assert org.emu.call_count() == 1
    assert org.emu.calls[0].method == "POST"
    assert org.emu.calls[0].path.endswith("/composite")
    assert second.cursors["Contact"].modstamp == first.cursors["Contact"].modstamp
    # EventRelation never had a row: its cursor stays empty, its (empty) read stays full.
    assert second.full == {"EventRelation"}


def test_it_costs_one_call_on_an_empty_org(org):
    adapter = org.adapter()
    batch = adapter.read_changes({})
    assert batch.empty and batch.api_calls == 1 == adapter.api_calls
    # No rows: cursors stay as they were (here: none), so the next read is full again.
    assert all(c.modstamp is None for c in batch.cursors.values())


def test_it_reports_each_change_once(org):
    kept, edited, doomed = contact(org, "Kept"), contact(org, "Edited"), contact(org, "Doomed")
    adapter = org.adapter()
    cursors = adapter.read_changes({}).cursors

    org.emu.advance(minutes=5)
    added = contact(org, "Added")
    org.emu.update(edited, {"Title": "CTO"})
    org.emu.delete(doomed)
    task = org.emu.create("Task", {"Subject": "Follow up"}, org.user_id)
    batch = adapter.read_changes(cursors)

    assert set(batch.contacts.records) == {added, edited}
    assert batch.contacts.records[edited]["Title"] == "CTO"
    assert set(batch.contacts.deleted) == {doomed}
    assert set(batch.tasks.records) == {task}
    assert kept not in batch.contacts.records
    assert batch.merged == {}

    # Same instant as the last read (the clock is frozen): the overlap finds the new row,
    # the cursor's memory keeps the ones already delivered out.
    late = contact(org, "Late")
    again = adapter.read_changes(batch.cursors)
    assert set(again.contacts.records) == {late}
    assert not again.contacts.deleted and not again.tasks

    org.emu.advance(seconds=10)
    assert adapter.read_changes(again.cursors).empty


def test_it_catches_a_late_commit_inside_the_overlap(org):
    adapter = org.adapter()
    contact(org, "First")
    cursors = adapter.read_changes({}).cursors
    org.emu.advance(minutes=1)
    late = contact(org, "Late")
    # Its transaction started before the cursor's stamp and committed after the read.
    org.emu.update(late, {"SystemModstamp": NOW - timedelta(seconds=30)})
    batch = adapter.read_changes(cursors)
    assert set(batch.contacts.records) == {late}


def test_it_keeps_cursors_through_json(org):
    contact(org, "Smith")
    adapter = org.adapter()
    cursors = adapter.read_changes({}).cursors
    stored = {k: v.to_json() for k, v in cursors.items()}
    restored = {k: SalesforceCursor.from_json(v) for k, v in stored.items()}
    assert restored == cursors
    assert adapter.read_changes(restored).empty
    # A bare datetime works as a cursor too (no dedup memory: the overlap re-delivers).
    assert len(adapter.read_changes({"Contact": NOW + timedelta(hours=1)}).contacts) == 0


def test_it_pages_5000_contacts_within_the_bound(org):
    for i in range(5000):
        org.emu.create("Contact", {"LastName": f"C{i:04d}"}, org.user_id)
    adapter = org.adapter()
    org.emu.clear_calls()
    batch = adapter.read_changes({})
    assert len(batch.contacts.records) == 5000
    assert batch.api_calls == org.emu.call_count() <= math.ceil(5000 / 2000) + 1
    assert batch.api_calls == 3  # composite (first 2,000) + 2 queryMore

    # The next session re-reads the overlap once (all 5,000 share one stamp here) and
    # delivers nothing; after that the cursor is settled and an idle session is one call.
    org.emu.advance(minutes=30)
    settling = adapter.read_changes(batch.cursors)
    assert settling.empty and settling.api_calls == 3
    assert settling.cursors["Contact"].settled and not settling.cursors["Contact"].seen
    org.emu.advance(minutes=30)
    idle = adapter.read_changes(settling.cursors)
    assert idle.empty and idle.api_calls == 1
    org.emu.advance(seconds=1)
    changed = org.emu.create("Contact", {"LastName": "New"}, org.user_id)
    after = adapter.read_changes(idle.cursors)
    assert set(after.contacts.records) == {changed} and after.api_calls == 1


def test_it_does_not_settle_before_the_overlap_has_passed(org):
    contact(org, "First")
    adapter = org.adapter()
    cursors = adapter.read_changes({}).cursors
    org.emu.advance(seconds=90)  # less than the 2-minute overlap
    cursors = adapter.read_changes(cursors).cursors
    assert not cursors["Contact"].settled
    late = contact(org, "Late")
    org.emu.update(late, {"SystemModstamp": NOW - timedelta(seconds=20)})
    assert set(adapter.read_changes(cursors).contacts.records) == {late}


def test_it_reports_a_merge(org):
    master, loser = contact(org, "Master"), contact(org, "Loser")
    adapter = org.adapter()
    cursors = adapter.read_changes({}).cursors
    org.emu.advance(minutes=1)
    org.emu.merge_contacts(master, [loser], org.user_id)
    batch = adapter.read_changes(cursors)
    assert batch.merged == {loser: master}
    assert set(batch.contacts.deleted) == {loser}
    assert set(batch.contacts.records) == {master}


def test_it_reads_events_the_user_is_invited_to(org):
    bob = org.emu.add_user("bob@acme.example", "Brown", "Bob")
    mine = event(org, org.user_id, "My meeting")
    theirs = event(org, bob, "Bob's review")
    invitation = org.emu.create(
        "EventRelation", {"EventId": theirs, "RelationId": org.user_id}, bob
    )
    event(org, bob, "Bob alone")
    adapter = org.adapter()

    first = adapter.read_changes({})
    assert set(first.events.records) == {mine, theirs}
    assert first.events.records[theirs]["OwnerId"] == bob
    assert set(first.invitations.records) == {invitation}
    assert all(not r["IsChild"] for r in first.events.records.values())

    org.emu.advance(minutes=1)
    assert adapter.read_changes(first.cursors).api_calls == 1

    # Bob moves his event: Alice's child copy changes, the adapter reads the parent.
    org.emu.advance(minutes=1)
    org.emu.update(theirs, {"Subject": "Review (moved)"}, bob)
    moved = adapter.read_changes(first.cursors)
    assert set(moved.events.records) == {theirs}
    assert moved.events.records[theirs]["Subject"] == "Review (moved)"
    assert moved.api_calls == 3  # composite + list invitations + parents by id

    org.emu.advance(minutes=1)
    org.emu.delete(theirs, bob)
    gone = adapter.read_changes(moved.cursors)
    assert set(gone.events.deleted) == {theirs}
    assert set(gone.invitations.deleted) == {invitation}
    assert not gone.events.records


def test_it_reads_only_events_near_the_window(org):
    near = event(org, org.user_id, "Soon", NOW + timedelta(days=3))
    event(org, org.user_id, "Far", NOW + timedelta(days=90))
    event(org, org.user_id, "Old", NOW - timedelta(days=30))
    batch = org.adapter().read_changes(
        {}, event_window=(NOW - timedelta(days=14), NOW + timedelta(days=60))
    )
    assert set(batch.events.records) == {near}


def test_it_takes_field_lists_without_duplicating_required_ones(org):
    cid = contact(org, "Smith", Email="s@acme.example")
    batch = org.adapter().read_changes({}, fields={"Contact": ["Id", "Email", "systemmodstamp"]})
    row = batch.contacts.records[cid]
    assert row["Email"] == "s@acme.example"
    assert {"Id", "Email", "IsDeleted", "MasterRecordId"} <= set(row)
    assert "attributes" not in row


def test_it_strips_attributes_from_relationship_fields(org):
    account = org.emu.create("Account", {"Name": "Acme"}, org.user_id)
    cid = contact(org, "Smith", AccountId=account)
    row = org.adapter().read_changes({}).contacts.records[cid]
    assert row["Account"] == {"Name": "Acme"}


def test_it_counts_calls_and_reports_org_usage(org):
    adapter: SalesforceAdapter = org.adapter()
    assert adapter.org_usage is None
    adapter.read_changes({})
    usage = adapter.org_usage
    assert usage is not None and usage.limit == org.emu.budget_max
    assert usage.used == org.emu.budget_used
    assert adapter.api_calls == 1


def test_it_rejects_naive_cursors(org):
    import pytest

    with pytest.raises(ValueError):
        org.adapter().read_changes({"Contact": datetime(2024, 1, 1)})
    assert datetime(2024, 1, 1, tzinfo=UTC)  # aware ones are fine (see other tests)
