"""GmailAdapter: containers, the idle session's call count, expired cursors, error classes."""

# ruff: noqa: F811 - pytest fixtures imported from gmail_fixtures are redefined as arguments

import json

import httplib2
import pytest
from googleapiclient.errors import HttpError

from accounts.providers.errors import ProviderError, ReconnectRequired, TemporaryProviderError
from syncengine.mailboxes.base import CONTACTS, EMAILS, EVENTS, TASKS, CursorExpired
from syncengine.mailboxes.gmail.adapter import build_google_services
from syncengine.mailboxes.gmail.client import REAL_BATCH_URIS, translate

from .gmail_fixtures import ALICE, google_server, mailbox  # noqa: F401  (fixtures)


def test_it_creates_each_container_once(mailbox):
    first = mailbox.adapter.ensure_containers({})
    assert {r for r, ref in first.items() if ref.created} == {CONTACTS, TASKS, EMAILS}
    assert first[EVENTS].external_id == "primary" and not first[EVENTS].created
    assert first[CONTACTS].external_id.startswith("contactGroups/")
    assert mailbox.emu.group_resource(ALICE, "Salesforce Contacts") == first[CONTACTS].external_id
    assert mailbox.emu.tasklist_id(ALICE, "Salesforce Tasks") == first[TASKS].external_id
    assert mailbox.emu.label_id(ALICE, "Salesforce Emails") == first[EMAILS].external_id

    mailbox.emu.clear_calls()
    again = mailbox.adapter.ensure_containers({})
    assert not any(ref.created for ref in again.values())
    assert {r: ref.external_id for r, ref in again.items()} == {
        r: ref.external_id for r, ref in first.items()
    }
    assert not [c for c in mailbox.calls() if c.startswith("POST")]

    mailbox.emu.clear_calls()
    known = {role: ref.external_id for role, ref in first.items()}
    assert mailbox.adapter.ensure_containers(known) == {
        role: ref.__class__(role, ref.external_id, ref.name) for role, ref in first.items()
    }
    assert mailbox.calls() == []  # stored ids are trusted: nothing spent per session


def test_it_finds_containers_the_user_already_has(mailbox):
    group = mailbox.emu.create_group(ALICE, "Salesforce Contacts")
    tasklist = mailbox.emu.create_tasklist(ALICE, "Salesforce Tasks")
    label = mailbox.emu.create_label(ALICE, "Salesforce Emails")

    refs = mailbox.adapter.ensure_containers({})

    assert (refs[CONTACTS].external_id, refs[TASKS].external_id, refs[EMAILS].external_id) == (
        group,
        tasklist,
        label,
    )
    assert not any(ref.created for ref in refs.values())
    assert mailbox.adapter.api_calls == 3


def test_it_finds_a_group_created_concurrently_after_a_409(mailbox, monkeypatch):
    adapter = mailbox.adapter
    real_find = adapter._find_group
    seen = []

    def find_then_race(name):
        seen.append(name)
        if len(seen) == 1:  # another session creates it between our list and our create
            mailbox.emu.create_group(ALICE, name)
            return None
        return real_find(name)

    monkeypatch.setattr(adapter, "_find_group", find_then_race)
    refs = adapter.ensure_containers({})
    assert refs[CONTACTS].external_id == mailbox.emu.group_resource(ALICE, "Salesforce Contacts")
    assert not refs[CONTACTS].created
    groups = [g for g in mailbox.emu.account(ALICE).groups.values() if not g["deleted"]]
    assert sum(g["name"] == "Salesforce Contacts" for g in groups) == 1


def _seed_one_of_each(mailbox, containers):
    mailbox.emu.create_contact(
        ALICE,
        {
            "names": [{"givenName": "Ann", "familyName": "Lee"}],
            "memberships": [
                {
                    "contactGroupMembership": {
                        "contactGroupResourceName": containers[CONTACTS].external_id
                    }
                }
            ],
        },
    )
    mailbox.emu.create_event(
        ALICE,
        {
            "summary": "Call",
            "start": {"dateTime": "2024-05-16T10:00:00-07:00"},
            "end": {"dateTime": "2024-05-16T11:00:00-07:00"},
        },
    )
    mailbox.emu.create_task(ALICE, containers[TASKS].external_id, {"title": "Follow up"})


def test_it_reads_an_idle_mailbox_in_three_http_calls(mailbox):
    containers = mailbox.containers()
    _seed_one_of_each(mailbox, containers)
    mailbox.clock.advance(minutes=30)  # beyond the Tasks cursor's overlap
    first = mailbox.adapter.read_all_changes({}, containers)
    assert all(c.full and len(c.items) == 1 for c in first.values())
    cursors = {feed: changes.cursor for feed, changes in first.items()}

    mailbox.clock.advance(minutes=30)
    mailbox.emu.clear_calls()
    before = (mailbox.adapter.api_calls, mailbox.adapter.quota_units)
    idle = mailbox.adapter.read_all_changes(cursors, containers)

    assert len(mailbox.calls()) == 3
    # One call per API, sent at once (so in no particular order).
    assert sorted(c.split("?")[0] for c in mailbox.calls()) == sorted(
        [
            "GET /v1/people/me/connections",
            "GET /calendar/v3/calendars/primary/events",
            f"GET /tasks/v1/lists/{containers[TASKS].external_id}/tasks",
        ]
    )
    assert (mailbox.adapter.api_calls, mailbox.adapter.quota_units) == (
        before[0] + 3,
        before[1] + 3,
    )
    assert all(not c.items and not c.removed_ids and not c.full for c in idle.values())
    assert all(c.cursor for c in idle.values())


