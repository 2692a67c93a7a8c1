"""List views, the API budget, Sforce-Limit-Info, and injected faults in Salesforce's shape."""

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sandbox.salesforce import seed_demo_org


def test_it_lists_describes_and_runs_list_views(org):
    emu = org.emu
    bob = emu.add_user("bob@acme.example", "Brown", "Bob")
    for state, owner in [("CA", org.user_id), ("WA", bob), ("NY", org.user_id)]:
        emu.create("Contact", {"LastName": f"In {state}", "MailingState": state}, owner)
    west = emu.add_list_view(
        "West Coast", "WestCoast", "everything", "MailingState IN ('CA', 'OR', 'WA')"
    )
    sf = org.sf()
    views = sf.restful("sobjects/Contact/listviews")
    assert {v["developerName"] for v in views["listviews"]} == {
        "AllContacts",
        "MyContacts",
        "WestCoast",
    }
    mine = next(v for v in views["listviews"] if v["developerName"] == "MyContacts")
    assert sf.restful("sobjects/Contact/listviews/recent")["size"] == 3

    described = sf.restful(f"sobjects/Contact/listviews/{west}/describe")
    assert described["whereCondition"] == {
        "field": "MailingState",
        "operator": "equals",
        "values": ["'CA'", "'OR'", "'WA'"],
    }
    rows = sf.query(described["query"])["records"]
    assert sorted(r["Name"] for r in rows) == ["In CA", "In WA"]
    assert any(c["fieldNameOrPath"] == "SystemModstamp" for c in described["columns"])

    my_query = sf.restful(f"sobjects/Contact/listviews/{mine['id']}/describe")["query"]
    assert "USING SCOPE mine" in my_query and described["scope"] == "everything"
    assert sf.query(my_query)["totalSize"] == 2
    results = sf.restful(f"sobjects/Contact/listviews/{mine['id']}/results", params={"limit": 1})
    assert results["size"] == 1 and results["done"] is False
    assert results["records"][0]["columns"][0]["fieldNameOrPath"] == "Name"

    emu.delete_list_view(west)
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.restful(f"sobjects/Contact/listviews/{west}/describe")
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"


def test_it_seeds_the_demo_org_deterministically(org):
    summary = seed_demo_org(org.emu)
    assert summary["demo_username"] == "demo@relay.example"
    assert set(summary["list_views"]) == {"AllContacts", "MyContacts", "MyKeyContacts", "WestCoast"}
    token, _ = org.emu.issue_token(summary["demo_user_id"])
    sf = org.sf(token)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 300
    invited = sf.query(
        f"SELECT COUNT() FROM EventRelation WHERE RelationId = '{summary['demo_user_id']}'"
    )
    assert invited["totalSize"] > 0
    # Meetings carry their people and a What, as in an org with Shared Activities.
    assert org.emu.shared_activities is True
    many = sf.query("SELECT EventId FROM EventWhoRelation")["records"]
    per_event = {}
    for row in many:
        per_event[row["EventId"]] = per_event.get(row["EventId"], 0) + 1
    assert max(per_event.values()) >= 3
    assert sf.query("SELECT COUNT() FROM Event WHERE WhatId != null")["totalSize"] > 0
    whats = sf.query("SELECT RelationId FROM EventRelation WHERE IsWhat = true")["records"]
    assert {r["RelationId"][:3] for r in whats} == {"001", "006"}  # accounts, opportunities
    lead_whos = sf.query("SELECT COUNT() FROM EventWhoRelation WHERE Type = 'Lead'")
    assert lead_whos["totalSize"] > 0
    key = summary["list_views"]["MyKeyContacts"]
    q = sf.restful(f"sobjects/Contact/listviews/{key}/describe")["query"]
    assert 0 < sf.query(q)["totalSize"] < 100


def test_it_meters_the_daily_budget(org):
    sf = org.sf()
    org.emu.set_budget(max_calls=100, used=10)
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 100, "Remaining": 89}
    assert sf.api_usage["api-usage"].used == 11 and sf.api_usage["api-usage"].total == 100
    org.emu.exhaust_budget()
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.query("SELECT Id FROM Contact")
    assert exc.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


@pytest.mark.parametrize("status", [500, 503])
def test_it_injects_server_errors_in_salesforce_form(org, status):
    requests.post(
        org.url("/_sandbox/faults"),
        json={"fail_next": 1, "status": status},
        verify=org.server.ca_bundle,
    )
    sf = org.sf()
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.query("SELECT Id FROM Contact")
    assert exc.value.status == status and isinstance(exc.value.content, list)
    assert sf.query("SELECT Id FROM Contact")["done"] is True


def test_it_seeds_over_the_control_api(org):
    s = org.session()
    out = s.post(
        org.url("/_sandbox/seed"),
        json={
            "users": [
                {
                    "ref": "u",
                    "Username": "zed@acme.example",
                    "LastName": "Zed",
                    "Email": "zed@acme.example",
                }
            ],
            "records": {"Contact": [{"LastName": "Owned", "as": "@{u}"}]},
        },
    ).json()
    token = out["users"][0]["access_token"]
    rows = org.sf(token).query("SELECT Owner.Name FROM Contact")["records"]
    assert rows[0]["Owner"]["Name"] == "Zed"
