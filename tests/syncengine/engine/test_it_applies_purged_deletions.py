"""Regressions of the soak (issue 16): Salesforce deletions the Recycle Bin purged (15 days)
before any session could apply them — the seven failing runs of `make soak` at 1,500 steps
per kind (gmail seeds 112, 115, 117, 121; office365 seeds 112, 116, 124) were all this.

The model deletes a record in Salesforce, and before a session applies the deletion its
clock jumps 15, 30 or 61 days — with no session at all, or with sessions that ran but
failed (a crash, a provider fault). getDeleted no longer names a purged record, so without
the reconciliation of SPEC §5 (syncengine.reconcile) the link kept pointing at a record
gone for good ("link to a deleted record"), and a mailbox edit of that item was sent as an
update Salesforce refused with NOT_FOUND in every later session (the partial session of
office365 seed 124). End to end, for every mailbox kind."""

from __future__ import annotations

import datetime as dt

from syncengine.models import SyncLink, SyncLogEntry, SyncSession

from .conftest import EMAIL, NOW, World

Status = SyncSession.Status
DAY = dt.timedelta(days=1)
START = NOW.replace(minute=0) + 30 * DAY  # still inside the event window three weeks on


def _sf_ids(world: World, sobject: str) -> set[str]:
    return {r["Id"] for r in world.sf_live(sobject)}


def _move_event(world: World, event_id: str, start: dt.datetime) -> None:
    """The user moves the event in the mailbox (soak office365 seed 124)."""
    end = start + dt.timedelta(hours=1)
    if world.kind == "exchange":
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        world.mbapp.touch_item(
            EMAIL, event_id, Start=start.strftime(stamp), End=end.strftime(stamp)
        )
    elif world.kind == "office365":
        when = "%Y-%m-%dT%H:%M:%S.0000000"
        world.mbapp.update_event(
            EMAIL,
            event_id,
            {
                "start": {"dateTime": start.strftime(when), "timeZone": "UTC"},
                "end": {"dateTime": end.strftime(when), "timeZone": "UTC"},
            },
        )
    else:
        when = "%Y-%m-%dT%H:%M:%SZ"
        world.mbapp.update_event(
            EMAIL,
            event_id,
            {"start": {"dateTime": start.strftime(when)}, "end": {"dateTime": end.strftime(when)}},
        )


def test_it_applies_a_deletion_purged_while_every_session_failed(world: World) -> None:
    """Soak gmail seed 121, office365 seed 112: sessions ran during the 15 days, but none
    finished (here the mailbox was down); their Salesforce reads do not count as reads."""
    kept = world.sf_contact("Hopper", "grace@example.com")
    gone = world.sf_contact("Lovelace", "ada@example.com")
    task = world.sf_task("Call Ada", (NOW + 40 * DAY).date())
    first = world.sync()
    assert first.status == Status.SUCCEEDED, first.error
    assert len(world.contacts()) == 2 and len(world.tasks()) == 1

    world.sfapp.delete(gone, world.me)
    world.sfapp.delete(task, world.me)
    for _ in range(16):  # a session a day, each read Salesforce and then failed
        world.clock.advance(days=1)
        world.mbapp.fail_next(1000, 503)
        try:
            failed = world.sync()
        finally:
            world.mbapp.clear_faults()
        assert failed.status != Status.SUCCEEDED
    assert not {gone, task} & {
        r["Id"] for r in world.sfapp.query("SELECT Id FROM Contact", world.me, include_deleted=True)
    } | {r["Id"] for r in world.sfapp.query("SELECT Id FROM Task", world.me, include_deleted=True)}

    back = world.sync()
    assert back.status == Status.SUCCEEDED, back.error
    assert [c["email"] for c in world.contacts()] == ["grace@example.com"]
    assert world.tasks() == []
    assert set(SyncLink.objects.filter(user=world.user).values_list("sf_id", flat=True)) == {kept}
    assert _sf_ids(world, "Contact") == {kept}  # nothing else touched in Salesforce
    assert not world.sync().changed


def test_it_recreates_purged_records_whose_mailbox_copies_were_edited(world: World) -> None:
    """Soak office365 seed 124: the user moved an event (and renamed a task) in the mailbox
    while its record was deleted and purged; the edit beats the deletion (SPEC §4), and the
    session neither fails on the gone record nor ends partial."""
    event = world.sf_event("Review", START)
    task = world.sf_task("Call Ada", (NOW + 40 * DAY).date())
    first = world.sync()
    assert first.status == Status.SUCCEEDED, first.error
    [mailbox_event] = world.events()
    [mailbox_task] = world.tasks()

    world.sfapp.delete(event, world.me)
    world.sfapp.delete(task, world.me)
    world.clock.advance(days=20)  # no session: the Recycle Bin was emptied
    moved = START + 2 * DAY
    _move_event(world, mailbox_event["id"], moved)
    world.edit_task(mailbox_task["id"], "Call Ada twice")

    session = world.sync()
    assert session.status == Status.SUCCEEDED, (session.status, session.error)
    assert not SyncLogEntry.objects.filter(session=session, kind="item_error").exists()
    events = world.sfapp.query("SELECT Id, Subject, StartDateTime FROM Event", world.me)
    assert [(e["Subject"], e["StartDateTime"][:16]) for e in events] == [
        ("Review", moved.strftime("%Y-%m-%dT%H:%M"))
    ]
    assert events[0]["Id"] != event
    tasks = world.sfapp.query("SELECT Id, Subject FROM Task", world.me)
    assert [t["Subject"] for t in tasks] == ["Call Ada twice"] and tasks[0]["Id"] != task
    assert [e["subject"] for e in world.events()] == ["Review"]
    assert [t["title"] for t in world.tasks()] == ["Call Ada twice"]
    links = dict(SyncLink.objects.filter(user=world.user).values_list("item_type", "sf_id"))
    assert links == {"event": events[0]["Id"], "task": tasks[0]["Id"]}
    assert not world.sync().changed
