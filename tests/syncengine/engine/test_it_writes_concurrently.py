"""Initial writes with several batches in flight, never more than the mailbox allows, a
throttle storm at that limit waited out, and a worker killed while a window of writes is
in flight (syncengine.pipeline) — without losing or duplicating an item."""

from __future__ import annotations

import pytest

from syncengine.faults import AFTER_LINK, crash_at, injected
from syncengine.models import SyncLink, SyncSession, WriteIntent

from .conftest import EMAIL, make_world

Status = SyncSession.Status
BOOK = 90  # five Graph $batches, one People batch, one EWS CreateItem


def _seed_book(world, n=BOOK):
    for i in range(n):
        world.sf_contact(f"Last{i:03}", f"c{i:03}@example.com")


# EWS: CreateItem calls of 10 items, 4 at once — the 90 contacts are 9 calls in three
# windows (4, 4, 1), so a book of a few dozen exercises the concurrent window.
EWS_CHUNK, EWS_CONCURRENCY = 10, 4


def _small_ews_windows(settings):
    settings.EXCHANGE_WRITE_CHUNK = EWS_CHUNK
    settings.EXCHANGE_WRITE_CONCURRENCY = EWS_CONCURRENCY


@pytest.fixture
def slow(world, settings):
    """The mailbox's emulator taking 50 ms a call, so batches sent together overlap."""
    _small_ews_windows(settings)
    world.mbapp.set_latency(0.05)
    world.mbapp.reset_peak_in_flight()
    yield world
    world.mbapp.set_latency()
    world.mbapp.__dict__.pop("max_in_flight", None)


def _peak(world) -> int:
    if world.kind != "gmail":  # Graph and EWS count per mailbox
        return world.mbapp.peak_in_flight(EMAIL)
    return world.mbapp.peak_in_flight_for(EMAIL, "people")


def test_it_never_has_more_in_flight_than_the_mailbox_allows(slow):
    world = slow
    _seed_book(world)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, (session.status, session.error)
    assert len(world.contacts()) == BOOK
    assert SyncLink.objects.filter(user=world.user, item_type="contact").count() == BOOK
    if world.kind == "office365":
        assert 2 <= _peak(world) <= 4  # Graph: 4 per mailbox; chained batches hold one each
    elif world.kind == "exchange":
        # EWS: a window's CreateItem calls go at once, never more than the setting (itself
        # below the impersonated mailbox's EWSMaxConcurrency, 10 on Exchange 2010).
        assert 2 <= _peak(world) <= EWS_CONCURRENCY
        assert world.mbapp.operation_counts(EMAIL).get("CreateItem") == BOOK // EWS_CHUNK
    else:
        assert _peak(world) == 1  # People: one user's mutations one after another


@pytest.fixture
def graph_world(sandbox, settings, db):
    world = make_world("office365", sandbox, settings)
    world.mbapp.set_latency(0.05)
    yield world
    world.mbapp.set_latency()
    world.mbapp.__dict__.pop("max_in_flight", None)


def test_a_429_storm_at_the_mailbox_limit_completes_with_every_item_applied(graph_world):
    world = graph_world
    _seed_book(world, 170)
    world.mbapp.max_in_flight = 1  # another app holds three of the mailbox's four slots
    world.mbapp.reset_peak_in_flight()
    first = world.sync()
    assert first.status in (Status.SUCCEEDED, Status.RETRY_LATER, Status.PARTIAL), first.error
    assert world.mbapp.peak_in_flight(EMAIL) == 1
    world.mbapp.__dict__.pop("max_in_flight", None)
    # The session was told to come back later (or finished with what it could): the next
    # ones, out of the storm, apply the rest.
    later = None
    for _ in range(3):
        world.clock.advance(minutes=5)
        later = world.sync()
        if later.status == Status.SUCCEEDED and not later.changed:
            break
    assert later is not None and later.status == Status.SUCCEEDED, later.error
    contacts = world.contacts()
    assert len(contacts) == 170 and len({c["email"] for c in contacts}) == 170
    links = SyncLink.objects.filter(user=world.user, item_type="contact")
    assert links.count() == 170 and links.exclude(mailbox_id="").count() == 170


