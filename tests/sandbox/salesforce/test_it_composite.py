"""sObject Collections and Composite: per-record results, allOrNone, limits, references."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def _contact(name):
    return {"attributes": {"type": "Contact"}, "LastName": name}


def test_it_creates_a_collection_with_a_partial_failure_in_one_call(org):
    sf = org.sf()
    org.emu.clear_calls()
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [_contact("A"), {"attributes": {"type": "Contact"}}, _contact("C")],
        },
    )
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert org.emu.call_count() == 1
    ids = [results[0]["id"], results[2]["id"]]
    updated = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Contact"}, "id": ids[0], "Title": "VP"},
                {"attributes": {"type": "Contact"}, "id": "bogus", "Title": "VP"},
            ]
        },
    )
    assert [r["success"] for r in updated] == [True, False]
    got = sf.restful(
        "composite/sobjects/Contact", params={"ids": ",".join(ids), "fields": "LastName,Title"}
    )
    assert [(r["LastName"], r["Title"]) for r in got] == [("A", "VP"), ("C", None)]
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids)})
    assert all(r["success"] for r in deleted)


def test_it_rolls_back_everything_when_all_or_none_fails(org):
    sf = org.sf()
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={"allOrNone": True, "records": [_contact("A"), {"attributes": {"type": "Contact"}}]},
    )
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_it_refuses_more_than_two_hundred_records(org):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        org.sf().restful(
            "composite/sobjects",
            method="POST",
            json={"records": [_contact(str(i)) for i in range(201)]},
        )
    assert exc.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_it_runs_composite_with_references_as_one_call(org):
    sf = org.sf()
    org.emu.clear_calls()
    body = {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Globex"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "c1",
                "body": {"LastName": "Ng", "AccountId": "@{acct.id}"},
            },
            {
                "method": "GET",
                "referenceId": "q",
                "url": "/services/data/v59.0/query/?q=SELECT+Id,AccountId+FROM+Contact"
                "+WHERE+Id='@{c1.id}'",
            },
            {
                "method": "PATCH",
                "url": "/services/data/v59.0/sobjects/Contact/@{q.records[0].Id}",
                "referenceId": "upd",
                "body": {"Title": "CFO"},
            },
        ],
    }
    out = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in out] == [201, 201, 200, 204]
    assert out[2]["body"]["records"][0]["AccountId"] == out[0]["body"]["id"]
    assert org.emu.call_count() == 1
    assert len(org.emu.calls) == 1 and org.emu.budget_used == 1


def test_it_halts_dependants_and_rolls_back_with_all_or_none(org):
    sf = org.sf()
    out = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "ok",
                    "body": {"Name": "Kept?"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Contact",
                    "referenceId": "bad",
                    "body": {"FirstName": "no last name"},
                },
                {
                    "method": "PATCH",
                    "url": "/services/data/v59.0/sobjects/Contact/@{bad.id}",
                    "referenceId": "dep",
                    "body": {"Title": "x"},
                },
            ],
        },
    )["compositeResponse"]
    assert [r["httpStatusCode"] for r in out] == [400, 400, 400]
    assert out[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert {out[0]["body"][0]["errorCode"], out[2]["body"][0]["errorCode"]} == {"PROCESSING_HALTED"}
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


@pytest.mark.parametrize(("n_query", "n_other"), [(6, 0), (0, 26)])
def test_it_enforces_composite_limits(org, n_query, n_other):
    subs = [
        {
            "method": "GET",
            "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Contact",
            "referenceId": f"q{i}",
        }
        for i in range(n_query)
    ]
    subs += [
        {
            "method": "GET",
            "url": "/services/data/v59.0/sobjects/Contact/describe",
            "referenceId": f"d{i}",
        }
        for i in range(n_other)
    ]
    with pytest.raises(SalesforceMalformedRequest):
        org.sf().restful("composite", method="POST", json={"compositeRequest": subs})


def test_it_takes_latency_per_record_of_a_collection_and_per_composite_subrequest(org):
    """The latency model's per-sub-request part applies to Collections (per record) and
    Composite (per subrequest): both report their units in the call log."""
    import time

    sf = org.sf()
    org.emu.clear_calls()
    org.emu.set_latency(0.0, 0.05)
    try:
        started = time.perf_counter()
        made = sf.restful(
            "composite/sobjects",
            method="POST",
            json={"records": [_contact(f"L{i}") for i in range(6)]},
        )
        took = time.perf_counter() - started
        sf.restful(
            "composite/sobjects",
            method="DELETE",
            params={"ids": ",".join(r["id"] for r in made[:2]), "allOrNone": "false"},
        )
        query = "/services/data/v59.0/query?q=SELECT+Id+FROM+Contact"
        sf.restful(
            "composite",
            method="POST",
            json={
                "compositeRequest": [
                    {"method": "GET", "url": query, "referenceId": "a"},
                    {"method": "GET", "url": query, "referenceId": "b"},
                    {"method": "GET", "url": query, "referenceId": "c"},
                ]
            },
        )
    finally:
        org.emu.set_latency()
    assert took >= 6 * 0.05
    assert [c.units for c in org.emu.calls] == [6, 2, 3]
