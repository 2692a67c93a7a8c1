"""SPEC §2b up-sync of a meeting's people, through simple-salesforce against the emulator:
the right relations for each Shared Activities setting, added / removed attendees, a
relation a salesperson added survives, responses reach Status, all of it batched."""

from __future__ import annotations

import pytest

from syncengine.emails.blocklist import Blocklist
from syncengine.mappers.people import Attendee, MailboxPeople
from syncengine.salesforce.relations import Meeting, SalesforceRelations

ME = "alice@acme.example"
BLOCKLIST = Blocklist.merge(org_entries=["blocked.example"], user_own_addresses=[ME])


def people(*guests: str, responses: dict[str, str] | None = None) -> MailboxPeople:
    replies = responses or {}
    return MailboxPeople(
        "uid-1",
        ME,
        tuple(Attendee(g, g.split("@")[0], "required", replies.get(g, "none")) for g in guests),  # type: ignore[arg-type]
    )


@pytest.fixture
def crm(org):
    emu = org.emu
    ids = {
        "account": emu.create("Account", {"Name": "Customer Ltd"}, org.user_id),
    }
    ids["ada"] = emu.create(
        "Contact",
        {"LastName": "Lovelace", "Email": "ada@customer.example", "AccountId": ids["account"]},
        org.user_id,
    )
    ids["grace"] = emu.create(
        "Contact", {"LastName": "Hopper", "Email": "grace@customer.example"}, org.user_id
    )
    ids["lead"] = emu.create(
        "Lead",
        {"LastName": "Prospect", "Company": "P Inc", "Email": "pat@prospect.example"},
        org.user_id,
    )
    emu.create("Contact", {"LastName": "Blocked", "Email": "x@blocked.example"}, org.user_id)
    emu.create("Contact", {"LastName": "Free", "Email": "free@gmail.com"}, org.user_id)
    emu.create("Contact", {"LastName": "Colleague", "Email": "bob@acme.example"}, org.user_id)
    ids["event"] = emu.create(
        "Event",
        {
            "Subject": "Kick-off",
            "StartDateTime": "2024-05-17T10:00:00.000+0000",
            "EndDateTime": "2024-05-17T11:00:00.000+0000",
        },
        org.user_id,
    )
    return ids


EVERYONE = (
    "ada@customer.example",
    "pat@prospect.example",
    "bob@acme.example",
    "x@blocked.example",
    "free@gmail.com",
)


def rows(org, event_id):
    return org.emu.query(
        "SELECT RelationId, IsParent, IsInvitee, IsWhat, Status FROM EventRelation "
        f"WHERE EventId = '{event_id}'",
        org.user_id,
    )


def who(org, event_id):
    return org.emu.get(event_id)["WhoId"]


def relate(org, event_id, meeting, made=frozenset()):
    adapter = org.adapter()
    result = SalesforceRelations(adapter).relate(
        [Meeting(event_id, meeting, made)], user_addresses=[ME], blocklist=BLOCKLIST
    )
    return result, adapter.api_calls


@pytest.mark.parametrize("shared", [True, False])
def test_it_relates_only_the_contact_of_a_mixed_attendee_list(org, crm, shared):
    org.emu.shared_activities = shared
    result, calls = relate(org, crm["event"], people(*EVERYONE))
    assert result.errors == {}
    assert who(org, crm["event"]) == crm["ada"]  # a Contact, preferred over the Lead
    related = {r["RelationId"] for r in rows(org, crm["event"]) if r["IsParent"]}
    assert related == ({crm["ada"]} if shared else set())
    assert result.plans[crm["event"]].made == {crm["ada"]}
    # describe + people lookup + Event query + relation query + one WhoId update
    assert calls == 5


def test_it_relates_every_matched_contact_with_shared_activities(org, crm):
    meeting = people("ada@customer.example", "grace@customer.example", "bob@acme.example")
    result, _ = relate(org, crm["event"], meeting)
    assert who(org, crm["event"]) == crm["ada"]
    parents = {r["RelationId"] for r in rows(org, crm["event"]) if r["IsParent"]}
    assert parents == {crm["ada"], crm["grace"]}
    assert result.plans[crm["event"]].made == {crm["ada"], crm["grace"]}


def test_it_relates_one_lead_when_no_contact_matches(org, crm):
    result, _ = relate(org, crm["event"], people("pat@prospect.example", "bob@acme.example"))
    assert result.errors == {}
    assert who(org, crm["event"]) == crm["lead"]


def test_it_follows_added_and_removed_attendees_and_keeps_what_salesforce_added(org, crm):
    first, _ = relate(org, crm["event"], people("ada@customer.example"))
    made = first.plans[crm["event"]].made
    # A salesperson relates another contact in Salesforce.
    other = org.emu.create("Contact", {"LastName": "Turing", "Email": "alan@else.example"})
    org.emu.create(
        "EventRelation",
        {"EventId": crm["event"], "RelationId": other, "IsParent": True, "IsInvitee": False},
        org.user_id,
    )
    added, _ = relate(
        org, crm["event"], people("ada@customer.example", "grace@customer.example"), made
    )
    made = added.plans[crm["event"]].made
    parents = {r["RelationId"] for r in rows(org, crm["event"]) if r["IsParent"]}
    assert parents == {crm["ada"], crm["grace"], other}

    removed, _ = relate(org, crm["event"], people("grace@customer.example"), made)
    assert removed.errors == {}
    parents = {r["RelationId"] for r in rows(org, crm["event"]) if r["IsParent"]}
    assert parents == {crm["grace"], other}  # Ada gone; Salesforce's own relation kept
    assert who(org, crm["event"]) in {crm["grace"], other}
    assert removed.plans[crm["event"]].made == {crm["grace"]}


def test_it_writes_responses_to_the_invitee_row_and_flags_it_instead_of_duplicating(org, crm):
    org.emu.create(
        "EventRelation", {"EventId": crm["event"], "RelationId": crm["grace"]}, org.user_id
    )
    meeting = people(
        "ada@customer.example",
        "grace@customer.example",
        responses={"grace@customer.example": "declined"},
    )
    result, _ = relate(org, crm["event"], meeting)
    assert result.errors == {}
    grace = [r for r in rows(org, crm["event"]) if r["RelationId"] == crm["grace"]]
    assert len(grace) == 1
    assert grace[0]["IsParent"] and grace[0]["IsInvitee"]
    assert grace[0]["Status"] == "Declined"


def test_it_batches_many_meetings_into_a_fixed_number_of_calls(org, crm):
    events = [
        org.emu.create(
            "Event",
            {
                "Subject": f"Meeting {n}",
                "StartDateTime": "2024-05-17T10:00:00.000+0000",
                "EndDateTime": "2024-05-17T11:00:00.000+0000",
            },
            org.user_id,
        )
        for n in range(30)
    ]
    adapter = org.adapter()
    meeting = people("ada@customer.example", "grace@customer.example")
    result = SalesforceRelations(adapter, shared_activities=True).relate(
        [Meeting(e, meeting) for e in events], user_addresses=[ME], blocklist=BLOCKLIST
    )
    assert result.errors == {}
    assert all(who(org, e) == crm["ada"] for e in events)
    # people lookup + Event query + relation query + WhoId updates + relation creates
    assert adapter.api_calls == 5


def test_it_costs_nothing_when_there_is_nothing_to_relate(org):
    adapter = org.adapter()
    SalesforceRelations(adapter).relate([], user_addresses=[ME], blocklist=BLOCKLIST)
    assert adapter.api_calls == 0
