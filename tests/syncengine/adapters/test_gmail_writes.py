"""GmailAdapter writes and fetches: People batch methods, multipart batches, retries."""

# ruff: noqa: F811 - pytest fixtures imported from gmail_fixtures are redefined as arguments

from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.providers.errors import ReconnectRequired, TemporaryProviderError
from syncengine.mailboxes.base import CONTACTS, EVENTS, TASKS
from syncengine.mailboxes.gmail.adapter import BATCH_CHUNK, in_salesforce_group
from syncengine.mappers.google import (
    contact_to_google,
    event_to_google,
    sf_id_from_google_event,
    sf_id_from_google_task,
    sf_id_from_person,
    task_to_google,
)

from .gmail_fixtures import ALICE, NOW, ZONE, google_server, mailbox  # noqa: F401  (fixtures)


def _contact(n):
    fields = {"first_name": f"Ann{n}", "last_name": f"Lee{n}", "email": f"ann{n}@acme.example"}
    return contact_to_google(fields, sf_id=f"003A0000000{n:04d}AAA")


def _event(n, sf_id=True):
    start = NOW + timedelta(days=1, hours=n)
    fields = {"subject": f"Meeting {n}", "start": start, "end": start + timedelta(minutes=30)}
    return event_to_google(fields, ZONE, sf_id=f"00UA0000000{n:04d}AAA" if sf_id else None)


def _task(n):
    fields = {"subject": f"Task {n}", "due_date": date(2024, 5, 20), "status": "not_started"}
    return task_to_google(fields, sf_id=f"00TA0000000{n:04d}AAA")


def _posts(mailbox, path):
    return [c for c in mailbox.calls(path) if c.startswith("POST")]


def test_it_creates_450_contacts_in_three_batch_calls_with_marker_and_membership(mailbox):
    containers = mailbox.containers()
    group = containers[CONTACTS].external_id
    mailbox.emu.clear_calls()
    before = mailbox.adapter.api_calls

    results = mailbox.adapter.create(CONTACTS, [_contact(n) for n in range(450)], containers)

    assert len(_posts(mailbox, "people:batchCreateContacts")) == 3
    assert len(mailbox.calls()) == 3 and mailbox.adapter.api_calls - before == 3
    assert all(r.ok and r.id.startswith("people/c") and r.version for r in results)
    assert [sf_id_from_person(r.item) for r in results] == [
        f"003A0000000{n:04d}AAA" for n in range(450)
    ]
    stored = {p["resourceName"]: p for p in mailbox.emu.contacts(ALICE)}
    assert len(stored) == 450
    assert all(in_salesforce_group(p, group) and sf_id_from_person(p) for p in stored.values())


def test_it_updates_contacts_with_the_etag_it_is_given_or_fetches_one(mailbox):
    containers = mailbox.containers()
    created = mailbox.adapter.create(CONTACTS, [_contact(n) for n in range(3)], containers)
    stale = created[1].item
    mailbox.emu.update_contact(ALICE, created[1].id, {"biographies": [{"value": "user edit"}]})
    mailbox.emu.clear_calls()

    results = mailbox.adapter.update(
        CONTACTS,
        [
            (created[0].id, {**_contact(100), "etag": created[0].version}),
            (created[1].id, {**_contact(101), "etag": stale["etag"]}),  # the user edited it
            (created[2].id, _contact(102)),  # no etag: fetched first
        ],
    )

    assert [r.ok for r in results] == [True, False, True]
    assert [r.id for r in results] == [c.id for c in created]
    assert results[1].status == 400 and "etag" in results[1].error
    assert results[0].item["names"][0]["givenName"] == "Ann100"
    assert results[0].version != created[0].version
    assert mailbox.emu.get_contact(ALICE, created[1].id)["biographies"][0]["value"] == "user edit"
    assert mailbox.emu.get_contact(ALICE, created[2].id)["names"][0]["givenName"] == "Ann102"
    # 1 batchGet for the missing etag; the refused batch of 3, then [a] ok, [b, c]
    # refused, [b] refused, [c] ok: all-or-nothing batches isolate the stale one.
    assert len(mailbox.calls("people:batchGet")) == 1
    assert len(mailbox.calls("people:batchUpdateContacts")) == 5


