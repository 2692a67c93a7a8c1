"""A mailbox's contacts going up on a first sync are written to Salesforce several
sObject Collections calls at once (SALESFORCE_WRITE_CONCURRENCY), never more; a call whose
answer is lost among them costs no duplicate: the next session links what was created.
Records refused because another transaction holds a row they lock (UNABLE_TO_LOCK_ROW)
are written again once the row is free, or by the next session: nothing is lost."""

from __future__ import annotations

import threading
import time

import pytest

from syncengine.models import SyncLink, SyncLogEntry, SyncSession, WriteIntent

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


# -- rows another transaction holds (the emulator's record locking) -----------------------

EDITED = 3


@pytest.fixture
def edited_under_one_account(world_of):
    """Three Salesforce contacts of one Account, synced down and then edited in the
    mailbox: the next session updates them in Salesforce, which locks their Account."""
    world = world_of("office365")
    account = world.sfapp.create("Account", {"Name": "Acme"}, world.me)
    for i in range(EDITED):
        world.sf_contact(f"Acme{i}", f"a{i}@acme.example", AccountId=account)
    assert world.sync().status == Status.SUCCEEDED
    for copy in world.contacts():
        world.edit_contact(copy["id"], copy["raw"]["surname"] + "-edited")
    world.sfapp.lock_wait_s = 0.5
    yield world, account
    world.sfapp.reset()


def _held_until_refused(world, account: str) -> threading.Thread:
    """Another user's transaction holds the Account until Relay was refused once."""

    def hold() -> None:
        with world.sfapp.hold_row_locks([account]):
            deadline = time.monotonic() + 10
            while not world.sfapp.lock_refusals and time.monotonic() < deadline:
                time.sleep(0.01)

    holder = threading.Thread(target=hold)
    holder.start()
    while account not in world.sfapp.row_locks.held():
        time.sleep(0.01)
    return holder


def _surnames(world) -> list[str]:
    rows = world.sfapp.query("SELECT LastName FROM Contact", world.me)
    return sorted(r["LastName"] for r in rows)


def test_records_refused_for_a_lock_are_written_again_once_it_is_free(edited_under_one_account):
    world, account = edited_under_one_account
    holder = _held_until_refused(world, account)
    session = world.sync()
    holder.join()
    assert session.status == Status.SUCCEEDED, (session.status, session.error)
    assert sum(world.sfapp.lock_refusals.values()) == EDITED  # the first try, all refused
    assert _surnames(world) == [f"Acme{i}-edited" for i in range(EDITED)]


def test_a_lock_held_all_session_loses_nothing_the_next_session_writes_it(
    edited_under_one_account,
):
    world, account = edited_under_one_account
    with world.sfapp.hold_row_locks([account]):
        held = world.sync()
    # A refusal that heals by itself: the session comes back soon for what it could not write.
    assert held.status == Status.RETRY_LATER, (held.status, held.error)
    assert "UNABLE_TO_LOCK_ROW" in held.error and held.retry_after_seconds == 60
    errors = SyncLogEntry.objects.filter(session=held, kind=SyncLogEntry.Kind.ITEM_ERROR)
    assert errors.count() == EDITED
    assert {e.payload["code"] for e in errors} == {"UNABLE_TO_LOCK_ROW"}
    assert _surnames(world) == [f"Acme{i}" for i in range(EDITED)]  # nothing half-written

    world.clock.advance(minutes=30)
    freed = world.sync()
    assert freed.status == Status.SUCCEEDED, (freed.status, freed.error)
    assert _surnames(world) == [f"Acme{i}-edited" for i in range(EDITED)]
