"""Recycle Bin retention, replication windows, API-limit refusals, and list views in Composite.

References: Recycle Bin (15 days, then purged; emptyRecycleBin()), getDeleted's
GetDeletedResult.earliestDateAvailable, REST API "Composite" (all sObject resources),
API request limits (REQUEST_LIMIT_EXCEEDED, never 429).
"""

from datetime import timedelta

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from .conftest import NOW


def _all_ids(sf, sobject):
    rows = sf.query_all(f"SELECT Id FROM {sobject}", include_deleted=True)["records"]
    return {r["Id"] for r in rows}


def test_it_keeps_deleted_records_fifteen_days_then_purges_them(org):
    sf, emu = org.sf(), org.emu
    keep = sf.Contact.create({"LastName": "Keep"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    ev = sf.Event.create(
        {
            "Subject": "m",
            "WhoId": gone,
            "StartDateTime": "2024-05-20T10:00:00Z",
            "DurationInMinutes": 30,
        }
    )["id"]
    emu.advance(minutes=10)
    sf.Contact.delete(gone)
    sf.Event.delete(ev)
    emu.advance(minutes=2)
    before = sf.Contact.deleted(NOW - timedelta(days=1), NOW + timedelta(minutes=15))
    assert [d["id"] for d in before["deletedRecords"]] == [gone]

    emu.advance(days=14, hours=23, minutes=57)  # still in the bin
    assert {keep, gone} <= _all_ids(sf, "Contact") and ev in _all_ids(sf, "Event")
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Contact.get(gone)
    assert exc.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"

    emu.advance(minutes=2)  # 15 days and a minute: purged
    assert _all_ids(sf, "Contact") == {keep}
    assert ev not in _all_ids(sf, "Event") and _all_ids(sf, "EventRelation") == set()
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Contact.get(gone)
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"
    after = sf.Contact.deleted(NOW - timedelta(days=1), NOW + timedelta(days=16))
    assert after["deletedRecords"] == []
    # The horizon moved to the deletion time of the last record purged: a client whose
    # cursor is older knows it missed deletions and must reconcile.
    assert before["earliestDateAvailable"] < after["earliestDateAvailable"]
    assert after["earliestDateAvailable"] == "2024-05-15T12:10:00.000+0000"


def test_it_empties_the_recycle_bin_on_demand(org):
    sf, emu = org.sf(), org.emu
    old = sf.Contact.create({"LastName": "Old"})["id"]
    sf.Contact.delete(old)
    emu.advance(days=3)
    recent = sf.Contact.create({"LastName": "Recent"})["id"]
    sf.Contact.delete(recent)
    answer = org.session().post(org.url("/_sandbox/purge"), json={"older_than_days": 2}).json()
    assert answer["purged"] == 1 and _all_ids(sf, "Contact") == {recent}
    assert emu.purge_deleted() == 1 and _all_ids(sf, "Contact") == set()


@pytest.mark.parametrize("kind", ["updated", "deleted"])
def test_it_refuses_replication_windows_older_than_thirty_days(org, kind):
    sf = org.sf()
    call = getattr(sf.Contact, kind)
    assert call(NOW - timedelta(days=29, hours=23), NOW) is not None
    with pytest.raises(SalesforceMalformedRequest) as exc:
        call(NOW - timedelta(days=30, minutes=2), NOW)
    assert exc.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_it_refuses_over_limit_calls_with_403_never_429(org):
    sf, emu = org.sf(), org.emu
    emu.exhaust_budget()
    response = org.session().get(
        org.url("/services/data/v59.0/limits"), headers={"Authorization": f"Bearer {org.token}"}
    )
    assert response.status_code == 403 and "Retry-After" not in response.headers
    assert response.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    emu.set_budget(used=0)

    emu.hold_long_running(5, max_concurrent=5)  # a Developer Edition org's cap
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.query("SELECT Id FROM Contact")
    assert exc.value.content[0] == {
        "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
        "errorCode": "REQUEST_LIMIT_EXCEEDED",
        "fields": [],
    }
    emu.hold_long_running(4)
    assert sf.query("SELECT Id FROM Contact")["done"] is True


def _describe_in_composite(sf, view_id):
    answer = sf.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": f"/services/data/v59.0/sobjects/Contact/listviews/{view_id}/describe",
                    "referenceId": "view",
                },
                {
                    "method": "GET",
                    "url": "/services/data/v59.0/queryAll?q=SELECT+Id+FROM+Contact",
                    "referenceId": "contacts",
                },
            ]
        },
    )
    return answer["compositeResponse"]


