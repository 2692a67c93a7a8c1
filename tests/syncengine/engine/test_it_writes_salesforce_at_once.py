"""A mailbox's contacts going up on a first sync are written to Salesforce several
sObject Collections calls at once (SALESFORCE_WRITE_CONCURRENCY), never more; a call whose
answer is lost among them costs no duplicate: the next session links what was created."""

from __future__ import annotations

import pytest

from syncengine.models import SyncLink, SyncSession, WriteIntent

Status = SyncSession.Status
UP = 450  # three Collections calls: 200, 200, 50


@pytest.fixture
def up_world(world_of, settings):
    settings.SALESFORCE_WRITE_CONCURRENCY = 3
    world = world_of("office365")
    world.sync()  # the containers
    for i in range(UP):
        world.add_contact(f"Mailbox{i:03}", f"m{i:03}@example.com")
    world.sfapp.set_latency(0.1)  # long enough that calls sent together overlap
    world.sfapp.reset_peak_in_flight()
    yield world
    world.sfapp.set_latency()
    world.sfapp.clear_faults()


def _assert_up_once(world) -> None:
    rows = world.sfapp.query("SELECT Id, Email FROM Contact", world.me)
    emails = [r["Email"] for r in rows]
    assert len(emails) == UP == len(set(emails))
    links = SyncLink.objects.filter(user=world.user, item_type="contact")
    assert links.count() == UP and len(set(links.values_list("sf_id", flat=True))) == UP
    assert not WriteIntent.objects.filter(user=world.user).exists()


def test_contacts_go_up_three_collections_calls_at_once(up_world):
    world = up_world
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    _assert_up_once(world)
    assert world.sfapp.peak_in_flight(world.me) == 3


def test_a_lost_answer_among_concurrent_writes_costs_no_duplicate(up_world):
    world = up_world
    # One of the three calls is applied, but its answer never reaches Relay.
    world.sfapp.lose_response_next(1, match="/composite/sobjects", method="POST")
    first = world.sync()
    assert first.status == Status.RETRY_LATER, (first.status, first.error)
    assert WriteIntent.objects.filter(user=world.user).exists()  # outcome unknown

    world.clock.advance(minutes=5)
    healed = world.sync()
    assert healed.status == Status.SUCCEEDED, (healed.status, healed.error)
    _assert_up_once(world)
