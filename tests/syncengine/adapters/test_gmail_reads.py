"""GmailAdapter reads: People sync tokens, the Calendar window, the Tasks updatedMin cursor."""

# ruff: noqa: F811 - pytest fixtures imported from gmail_fixtures are redefined as arguments

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from syncengine.mailboxes.base import CONTACTS, EVENTS, TASKS
from syncengine.mailboxes.gmail.adapter import in_salesforce_group
from syncengine.mappers.google import SF_ID_KEY, sf_id_from_person

from .gmail_fixtures import ALICE, NOW, google_server, mailbox  # noqa: F401  (fixtures)


def _person(n, group=None, sf_id=None):
    person = {
        "names": [{"givenName": f"Given{n}", "familyName": f"Family{n}"}],
        "emailAddresses": [{"value": f"p{n}@example.org"}],
    }
    if group:
        person["memberships"] = [{"contactGroupMembership": {"contactGroupResourceName": group}}]
    if sf_id:
        person["clientData"] = [{"key": SF_ID_KEY, "value": sf_id}]
    return person


def test_it_reads_450_contacts_then_only_what_changed(mailbox):
    emu, adapter = mailbox.emu, mailbox.adapter
    containers = mailbox.containers()
    group = containers[CONTACTS].external_id
    ours = [
        emu.create_contact(ALICE, _person(n, group, f"003000000000{n:03d}AAA"))["resourceName"]
        for n in range(450)
    ]
    private = [emu.create_contact(ALICE, _person(1000 + n))["resourceName"] for n in range(5)]
    emu.clear_calls()

    full = adapter.read_changes(CONTACTS, None, containers)

    assert full.full and len(full.items) == 450 and not full.removed_ids
    assert {p["resourceName"] for p in full.items} == set(ours)  # the user's own stay out
    assert len(mailbox.calls("/v1/people/me/connections")) == 1  # pageSize 1000
    assert full.cursor

    added = emu.create_contact(ALICE, _person(2000, group))["resourceName"]
    emu.update_contact(ALICE, ours[0], {"names": [{"givenName": "Renamed", "familyName": "X"}]})
    emu.delete_contact(ALICE, ours[1])
    emu.modify_group(ALICE, group, remove=[ours[2]])  # moved out of the group, still marked
    emu.update_contact(ALICE, private[0], {"biographies": [{"value": "not ours"}]})

    delta = adapter.read_changes(CONTACTS, full.cursor, containers)

    assert not delta.full
    by_name = {p["resourceName"]: p for p in delta.items}
    assert set(by_name) == {added, ours[0], ours[2]}
    assert by_name[ours[0]]["names"][0]["givenName"] == "Renamed"
    moved = by_name[ours[2]]
    assert not in_salesforce_group(moved, group) and sf_id_from_person(moved)
    assert in_salesforce_group(by_name[added], group)
    assert set(delta.removed_ids) == {ours[1], private[0]}

    idle = adapter.read_changes(CONTACTS, delta.cursor, containers)
    assert not idle.items and not idle.removed_ids and idle.cursor


def test_it_reads_contacts_past_one_page(mailbox, monkeypatch):
    from syncengine.mailboxes.gmail import people

    monkeypatch.setattr(people, "PEOPLE_PAGE", 100)
    containers = mailbox.containers()
    group = containers[CONTACTS].external_id
    for n in range(250):
        mailbox.emu.create_contact(ALICE, _person(n, group))
    mailbox.emu.clear_calls()
    full = mailbox.adapter.read_changes(CONTACTS, None, containers)
    assert len(full.items) == 250 and full.cursor
    assert len(mailbox.calls("/v1/people/me/connections")) == 3
    idle = mailbox.adapter.read_changes(CONTACTS, full.cursor, containers)
    assert not idle.items


