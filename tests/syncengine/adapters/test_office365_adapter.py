"""Office365Adapter: containers and delta reads against the Graph emulator, through O365."""

from datetime import timedelta

import pytest

from syncengine.mailboxes.base import CONTACTS, EMAILS, EVENTS, TASKS, CursorExpired
from syncengine.mappers.graph import RELAY_APPLICATION, graph_marker, todo_marker

from .conftest_office365 import *  # noqa: F403
from .conftest_office365 import ANN, NOW


def _containers(mb):
    return mb.adapter.ensure_containers({})


def _seed_contacts(mb, folder_id, n):
    return [
        mb.emu.create_contact(
            ANN,
            {
                "givenName": f"C{i:03}",
                "surname": "Seed",
                "emailAddresses": [{"address": f"c{i}@x.example"}],
            },
            folder_id,
        )
        for i in range(n)
    ]


# -- containers ---------------------------------------------------------------------------


def test_it_creates_the_containers_once_and_trusts_stored_ids(mailbox):
    first = mailbox.adapter.ensure_containers({})
    assert {r: (c.name, c.created) for r, c in first.items()} == {
        CONTACTS: ("Salesforce Contacts", True),
        TASKS: ("Salesforce Tasks", True),
        EVENTS: ("Salesforce", True),
        EMAILS: ("Salesforce Emails", True),
    }
    assert mailbox.adapter.api_calls == 2  # one $batch of lookups, one of creates

    again = mailbox.adapter.ensure_containers({})
    assert {r: c.external_id for r, c in again.items()} == {
        r: c.external_id for r, c in first.items()
    }
    assert not any(c.created for c in again.values())
    assert mailbox.adapter.api_calls == 3  # lookups only

    stored = mailbox.adapter.ensure_containers({r: c.external_id for r, c in first.items()})
    assert stored == {r: c.__class__(r, c.external_id, c.name) for r, c in first.items()}
    assert mailbox.adapter.api_calls == 3  # stored ids cost nothing
    box = mailbox.emu.mailboxes[ANN]
    assert len(box.contact_folders) == 1 and len(box.categories) == 1
    assert [t["displayName"] for t in box.todo_lists.values()] == ["Tasks", "Salesforce Tasks"]


def test_it_finds_containers_the_user_already_has_by_name(mailbox):
    emu = mailbox.emu
    folder = emu.create_contact_folder(ANN, "Salesforce Contacts")
    todo = emu.create_todo_list(ANN, "Salesforce Tasks")
    category = emu.create_category(ANN, "salesforce", "preset3")  # names are case-blind
    mail = emu.create_mail_folder(ANN, "Salesforce Emails")
    found = mailbox.adapter.ensure_containers({})
    assert {r: (c.external_id, c.created) for r, c in found.items()} == {
        CONTACTS: (folder["id"], False),
        TASKS: (todo["id"], False),
        EVENTS: (category["id"], False),
        EMAILS: (mail["id"], False),
    }
    assert mailbox.adapter.api_calls == 1


def test_it_finds_a_category_created_meanwhile_after_a_409(mailbox):
    adapter = mailbox.adapter
    real_find = adapter._find
    calls = []

    def blind_first(roles):  # another session creates the category between lookup and POST
        calls.append(list(roles))
        if len(calls) == 1:
            mailbox.emu.create_category(ANN, "Salesforce")
            return {}
        return real_find(roles)

    adapter._find = blind_first
    found = adapter.ensure_containers({CONTACTS: "f", TASKS: "t", EMAILS: "m"})
    assert calls == [[EVENTS], [EVENTS]]
    assert not found[EVENTS].created
    assert len(mailbox.emu.mailboxes[ANN].categories) == 1


def test_it_finds_or_recreates_a_folder_the_user_deleted(mailbox):
    containers = _containers(mailbox)
    old = containers[CONTACTS].external_id
    _seed_contacts(mailbox, old, 3)
    first = mailbox.adapter.read_changes("contact", None, containers)
    mailbox.adapter.account.con.delete(f"{mailbox.adapter.http.root}/me/contactFolders/{old}")
    again = mailbox.adapter.read_changes("contact", first.cursor, containers)
    assert again.full and again.items == [] and again.cursor
    new = mailbox.adapter.containers[CONTACTS]
    assert new.external_id != old and new.created
    # Later calls that still pass the stale ref use the new folder.
    mailbox.adapter.create("contact", [{"givenName": "New"}], containers)
    assert [c["givenName"] for c in mailbox.emu.contacts_in(ANN, new.external_id)] == ["New"]


# -- contacts delta -----------------------------------------------------------------------


