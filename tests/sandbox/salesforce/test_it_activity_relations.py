"""EventRelation / TaskRelation and their Who views, with and without Shared Activities.

Reference: Object Reference, EventRelation, EventWhoRelation, TaskRelation, TaskWhoRelation
(https://developer.salesforce.com/docs/platform/object-reference/references/standard-objects/object-eventrelation.html).
"""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

START = {"StartDateTime": "2024-05-20T15:00:00Z", "DurationInMinutes": 60}


def _rows(sf, event_id):
    soql = (
        "SELECT RelationId, IsInvitee, IsParent, IsWhat, Status FROM EventRelation "
        f"WHERE EventId = '{event_id}'"
    )
    return {
        r["RelationId"]: (r["IsInvitee"], r["IsParent"], r["IsWhat"])
        for r in sf.query(soql)["records"]
    }


def _who_view(sf, event_id):
    soql = f"SELECT Id, RelationId, Type FROM EventWhoRelation WHERE EventId = '{event_id}'"
    return sorted((r["RelationId"], r["Type"]) for r in sf.query(soql)["records"])


def _code(exc):
    return exc.value.content[0]["errorCode"]


@pytest.fixture
def people(org):
    emu = org.emu
    acct = emu.create("Account", {"Name": "Acme"})
    return {
        "acct": acct,
        "opp": emu.create(
            "Opportunity",
            {"Name": "Big deal", "StageName": "Prospecting", "CloseDate": "2024-06-30"},
        ),
        "c1": emu.create("Contact", {"LastName": "One", "AccountId": acct}),
        "c2": emu.create("Contact", {"LastName": "Two"}),
        "c3": emu.create("Contact", {"LastName": "Three"}),
        "lead": emu.create("Lead", {"LastName": "Lee", "Company": "Prospect"}),
        "bob": emu.add_user("bob@acme.example", "Brown", "Bob"),
    }


def test_it_keeps_one_row_per_person_with_who_what_and_invitee_flags(org, people):
    p, sf = people, org.sf()
    ev = sf.Event.create({"Subject": "Kickoff", "WhoId": p["c1"], "WhatId": p["opp"], **START})[
        "id"
    ]
    assert _rows(sf, ev) == {p["c1"]: (False, True, False), p["opp"]: (False, False, True)}
    assert org.emu.get(ev)["AccountId"] is None  # the opportunity has no account

    sf.EventRelation.create({"EventId": ev, "RelationId": p["c2"], "IsParent": True})
    with pytest.raises(SalesforceMalformedRequest) as exc:  # c1 already has its row
        sf.EventRelation.create({"EventId": ev, "RelationId": p["c1"]})
    assert _code(exc) == "DUPLICATE_VALUE"
    c1_row = sf.query(f"SELECT Id FROM EventRelation WHERE RelationId = '{p['c1']}'")
    sf.EventRelation.update(c1_row["records"][0]["Id"], {"IsInvitee": True})
    bob_row = sf.EventRelation.create({"EventId": ev, "RelationId": p["bob"]})["id"]
    assert _rows(sf, ev) == {
        p["c1"]: (True, True, False),  # related and invited: still one row
        p["c2"]: (False, True, False),
        p["opp"]: (False, False, True),
        p["bob"]: (True, False, False),
    }
    assert _who_view(sf, ev) == sorted([(p["c1"], "Contact"), (p["c2"], "Contact")])
    child = sf.query(
        f"SELECT Id, OwnerId FROM Event WHERE IsChild = true AND OwnerId = '{p['bob']}'"
    )
    assert child["totalSize"] == 1  # the invited user's calendar copy

    sf.EventRelation.update(bob_row, {"Status": "Accepted", "Response": "See you"})
    got = sf.EventRelation.get(bob_row)
    assert (got["Status"], got["Response"]) == ("Accepted", "See you")
    assert got["RespondedDate"] == "2024-05-15T12:00:00.000+0000"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.EventRelation.update(bob_row, {"Status": "Maybe"})
    assert _code(exc) == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"

    with pytest.raises(SalesforceMalformedRequest) as exc:  # children take no relations
        sf.EventRelation.create({"EventId": child["records"][0]["Id"], "RelationId": p["c3"]})
    assert _code(exc) == "FIELD_INTEGRITY_EXCEPTION"
    sf.EventRelation.delete(bob_row)  # uninvited: the copy goes with the invitation
    assert sf.query("SELECT COUNT() FROM Event WHERE IsChild = true")["totalSize"] == 0