def test_it_deletes_contacts_including_ones_already_gone(mailbox):
    containers = mailbox.containers()
    created = mailbox.adapter.create(CONTACTS, [_contact(n) for n in range(4)], containers)
    mailbox.emu.delete_contact(ALICE, created[0].id)

    results = mailbox.adapter.delete(CONTACTS, [c.id for c in created])

    assert all(r.ok for r in results) and [r.id for r in results] == [c.id for c in created]
    assert mailbox.emu.contacts(ALICE) == []


def test_it_fetches_contacts_by_resource_name(mailbox):
    containers = mailbox.containers()
    created = mailbox.adapter.create(CONTACTS, [_contact(n) for n in range(2)], containers)
    mailbox.emu.delete_contact(ALICE, created[1].id)
    got = mailbox.adapter.fetch(CONTACTS, [created[0].id, created[1].id, "people/c42"])
    assert got[created[0].id]["resourceName"] == created[0].id
    assert got[created[1].id] is None and got["people/c42"] is None
    assert len(mailbox.calls("people:batchGet")) == 1


def test_it_creates_events_in_batches_of_1000_matched_by_content_id(mailbox):
    containers = mailbox.containers()
    mailbox.emu.reverse_batch_responses = True  # answers out of order
    mailbox.emu.clear_calls()
    units = mailbox.adapter.quota_units
    count = BATCH_CHUNK + 10

    results = mailbox.adapter.create(EVENTS, [_event(n) for n in range(count)], containers)

    assert _posts(mailbox, "/batch/calendar/v3") == ["POST /batch/calendar/v3"] * 2
    assert len(mailbox.calls()) == 2 and mailbox.adapter.quota_units - units == count
    assert [r.item["summary"] for r in results] == [f"Meeting {n}" for n in range(count)]
    assert [sf_id_from_google_event(r.item) for r in results] == [
        f"00UA0000000{n:04d}AAA" for n in range(count)
    ]
    assert all(r.ok and r.id and r.version for r in results)
    assert len(mailbox.emu.events(ALICE)) == count


def test_it_retries_a_throttled_part_after_a_backoff(mailbox):
    containers = mailbox.containers()
    mailbox.emu.throttle_next(1, retry_after=3, match="/calendar/v3/calendars/primary/events")
    mailbox.emu.clear_calls()

    results = mailbox.adapter.create(EVENTS, [_event(n) for n in range(5)], containers)

    assert all(r.ok for r in results)
    assert [r.item["summary"] for r in results] == [f"Meeting {n}" for n in range(5)]
    assert mailbox.sleeps == [3.0]  # Google's Retry-After, above the 1 s first backoff
    assert len(_posts(mailbox, "/batch/calendar/v3")) == 2  # the retry carries one part
    assert mailbox.adapter.quota_units >= 6
    assert len(mailbox.emu.events(ALICE)) == 5


def test_it_reports_parts_still_throttled_after_bounded_retries(mailbox):
    containers = mailbox.containers()
    mailbox.adapter.max_part_retries = 2
    mailbox.emu.throttle_next(10, retry_after=0, match="/calendar/v3/calendars/primary/events")
    mailbox.emu.clear_calls()

    results = mailbox.adapter.create(EVENTS, [_event(1)], containers)

    assert [(r.ok, r.status) for r in results] == [(False, 429)]
    assert mailbox.sleeps == [1.0, 2.0]  # exponential, bounded
    assert len(_posts(mailbox, "/batch/calendar/v3")) == 3
    mailbox.emu.clear_faults()


