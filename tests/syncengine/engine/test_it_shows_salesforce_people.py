"""SPEC §2b: a Salesforce event's Who, What and invitees appear in the mailbox copy as the
"In Salesforce:" block Relay owns — with names, rewritten on a rename, never sent up, never
a loop, never an invitation — and a mailbox edit keeps WhoId / WhatId."""

from __future__ import annotations

import datetime as dt

from syncengine.models import SyncSession

from .conftest import EMAIL, NOW
from .meetings import edit_subject

DAY = dt.timedelta(days=1)


def body(world) -> str:
    (event,) = world.events()
    raw = event["raw"]
    if world.kind == "exchange":  # CalendarView leaves bodies out: the item as GetItem has it
        (item,) = [e for e in world.ews_items("events") if e.id == event["id"]]
        return str(item.body or "")
    if world.kind == "office365":
        return (raw.get("body") or {}).get("content") or ""
    return raw.get("description") or ""


def seed(world) -> dict[str, str]:
    account = world.sfapp.create("Account", {"Name": "Customer Ltd"}, world.me)
    ada = world.sf_contact("Lovelace", "ada@customer.example", FirstName="Ada", AccountId=account)
    grace = world.sf_contact("Hopper", "grace@customer.example", FirstName="Grace")
    deal = world.sfapp.create(
        "Opportunity",
        {"Name": "Big Deal", "StageName": "Prospecting", "CloseDate": "2024-06-30"},
        world.me,
    )
    event = world.sf_event(
        "Kick-off", NOW + 2 * DAY, WhoId=ada, WhatId=deal, Description="Agenda: scope"
    )
    world.sfapp.create("EventRelation", {"EventId": event, "RelationId": grace}, world.me)
    return {"ada": ada, "grace": grace, "deal": deal, "event": event}


def test_it_shows_who_and_what_and_never_invites(world):
    ids = seed(world)
    first = world.sync()
    assert first.status == SyncSession.Status.SUCCEEDED, first.error
    text = body(world)
    assert text.startswith("Agenda: scope")
    assert text.rstrip().endswith(
        "— In Salesforce: With: Ada Lovelace (Customer Ltd), Grace Hopper · Related to: Big Deal"
    )
    assert world.mbapp.sent_invitations(EMAIL) == []
    assert world.sfapp.get(ids["event"])["Description"] == "Agenda: scope"

    idle = world.sync()
    assert idle.status == SyncSession.Status.SUCCEEDED, idle.error
    assert not idle.changed
    assert idle.api_calls_salesforce == 1 == idle.sf_calls_seen
    assert world.sfapp.get(ids["event"])["Description"] == "Agenda: scope"


def test_it_rewrites_the_block_when_a_contact_is_renamed(world):
    ids = seed(world)
    world.sync()
    world.sfapp.update(ids["ada"], {"LastName": "King"}, world.me)
    renamed = world.sync()
    assert renamed.status == SyncSession.Status.SUCCEEDED, renamed.error
    text = body(world)
    assert "Ada King (Customer Ltd)" in text
    assert "Lovelace" not in text
    assert text.count("In Salesforce:") == 1
    assert not world.sync().changed


def test_it_keeps_who_and_what_and_sends_no_block_up_on_a_mailbox_edit(world):
    ids = seed(world)
    world.sync()
    (event,) = world.events()
    edit_subject(world, event["id"], "Kick-off (moved)")
    up = world.sync()
    assert up.status == SyncSession.Status.SUCCEEDED, up.error
    record = world.sfapp.get(ids["event"])
    assert record["Subject"] == "Kick-off (moved)"
    assert record["Description"] == "Agenda: scope"
    assert record["WhoId"] == ids["ada"]
    assert record["WhatId"] == ids["deal"]
    assert "In Salesforce:" in body(world)
    assert world.mbapp.sent_invitations(EMAIL) == []
    assert not world.sync().changed