def test_it_describes_a_list_view_inside_composite_and_follows_edits_and_deletes(org):
    sf, emu = org.sf(), org.emu
    view = emu.add_list_view("Key", "Key", "everything", "Level__c = 'Primary'")
    emu.clear_calls()
    first = _describe_in_composite(sf, view)
    assert [s["httpStatusCode"] for s in first] == [200, 200] and emu.call_count() == 1
    assert "Level__c = 'Primary'" in first[0]["body"]["query"]

    emu.update_list_view(view, where="MailingState = 'CA'")
    edited = _describe_in_composite(sf, view)[0]["body"]
    assert "MailingState = 'CA'" in edited["query"] and "Level__c" not in edited["query"]
    assert edited["whereCondition"]["field"] == "MailingState"

    emu.delete_list_view(view)
    missing, contacts = _describe_in_composite(sf, view)
    assert missing["httpStatusCode"] == 404 and missing["body"][0]["errorCode"] == "NOT_FOUND"
    assert contacts["httpStatusCode"] == 200  # the rest of the composite still runs


def test_it_refuses_blob_get_inside_composite(org):
    sf, emu = org.sf(), org.emu
    version = emu.create("ContentVersion", {"PathOnClient": "a.txt", "VersionData": "aGVsbG8="})
    answer = sf.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": f"/services/data/v59.0/sobjects/ContentVersion/{version}/VersionData",
                    "referenceId": "blob",
                }
            ]
        },
    )
    assert answer["compositeResponse"][0]["httpStatusCode"] == 400


def test_it_expires_query_locators_idle_fifteen_minutes_and_keeps_ten_per_user(org):
    sf, emu = org.sf(), org.emu
    for i in range(450):
        emu.create("Contact", {"LastName": f"C{i}"})
    headers = {"Sforce-Query-Options": "batchSize=200"}

    def first_page():
        return sf.restful("query", params={"q": "SELECT Id FROM Contact"}, headers=headers)

    page = first_page()
    emu.advance(minutes=14)
    page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)  # used: timer restarts
    emu.advance(minutes=15, seconds=1)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert exc.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"

    pages = [first_page() for _ in range(11)]  # the 11th releases the oldest
    with pytest.raises(SalesforceMalformedRequest):
        sf.query_more(pages[0]["nextRecordsUrl"], identifier_is_url=True)
    assert sf.query_more(pages[1]["nextRecordsUrl"], identifier_is_url=True)["records"]


def test_it_skips_the_recycle_bin_for_a_directly_deleted_task_relation(org):
    sf, emu = org.sf(), org.emu
    c1, c2 = (emu.create("Contact", {"LastName": n}) for n in ("One", "Two"))
    task = sf.Task.create({"Subject": "Call", "WhoId": c1})["id"]
    rel = sf.TaskRelation.create({"TaskId": task, "RelationId": c2})["id"]
    emu.advance(minutes=1)
    sf.TaskRelation.delete(rel)
    emu.advance(minutes=2)
    assert rel not in _all_ids(sf, "TaskRelation")
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.TaskRelation.get(rel)
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"
    deleted = sf.TaskRelation.deleted(NOW, NOW + timedelta(minutes=5))
    assert [d["id"] for d in deleted["deletedRecords"]] == [rel]


@pytest.mark.parametrize("in_bin", [False, True], ids=["skips-bin", "in-bin"])
def test_it_handles_a_directly_deleted_event_relation_either_way(org, in_bin):
    # The reference documents the skip-the-bin rule for TaskRelation only; the emulator
    # applies it to EventRelation by default and offers the other reading as a switch.
    sf, emu = org.sf(), org.emu
    assert emu.event_relation_in_bin is False
    emu.event_relation_in_bin = in_bin
    guest = emu.create("Contact", {"LastName": "Guest"})
    event = sf.Event.create(
        {"Subject": "Review", "StartDateTime": "2024-05-20T15:00:00Z", "DurationInMinutes": 60}
    )["id"]
    rel = sf.EventRelation.create({"EventId": event, "RelationId": guest})["id"]
    emu.advance(minutes=1)
    sf.EventRelation.delete(rel)
    emu.advance(minutes=2)
    assert (rel in _all_ids(sf, "EventRelation")) is in_bin
    deleted = sf.EventRelation.deleted(NOW, NOW + timedelta(minutes=5))
    assert [d["id"] for d in deleted["deletedRecords"]] == [rel]  # getDeleted sees both
    other = sf.EventRelation.create({"EventId": event, "RelationId": guest})["id"]
    sf.Event.delete(event)  # cascade-deleted relations go to the bin with their event
    assert other in _all_ids(sf, "EventRelation")