def test_it_updates_fetches_and_deletes_events(mailbox):
    containers = mailbox.containers()
    created = mailbox.adapter.create(EVENTS, [_event(n) for n in range(3)], containers)
    mailbox.emu.delete_event(ALICE, created[2].id)

    updated = mailbox.adapter.update(
        EVENTS, [(created[0].id, {"summary": "Renamed"}), (created[2].id, {"summary": "x"})]
    )
    assert updated[0].ok and updated[0].item["summary"] == "Renamed"
    assert updated[0].version != created[0].version

    got = mailbox.adapter.fetch(EVENTS, [c.id for c in created] + ["nosuchevent1"])
    assert got[created[0].id]["summary"] == "Renamed" and got[created[1].id]
    assert got[created[2].id] is None and got["nosuchevent1"] is None

    deleted = mailbox.adapter.delete(EVENTS, [c.id for c in created] + ["nosuchevent1"])
    assert all(r.ok for r in deleted)  # 410 (already cancelled) and 404 count as done
    assert mailbox.emu.events(ALICE) == []


def test_it_writes_fetches_and_deletes_tasks_in_the_salesforce_list(mailbox):
    containers = mailbox.containers()
    tasklist = containers[TASKS].external_id
    created = mailbox.adapter.create(TASKS, [_task(n) for n in range(3)], containers)
    assert all(r.ok for r in created)
    assert len(mailbox.emu.tasks_of(ALICE, tasklist)) == 3
    assert sf_id_from_google_task(created[0].item) == "00TA00000000000AAA"

    done = task_to_google(
        {
            "subject": "Task 0",
            "status": "completed",
            "completed_at": datetime(2024, 5, 15, 18, 0, tzinfo=UTC),
        },
        sf_id="00TA00000000000AAA",
    )
    updated = mailbox.adapter.update(TASKS, [(created[0].id, done)])
    assert updated[0].ok and updated[0].item["status"] == "completed"

    mailbox.emu.delete_task(ALICE, tasklist, created[1].id)
    got = mailbox.adapter.fetch(TASKS, [c.id for c in created])
    assert got[created[0].id]["status"] == "completed"
    assert got[created[1].id] is None and got[created[2].id]["title"] == "Task 2"

    deleted = mailbox.adapter.delete(TASKS, [c.id for c in created] + ["missing"])
    assert all(r.ok for r in deleted)


def test_it_keeps_finished_writes_when_a_later_batch_fails(mailbox, monkeypatch):
    containers = mailbox.containers()
    adapter, real_send, sent = mailbox.adapter, mailbox.adapter._send, []

    def flaky(api, requests):
        sent.append(len(requests))
        if len(sent) == 2:
            mailbox.emu.fail_next(1, 503, match="/batch/calendar")
        return real_send(api, requests)

    monkeypatch.setattr(adapter, "_send", flaky)
    # two batches, cheaply
    monkeypatch.setattr("syncengine.mailboxes.gmail.adapter.BATCH_CHUNK", 50)
    results = adapter.create(EVENTS, [_event(n) for n in range(70)], containers)

    assert sent == [50, 20]
    assert all(r.ok for r in results[:50])
    assert all(not r.ok and r.status == 503 for r in results[50:])
    assert len(mailbox.emu.events(ALICE)) == 50


def test_it_raises_when_the_first_batch_fails(mailbox):
    containers = mailbox.containers()
    mailbox.emu.fail_next(1, 503, match="/batch/calendar")
    with pytest.raises(TemporaryProviderError):
        mailbox.adapter.create(EVENTS, [_event(1)], containers)


def test_it_raises_reconnect_on_a_write_with_a_revoked_grant(mailbox):
    containers = mailbox.containers()
    mailbox.emu.revoke_refresh_tokens(ALICE)
    mailbox.emu.expire_tokens(ALICE)
    with pytest.raises(ReconnectRequired):
        mailbox.adapter.create(CONTACTS, [_contact(1)], containers)
    with pytest.raises(ReconnectRequired):
        mailbox.adapter.create(EVENTS, [_event(1)], containers)
