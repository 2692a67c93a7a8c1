"""EWS has no batch, but its change feeds are independent: a session sends its
SyncFolderItems calls (contacts, tasks, calendar, the "Salesforce Emails" folder) at once,
so an idle session waits about one call's latency, not four in a row — and still makes
exactly those four calls, never more in flight than the mailbox allows."""

from __future__ import annotations

import pytest

from syncengine.models import SyncSession

from .conftest import EMAIL

Status = SyncSession.Status


@pytest.fixture
def exchange_world(world_of):
    return world_of("exchange")


def test_an_idle_exchange_session_reads_its_four_feeds_at_once(exchange_world):
    world = exchange_world
    world.settled_contact()
    world.mbapp.set_latency(0.2)  # long enough that calls sent together overlap
    world.mbapp.reset_peak_in_flight()
    world.mbapp.clear_calls()

    idle = world.sync()

    assert idle.status == Status.SUCCEEDED, idle.error
    assert not idle.changed
    assert world.mbapp.operation_counts(EMAIL) == {"SyncFolderItems": 4}
    assert world.mbapp.peak_in_flight(EMAIL) == 4


def test_a_refused_feed_read_ends_the_session_for_a_retry_with_nothing_lost(exchange_world):
    """One of the concurrent reads refused (ErrorServerBusy): the session waits for the
    others, retries later, and the next one sees the change made meanwhile."""
    world = exchange_world
    sf_id = world.settled_contact()
    [copy] = world.contacts()
    world.edit_contact(copy["id"], "King")
    world.mbapp.server_busy_next(1, back_off_ms=1000, operation="SyncFolderItems")

    refused = world.sync()
    assert refused.status != Status.SUCCEEDED
    assert world.sfapp.get(sf_id)["LastName"] == "Lovelace"

    later = world.sync()
    assert later.status == Status.SUCCEEDED, later.error
    assert world.sfapp.get(sf_id)["LastName"] == "King"
    assert len(world.contacts()) == 1
