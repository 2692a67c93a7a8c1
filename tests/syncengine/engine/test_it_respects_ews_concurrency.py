"""Exchange's EWSMaxConcurrency below Relay's write concurrency: the initial session's
CreateItem calls, several at once, meet ErrorExceededConnectionCount; the session ends
"retry later" (Relay has exchangelib raise the refusal instead of retrying it with a
smaller shared session pool, accounts/providers/exchange.py `keep_session_pool`) and the
next one, with the server's limit back to its default, leaves every item exactly once.

Relay's own settings (EXCHANGE_WRITE_CONCURRENCY 6, EXCHANGE_MAX_CONNECTIONS 8) stay below
the default limit of 10, so a normal session is never refused (the last assertion)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from sandbox.ews.core import EWS_MAX_CONCURRENCY
from syncengine.models import SyncSession

from .conftest import EMAIL, make_world

Status = SyncSession.Status
BOOK = 90  # 9 CreateItem calls of 10 contacts
CHUNK, CONCURRENCY, LIMIT = 10, 4, 2


@pytest.fixture
def world(sandbox, settings, db):
    world = make_world("exchange", sandbox, settings)
    settings.EXCHANGE_WRITE_CHUNK = CHUNK
    settings.EXCHANGE_WRITE_CONCURRENCY = CONCURRENCY
    world.mbapp.set_latency(0.05)  # calls sent together overlap at the server
    yield world
    world.mbapp.set_latency()
    world.mbapp.max_concurrency = EWS_MAX_CONCURRENCY


def test_a_mailbox_limit_below_the_write_concurrency_loses_and_duplicates_nothing(world):
    assert django_settings.EXCHANGE_MAX_CONNECTIONS < EWS_MAX_CONCURRENCY
    world.sync()  # the containers
    for i in range(BOOK):
        world.sf_contact(f"Last{i:03}", f"c{i:03}@example.com")
    world.mbapp.max_concurrency = LIMIT  # other clients of the mailbox hold the rest
    world.mbapp.reset_peak_in_flight()
    world.mbapp.clear_calls()
    first = world.sync()
    assert world.mbapp.concurrency_refused[EMAIL] > 0  # the limit was met...
    assert world.mbapp.peak_in_flight(EMAIL) <= LIMIT  # ...and held
    assert first.status == Status.RETRY_LATER, (first.status, first.error)
    assert "EWSMaxConcurrency" in first.error
    assert len(world.contacts()) < BOOK  # the refused calls' contacts are not in the mailbox
    world.mbapp.max_concurrency = EWS_MAX_CONCURRENCY
    world.mbapp.clear_calls()
    world.clock.advance(minutes=5)
    healed = world.sync()
    assert healed.status == Status.SUCCEEDED, (healed.status, healed.error)
    assert world.mbapp.concurrency_refused[EMAIL] == 0  # Relay's own settings fit the default
    world.assert_book_once(BOOK)


def test_a_mailbox_whose_slots_are_taken_midway_ends_retry_later_then_heals(world):
    """Another client of the mailbox takes every slot once three CreateItem calls are
    served: the rest are refused and the session stops; what was written stays, linked or
    with its write intents, and the next session writes the rest once."""
    world.sync()  # the containers
    for i in range(BOOK):
        world.sf_contact(f"Last{i:03}", f"c{i:03}@example.com")
    app = world.mbapp
    app.clear_calls()

    def taken_after_three(key):
        return 0 if app.operation_counts(EMAIL).get("CreateItem", 0) >= 3 else None

    app.concurrency_limit = taken_after_three  # an instance attribute: this test only
    try:
        first = world.sync()
    finally:
        del app.concurrency_limit
    assert first.status == Status.RETRY_LATER, (first.status, first.error)
    assert "EWSMaxConcurrency" in first.error
    assert app.concurrency_refused[EMAIL] > 0
    assert 3 * CHUNK <= len(world.contacts()) < BOOK  # what was served stays written
    world.clock.advance(minutes=5)
    healed = world.sync()
    assert healed.status == Status.SUCCEEDED, (healed.status, healed.error)
    world.assert_book_once(BOOK)
