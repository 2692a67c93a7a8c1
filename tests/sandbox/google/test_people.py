"""People API through google-api-python-client over HTTPS."""

import pytest
from googleapiclient.errors import HttpError

from sandbox.google import GoogleEmulator

from .conftest import ALICE


def _sync(people, token=None):
    """Walk every page; return (connections, nextSyncToken)."""
    seen, page = [], None
    while True:
        kwargs = dict(
            resourceName="people/me",
            personFields="names,emailAddresses,memberships",
            pageSize=2,
            requestSyncToken=True,
        )
        if token:
            kwargs["syncToken"] = token
        if page:
            kwargs["pageToken"] = page
        resp = people.people().connections().list(**kwargs).execute()
        seen += resp.get("connections", [])
        page = resp.get("nextPageToken")
        if not page:
            assert "nextSyncToken" in resp
            return seen, resp["nextSyncToken"]
        assert "nextSyncToken" not in resp  # last page only


def test_it_runs_sync_token_rounds_with_adds_updates_and_deletes(google, api):
    people = api("people", "v1")
    a = google.app.create_contact(ALICE, {"names": [{"givenName": "Ada", "familyName": "L"}]})
    b = google.app.create_contact(ALICE, {"names": [{"givenName": "Bob"}]})
    google.app.create_contact(ALICE, {"names": [{"givenName": "Cy"}]})
    full, token = _sync(people)
    assert len(full) == 3
    assert full[0]["names"][0]["displayName"] == "Ada L"

    # No change → empty delta, still a fresh token.
    delta, token = _sync(people, token)
    assert delta == []

    created = (
        people.people()
        .createContact(
            body={"names": [{"givenName": "Dee"}], "emailAddresses": [{"value": "dee@x.example"}]},
            personFields="names",
        )
        .execute()
    )
    google.app.update_contact(
        ALICE, a["resourceName"], {"names": [{"givenName": "Ada", "familyName": "K"}]}
    )
    google.app.delete_contact(ALICE, b["resourceName"])
    delta, token = _sync(people, token)
    by_name = {p["resourceName"]: p for p in delta}
    assert set(by_name) == {created["resourceName"], a["resourceName"], b["resourceName"]}
    assert by_name[b["resourceName"]]["metadata"]["deleted"] is True
    assert by_name[a["resourceName"]]["names"][0]["familyName"] == "K"
    assert _sync(people, token)[0] == []


def test_it_refuses_an_expired_sync_token_with_400_expired_sync_token(google, api):
    people = api("people", "v1")
    _, token = _sync(people)
    google.app.expire_sync_tokens(ALICE)
    with pytest.raises(HttpError) as exc:
        _sync(people, token)
    assert exc.value.resp.status == 400
    assert exc.value.error_details[0]["reason"] == "EXPIRED_SYNC_TOKEN"
    assert "Sync token is expired" in exc.value.reason


def test_it_requires_person_fields_and_the_same_params_with_a_sync_token(google, api):
    people = api("people", "v1")
    with pytest.raises(HttpError) as exc:
        people.people().connections().list(resourceName="people/me").execute()
    assert exc.value.resp.status == 400
    _, token = _sync(people)
    with pytest.raises(HttpError):
        people.people().connections().list(
            resourceName="people/me", personFields="names", syncToken=token, requestSyncToken=True
        ).execute()


def test_it_rejects_update_contact_with_a_stale_etag(google, api):
    people = api("people", "v1")
    p = people.people().createContact(body={"names": [{"givenName": "Eve"}]}).execute()
    upd = (
        people.people()
        .updateContact(
            resourceName=p["resourceName"],
            updatePersonFields="names,clientData",
            body={
                "etag": p["etag"],
                "names": [{"givenName": "Eva"}],
                "clientData": [{"key": "sfid", "value": "003000000000001"}],
            },
        )
        .execute()
    )
    assert upd["names"][0]["givenName"] == "Eva"
    assert upd["clientData"][0]["value"] == "003000000000001"
    assert upd["etag"] != p["etag"]
    with pytest.raises(HttpError) as exc:
        people.people().updateContact(
            resourceName=p["resourceName"],
            updatePersonFields="names",
            body={"etag": p["etag"], "names": [{"givenName": "Old"}]},
        ).execute()
    assert exc.value.resp.status == 400
    assert "FAILED_PRECONDITION" in exc.value.content.decode()
    with pytest.raises(HttpError) as exc:  # no etag at all
        people.people().updateContact(
            resourceName=p["resourceName"], updatePersonFields="names", body={"names": []}
        ).execute()
    assert exc.value.resp.status == 400


