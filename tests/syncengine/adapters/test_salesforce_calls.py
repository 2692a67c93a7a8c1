"""List views, reads by id, sObject Collections writes, and error mapping."""

import pytest
import requests
from simple_salesforce import Salesforce

from accounts.providers.errors import ProviderError, ReconnectRequired, TemporaryProviderError
from syncengine.salesforce.adapter import SalesforceAdapter


def contact(org, last, owner=None, **fields):
    return org.emu.create("Contact", {"LastName": last, **fields}, owner or org.user_id)


# -- list views ---------------------------------------------------------------------------


def test_it_lists_contact_views(org):
    acme = org.emu.add_list_view("Acme people", "AcmePeople", where="Email LIKE '%@acme.example'")
    views = org.adapter().list_contact_views()
    assert (acme, "Acme people") in views
    assert {label for _, label in views} >= {"All Contacts", "My Contacts"}


def test_it_reads_view_members_as_salesforce_evaluates_the_view(org):
    bob = org.emu.add_user("bob@acme.example", "Brown", "Bob")
    a = contact(org, "A", Email="a@acme.example")
    b = contact(org, "B", owner=bob, Email="b@acme.example")
    contact(org, "C", Email="c@other.example")
    acme = org.emu.add_list_view("Acme", "Acme", where="Email LIKE '%@acme.example'")
    mine = next(i for i, label in org.adapter().list_contact_views() if label == "My Contacts")
    adapter = org.adapter()
    org.emu.clear_calls()

    assert adapter.contact_view_member_ids(acme) == {a, b}
    assert adapter.contact_view_member_ids(mine) == {
        r["Id"] for r in org.emu.query(f"SELECT Id FROM Contact WHERE OwnerId = '{org.user_id}'")
    }
    assert org.emu.call_count() == 4  # describe + query, twice
    # The query ran with the described filter but only Id selected.
    query_paths = [c.path for c in org.emu.calls if "/query" in c.path]
    assert all("SELECT+Id+FROM+Contact" in p for p in query_paths)


def test_it_pages_a_large_view(org):
    for i in range(2500):
        org.emu.create("Contact", {"LastName": f"C{i}"}, org.user_id)
    all_view = next(i for i, label in org.adapter().list_contact_views() if label == "All Contacts")
    adapter = org.adapter()
    assert len(adapter.contact_view_member_ids(all_view)) == 2500
    assert adapter.api_calls == 3  # describe + query + queryMore


def test_it_says_none_for_a_deleted_view(org):
    view = org.emu.add_list_view("Soon gone", "SoonGone", where="LastName = 'X'")
    org.emu.delete_list_view(view)
    adapter = org.adapter()
    assert adapter.contact_view_member_ids(view) is None
    assert adapter.api_calls == 1


# -- reads by id --------------------------------------------------------------------------


def test_it_fetches_by_ids_with_none_for_deleted_and_unknown(org):
    live, deleted = contact(org, "Live", Email="l@acme.example"), contact(org, "Deleted")
    org.emu.delete(deleted)
    unknown = live[:-6] + "ZZZZZZ"
    adapter = org.adapter()
    found = adapter.fetch_by_ids("Contact", [live, deleted, unknown], ["Id", "Email"])
    assert found == {live: {"Id": live, "Email": "l@acme.example"}, deleted: None, unknown: None}
    assert adapter.api_calls == 1


def test_it_fetches_in_chunks_of_200(org):
    ids = [contact(org, f"C{i}") for i in range(450)]
    adapter = org.adapter()
    found = adapter.fetch_by_ids("Contact", ids)
    assert set(found) == set(ids) and all(found.values())
    assert adapter.api_calls == 3


# -- writes -------------------------------------------------------------------------------