def test_it_reads_450_contacts_then_adds_updates_deletes_and_moves(mailbox):
    containers = _containers(mailbox)
    folder = containers[CONTACTS].external_id
    seeded = _seed_contacts(mailbox, folder, 450)
    mailbox.emu.create_contact(ANN, {"givenName": "Elsewhere"})  # default folder: not ours
    before = mailbox.adapter.api_calls

    first = mailbox.adapter.read_changes("contact", None, containers)
    assert mailbox.adapter.api_calls - before == 3  # ⌈450/200⌉ pages
    assert first.full and len(first.items) == 450 and first.removed_ids == []
    assert {c["id"] for c in first.items} == {c["id"] for c in seeded}
    assert "$deltatoken=" in first.cursor

    emu = mailbox.emu
    added = [emu.create_contact(ANN, {"givenName": f"New{i}"}, folder) for i in range(2)]
    for c in seeded[:3]:
        emu.update_contact(ANN, c["id"], {"jobTitle": "CFO"})
    for c in seeded[3:5]:
        emu.delete_contact(ANN, c["id"])
    emu.move_contact(ANN, seeded[5]["id"], None)  # dragged out to the default folder
    before = mailbox.adapter.api_calls

    second = mailbox.adapter.read_changes("contacts", first.cursor, containers)
    assert mailbox.adapter.api_calls - before == 1
    assert not second.full
    assert {c["id"] for c in second.items} == {c["id"] for c in added + seeded[:3]}
    assert all(c["jobTitle"] == "CFO" for c in second.items if c["id"] in {s["id"] for s in seeded})
    assert set(second.removed_ids) == {c["id"] for c in seeded[3:6]}

    third = mailbox.adapter.read_changes("contact", second.cursor, containers)
    assert third.items == [] and third.removed_ids == [] and not third.full


def test_it_brings_the_marker_with_fetch_not_with_the_delta(mailbox):
    containers = _containers(mailbox)
    created = mailbox.adapter.create(
        "contact",
        [{"givenName": "Marked", "singleValueExtendedProperties": [graph_marker("003A")]}],
        containers,
    )[0]
    read = mailbox.adapter.read_changes("contact", None, containers)
    assert "singleValueExtendedProperties" not in read.items[0]  # delta has no $expand
    fetched = mailbox.adapter.fetch("contact", [created.id, "AAMkAgone="])
    assert fetched[created.id]["singleValueExtendedProperties"] == [graph_marker("003A")]
    assert fetched["AAMkAgone="] is None


# -- all feeds at once --------------------------------------------------------------------


def _all_cursors(mb, containers):
    first = mb.adapter.read_all_changes(
        {"contact": None, "task": None, "event": None, "email": None}, containers
    )
    return {t: c.cursor for t, c in first.items()}, first


def test_an_idle_session_costs_one_http_call(mailbox):
    containers = _containers(mailbox)
    _seed_contacts(mailbox, containers[CONTACTS].external_id, 5)
    mailbox.emu.create_task(ANN, containers[TASKS].external_id, {"title": "Call Bob"})
    mailbox.emu.create_event(
        ANN,
        {
            "subject": "Demo",
            "start": {"dateTime": "2024-05-16T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2024-05-16T10:00:00", "timeZone": "UTC"},
        },
    )
    cursors, first = _all_cursors(mailbox, containers)
    assert [len(first[t].items) for t in ("contact", "task", "event", "email")] == [5, 1, 1, 0]
    assert mailbox.adapter.api_calls == 2 + 1  # containers, then one $batch of four GETs

    mailbox.emu.clear_calls()
    before = mailbox.adapter.api_calls
    idle = mailbox.adapter.read_all_changes(cursors, containers)
    assert mailbox.emu.call_count() == 1 and mailbox.adapter.api_calls - before == 1
    assert mailbox.emu.calls[0].path == "/v1.0/$batch" and mailbox.emu.calls[0].units == 4
    assert all(c.items == [] and c.removed_ids == [] and not c.full for c in idle.values())
    assert all(idle[t].cursor for t in cursors)


def test_it_pages_several_feeds_in_batches_until_each_is_done(mailbox):
    containers = _containers(mailbox)
    mailbox.adapter.page_size = 2
    _seed_contacts(mailbox, containers[CONTACTS].external_id, 5)  # 3 pages
    for i in range(3):  # 2 pages
        mailbox.emu.create_task(ANN, containers[TASKS].external_id, {"title": f"T{i}"})
    before = mailbox.adapter.api_calls
    read = mailbox.adapter.read_all_changes({"contact": None, "task": None}, containers)
    assert len(read["contact"].items) == 5 and len(read["task"].items) == 3
    # Round 1: both feeds in one $batch; round 2: both again; round 3: contacts alone (GET).
    assert mailbox.adapter.api_calls - before == 3


def test_an_expired_delta_link_is_read_again_in_full_and_nothing_is_lost(mailbox):
    containers = _containers(mailbox)
    seeded = _seed_contacts(mailbox, containers[CONTACTS].external_id, 4)
    cursors, _ = _all_cursors(mailbox, containers)
    mailbox.emu.update_contact(ANN, seeded[0]["id"], {"jobTitle": "VP"})
    mailbox.emu.create_task(ANN, containers[TASKS].external_id, {"title": "New"})
    mailbox.emu.expire_delta_tokens(ANN)

    with pytest.raises(CursorExpired):
        mailbox.adapter.read_changes("contact", cursors["contact"], containers)

    read = mailbox.adapter.read_all_changes(cursors, containers)
    assert read["contact"].full and len(read["contact"].items) == 4
    assert {c["jobTitle"] for c in read["contact"].items if c["id"] == seeded[0]["id"]} == {"VP"}
    assert read["task"].full and [t["title"] for t in read["task"].items] == ["New"]
    after = mailbox.adapter.read_all_changes({t: c.cursor for t, c in read.items()}, containers)
    assert all(not c.full and c.items == [] for c in after.values())


