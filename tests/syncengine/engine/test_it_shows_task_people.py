"""SPEC §2b "Tasks": a Salesforce task's Who and What (and, with Shared Activities, its
other TaskRelation people) appear in the mailbox copy as the "In Salesforce:" block —
rewritten when they or their names change, stripped before anything goes up, never in the
Salesforce Description, no update ping-pong — and mailbox edits never clear WhoId/WhatId.
Every registered kind (Graph patches the body; Google's notes and Exchange's body ride a
whole update of the task)."""

from __future__ import annotations

import datetime as dt

from syncengine.models import SyncSession

from .conftest import NOW

Status = SyncSession.Status
BLOCK = "— In Salesforce: "


def task_text(world) -> str:
    (task,) = world.tasks()
    raw = task["raw"]
    if world.kind == "office365":
        return (raw.get("body") or {}).get("content") or ""
    if world.kind == "gmail":
        return raw.get("notes") or ""
    return str(raw.body or "")


def sf_task(world, task_id: str) -> dict:
    (row,) = world.sfapp.query(
        f"SELECT Subject, Description, WhoId, WhatId FROM Task WHERE Id = '{task_id}'", world.me
    )
    return row


def seed(world) -> dict[str, str]:
    account = world.sfapp.create("Account", {"Name": "Customer Ltd"}, world.me)
    ada = world.sf_contact("Lovelace", "ada@customer.example", FirstName="Ada", AccountId=account)
    deal = world.sfapp.create(
        "Opportunity",
        {"Name": "Big Deal", "StageName": "Prospecting", "CloseDate": "2024-06-30"},
        world.me,
    )
    task = world.sf_task(
        "Send the quote",
        (NOW + dt.timedelta(days=3)).date(),
        WhoId=ada,
        WhatId=deal,
        Description="Prices from the May list",
    )
    return {"ada": ada, "deal": deal, "task": task}


def test_it_shows_who_and_what_and_follows_a_rename(world):
    ids = seed(world)
    down = world.sync()
    assert down.status == Status.SUCCEEDED, down.error
    text = task_text(world)
    assert "Prices from the May list" in text
    assert f"{BLOCK}With: Ada Lovelace (Customer Ltd) · Related to: Big Deal" in text

    idle = world.sync()  # the block's echo is no change: nothing goes up or down
    assert idle.status == Status.SUCCEEDED, idle.error
    assert not idle.changed
    assert sf_task(world, ids["task"])["Description"] == "Prices from the May list"

    world.sfapp.update(ids["ada"], {"LastName": "King"}, world.me)
    renamed = world.sync()
    assert renamed.status == Status.SUCCEEDED, renamed.error
    text = task_text(world)
    assert "With: Ada King (Customer Ltd)" in text and "Lovelace" not in text
    assert text.count(BLOCK) == 1
    assert not world.sync().changed


def test_it_keeps_who_and_what_and_sends_no_block_up_on_a_mailbox_edit(world):
    ids = seed(world)
    assert world.sync().status == Status.SUCCEEDED
    (task,) = world.tasks()
    world.edit_task(task["id"], "Send the final quote")

    up = world.sync()
    assert up.status == Status.SUCCEEDED, up.error
    row = sf_task(world, ids["task"])
    assert row["Subject"] == "Send the final quote"
    assert row["Description"] == "Prices from the May list"  # no block in Salesforce
    assert (row["WhoId"], row["WhatId"]) == (ids["ada"], ids["deal"])
    assert BLOCK in task_text(world)
    again = world.sync()
    assert not again.changed
    assert sf_task(world, ids["task"])["Description"] == "Prices from the May list"


def test_it_shows_the_other_people_of_a_shared_activities_task(world):
    ids = seed(world)
    assert world.sync().status == Status.SUCCEEDED
    grace = world.sf_contact("Hopper", "grace@customer.example", FirstName="Grace")
    world.sfapp.create("TaskRelation", {"TaskId": ids["task"], "RelationId": grace}, world.me)
    world.sfapp.update(ids["task"], {"Priority": "High"}, world.me)

    changed = world.sync()
    assert changed.status == Status.SUCCEEDED, changed.error
    text = task_text(world)
    assert "With: Ada Lovelace (Customer Ltd), Grace Hopper · Related to: Big Deal" in text

    world.sfapp.update(ids["task"], {"WhoId": None, "WhatId": None}, world.me)
    cleared = world.sync()
    assert cleared.status == Status.SUCCEEDED, cleared.error
    text = task_text(world)
    assert "Related to" not in text and "With: Grace Hopper" in text
    assert "Prices from the May list" in text
