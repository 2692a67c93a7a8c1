"""Regression of the soak (exchange seed 111; SPEC §2b, §4): an event (or task) Relay brought
down with an "In Salesforce:" block is deleted in Salesforce and edited in the mailbox, so an
edit beats the deletion and Relay recreates it in Salesforce from the mailbox copy. The new
record relates nobody, but the copy kept the block naming the old Who: the block was only
rewritten one session later (when that session's read saw the recreated record), so the
session after a clean one wrote. The other way round, a task copy Relay restored in the
mailbox (auto-removal off) came without its block, for good. The block of a record or copy
Relay recreated settles in the same session. End to end, for every mailbox kind."""

from __future__ import annotations

import datetime as dt

from syncengine.models import SyncSession

from .conftest import EMAIL, NOW, World
from .meetings import edit_subject
from .test_it_shows_salesforce_people import body
from .test_it_shows_task_people import task_text

Status = SyncSession.Status


def test_it_settles_the_block_of_an_event_it_recreated_in_the_same_session(world: World) -> None:
    ada = world.sf_contact("Lovelace", "ada@customer.example", FirstName="Ada")
    event = world.sf_event("Kick-off", NOW + dt.timedelta(days=2), WhoId=ada)
    assert world.sync().status == Status.SUCCEEDED
    assert "— In Salesforce: With: Ada Lovelace" in body(world)
    [copy] = world.events()

    world.sfapp.delete(event, world.me)  # deleted in Salesforce ...
    edit_subject(world, copy["id"], "Kick-off (moved)")  # ... edited in the mailbox
    restored = world.sync()
    assert restored.status == Status.SUCCEEDED, restored.error
    [live] = world.sf_live("Event")
    record = world.sfapp.get(live["Id"])
    assert live["Id"] != event and record["Subject"] == "Kick-off (moved)"
    assert "In Salesforce:" not in body(world)  # the new record relates nobody

    quiet = world.sync()
    assert quiet.status == Status.SUCCEEDED, quiet.error
    assert not quiet.changed, quiet.counters


def test_it_settles_the_block_of_a_task_it_recreated_in_the_same_session(world: World) -> None:
    ada = world.sf_contact("Lovelace", "ada@customer.example", FirstName="Ada")
    task = world.sf_task("Send the quote", (NOW + dt.timedelta(days=3)).date(), WhoId=ada)
    assert world.sync().status == Status.SUCCEEDED
    assert "— In Salesforce: With: Ada Lovelace" in task_text(world)
    [copy] = world.tasks()

    world.sfapp.delete(task, world.me)  # deleted in Salesforce ...
    world.edit_task(copy["id"], "Send the quote today")  # ... edited in the mailbox
    restored = world.sync()
    assert restored.status == Status.SUCCEEDED, restored.error
    [live] = world.sf_live("Task")
    assert live["Id"] != task and world.sfapp.get(live["Id"])["Subject"] == "Send the quote today"
    assert "In Salesforce:" not in task_text(world)

    quiet = world.sync()
    assert quiet.status == Status.SUCCEEDED, quiet.error
    assert not quiet.changed, quiet.counters


def test_it_shows_the_block_in_a_task_copy_it_restored(world: World) -> None:
    ada = world.sf_contact("Lovelace", "ada@customer.example", FirstName="Ada")
    world.sf_task("Send the quote", (NOW + dt.timedelta(days=3)).date(), WhoId=ada)
    world.settings(auto_remove_tasks=False)
    assert world.sync().status == Status.SUCCEEDED
    [copy] = world.tasks()
    if world.kind == "exchange":  # the user deletes the copy: restored from Salesforce
        world.mbapp.delete_item_as_user(EMAIL, copy["id"])
    else:
        world.mbapp.delete_task(EMAIL, world.container("tasks"), copy["id"])
    restored = world.sync()
    assert restored.status == Status.SUCCEEDED, restored.error
    [again] = world.tasks()
    assert again["id"] != copy["id"]
    assert "— In Salesforce: With: Ada Lovelace" in task_text(world)

    quiet = world.sync()
    assert quiet.status == Status.SUCCEEDED, quiet.error
    assert not quiet.changed, quiet.counters
