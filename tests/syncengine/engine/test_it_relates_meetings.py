"""SPEC §2b up-sync: a mailbox meeting reaches Salesforce on its people's records, for both
mailbox kinds and both kinds of org, without a call per event and without inviting anyone."""

from __future__ import annotations

import datetime as dt

import pytest

from syncengine.models import SyncLink, SyncSession

from .conftest import EMAIL, NOW
from .meetings import edit_subject, meeting_in_mailbox, reply, set_attendees

DAY = dt.timedelta(days=1)
CONTACT, LEAD = "ada@customer.example", "pat@prospect.example"
COLLEAGUE, BLOCKED, FREE = "bob@acme.example", "x@blocked.example", "someone@gmail.com"


def crm(world) -> dict[str, str]:
    account = world.sfapp.create("Account", {"Name": "Customer Ltd"}, world.me)
    ids = {
        "ada": world.sf_contact("Lovelace", CONTACT, FirstName="Ada", AccountId=account),
        "grace": world.sf_contact("Hopper", "grace@customer.example", FirstName="Grace"),
        "lead": world.sfapp.create(
            "Lead", {"LastName": "Prospect", "Company": "P Inc", "Email": LEAD}, world.me
        ),
    }
    # Records a careless matcher would relate: all must stay unrelated.
    world.sf_contact("Blocked", BLOCKED)
    world.sf_contact("Free", FREE)
    world.sf_contact("Colleague", COLLEAGUE)
    world.settings(blocklist="blocked.example")
    return ids


def sf_event(world) -> dict:
    rows = world.sfapp.query("SELECT Id, Subject, WhoId, WhatId FROM Event", world.me)
    assert len(rows) == 1, rows
    return rows[0]


def parents(world, event_id: str) -> set[str]:
    rows = world.sfapp.query(
        f"SELECT RelationId, IsParent FROM EventRelation WHERE EventId = '{event_id}'", world.me
    )
    return {r["RelationId"] for r in rows if r["IsParent"]}


@pytest.mark.parametrize("shared", [True, False], ids=["shared-activities", "whoid-only"])
def test_it_relates_exactly_the_customer_contact(world, shared):
    world.sfapp.shared_activities = shared
    ids = crm(world)
    meeting_in_mailbox(world, "Pricing", NOW + 2 * DAY, [CONTACT, LEAD, COLLEAGUE, BLOCKED, FREE])

    up = world.sync()
    assert up.status == SyncSession.Status.SUCCEEDED, up.error
    event = sf_event(world)
    assert event["WhoId"] == ids["ada"]
    assert parents(world, event["Id"]) == ({ids["ada"]} if shared else set())
    assert world.mbapp.sent_invitations(EMAIL) == []

    idle = world.sync()
    assert not idle.changed
    assert idle.api_calls_salesforce == 1 == idle.sf_calls_seen


def test_it_follows_attendees_and_keeps_relations_made_in_salesforce(world):
    ids = crm(world)
    item = meeting_in_mailbox(world, "Pricing", NOW + 2 * DAY, [CONTACT, COLLEAGUE])
    world.sync()
    event = sf_event(world)
    turing = world.sf_contact("Turing", "alan@else.example")
    world.sfapp.create(
        "EventRelation",
        {"EventId": event["Id"], "RelationId": turing, "IsParent": True, "IsInvitee": False},
        world.me,
    )

    set_attendees(world, item, [CONTACT, COLLEAGUE, "grace@customer.example"])
    added = world.sync()
    assert added.status == SyncSession.Status.SUCCEEDED, added.error
    assert parents(world, event["Id"]) == {ids["ada"], ids["grace"], turing}

    set_attendees(world, item, ["grace@customer.example"])
    removed = world.sync()
    assert removed.status == SyncSession.Status.SUCCEEDED, removed.error
    assert parents(world, event["Id"]) == {ids["grace"], turing}
    assert sf_event(world)["WhoId"] in {ids["grace"], turing}
    link = SyncLink.objects.get(user=world.user, item_type="event")
    assert link.relations["made"] == [ids["grace"]]
    assert world.mbapp.sent_invitations(EMAIL) == []


def test_it_writes_a_reply_to_the_invitee_status_and_an_edit_keeps_the_who(world):
    ids = crm(world)
    item = meeting_in_mailbox(world, "Pricing", NOW + 2 * DAY, [CONTACT])
    world.sync()
    event = sf_event(world)
    account = world.sfapp.get(ids["ada"])["AccountId"]
    world.sfapp.update(event["Id"], {"WhatId": account})
    row = world.sfapp.query(
        f"SELECT Id FROM EventRelation WHERE EventId = '{event['Id']}' AND RelationId = "
        f"'{ids['ada']}'",
        world.me,
    )[0]
    world.sfapp.update(row["Id"], {"IsInvitee": True})
    world.sync()

    reply(world, item, CONTACT, accepted=False)
    edit_subject(world, item, "Pricing (v2)")
    after = world.sync()
    assert after.status == SyncSession.Status.SUCCEEDED, after.error
    event_after = sf_event(world)
    assert event_after["Subject"] == "Pricing (v2)"
    assert event_after["WhoId"] == ids["ada"]
    assert event_after["WhatId"] == account
    status = world.sfapp.query(
        f"SELECT Status FROM EventRelation WHERE Id = '{row['Id']}'", world.me
    )[0]["Status"]
    assert status == "Declined"
    assert world.mbapp.sent_invitations(EMAIL) == []