@pytest.fixture
def ews_world(sandbox, settings, db):
    world = make_world("exchange", sandbox, settings)
    _small_ews_windows(settings)
    world.mbapp.set_latency(0.05)
    yield world
    world.mbapp.set_latency()


def test_a_busy_exchange_call_among_concurrent_ones_loses_and_duplicates_nothing(ews_world):
    world = ews_world
    world.sync()  # the containers
    _seed_book(world)
    world.mbapp.reset_peak_in_flight()
    # One CreateItem of the first window (4 at once) is refused; the others create theirs.
    world.mbapp.server_busy_next(1, back_off_ms=1, operation="CreateItem")
    first = world.sync()
    assert first.status == Status.RETRY_LATER, (first.status, first.error)
    assert world.mbapp.peak_in_flight(EMAIL) >= 2
    created = len(world.contacts())
    assert 0 < created < BOOK  # the refused call's items are not in the mailbox
    world.clock.advance(minutes=5)
    healed = world.sync()
    assert healed.status == Status.SUCCEEDED, (healed.status, healed.error)
    world.assert_book_once(BOOK)


def test_exchange_updates_of_a_book_go_several_calls_at_once_all_applied(ews_world):
    world = ews_world
    ids = [world.sf_contact(f"Last{i:03}", f"c{i:03}@example.com") for i in range(BOOK)]
    assert world.sync().status == Status.SUCCEEDED
    world.clock.advance(minutes=5)
    for sf_id in ids:
        world.sfapp.update(sf_id, {"Title": "Renamed"}, world.me)
    world.mbapp.clear_calls()
    world.mbapp.reset_peak_in_flight()
    session = world.sync()
    assert session.status == Status.SUCCEEDED, (session.status, session.error)
    assert 2 <= world.mbapp.peak_in_flight(EMAIL) <= EWS_CONCURRENCY
    assert world.mbapp.operation_counts(EMAIL).get("UpdateItem") == BOOK // EWS_CHUNK
    titles = [getattr(c, "job_title", None) for c in world.ews_items("contacts")]
    assert len(titles) == BOOK and set(titles) == {"Renamed"}


# Three windows of creates or more for every kind (Graph 160 a window, People 200, EWS 40:
# 4 calls of 10 at once).
WINDOWED = {"office365": 330, "gmail": 410, "exchange": 210}


def test_a_crash_while_the_next_window_is_in_flight_heals_with_no_duplicate(world, settings):
    _small_ews_windows(settings)
    n = WINDOWED[world.kind]
    world.sync()  # the containers
    _seed_book(world, n)
    # Killed while writing the links of the first window, the second one sent meanwhile.
    with injected(crash_at(AFTER_LINK, "contact", "create_mailbox", 3)):
        crashed = world.sync()
    assert crashed.status == Status.FAILED
    links = SyncLink.objects.filter(user=world.user, item_type="contact")
    # The window in flight was waited for: it is in the mailbox, unlinked, its intents kept.
    in_mailbox, linked = len(world.contacts()), links.count()
    assert 0 < linked < in_mailbox < n
    assert WriteIntent.objects.filter(user=world.user).count() == in_mailbox - linked
    healed = world.sync()
    assert healed.status == Status.SUCCEEDED, (healed.status, healed.error)
    contacts = world.contacts()
    assert len(contacts) == n and len({c["email"] for c in contacts}) == n
    assert links.count() == n and links.exclude(mailbox_id="").count() == n
    assert len(set(links.values_list("mailbox_id", flat=True))) == n
    assert not WriteIntent.objects.filter(user=world.user).exists()
    assert not world.sync().changed


def test_a_token_refused_while_graph_batches_are_in_flight_is_refreshed_once(graph_world):
    """Graph revokes the token mid-window: the batches in flight meet the 401, one refresh
    serves them all, and the token is stored from the thread that met it (db_turns)."""
    world = graph_world
    world.sync()  # the containers
    n = WINDOWED["office365"]
    _seed_book(world, n)
    world.sync_revoking_the_token_mid_write()
    world.assert_book_once(n)
