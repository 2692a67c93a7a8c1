"""Contact folders, contacts through O365, extended properties, per-folder delta."""

import pytest
import requests

from .conftest import ANN

SFID = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name SfId"


def test_it_creates_folders_and_contacts_through_o365(graph, account, api):
    acct, _ = account
    book = acct.address_book()
    folder = book.create_child_folder("Salesforce Contacts")
    assert book.get_folder(folder_name="Salesforce Contacts").folder_id == folder.folder_id
    contact = folder.new_contact()
    # O365 2.1.10 bug: new_contact sets a name-mangled attribute of the wrong class, so save()
    # would POST to /me/contacts (the default folder). Set the one Contact.save() reads.
    contact._Contact__folder_id = folder.folder_id
    contact.name, contact.surname = "Maria", "Garcia"
    contact.emails.add("maria@northwind.example")
    contact.categories = ["Salesforce"]
    assert contact.save()
    [stored] = graph.app.contacts_in(ANN, folder.folder_id)
    assert stored["displayName"] == "Maria Garcia" and stored["parentFolderId"] == folder.folder_id
    with pytest.raises(requests.HTTPError) as dup:
        api.post("me/contactFolders", {"displayName": "salesforce contacts"})
    assert dup.value.response.status_code == 409
    assert graph.app.contacts_in(ANN) == []  # the default folder is separate


def test_it_stores_and_filters_single_value_extended_properties(api):
    folder = api.post("me/contactFolders", {"displayName": "SF"})
    made = api.post(
        f"me/contactFolders/{folder['id']}/contacts",
        {"givenName": "Wei", "singleValueExtendedProperties": [{"id": SFID, "value": "003A"}]},
    )
    assert "singleValueExtendedProperties" not in made
    expand = f"singleValueExtendedProperties($filter=id eq '{SFID}')"
    got = api.get(f"me/contacts/{made['id']}", **{"$expand": expand})
    assert got["singleValueExtendedProperties"] == [{"id": SFID, "value": "003A"}]
    api.post(f"me/contactFolders/{folder['id']}/contacts", {"givenName": "Other"})
    flt = f"singleValueExtendedProperties/Any(ep: ep/id eq '{SFID}' and ep/value eq '003A')"
    found = api.get(f"me/contactFolders/{folder['id']}/contacts", **{"$filter": flt})
    assert [c["id"] for c in found["value"]] == [made["id"]]


def test_it_runs_delta_rounds_with_adds_updates_deletes_and_moves(graph, api):
    app = graph.app
    folder = app.create_contact_folder(ANN, "Salesforce Contacts")
    other = app.create_contact_folder(ANN, "Elsewhere")
    made = [app.create_contact(ANN, {"givenName": f"P{i}"}, folder["id"]) for i in range(5)]
    path = f"me/contactFolders/{folder['id']}/contacts/delta"
    small = {"Prefer": "odata.maxpagesize=2"}
    first = api.get(path, headers=small, **{"$select": "givenName"})
    assert len(first["value"]) == 2 and first["@odata.nextLink"].startswith(graph.base_url)
    assert set(first["value"][0]) == {"id", "givenName"}
    rows, link = api.rounds(path, headers=small, **{"$select": "givenName"})
    assert len(rows) == 5 and "$deltatoken=" in link and link.startswith("https://127.0.0.1")

    app.update_contact(ANN, made[0]["id"], {"givenName": "Changed"})
    app.delete_contact(ANN, made[1]["id"])
    moved = app.move_contact(ANN, made[2]["id"], other["id"])
    added = app.create_contact(ANN, {"givenName": "New"}, folder["id"])
    page = api.get(link)
    assert "@odata.deltaLink" in page
    by_id = {r["id"]: r for r in page["value"]}
    assert by_id[made[0]["id"]] == {"id": made[0]["id"], "givenName": "Changed"}
    assert by_id[made[1]["id"]]["@removed"] == {"reason": "deleted"}
    assert by_id[made[2]["id"]]["@removed"] == {"reason": "changed"}
    assert by_id[added["id"]]["givenName"] == "New" and len(by_id) == 4
    assert moved["id"] != made[2]["id"]  # Exchange ids change across folders
    other_rows, _ = api.rounds(f"me/contactFolders/{other['id']}/contacts/delta")
    assert [r["givenName"] for r in other_rows] == ["P2"]
    # Nothing new: an empty page that still carries a deltaLink.
    assert api.get(page["@odata.deltaLink"])["value"] == []


def test_it_answers_410_sync_state_not_found_for_expired_delta_tokens(graph, api):
    folder = graph.app.create_contact_folder(ANN, "SF")
    _, link = api.rounds(f"me/contactFolders/{folder['id']}/contacts/delta")
    graph.app.expire_delta_tokens(ANN)
    with pytest.raises(requests.HTTPError) as err:
        api.get(link)
    assert err.value.response.status_code == 410
    assert err.value.response.json()["error"]["code"] == "syncStateNotFound"


def test_it_pages_plain_lists_with_absolute_next_links(graph, api, account):
    for i in range(15):
        graph.app.create_contact(ANN, {"givenName": f"C{i:02}"})
    page = api.get("me/contacts")
    assert len(page["value"]) == 10 and page["@odata.nextLink"].startswith(graph.base_url)
    assert len(api.get(page["@odata.nextLink"])["value"]) == 5
    acct, _ = account
    assert len(list(acct.address_book().get_contacts(limit=None, batch=4))) == 15