def test_it_reads_the_event_window_with_series_instances_and_all_day_events(mailbox):
    emu, adapter = mailbox.emu, mailbox.adapter
    containers = mailbox.containers()
    series = emu.create_event(
        ALICE,
        {
            "summary": "Weekly sync",
            "start": {"dateTime": "2024-04-01T09:00:00", "timeZone": "America/Los_Angeles"},
            "end": {"dateTime": "2024-04-01T09:30:00", "timeZone": "America/Los_Angeles"},
            "recurrence": ["RRULE:FREQ=WEEKLY"],
        },
    )
    # All-day on the window's first local day (now - 14 d in Los Angeles).
    first_day = (NOW - timedelta(days=14)).astimezone(ZoneInfo("America/Los_Angeles"))
    all_day = emu.create_event(
        ALICE,
        {
            "summary": "Offsite",
            "start": {"date": first_day.date().isoformat()},
            "end": {"date": (first_day.date() + timedelta(days=1)).isoformat()},
        },
    )
    far = emu.create_event(
        ALICE,
        {
            "summary": "Next year",
            "start": {"dateTime": "2025-05-01T10:00:00Z"},
            "end": {"dateTime": "2025-05-01T11:00:00Z"},
        },
    )

    full = adapter.read_changes(EVENTS, None, containers)

    ids = {e["id"] for e in full.items}
    instances = [e for e in full.items if e.get("recurringEventId") == series["id"]]
    # Mondays within [now - 15 d, now + 61 d] = [2024-04-30T19:00Z, 2024-07-15T19:00Z].
    starts = sorted(e["start"]["dateTime"] for e in instances)
    assert starts[0] == "2024-05-06T09:00:00-07:00" and starts[-1] == "2024-07-15T09:00:00-07:00"
    assert len(starts) == 11
    assert all(e["id"].startswith(series["id"] + "_") for e in instances)
    assert series["id"] not in ids  # singleEvents: the master itself is not listed
    assert all_day["id"] in ids and far["id"] not in ids
    got = next(e for e in full.items if e["id"] == all_day["id"])
    assert got["start"] == {"date": first_day.date().isoformat()}

    one = instances[3]["id"]
    emu.delete_event(ALICE, one)
    emu.update_event(ALICE, far["id"], {"summary": "Next year, moved"})
    delta = adapter.read_changes(EVENTS, full.cursor, containers)

    assert delta.removed_ids == [one]
    # Outside the window, yet reported: the sync token cannot carry timeMin/timeMax.
    assert [e["id"] for e in delta.items] == [far["id"]]
    idle = adapter.read_changes(EVENTS, delta.cursor, containers)
    assert not idle.items and not idle.removed_ids


def test_it_reads_tasks_since_a_cursor_taken_before_the_read(mailbox):
    emu, adapter, clock = mailbox.emu, mailbox.adapter, mailbox.clock
    containers = mailbox.containers()
    tasklist = containers[TASKS].external_id
    keep = emu.create_task(ALICE, tasklist, {"title": "Keep", "due": "2024-05-20T00:00:00.000Z"})
    done = emu.create_task(ALICE, tasklist, {"title": "Done"})
    gone = emu.create_task(ALICE, tasklist, {"title": "Gone"})
    emu.create_task(ALICE, "@default", {"title": "Elsewhere"})
    emu.update_task(ALICE, tasklist, done["id"], {"status": "completed"}, via_ui=True)  # hidden
    clock.advance(minutes=10)

    full = adapter.read_changes(TASKS, None, containers)

    assert full.full and {t["id"] for t in full.items} == {keep["id"], done["id"], gone["id"]}
    assert full.cursor == "2024-05-15T19:08:00.000Z"  # read at 19:10, minus the overlap

    clock.advance(minutes=10)
    emu.update_task(ALICE, tasklist, keep["id"], {"title": "Kept"})
    emu.delete_task(ALICE, tasklist, gone["id"])
    clock.advance(minutes=1)
    delta = adapter.read_changes(TASKS, full.cursor, containers)

    assert [t["title"] for t in delta.items] == ["Kept"]
    assert delta.removed_ids == [gone["id"]]
    # A change just before the read (inside the overlap) is reported again next time.
    again = adapter.read_changes(TASKS, delta.cursor, containers)
    assert [t["id"] for t in again.items] == [keep["id"]] and again.removed_ids == [gone["id"]]
    clock.advance(minutes=5)
    later = adapter.read_changes(TASKS, again.cursor, containers)
    assert later.cursor == "2024-05-15T19:24:00.000Z"
    idle = adapter.read_changes(TASKS, later.cursor, containers)
    assert not idle.items and not idle.removed_ids


def test_it_pages_through_tasks(mailbox):
    containers = mailbox.containers()
    tasklist = containers[TASKS].external_id
    for n in range(230):
        mailbox.emu.create_task(
            ALICE, tasklist, {"title": f"T{n}", "due": f"{date(2024, 6, 1)}T00:00:00Z"}
        )
    mailbox.emu.clear_calls()
    full = mailbox.adapter.read_changes(TASKS, None, mailbox.adapter.containers)
    assert len(full.items) == 230 and len(mailbox.calls("/tasks")) == 3
