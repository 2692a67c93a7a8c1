"""A user whose sessions stopped longer than Salesforce's Recycle Bin keeps deleted
records (15 days) still gets every Salesforce deletion applied, through the guards of
SPEC §4 (SPEC §5, issue 12). End to end against the sandbox for every mailbox kind."""

from __future__ import annotations

import datetime as dt

from syncengine.held import confirm_held_deletions
from syncengine.models import SyncCursor, SyncLink, SyncSession

from .conftest import NOW

DAY = dt.timedelta(days=1)
Status = SyncSession.Status


def emails(world) -> list[str]:
    return sorted(c["email"] for c in world.contacts())


def visible_to_queryall(world, sobject: str) -> set[str]:
    rows = world.sfapp.query(f"SELECT Id FROM {sobject}", world.me, include_deleted=True)
    return {r["Id"] for r in rows}


def test_it_removes_exactly_the_copies_of_records_purged_while_the_user_was_away(world):
    contacts = [world.sf_contact(f"Person{n}", f"p{n}@example.com") for n in range(5)]
    tasks = [world.sf_task(f"Task {n}", (NOW + 30 * DAY).date()) for n in range(2)]
    # Still inside the event window [now - 14 d, now + 60 d] after three weeks away.
    events = [world.sf_event(f"Meeting {n}", NOW + (25 + n) * DAY) for n in range(2)]
    first = world.sync()
    assert first.status == Status.SUCCEEDED, first.error
    assert len(world.contacts()) == 5 and len(world.tasks()) == 2 and len(world.events()) == 2

    gone = [*contacts[:3], tasks[0], events[0]]
    for sf_id in gone:
        world.sfapp.delete(sf_id, world.me)
    world.clock.advance(days=20)  # no session for 20 days: the Recycle Bin was emptied
    assert not set(gone) & visible_to_queryall(world, "Contact")
    assert not set(gone) & (
        visible_to_queryall(world, "Task") | visible_to_queryall(world, "Event")
    )

    back = world.sync()
    assert back.status == Status.SUCCEEDED, back.error
    assert emails(world) == ["p3@example.com", "p4@example.com"]
    assert [t["title"] for t in world.tasks()] == ["Task 1"]
    assert [e["subject"] for e in world.events()] == ["Meeting 1"]
    assert not SyncLink.objects.filter(user=world.user, sf_id__in=gone).exists()
    # Nothing else was touched in Salesforce.
    assert {r["Id"] for r in world.sf_live("Contact")} == set(contacts[3:])
    assert {r["Id"] for r in world.sf_live("Task")} == {tasks[1]}

    idle = world.sync()
    assert not idle.changed
    assert idle.api_calls_salesforce == 1 == idle.sf_calls_seen  # reconciled once, not again


def test_it_holds_a_mass_disappearance_for_confirmation(world):
    ids = [world.sf_contact(f"Person{n:03}", f"p{n:03}@example.com") for n in range(100)]
    world.sync()
    assert len(world.contacts()) == 100
    for sf_id in ids[:40]:
        world.sfapp.delete(sf_id, world.me)
    world.clock.advance(days=20)

    held = world.sync()
    assert held.status == Status.NEEDS_CONFIRMATION
    assert len(world.contacts()) == 100  # never applied silently
    held_ids = set(
        SyncLink.objects.filter(user=world.user, state="held_deletion").values_list(
            "sf_id", flat=True
        )
    )
    assert held_ids == set(ids[:40])
    assert not world.sync().changed  # held links wait for the user

    done = confirm_held_deletions(world.user, now=world.clock())
    assert done.status == Status.SUCCEEDED, done.error
    assert len(world.contacts()) == 60


def test_it_recreates_a_purged_record_whose_mailbox_copy_was_edited(world):
    kept = world.sf_contact("Lovelace", "ada@example.com")
    world.sync()
    world.sfapp.delete(kept, world.me)
    world.clock.advance(days=20)
    world.edit_contact(world.contacts()[0]["id"], "Byron")  # an edit beats the deletion

    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert [c["last"] for c in world.contacts()] == ["Byron"]
    live = world.sfapp.query("SELECT Id, LastName FROM Contact", world.me)
    assert [r["LastName"] for r in live] == ["Byron"] and live[0]["Id"] != kept


def test_it_notices_a_recycle_bin_emptied_early_by_earliest_date_available(world):
    gone = world.sf_contact("Lovelace", "ada@example.com")
    world.sf_contact("Hopper", "grace@example.com")
    world.sync()
    world.clock.advance(hours=1)
    world.sfapp.delete(gone, world.me)
    world.sfapp.purge_deleted()  # an admin empties the Recycle Bin right away
    world.clock.advance(hours=1)

    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert emails(world) == ["grace@example.com"]
    assert not world.sync().changed


def test_it_reconciles_once_a_week_at_a_slot_of_its_own(world):
    world.settings(events_down_enabled=False)  # no daily event-window read in the counts
    for n in range(3):
        world.sf_contact(f"Person{n}", f"p{n}@example.com")
    world.sync()
    world.sync()  # settle the cursors
    calls = []
    for _ in range(28):  # two weeks of sessions, exactly twelve hours apart
        world.clock.advance(hours=12, minutes=-2)  # sync() itself adds two minutes
        session = world.sync()
        assert session.status == Status.SUCCEEDED, session.error
        assert not session.changed
        calls.append(session.api_calls_salesforce)
    # Every idle session costs its one Composite; once a week one also checks the three
    # links (one more Composite), at the same point of the week each time.
    assert sorted(calls) == [1] * 26 + [2] * 2
    first, second = (i for i, n in enumerate(calls) if n == 2)
    assert second - first == 14  # fourteen half-days
    assert SyncCursor.objects.filter(user=world.user, feed="reconcile:next").exists()