def test_it_keeps_who_id_and_what_id_in_step_with_the_relations(org, people):
    p, sf = people, org.sf()
    ev = sf.Event.create({"Subject": "Review", "WhoId": p["c1"], "WhatId": p["acct"], **START})[
        "id"
    ]
    assert org.emu.get(ev)["AccountId"] == p["acct"]
    sf.EventRelation.create({"EventId": ev, "RelationId": p["c2"], "IsParent": True})
    c1_row = next(
        r["Id"]
        for r in sf.query(f"SELECT Id, RelationId FROM EventRelation WHERE EventId = '{ev}'")[
            "records"
        ]
        if r["RelationId"] == p["c1"]
    )
    sf.EventRelation.delete(c1_row)  # the row that was the WhoId: another Who is promoted
    assert sf.Event.get(ev)["WhoId"] == p["c2"]
    assert _who_view(sf, ev) == [(p["c2"], "Contact")]

    sf.Event.update(ev, {"WhoId": p["c3"]})  # a new WhoId replaces the primary relation
    assert set(_rows(sf, ev)) == {p["c3"], p["acct"]}
    sf.EventRelation.create({"EventId": ev, "RelationId": p["c1"], "IsParent": True})
    sf.Event.update(ev, {"WhoId": None})  # cleared: that relation goes, the next Who leads
    assert sf.Event.get(ev)["WhoId"] == p["c1"]
    assert set(_rows(sf, ev)) == {p["c1"], p["acct"]}

    what_row = sf.query(f"SELECT Id FROM EventRelation WHERE EventId = '{ev}' AND IsWhat = true")
    sf.EventRelation.delete(what_row["records"][0]["Id"])
    assert sf.Event.get(ev)["WhatId"] is None

    sf.Event.delete(ev)  # relations go to the Recycle Bin with their event
    gone = sf.query_all(
        f"SELECT Id, IsDeleted FROM EventRelation WHERE EventId = '{ev}'", include_deleted=True
    )
    # The two rows deleted directly (the first c1 row, the What row) skipped the bin; the
    # two the WhoId changes removed and the last one the event took with it are there.
    assert gone["totalSize"] == 3 and all(r["IsDeleted"] for r in gone["records"])
    assert _who_view(sf, ev) == []