def test_it_creates_450_in_three_calls_with_one_failing_alone(org):
    records = [{"LastName": f"New {i}", "Email": f"n{i}@acme.example"} for i in range(450)]
    records[321] = {"FirstName": "No last name"}
    adapter = org.adapter()
    org.emu.clear_calls()
    results = adapter.create("Contact", records)

    assert org.emu.call_count() == adapter.api_calls == 3
    assert len(results) == 450
    failed = [i for i, r in enumerate(results) if not r.ok]
    assert failed == [321]
    assert results[321].error_code == "REQUIRED_FIELD_MISSING"
    assert "LastName" in results[321].message
    assert all(r.id for i, r in enumerate(results) if i != 321)
    assert org.emu.get(results[0].id)["LastName"] == "New 0"


def test_it_updates_and_reports_a_deleted_record_per_record(org):
    a, b = contact(org, "A"), contact(org, "B")
    org.emu.delete(b)
    results = org.adapter().update("Contact", [{"Id": a, "Title": "CEO"}, {"Id": b, "Title": "X"}])
    assert results[0].ok and results[0].id == a
    assert not results[1].ok and results[1].error_code == "ENTITY_IS_DELETED" and results[1].gone
    assert org.emu.get(a)["Title"] == "CEO"


def test_it_deletes_and_reports_an_already_deleted_record(org):
    a, b = contact(org, "A"), contact(org, "B")
    task = org.emu.create("Task", {"Subject": "T"}, org.user_id)
    org.emu.delete(b)
    adapter = org.adapter()
    results = adapter.delete([a, b, task])
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].gone and results[1].id == b
    assert adapter.api_calls == 1
    assert org.emu.get(a)["IsDeleted"] is True


def test_it_refuses_an_update_without_id(org):
    with pytest.raises(ValueError):
        org.adapter().update("Contact", [{"LastName": "X"}])


# -- errors -------------------------------------------------------------------------------


def test_it_maps_request_limit_exceeded_to_temporary(org):
    org.emu.exhaust_budget()
    with pytest.raises(TemporaryProviderError, match="REQUEST_LIMIT_EXCEEDED"):
        org.adapter().read_changes({})


def test_it_maps_an_injected_503_to_temporary(org):
    org.emu.fail_next(1, 503)
    adapter = org.adapter()
    with pytest.raises(TemporaryProviderError, match="503"):
        adapter.create("Contact", [{"LastName": "X"}])
    assert adapter.api_calls == 1
    assert adapter.create("Contact", [{"LastName": "X"}])[0].ok  # then it works again


def test_it_maps_an_unreachable_org_to_temporary(org):
    session = requests.Session()
    session.trust_env = False
    sf = Salesforce(instance_url="https://127.0.0.1:9", session_id="x", session=session)
    adapter = SalesforceAdapter(lambda fn: fn(sf), org.user_id)
    with pytest.raises(TemporaryProviderError, match="could not be reached"):
        adapter.read_changes({})


def test_it_maps_a_bad_field_to_provider_error_with_salesforce_message(org):
    with pytest.raises(ProviderError, match="Nope__c") as err:
        org.adapter().read_changes({}, fields={"Contact": ["Id", "Nope__c"]})
    assert not isinstance(err.value, TemporaryProviderError)
    assert "INVALID_FIELD" in str(err.value)


def test_it_maps_an_expired_session_to_reconnect(org):
    adapter = org.adapter()
    org.emu.expire_tokens()
    with pytest.raises(ReconnectRequired):
        adapter.read_changes({})


def test_it_lets_the_call_refresh_an_expired_session(org):
    """The production `call` (SalesforceClient.call) retries once with a fresh token."""
    state = {"sf": org.sf()}

    def call(fn):
        from simple_salesforce.exceptions import SalesforceExpiredSession

        try:
            return fn(state["sf"])
        except SalesforceExpiredSession:
            org.token, _ = org.emu.issue_token(org.user_id)
            state["sf"] = org.sf()
            return fn(state["sf"])

    adapter = SalesforceAdapter(call, org.user_id)
    org.emu.expire_tokens()
    assert adapter.read_changes({}).empty
    assert adapter.api_calls == 2  # the refused call and its retry