def test_it_batch_creates_updates_deletes_within_limits(google, api):
    people = api("people", "v1")
    group = (
        people.contactGroups()
        .create(body={"contactGroup": {"name": "Salesforce Contacts"}})
        .execute()
    )
    contacts = [
        {
            "contactPerson": {
                "names": [{"givenName": f"P{i}"}],
                "memberships": [
                    {"contactGroupMembership": {"contactGroupResourceName": group["resourceName"]}}
                ],
            }
        }
        for i in range(200)
    ]
    made = (
        people.people()
        .batchCreateContacts(body={"contacts": contacts, "readMask": "names,memberships"})
        .execute()
    )
    assert len(made["createdPeople"]) == 200
    first = made["createdPeople"][0]["person"]
    groups = {m["contactGroupMembership"]["contactGroupResourceName"] for m in first["memberships"]}
    assert groups == {group["resourceName"], "contactGroups/myContacts"}
    with pytest.raises(HttpError) as exc:
        people.people().batchCreateContacts(
            body={"contacts": contacts + contacts[:1], "readMask": "names"}
        ).execute()
    assert exc.value.resp.status == 400

    rn = first["resourceName"]
    out = (
        people.people()
        .batchUpdateContacts(
            body={
                "contacts": {rn: {"etag": first["etag"], "names": [{"givenName": "Renamed"}]}},
                "updateMask": "names",
                "readMask": "names",
            }
        )
        .execute()
    )
    assert out["updateResult"][rn]["person"]["names"][0]["givenName"] == "Renamed"
    names = [c["person"]["resourceName"] for c in made["createdPeople"][:5]]
    people.people().batchDeleteContacts(body={"resourceNames": names}).execute()
    with pytest.raises(HttpError) as exc:
        people.people().get(resourceName=names[0], personFields="names").execute()
    assert exc.value.resp.status == 404
    with pytest.raises(HttpError):
        people.people().batchDeleteContacts(body={"resourceNames": ["people/c1"] * 501}).execute()


def test_it_manages_contact_groups_and_membership_shows_in_sync(google, api):
    people = api("people", "v1")
    c = google.app.create_contact(ALICE, {"names": [{"givenName": "Gus"}]})
    group = (
        people.contactGroups()
        .create(body={"contactGroup": {"name": "Salesforce Contacts"}})
        .execute()
    )
    with pytest.raises(HttpError) as exc:
        people.contactGroups().create(
            body={"contactGroup": {"name": "Salesforce Contacts"}}
        ).execute()
    assert exc.value.resp.status == 409
    listed = people.contactGroups().list().execute()["contactGroups"]
    assert "Salesforce Contacts" in [g["name"] for g in listed]
    _, token = _sync(people)

    gid = group["resourceName"].split("/")[1]
    people.contactGroups().members().modify(
        resourceName=group["resourceName"], body={"resourceNamesToAdd": [c["resourceName"]]}
    ).execute()
    got = people.contactGroups().get(resourceName=group["resourceName"], maxMembers=10).execute()
    assert got["memberResourceNames"] == [c["resourceName"]] and got["memberCount"] == 1
    delta, token = _sync(people, token)
    assert [p["resourceName"] for p in delta] == [c["resourceName"]]
    assert gid in str(delta[0]["memberships"])

    google.app.modify_group(ALICE, group["resourceName"], remove=[c["resourceName"]])
    delta, token = _sync(people, token)
    assert gid not in str(delta[0]["memberships"])
    with pytest.raises(HttpError) as exc:
        people.contactGroups().members().modify(
            resourceName=group["resourceName"], body={"resourceNamesToAdd": ["people/c1"] * 1001}
        ).execute()
    assert exc.value.resp.status == 400


def test_it_answers_a_long_get_sent_as_post_with_a_method_override(google, api):
    """The client turns a GET whose URI passes 2,048 characters into a POST carrying
    `X-HTTP-Method-Override: GET` and the query as a form body, as Google accepts."""
    people = api("people", "v1")
    names = [
        google.app.create_contact(ALICE, {"names": [{"givenName": f"Person {i}"}]})["resourceName"]
        for i in range(150)
    ]
    request = people.people().getBatchGet(resourceNames=names, personFields="names")
    assert request.method == "GET" and len(request.uri) > 2048
    found = request.execute()
    assert [r["person"]["resourceName"] for r in found["responses"]] == names
    assert google.app.calls[-1].method == "GET"


def test_it_refuses_contacts_past_the_account_limit(google, api):
    """Google accounts hold at most 25,000 contacts; a batch that would pass the limit is
    refused whole (lowered here so the test stays small)."""
    google.app.max_contacts_per_account = 3
    people = api("people", "v1").people()

    def create(n):
        body = {
            "contacts": [{"contactPerson": {"names": [{"givenName": f"P{i}"}]}} for i in range(n)],
            "readMask": "names",
        }
        return people.batchCreateContacts(body=body).execute()

    assert len(create(2)["createdPeople"]) == 2
    with pytest.raises(HttpError) as exc:
        create(2)
    assert exc.value.resp.status == 400
    assert len(google.app.contacts(ALICE)) == 2
    assert len(create(1)["createdPeople"]) == 1
    assert GoogleEmulator.max_contacts_per_account == 25_000