# -- calendar -----------------------------------------------------------------------------


def _event(subject, start, end, **extra):
    return {
        "subject": subject,
        "start": {"dateTime": start, "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": end, "timeZone": "W. Europe Standard Time"},
        **extra,
    }


def test_it_reads_the_calendar_window_with_occurrences_and_all_day_events(mailbox):
    emu = mailbox.emu
    containers = _containers(mailbox)
    single = emu.create_event(ANN, _event("Single", "2024-05-20T10:00:00", "2024-05-20T11:00:00"))
    fair = emu.create_event(
        ANN,
        _event("Trade fair", "2024-05-22T00:00:00", "2024-05-24T00:00:00", isAllDay=True),
    )
    series = emu.create_event(
        ANN,
        _event(
            "Standup",
            "2024-05-13T09:00:00",
            "2024-05-13T09:15:00",
            recurrence={
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                "range": {"type": "numbered", "startDate": "2024-05-13", "numberOfOccurrences": 4},
            },
        ),
    )
    emu.create_event(ANN, _event("Too old", "2024-04-01T10:00:00", "2024-04-01T11:00:00"))
    emu.create_event(ANN, _event("Too far", "2024-07-20T10:00:00", "2024-07-20T11:00:00"))

    read = mailbox.adapter.read_changes("event", None, containers)
    request = emu.calls[-1].path
    assert "startDateTime=2024-05-01T12:00:00Z" in request
    assert "endDateTime=2024-07-14T12:00:00Z" in request
    by_subject = {}
    for item in read.items:
        by_subject.setdefault(item["subject"], []).append(item)
    assert sorted(by_subject) == ["Single", "Standup", "Trade fair"]
    assert by_subject["Single"][0]["id"] == single["id"]
    occurrences = by_subject["Standup"]
    assert len(occurrences) == 4 and {o["seriesMasterId"] for o in occurrences} == {series["id"]}
    assert {o["type"] for o in occurrences} == {"occurrence"}
    all_day = by_subject["Trade fair"][0]
    assert all_day["id"] == fair["id"] and all_day["isAllDay"]
    # In the user's zone (Prefer: outlook.timezone), an all-day event is midnight to midnight.
    assert all_day["start"] == {
        "dateTime": "2024-05-22T00:00:00.0000000",
        "timeZone": "W. Europe Standard Time",
    }
    assert single["id"] and read.cursor.split("#")[1] == "window=2024-05-01T12:00:00Z"

    moved = emu.update_event(ANN, occurrences[1]["id"], {"subject": "Standup (moved)"})
    again = mailbox.adapter.read_changes("event", read.cursor, containers)
    assert not again.full and [i["id"] for i in again.items] == [moved["id"]]


def test_it_starts_a_new_calendar_round_once_the_window_has_slid(mailbox):
    emu = mailbox.emu
    containers = _containers(mailbox)
    emu.create_event(ANN, _event("Soon", "2024-05-20T10:00:00", "2024-05-20T11:00:00"))
    late = emu.create_event(ANN, _event("Late", "2024-07-15T10:00:00", "2024-07-15T11:00:00"))
    first = mailbox.adapter.read_changes("event", None, containers)
    assert [i["subject"] for i in first.items] == ["Soon"]

    emu.set_clock(NOW + timedelta(hours=12))  # still inside the rebase margin
    same = mailbox.adapter.read_changes("event", first.cursor, containers)
    assert not same.full and same.items == []

    emu.set_clock(NOW + timedelta(days=2))
    slid = mailbox.adapter.read_changes("event", same.cursor, containers)
    assert slid.full and {i["id"] for i in slid.items} >= {late["id"]}
    assert slid.cursor.endswith("#window=2024-05-03T12:00:00Z")


# -- To Do ----------------------------------------------------------------------------------


def test_it_reads_tasks_with_their_linked_resources_in_every_round(mailbox):
    emu = mailbox.emu
    containers = _containers(mailbox)
    list_id = containers[TASKS].external_id
    marker = todo_marker("00T1", "https://acme.my.salesforce.com")
    task = emu.create_task(ANN, list_id, {"title": "Follow up", "linkedResources": [marker]})
    emu.create_task(ANN, emu.default_todo_list(ANN)["id"], {"title": "Not ours"})
    first = mailbox.adapter.read_changes("task", None, containers)
    assert [t["title"] for t in first.items] == ["Follow up"]
    assert first.items[0]["linkedResources"][0]["applicationName"] == RELAY_APPLICATION

    emu.update_task(ANN, list_id, task["id"], {"status": "completed"})
    second = mailbox.adapter.read_changes("task", first.cursor, containers)
    assert second.items[0]["status"] == "completed"
    assert second.items[0]["linkedResources"][0]["externalId"] == "00T1"