def test_it_reads_in_full_when_people_and_calendar_tokens_expired(mailbox):
    containers = mailbox.containers()
    _seed_one_of_each(mailbox, containers)
    mailbox.clock.advance(minutes=30)
    first = mailbox.adapter.read_all_changes({}, containers)
    cursors = {feed: changes.cursor for feed, changes in first.items()}
    assert mailbox.emu.expire_sync_tokens(ALICE, "people") >= 1
    assert mailbox.emu.expire_sync_tokens(ALICE, "calendar") >= 1
    mailbox.clock.advance(minutes=30)

    again = mailbox.adapter.read_all_changes(cursors, containers)

    assert again[CONTACTS].full and len(again[CONTACTS].items) == 1
    assert again[EVENTS].full and len(again[EVENTS].items) == 1
    assert not again[TASKS].full and not again[TASKS].items
    assert again[CONTACTS].cursor != cursors[CONTACTS]
    statuses = [c.status for c in mailbox.emu.calls]
    assert statuses.count(400) == 1 and statuses.count(410) == 1  # people 400, calendar 410


def test_it_treats_a_people_token_seven_days_old_as_expired(mailbox):
    containers = mailbox.containers()
    _seed_one_of_each(mailbox, containers)
    cursor = mailbox.adapter.read_changes(CONTACTS, None, containers).cursor
    mailbox.clock.advance(days=8)

    with pytest.raises(CursorExpired):
        mailbox.adapter.read_changes(CONTACTS, cursor, containers)


def test_it_asks_for_reconnection_when_the_refresh_token_is_revoked(mailbox):
    containers = mailbox.containers()
    mailbox.emu.revoke_refresh_tokens(ALICE)
    mailbox.emu.expire_tokens(ALICE)

    with pytest.raises(ReconnectRequired) as caught:
        mailbox.adapter.read_changes(CONTACTS, None, containers)
    assert type(caught.value.__cause__).__name__ == "RefreshError"
    assert "POST /token" in mailbox.calls()


def test_it_refreshes_an_expired_access_token_and_goes_on(mailbox):
    containers = mailbox.containers()
    mailbox.emu.expire_tokens(ALICE)
    changes = mailbox.adapter.read_changes(CONTACTS, None, containers)
    assert changes.full and "POST /token" in mailbox.calls()


def test_it_reports_an_injected_503_as_temporary(mailbox):
    containers = mailbox.containers()
    mailbox.emu.fail_next(1, 503, match="/v1/people")
    with pytest.raises(TemporaryProviderError):
        mailbox.adapter.read_changes(CONTACTS, None, containers)
    mailbox.emu.throttle_next(1, retry_after=7, match="/calendar/v3")
    with pytest.raises(TemporaryProviderError) as caught:
        mailbox.adapter.read_changes(EVENTS, None, containers)
    assert caught.value.retry_after == 7
    assert mailbox.adapter.read_changes(EVENTS, None, containers).full  # nothing stuck


def test_it_reports_other_google_errors_with_their_message(mailbox):
    containers = mailbox.containers()
    with pytest.raises(ProviderError, match="Task list not found") as caught:
        mailbox.adapter.read_changes(
            TASKS,
            "2024-05-01T00:00:00.000Z",
            {TASKS: containers[TASKS].__class__(TASKS, "nope", "x")},
        )
    assert not isinstance(caught.value, TemporaryProviderError)


def _http_error(status, reason, headers=None):
    body = {"error": {"code": status, "message": "m", "errors": [{"reason": reason}]}}
    resp = httplib2.Response({"status": status, **(headers or {})})
    return HttpError(resp, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        (403, "rateLimitExceeded", TemporaryProviderError),
        (403, "userRateLimitExceeded", TemporaryProviderError),
        (403, "forbidden", ProviderError),
        (429, "rateLimitExceeded", TemporaryProviderError),
        (500, "backendError", TemporaryProviderError),
        (401, "authError", ReconnectRequired),
        (404, "notFound", ProviderError),
    ],
)
def test_it_classifies_google_errors(status, reason, expected):
    err = translate(_http_error(status, reason, {"retry-after": "3"}))
    assert type(err) is expected
    if expected is TemporaryProviderError:
        assert err.retry_after == 3


def test_it_maps_socket_timeouts_to_temporary():
    assert type(translate(TimeoutError("timed out"))) is TemporaryProviderError


def test_it_builds_services_for_the_real_google_by_default():
    services = build_google_services(httplib2.Http())
    assert dict(services.batch_uris) == REAL_BATCH_URIS
    assert services.calendar._baseUrl == "https://www.googleapis.com/calendar/v3/"
    assert services.people._baseUrl == "https://people.googleapis.com/"


def test_it_builds_services_on_one_host_for_the_sandbox():
    services = build_google_services(httplib2.Http(), "https://127.0.0.1:9/", None)
    assert services.calendar._baseUrl == "https://127.0.0.1:9/calendar/v3/"
    assert services.tasks._baseUrl == "https://127.0.0.1:9/"
    assert services.batch_uris["calendar"] == "https://127.0.0.1:9/batch/calendar/v3"
    assert services.batch_uris["people"] == "https://127.0.0.1:9/batch"
