"""Office365Adapter: batched writes, per-item failures, and how Graph's errors surface."""

import pytest

from accounts.providers.errors import ProviderError, ReconnectRequired, TemporaryProviderError
from syncengine.mailboxes.base import CONTACTS, TASKS
from syncengine.mappers.graph import (
    SF_ID_PROPERTY,
    contact_to_graph,
    event_to_graph,
    sf_id_from_graph,
    sf_id_from_todo,
    task_to_graph,
)

from .conftest_office365 import *  # noqa: F403
from .conftest_office365 import ANN


def _contacts(n, prefix="C"):
    return [
        contact_to_graph(
            {
                "first_name": f"{prefix}{i:02}",
                "last_name": "Lee",
                "email": f"{prefix}{i}@x.example",
            },
            sf_id=f"003{prefix}{i:012}",
        )
        for i in range(n)
    ]


def test_creating_45_contacts_costs_3_batches_each_with_marker_and_category(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    mailbox.emu.clear_calls()
    before = mailbox.adapter.api_calls
    payloads = _contacts(45)
    results = mailbox.adapter.create("contact", payloads, containers)
    assert mailbox.adapter.api_calls - before == 3 and mailbox.batch_calls() == 3
    # Concurrent batches reach Graph in any order.
    assert sorted(c.units for c in mailbox.emu.calls) == [5, 20, 20]
    assert all(r.ok and r.status == 201 and r.id and r.version for r in results)
    # Results follow the payloads' order although Graph answers in any order.
    assert [r.item["givenName"] for r in results] == [p["givenName"] for p in payloads]
    stored = mailbox.emu.contacts_in(ANN, containers[CONTACTS].external_id)
    assert len(stored) == 45 and all(c["categories"] == ["Salesforce"] for c in stored)
    fetched = mailbox.adapter.fetch("contact", [r.id for r in results])
    assert [sf_id_from_graph(fetched[r.id]) for r in results] == [f"003C{i:012}" for i in range(45)]


def test_it_creates_events_in_the_calendar_and_tasks_in_the_list_with_markers(mailbox):
    import datetime as dt

    containers = mailbox.adapter.ensure_containers({})
    start = dt.datetime(2024, 5, 20, 8, tzinfo=dt.UTC)
    event = event_to_graph(
        {"subject": "Demo", "start": start, "end": start + dt.timedelta(hours=1)},
        "Europe/Berlin",
        sf_id="00U1",
    )
    task = task_to_graph(
        {"subject": "Call", "due_date": dt.date(2024, 5, 21)},
        "Europe/Berlin",
        sf_id="00T1",
        instance_url="https://acme.my.salesforce.com",
    )
    [made_event] = mailbox.adapter.create("event", [event], containers)
    [made_task] = mailbox.adapter.create("task", [task], containers)
    assert made_event.ok and made_event.item["categories"] == ["Salesforce"]
    assert made_task.ok
    got = mailbox.adapter.fetch("event", [made_event.id])[made_event.id]
    assert sf_id_from_graph(got) == "00U1"
    got = mailbox.adapter.fetch("task", [made_task.id])[made_task.id]
    assert sf_id_from_todo(got) == "00T1"
    assert [t["title"] for t in mailbox.emu.mailboxes[ANN].tasks.values()] == ["Call"]
    assert next(iter(mailbox.emu.mailboxes[ANN].tasks.values()))["_list"] == (
        containers[TASKS].external_id
    )


def test_a_throttled_item_is_retried_after_retry_after(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    before = mailbox.adapter.api_calls
    mailbox.emu.throttle_next(2, retry_after=2, match="/contacts")
    results = mailbox.adapter.create("contact", _contacts(5), containers)
    assert all(r.ok for r in results)
    assert mailbox.adapter.api_calls - before == 2  # the batch, then the two throttled items
    assert mailbox.sleeps == [2.0]
    assert len(mailbox.emu.contacts_in(ANN, containers[CONTACTS].external_id)) == 5


def test_an_item_still_throttled_after_three_tries_comes_back_as_429(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    before = mailbox.adapter.api_calls
    mailbox.emu.throttle_next(3, retry_after=1, match="/contacts")
    [result] = mailbox.adapter.create("contact", _contacts(1), containers)
    assert (result.ok, result.status) == (False, 429) and "TooManyRequests" in result.error
    assert mailbox.adapter.api_calls - before == 3 and mailbox.sleeps == [1.0, 1.0]
    assert mailbox.emu.contacts_in(ANN, containers[CONTACTS].external_id) == []


def test_a_long_retry_after_is_left_to_the_next_session(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    mailbox.emu.throttle_next(1, retry_after=120, match="/contacts")
    results = mailbox.adapter.create("contact", _contacts(2), containers)
    assert sorted(r.status for r in results) == [201, 429] and mailbox.sleeps == []


def test_updates_and_deletes_report_gone_items_per_item(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    made = mailbox.adapter.create("contact", _contacts(3), containers)
    mailbox.emu.delete_contact(ANN, made[1].id)
    before = mailbox.adapter.api_calls
    updated = mailbox.adapter.update("contact", [(r.id, {"jobTitle": "CEO"}) for r in made])
    assert mailbox.adapter.api_calls - before == 1
    assert [(r.ok, r.status, r.id) for r in updated] == [
        (True, 200, made[0].id),
        (False, 404, made[1].id),
        (True, 200, made[2].id),
    ]
    assert "ErrorItemNotFound" in updated[1].error
    assert updated[0].item["jobTitle"] == "CEO" and updated[0].version != made[0].version

    deleted = mailbox.adapter.delete("contact", [r.id for r in made])
    assert [(r.ok, r.status) for r in deleted] == [(True, 204), (True, 404), (True, 204)]
    assert mailbox.emu.contacts_in(ANN, containers[CONTACTS].external_id) == []


def test_a_revoked_refresh_token_asks_for_reconnection(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    mailbox.backend.expire_access_token()
    mailbox.emu.expire_tokens(ANN)
    mailbox.emu.revoke_refresh_tokens(ANN)
    with pytest.raises(ReconnectRequired):
        mailbox.adapter.read_all_changes({"contact": None, "task": None}, containers)
    with pytest.raises(ReconnectRequired):
        mailbox.adapter.read_changes("contact", None, containers)


def test_an_expired_access_token_is_refreshed_by_the_token_backend(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    mailbox.backend.expire_access_token()
    mailbox.emu.expire_tokens(ANN)
    read = mailbox.adapter.read_all_changes({"contact": None, "task": None}, containers)
    assert read["contact"].full and mailbox.backend.refreshes == 1


def test_a_token_refused_before_its_expiry_is_refreshed_once_and_the_read_goes_on(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    mailbox.emu.expire_tokens(ANN)  # revoked early: the token's expiry still says it is good
    read = mailbox.adapter.read_all_changes({"contact": None, "task": None}, containers)
    assert read["contact"].full and mailbox.backend.refreshes == 1
    made = mailbox.adapter.create("contact", _contacts(3), containers)
    assert all(r.ok for r in made) and mailbox.backend.refreshes == 1


def test_a_token_refused_early_whose_refresh_is_refused_asks_for_reconnection(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    mailbox.emu.expire_tokens(ANN)
    mailbox.emu.revoke_refresh_tokens(ANN)
    with pytest.raises(ReconnectRequired):
        mailbox.adapter.read_all_changes({"contact": None, "task": None}, containers)


def test_a_503_on_the_batch_is_a_temporary_error(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    mailbox.emu.fail_next(1, status=503, match="/$batch")
    with pytest.raises(TemporaryProviderError):
        mailbox.adapter.read_all_changes({"contact": None, "task": None}, containers)
    mailbox.emu.fail_next(1, status=503, match="/$batch")
    with pytest.raises(TemporaryProviderError):
        mailbox.adapter.create("contact", _contacts(1), containers)


def test_a_503_inside_the_batch_fails_the_read_as_temporary(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    mailbox.emu.fail_next(1, status=503, match="/todo/")
    with pytest.raises(TemporaryProviderError):
        mailbox.adapter.read_all_changes({"contact": None, "task": None}, containers)


def test_a_get_that_keeps_failing_is_a_temporary_error(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    mailbox.emu.throttle_next(10, retry_after=0, match="/contacts/delta")
    with pytest.raises(TemporaryProviderError):
        mailbox.adapter.read_changes("contact", None, containers)


def test_other_client_errors_carry_graphs_message(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    # A link on Graph's own host is replayed against the account's service root.
    no_window = "https://graph.microsoft.com/v1.0/me/calendarView/delta"
    with pytest.raises(ProviderError) as err:
        mailbox.adapter.read_changes("event", no_window, containers)
    assert type(err.value) is ProviderError
    assert "400" in str(err.value) and "ErrorInvalidParameter" in str(err.value)
    assert "time window" in str(err.value)

    [bad] = mailbox.adapter.update("contact", [("AAMkAx=", {"nope": 1})])
    assert (bad.ok, bad.status) == (False, 404)
    made = mailbox.adapter.create("contact", _contacts(1), containers)
    [bad] = mailbox.adapter.update("contact", [(made[0].id, {"nope": 1})])
    assert (bad.ok, bad.status) == (False, 400) and "'nope' does not exist" in bad.error


def test_fetch_reads_in_batches_of_20_and_maps_404_to_none(mailbox):
    containers = mailbox.adapter.ensure_containers({})
    made = mailbox.adapter.create("contact", _contacts(25), containers)
    before = mailbox.adapter.api_calls
    ids = [r.id for r in made] + ["AAMkAnothere="]
    got = mailbox.adapter.fetch("contact", ids)
    assert mailbox.adapter.api_calls - before == 2
    assert got["AAMkAnothere="] is None
    assert all(
        p["id"] == SF_ID_PROPERTY for r in made for p in got[r.id]["singleValueExtendedProperties"]
    )


# -- concurrent batches within Graph's per-mailbox limit --------------------------------------


@pytest.fixture
def slow_graph(mailbox):
    """Graph taking 50 ms a call, so batches sent together are in flight together."""
    mailbox.emu.set_latency(0.05)
    yield mailbox
    mailbox.emu.set_latency()
    mailbox.emu.__dict__.pop("max_in_flight", None)


def test_it_keeps_up_to_4_chained_batches_in_flight_and_never_more(slow_graph):
    mailbox = slow_graph
    containers = mailbox.adapter.ensure_containers({})
    mailbox.emu.in_flight.reset_peaks()
    mailbox.emu.clear_calls()
    payloads = _contacts(170)
    results = mailbox.adapter.create("contact", payloads, containers)
    assert 2 <= mailbox.emu.peak_in_flight(ANN) <= 4
    assert mailbox.batch_calls() == 9 and not mailbox.sleeps
    assert [r.item["givenName"] for r in results] == [p["givenName"] for p in payloads]
    stored = mailbox.emu.contacts_in(ANN, containers[CONTACTS].external_id)
    assert sorted(c["givenName"] for c in stored) == sorted(p["givenName"] for p in payloads)


def test_a_429_storm_at_the_mailbox_limit_is_waited_out_and_loses_nothing(slow_graph):
    mailbox = slow_graph
    containers = mailbox.adapter.ensure_containers({})
    mailbox.emu.max_in_flight = 2  # another app holds two of the mailbox's four slots
    mailbox.emu.in_flight.reset_peaks()
    payloads = _contacts(170)
    results = mailbox.adapter.create("contact", payloads, containers)
    assert mailbox.sleeps and all(s == 1.0 for s in mailbox.sleeps)  # Graph's Retry-After
    assert mailbox.emu.peak_in_flight(ANN) == 2
    assert all(r.ok for r in results), [r.status for r in results if not r.ok]
    stored = mailbox.emu.contacts_in(ANN, containers[CONTACTS].external_id)
    assert len(stored) == 170  # no duplicate, nothing lost
    assert sorted(r.id for r in results) == sorted(c["id"] for c in stored)


def test_a_refused_request_in_a_chain_does_not_cost_the_ones_after_it(slow_graph):
    mailbox = slow_graph
    containers = mailbox.adapter.ensure_containers({})
    made = mailbox.adapter.create("contact", _contacts(45), containers)
    gone = {made[3].id, made[24].id}
    for contact_id in gone:
        mailbox.emu.delete_contact(ANN, contact_id)
    updated = mailbox.adapter.update("contact", [(r.id, {"jobTitle": "CEO"}) for r in made])
    assert [r.id for r in updated] == [r.id for r in made]
    assert {r.id for r in updated if not r.ok} == gone
    assert all(r.status == 404 for r in updated if not r.ok)
    assert all(r.item["jobTitle"] == "CEO" for r in updated if r.ok)