def test_it_relates_fifty_contacts_or_one_lead_and_a_thousand_invitees(org, people):
    p, sf, emu = people, org.sf(), org.emu
    contacts = [emu.create("Contact", {"LastName": f"C{i}"}) for i in range(1000)]
    ev = sf.Event.create({"Subject": "Conference", "WhoId": contacts[0], **START})["id"]
    batch = [
        {"attributes": {"type": "EventRelation"}, "EventId": ev, "RelationId": c, "IsParent": True}
        for c in contacts[1:51]
    ]
    results = sf.restful("composite/sobjects", method="POST", json={"records": batch})
    assert [r["success"] for r in results] == [True] * 49 + [False]
    assert results[-1]["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"
    with pytest.raises(SalesforceMalformedRequest) as exc:  # contacts or one lead, not both
        sf.EventRelation.create({"EventId": ev, "RelationId": p["lead"], "IsParent": True})
    assert _code(exc) == "FIELD_INTEGRITY_EXCEPTION"
    lead_event = sf.Event.create({"Subject": "Lead call", "WhoId": p["lead"], **START})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.EventRelation.create({"EventId": lead_event, "RelationId": p["c1"], "IsParent": True})
    assert _code(exc) == "FIELD_INTEGRITY_EXCEPTION"

    invite = [
        {"attributes": {"type": "EventRelation"}, "EventId": ev, "RelationId": c}
        for c in contacts[50:]
    ]  # 950 new invitee rows, plus the 50 related contacts made invitees below = 1,000
    for i in range(0, len(invite), 200):
        chunk = sf.restful(
            "composite/sobjects", method="POST", json={"records": invite[i : i + 200]}
        )
        assert all(r["success"] for r in chunk)
    related = sf.query(f"SELECT Id FROM EventRelation WHERE EventId = '{ev}' AND IsParent = true")
    updates = [
        {"attributes": {"type": "EventRelation"}, "id": r["Id"], "IsInvitee": True}
        for r in related["records"]
    ]
    assert all(
        r["success"]
        for r in sf.restful("composite/sobjects", method="PATCH", json={"records": updates})
    )
    count = sf.query(
        f"SELECT COUNT() FROM EventRelation WHERE EventId = '{ev}' AND IsInvitee = true"
    )
    assert count["totalSize"] == 1000
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.EventRelation.create({"EventId": ev, "RelationId": p["bob"]})
    assert _code(exc) == "FIELD_INTEGRITY_EXCEPTION"


def test_it_serves_the_who_views_read_only(org, people):
    p, sf = people, org.sf()
    ev = sf.Event.create({"Subject": "Sync", "WhoId": p["c1"], **START})["id"]
    [row] = sf.query(f"SELECT Id FROM EventWhoRelation WHERE EventId = '{ev}'")["records"]
    assert sf.EventWhoRelation.get(row["Id"])["RelationId"] == p["c1"]
    described = sf.EventWhoRelation.describe()
    assert (described["createable"], described["updateable"], described["deletable"]) == (
        False,
        False,
        False,
    )
    for attempt in (
        lambda: sf.EventWhoRelation.create({"EventId": ev, "RelationId": p["c2"]}),
        lambda: sf.EventWhoRelation.update(row["Id"], {"RelationId": p["c2"]}),
        lambda: sf.EventWhoRelation.delete(row["Id"]),
        lambda: sf.TaskWhoRelation.create({"RelationId": p["c2"]}),
    ):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            attempt()
        assert _code(exc) == "INVALID_TYPE_FOR_OPERATION"


def test_it_relates_tasks_through_task_relation(org, people):
    p, sf = people, org.sf()
    task = sf.Task.create({"Subject": "Call", "WhoId": p["c1"], "WhatId": p["opp"]})["id"]
    rel = sf.TaskRelation.create({"TaskId": task, "RelationId": p["c2"]})["id"]
    rows = sf.query(f"SELECT RelationId, IsWhat FROM TaskRelation WHERE TaskId = '{task}'")
    assert {(r["RelationId"], r["IsWhat"]) for r in rows["records"]} == {
        (p["c1"], False),
        (p["c2"], False),
        (p["opp"], True),
    }
    whos = sf.query(f"SELECT RelationId, Type FROM TaskWhoRelation WHERE TaskId = '{task}'")
    assert sorted(r["RelationId"] for r in whos["records"]) == sorted([p["c1"], p["c2"]])
    with pytest.raises(SalesforceMalformedRequest) as exc:  # TaskRelation has no update()
        sf.TaskRelation.update(rel, {"IsWhat": True})
    assert _code(exc) == "INVALID_TYPE_FOR_OPERATION"
    c1_rel = sf.query(f"SELECT Id FROM TaskRelation WHERE RelationId = '{p['c1']}'")
    sf.TaskRelation.delete(c1_rel["records"][0]["Id"])
    assert sf.Task.get(task)["WhoId"] == p["c2"]


def test_it_switches_shared_activities_per_org(org, people):
    p, sf = people, org.sf()
    answer = org.session().post(org.url("/_sandbox/settings"), json={"shared_activities": False})
    assert answer.json()["shared_activities"] is False
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert "EventRelation" in names
    assert not names & {"EventWhoRelation", "TaskRelation", "TaskWhoRelation"}
    with pytest.raises(SalesforceResourceNotFound):
        sf.EventWhoRelation.describe()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FROM TaskWhoRelation")
    assert _code(exc) == "INVALID_TYPE"

    ev = sf.Event.create({"Subject": "Solo", "WhoId": p["c1"], "WhatId": p["acct"], **START})["id"]
    assert _rows(sf, ev) == {}  # WhoId only
    sf.EventRelation.create({"EventId": ev, "RelationId": p["c2"]})  # invitees still work
    assert _rows(sf, ev) == {p["c2"]: (True, False, False)}
    for extra in ({"RelationId": p["c3"], "IsParent": True}, {"RelationId": p["opp"]}):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.EventRelation.create({"EventId": ev, **extra})
        assert _code(exc) == "FIELD_INTEGRITY_EXCEPTION"

    org.emu.shared_activities = True  # enabling it migrates WhoId / WhatId into relations
    assert _rows(sf, ev) == {
        p["c1"]: (False, True, False),
        p["acct"]: (False, False, True),
        p["c2"]: (True, False, False),
    }


def test_it_seeds_an_org_without_shared_activities(org):
    org.session().post(org.url("/_sandbox/seed"), json={"shared_activities": False})
    assert org.emu.shared_activities is False


def test_it_writes_an_event_and_its_relations_in_one_composite_call(org, people):
    p, sf = people, org.sf()
    base = "/services/data/v59.0/sobjects"
    org.emu.clear_calls()
    answer = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{base}/Event",
                    "referenceId": "ev",
                    "body": {"Subject": "Batch", "WhoId": p["c1"], **START},
                },
                *(
                    {
                        "method": "POST",
                        "url": f"{base}/EventRelation",
                        "referenceId": f"r{i}",
                        "body": {"EventId": "@{ev.id}", "RelationId": rid, "IsParent": True},
                    }
                    for i, rid in enumerate([p["c2"], p["c3"]])
                ),
            ],
        },
    )
    assert [s["httpStatusCode"] for s in answer["compositeResponse"]] == [201, 201, 201]
    assert org.emu.call_count() == 1
    ev = answer["compositeResponse"][0]["body"]["id"]
    assert len(_who_view(sf, ev)) == 3
