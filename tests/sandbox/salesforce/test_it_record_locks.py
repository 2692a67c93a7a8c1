"""Record locking: a write holds its rows and its parents' until its response is made; another
write that needs one waits `lock_wait_s`, then that record fails UNABLE_TO_LOCK_ROW."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandbox.salesforce import SalesforceEmulator

HOLD_S = 0.8  # the latency model's time per call: how long a write holds its rows


@pytest.fixture
def latency(org):
    org.emu.set_latency(base=HOLD_S)
    yield HOLD_S
    org.emu.set_latency()


def _contact(name, account_id=None):
    rec = {"attributes": {"type": "Contact"}, "LastName": name}
    if account_id:
        rec["AccountId"] = account_id
    return rec


def _insert(org, records, all_or_none=False):
    return org.sf().restful(
        "composite/sobjects",
        method="POST",
        json={"allOrNone": all_or_none, "records": records},
    )


def _names(org):
    return sorted(r["LastName"] for r in org.emu.query("SELECT LastName FROM Contact"))


def _wait_until_held(org, row_id, timeout=5.0):
    deadline = time.monotonic() + timeout
    while row_id not in org.emu.row_locks.held():
        assert time.monotonic() < deadline, f"{row_id} never locked"
        time.sleep(0.005)


def _timed(fn, *args):
    started = time.monotonic()
    result = fn(*args)
    return started, time.monotonic(), result


def _locked(result, row_id):
    assert result["success"] is False
    assert result["errors"] == [
        {
            "statusCode": "UNABLE_TO_LOCK_ROW",
            "message": f"unable to obtain exclusive access to this record or 1 records: {row_id}",
            "fields": [],
        }
    ]
    return True


def test_it_waits_for_the_account_another_insert_holds_then_succeeds(org, latency):
    acct = org.emu.create("Account", {"Name": "Globex"})
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_timed, _insert, org, [_contact("A1", acct), _contact("A2", acct)])
        _wait_until_held(org, acct)
        second = pool.submit(_timed, _insert, org, [_contact("B1", acct), _contact("B2", acct)])
        _, a_end, a_results = first.result()
        b_start, b_end, b_results = second.result()
    assert all(r["success"] for r in a_results + b_results)
    # The second was sent while the first held the account, and took its own time only
    # after the first's response: it waited, it was not refused.
    assert b_start < a_end
    assert b_end - a_end >= 0.75 * latency
    assert _names(org) == ["A1", "A2", "B1", "B2"]
    assert not org.emu.lock_refusals
    assert org.emu.row_locks.held() == []


def test_it_refuses_only_the_records_under_the_held_account_when_the_wait_is_too_short(
    org, latency
):
    acct = org.emu.create("Account", {"Name": "Globex"})
    other = org.emu.create("Account", {"Name": "Initech"})
    org.emu.lock_wait_s = 0.2  # shorter than the first call holds its rows
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_insert, org, [_contact("A1", acct)])
        _wait_until_held(org, acct)
        second = pool.submit(
            _insert, org, [_contact("B1", acct), _contact("B2", other), _contact("B3")]
        )
        assert first.result()[0]["success"]
        results = second.result()
    assert _locked(results[0], acct)
    assert [r["success"] for r in results[1:]] == [True, True]
    # Nothing half-written: the refused record is not in the org.
    assert _names(org) == ["A1", "B2", "B3"]
    assert org.emu.lock_refusals == {acct: 1}


def test_a_held_account_refuses_a_patch_of_its_contact_until_the_hold_ends(org):
    acct = org.emu.create("Account", {"Name": "Globex"})
    contact = org.emu.create("Contact", {"LastName": "Ng", "AccountId": acct})
    loner = org.emu.create("Contact", {"LastName": "Solo"})
    org.emu.lock_wait_s = 0.1
    sf = org.sf()
    with org.emu.hold_row_locks([acct]):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Contact.update(contact, {"Title": "VP"})
        assert exc.value.status == 400
        assert exc.value.content == [
            {
                "message": f"unable to obtain exclusive access to this record or 1 records: {acct}",
                "errorCode": "UNABLE_TO_LOCK_ROW",
                "fields": [],
            }
        ]
        results = sf.restful(
            "composite/sobjects",
            method="PATCH",
            json={
                "records": [
                    {"attributes": {"type": "Contact"}, "id": contact, "Title": "VP"},
                    {"attributes": {"type": "Contact"}, "id": loner, "Title": "VP"},
                ]
            },
        )
        assert _locked(results[0], acct)
        assert results[1]["success"]
        assert org.emu.get(contact)["Title"] is None
    assert sf.Contact.update(contact, {"Title": "VP"}) == 204
    assert org.emu.get(contact)["Title"] == "VP"
    assert org.emu.lock_refusals == {acct: 2}


def test_all_or_none_fails_the_whole_collection_and_writes_nothing(org):
    acct = org.emu.create("Account", {"Name": "Globex"})
    org.emu.lock_wait_s = 0.05
    with org.emu.hold_row_locks([acct]):
        results = _insert(org, [_contact("Free"), _contact("Held", acct)], all_or_none=True)
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert _locked(results[1], acct)
    assert _names(org) == []


def test_a_held_record_refuses_its_own_update_and_delete_but_not_its_childrens_delete(org):
    acct = org.emu.create("Account", {"Name": "Globex"})
    contact = org.emu.create("Contact", {"LastName": "Ng", "AccountId": acct})
    org.emu.lock_wait_s = 0.05
    sf = org.sf()
    with org.emu.hold_row_locks([contact]):
        deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": contact})
        assert deleted[0]["id"] == contact
        assert _locked(deleted[0], contact)
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Contact.delete(contact)
        assert exc.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert org.emu.get(contact)["IsDeleted"] is False
    # Deleting a Contact locks the contact only (the cheat sheet's "Any record: Delete").
    with org.emu.hold_row_locks([acct]):
        assert sf.Contact.delete(contact) == 204


def test_activities_lock_their_who_what_and_account(org):
    acct = org.emu.create("Account", {"Name": "Globex"})
    contact = org.emu.create("Contact", {"LastName": "Ng", "AccountId": acct})
    event = org.emu.create(
        "Event",
        {
            "Subject": "Call",
            "WhoId": contact,
            "StartDateTime": "2024-05-16T10:00:00Z",
            "EndDateTime": "2024-05-16T11:00:00Z",
        },
    )
    org.emu.lock_wait_s = 0.05
    sf = org.sf()
    open_task = {"Subject": "Follow up", "WhatId": acct, "ActivityDate": "2024-05-20"}
    with org.emu.hold_row_locks([acct]):
        # The event's WhoId is the contact: its Account (Event.AccountId) is locked too.
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Event.update(event, {"Subject": "Call back"})
        assert acct in exc.value.content[0]["message"]
        with pytest.raises(SalesforceMalformedRequest):
            sf.Task.create(open_task)
        # A completed task (an email logged as a Task) does not lock its parents on insert.
        done = sf.Task.create({**open_task, "Status": "Completed"})
        assert done["success"]
    with org.emu.hold_row_locks([contact]):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Event.delete(event)
        assert contact in exc.value.content[0]["message"]
    assert sf.Task.create(open_task)["success"]
    assert org.emu.lock_refusals == {acct: 2, contact: 1}


def test_a_waiting_write_never_blocks_the_rest_of_the_emulator(org):
    acct = org.emu.create("Account", {"Name": "Globex"})
    org.emu.lock_wait_s = 1.0
    outcome = {}

    def blocked_insert():
        outcome["results"] = _insert(org, [_contact("Late", acct)])

    with org.emu.hold_row_locks([acct]):
        writer = threading.Thread(target=blocked_insert)
        writer.start()
        time.sleep(0.1)  # the insert is now waiting for the account's row
        started = time.monotonic()
        assert org.sf().query("SELECT Id FROM Account")["totalSize"] == 1
        assert time.monotonic() - started < 0.5
        assert _insert(org, [_contact("Elsewhere")])[0]["success"]
    writer.join(5)
    # The hold ended within the wait: the insert got the row and succeeded.
    assert outcome["results"][0]["success"]
    assert _names(org) == ["Elsewhere", "Late"]


def test_locks_are_released_with_the_response_when_the_latency_model_is_off(org):
    acct = org.emu.create("Account", {"Name": "Globex"})
    assert _insert(org, [_contact("A", acct)])[0]["success"]
    assert org.emu.row_locks.held() == []
    with org.emu.hold_row_locks([acct], wait_s=0):
        pass


def test_the_control_route_holds_and_releases_rows(org):
    acct = org.emu.create("Account", {"Name": "Globex"})
    http = org.session()
    url = org.url("/_sandbox/locks")
    state = http.post(url, json={"hold": [acct], "lock_wait_s": 0.05}).json()
    assert state["held"] == [acct] and state["lock_wait_s"] == 0.05
    assert _locked(_insert(org, [_contact("A", acct)])[0], acct)
    assert http.get(url).json()["lock_refusals"] == {acct: 1}
    assert http.delete(url).json()["held"] == []
    assert _insert(org, [_contact("A", acct)])[0]["success"]
    org.emu.reset()
    assert org.emu.lock_wait_s == SalesforceEmulator.lock_wait_s == 10.0
    assert not org.emu.lock_refusals


def test_re_parenting_a_contact_locks_the_account_it_leaves_and_the_one_it_joins(org):
    old = org.emu.create("Account", {"Name": "Globex"})
    new = org.emu.create("Account", {"Name": "Initech"})
    contact = org.emu.create("Contact", {"LastName": "Ng", "AccountId": old})
    org.emu.lock_wait_s = 0.05
    sf = org.sf()
    for held in (old, new):
        with org.emu.hold_row_locks([held]):
            with pytest.raises(SalesforceMalformedRequest) as exc:
                sf.Contact.update(contact, {"AccountId": new})
            assert held in exc.value.content[0]["message"]
    assert org.emu.get(contact)["AccountId"] == old
    assert sf.Contact.update(contact, {"AccountId": new}) == 204
