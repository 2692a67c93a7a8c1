"""Single-record CRUD, validation codes, activity rules, replication endpoints, merges."""

import base64
from datetime import timedelta

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sandbox.salesforce.values import id_suffix

from .conftest import NOW


def test_it_creates_reads_updates_and_soft_deletes_with_audit_fields(org):
    sf = org.sf()
    created = sf.Contact.create({"LastName": "Ng", "FirstName": "Kim", "Email": "kim@ng.example"})
    assert created["success"] is True and created["errors"] == []
    cid = created["id"]
    assert cid.startswith("003") and len(cid) == 18 and cid[15:] == id_suffix(cid[:15])
    rec = sf.Contact.get(cid)
    assert rec["OwnerId"] == org.user_id and rec["CreatedById"] == org.user_id
    assert rec["Name"] == "Kim Ng" and rec["SystemModstamp"] == "2024-05-15T12:00:00.000+0000"
    org.emu.advance(minutes=5)
    assert sf.Contact.update(cid[:15], {"Title": "CTO"}) == 204  # 15-char ids work too
    rec = sf.Contact.get(cid, params={"fields": "Title,LastModifiedDate,SystemModstamp"})
    assert rec["Title"] == "CTO" and rec["SystemModstamp"] == "2024-05-15T12:05:00.000+0000"
    assert set(rec) == {"attributes", "Title", "LastModifiedDate", "SystemModstamp"}
    assert sf.Contact.delete(cid) == 204
    for call in (lambda: sf.Contact.delete(cid), lambda: sf.Contact.update(cid, {"Title": "x"})):
        with pytest.raises(SalesforceResourceNotFound) as exc:
            call()
        assert exc.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Contact.get("003000000000000AAA")
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("sobject", "body", "code"),
    [
        ("Contact", {"FirstName": "No last name"}, "REQUIRED_FIELD_MISSING"),
        ("Contact", {"LastName": "X", "Shoe__c": 1}, "INVALID_FIELD"),
        ("Task", {"Subject": "x", "IsClosed": True}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        (
            "Contact",
            {"LastName": "X", "SystemModstamp": "2024-01-01T00:00:00Z"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
        ),
        ("Contact", {"LastName": "X", "AccountId": "nope"}, "MALFORMED_ID"),
        ("Contact", {"LastName": "X" * 81}, "STRING_TOO_LONG"),
        ("Contact", {"LastName": "X", "Birthdate": "yesterday"}, "JSON_PARSER_ERROR"),
        (
            "Event",
            {
                "Subject": "x",
                "IsPrivate": "maybe",
                "StartDateTime": "2024-05-01T10:00:00Z",
                "DurationInMinutes": 30,
            },
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
        ),
        (
            "Event",
            {"Subject": "no end", "StartDateTime": "2024-05-01T10:00:00Z"},
            "REQUIRED_FIELD_MISSING",
        ),
    ],
)
def test_it_validates_with_salesforce_error_codes(org, sobject, body, code):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        getattr(org.sf(), sobject).create(body)
    assert exc.value.content[0]["errorCode"] == code


def test_it_derives_task_and_event_fields(org):
    sf = org.sf()
    tid = sf.Task.create({"Subject": "Call"})["id"]
    task = sf.Task.get(tid)
    assert (task["Status"], task["IsClosed"], task["Priority"]) == ("Not Started", False, "Normal")
    sf.Task.update(tid, {"Status": "Completed"})
    assert sf.Task.get(tid)["IsClosed"] is True
    eid = sf.Event.create(
        {
            "Subject": "Sync",
            "StartDateTime": "2024-05-20T09:00:00Z",
            "EndDateTime": "2024-05-20T10:30:00Z",
        }
    )["id"]
    assert sf.Event.get(eid)["DurationInMinutes"] == 90
    sf.Event.update(eid, {"StartDateTime": "2024-05-20T11:00:00Z"})
    event = sf.Event.get(eid)
    assert (
        event["EndDateTime"] == "2024-05-20T12:30:00.000+0000"
        and event["ActivityDate"] == "2024-05-20"
    )
    day = sf.Event.create(
        {"Subject": "Offsite", "IsAllDayEvent": True, "ActivityDate": "2024-06-01"}
    )
    allday = sf.Event.get(day["id"])
    assert allday["DurationInMinutes"] == 1440 and allday["StartDateTime"].startswith(
        "2024-06-01T00:00"
    )


def test_it_links_email_messages_and_files(org):
    sf = org.sf()
    cid = sf.Contact.create({"LastName": "Ng", "Email": "kim@ng.example"})["id"]
    mid = sf.EmailMessage.create(
        {
            "Subject": "Hi",
            "TextBody": "Hello",
            "ToIds": [cid],
            "FromAddress": "alice@acme.example",
            "Status": "3",
        }
    )["id"]
    rels = sf.query(
        f"SELECT RelationId, RelationType FROM EmailMessageRelation WHERE EmailMessageId = '{mid}'"
    )
    assert {(r["RelationId"], r["RelationType"]) for r in rels["records"]} == {
        (cid, "ToAddress"),
        (None, "FromAddress"),
    }
    task = sf.query(f"SELECT Id FROM Task WHERE TaskSubtype = 'Email' AND WhoId = '{cid}'")
    assert task["totalSize"] == 1
    data = base64.b64encode(b"%PDF-1.4 hello").decode()
    vid = sf.ContentVersion.create(
        {"PathOnClient": "quote.pdf", "VersionData": data, "FirstPublishLocationId": mid}
    )["id"]
    version = sf.ContentVersion.get(vid)
    assert version["ContentDocumentId"].startswith("069") and version["Title"] == "quote"
    links = sf.query(
        "SELECT LinkedEntityId FROM ContentDocumentLink "
        f"WHERE ContentDocumentId = '{version['ContentDocumentId']}'"
    )
    assert links["records"][0]["LinkedEntityId"] == mid
    org.emu.enhanced_email = False
    with pytest.raises(SalesforceResourceNotFound):
        sf.EmailMessage.describe()
    with pytest.raises(SalesforceResourceNotFound):
        sf.EmailMessage.create({"Subject": "x"})


def test_it_reports_updated_and_deleted_with_the_replication_rules(org):
    sf = org.sf()
    keep = sf.Contact.create({"LastName": "Keep"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    org.emu.advance(minutes=2)
    sf.Contact.delete(gone)
    org.emu.advance(minutes=2)
    start, end = NOW - timedelta(minutes=1), NOW + timedelta(minutes=3, seconds=45)
    updated = sf.Contact.updated(start, end)
    assert (
        updated["ids"] == [keep] and updated["latestDateCovered"] == "2024-05-15T12:03:00.000+0000"
    )
    deleted = sf.Contact.deleted(start, end)
    assert deleted["deletedRecords"] == [
        {"id": gone, "deletedDate": "2024-05-15T12:02:00.000+0000"}
    ]
    assert "earliestDateAvailable" in deleted
    for bad in ((end, start), (NOW - timedelta(days=31), NOW)):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Contact.updated(*bad)
        assert exc.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_it_merges_contacts_leaving_master_record_id_on_the_losers(org):
    master, loser = (org.emu.create("Contact", {"LastName": n}) for n in ("Master", "Loser"))
    tid = org.emu.create("Task", {"Subject": "t", "WhoId": loser})
    org.emu.merge_contacts(master, [loser])
    rows = org.sf().query_all(
        f"SELECT Id, IsDeleted, MasterRecordId FROM Contact WHERE Id = '{loser}'",
        include_deleted=True,
    )["records"]
    assert rows[0]["IsDeleted"] is True and rows[0]["MasterRecordId"] == master
    assert org.emu.get(tid)["WhoId"] == master
