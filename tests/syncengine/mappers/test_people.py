"""Meetings' people in the canonical shape, and the "In Salesforce:" block (issue 9)."""

from __future__ import annotations

from syncengine.mappers.people import (
    Named,
    SalesforcePeople,
    people_from_google,
    people_from_graph,
    people_hash,
    salesforce_block,
    salesforce_people,
    strip_salesforce_block,
    with_salesforce_block,
)

ADA = Named("003A", "Ada Lovelace", "Customer Ltd")
PAT = Named("00QA", "Pat Prospect")
DEAL = Named("006A", "Big Deal")


def test_it_reads_graph_attendees_without_rooms():
    item = {
        "iCalUId": "UID1",
        "isOrganizer": True,
        "organizer": {"emailAddress": {"address": "Ann@Acme.example"}},
        "attendees": [
            {
                "emailAddress": {"address": "ADA@x.example", "name": "Ada"},
                "type": "required",
                "status": {"response": "tentativelyAccepted"},
            },
            {
                "emailAddress": {"address": "b@x.example"},
                "type": "optional",
                "status": {"response": "declined"},
            },
            {"emailAddress": {"address": "room@acme.example"}, "type": "resource"},
        ],
    }
    people = people_from_graph(item)
    assert people.ical_uid == "UID1" and people.organizer == "ann@acme.example"
    assert [(a.address, a.role, a.response) for a in people.attendees] == [
        ("ada@x.example", "required", "tentative"),
        ("b@x.example", "optional", "declined"),
    ]
    assert people.addresses() == ["ann@acme.example", "ada@x.example", "b@x.example"]


def test_it_reads_google_attendees_without_the_organizer_row():
    item = {
        "iCalUID": "UID2",
        "organizer": {"email": "ann@acme.example", "self": True},
        "attendees": [
            {"email": "ann@acme.example", "organizer": True, "responseStatus": "accepted"},
            {"email": "ada@x.example", "responseStatus": "accepted", "optional": True},
            {"email": "room@resource.calendar.google.com", "resource": True},
        ],
    }
    people = people_from_google(item)
    assert [(a.address, a.role, a.response) for a in people.attendees] == [
        ("ada@x.example", "optional", "accepted")
    ]
    assert people.is_organizer


def test_a_reply_changes_the_people_hash():
    before = {"attendees": [{"email": "ada@x.example", "responseStatus": "needsAction"}]}
    after = {"attendees": [{"email": "ada@x.example", "responseStatus": "declined"}]}
    assert people_hash(people_from_google(before)) != people_hash(people_from_google(after))
    assert people_hash(people_from_google(before)) == people_hash(people_from_google(before))


def test_it_names_who_what_and_invitees_once_each():
    rows = [
        {"RelationId": "003A", "IsParent": True, "IsInvitee": True},
        {"RelationId": "00QA", "IsParent": False, "IsInvitee": True},
        {"RelationId": "006A", "IsWhat": True},
    ]
    names = {n.id: n for n in (ADA, PAT, DEAL)}
    shown = salesforce_people({"WhoId": "003A", "WhatId": "006A"}, rows, names)
    assert shown == SalesforcePeople((ADA,), DEAL, (PAT,))
    assert salesforce_block(shown) == (
        "— In Salesforce: With: Ada Lovelace (Customer Ltd), Pat Prospect · Related to: Big Deal"
    )
    assert salesforce_block(SalesforcePeople()) == ""


def test_the_block_is_replaced_never_stacked_and_stripped_before_going_up():
    shown = SalesforcePeople((ADA,), DEAL)
    body = with_salesforce_block("Agenda", shown)
    assert strip_salesforce_block(body) == "Agenda"
    again = with_salesforce_block(body, SalesforcePeople((PAT,)))
    assert again.count("In Salesforce:") == 1 and "Pat Prospect" in again
    assert strip_salesforce_block(with_salesforce_block(None, shown)) is None
    # A line the user wrote elsewhere in the body is theirs and stays.
    mid = "— In Salesforce: mine\nmore text"
    assert strip_salesforce_block(mid) == mid
    assert strip_salesforce_block("Agenda\r\n\r\n" + salesforce_block(shown)) == "Agenda"
