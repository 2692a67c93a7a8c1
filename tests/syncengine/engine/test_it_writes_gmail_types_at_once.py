"""Gmail's contacts, tasks and events go to three APIs (People, Tasks, Calendar), each
taking one user's calls one after another; a first sync writes the three types at once
(syncengine.lanes), one call in flight per API — never more — and a crash in one type's
lane stops the others as a killed worker would, the next session healing both without a
duplicate. A token that expires while a window of writes is in flight is refreshed on
the helper thread that sends it and stored on the session's own database connection."""

from __future__ import annotations

import datetime as dt

import pytest

from syncengine.faults import AFTER_WRITE, InjectedCrash, crash_at, injected
from syncengine.models import SyncLink, SyncSession, WriteIntent

from .conftest import EMAIL
from .meetings import meeting_in_mailbox

Status = SyncSession.Status
CONTACTS = 410  # three People windows of 200
TASKS = EVENTS = 6
LATENCY_S = 0.3  # each call long enough that the three lanes' calls overlap
GUEST = "newcomer@customer.example"


def _seed(world, contacts: int = CONTACTS) -> None:
    for i in range(contacts):
        world.sf_contact(f"Last{i:03}", f"c{i:03}@example.com")
    day = world.clock().date()
    for i in range(TASKS):
        world.sf_task(f"Call back {i}", day + dt.timedelta(days=i + 1))
    start = world.clock().replace(hour=9, minute=0, second=0, microsecond=0)
    for i in range(EVENTS):
        world.sf_event(f"Review {i}", start + dt.timedelta(days=i + 1))


def _assert_all_once(world, contacts: int = CONTACTS) -> None:
    world.assert_book_once(contacts)
    tasks, events = world.tasks(), world.events()
    assert sorted(t["title"] for t in tasks) == [f"Call back {i}" for i in range(TASKS)]
    assert sorted(e["subject"] for e in events) == [f"Review {i}" for i in range(EVENTS)]
    for item_type, n in (("task", TASKS), ("event", EVENTS)):
        links = SyncLink.objects.filter(user=world.user, item_type=item_type)
        assert links.count() == n and len(set(links.values_list("mailbox_id", flat=True))) == n


@pytest.fixture
def slow_gmail(world_of):
    world = world_of("gmail")
    world.sync()  # the containers: the first sync below is all writes
    world.mbapp.set_latency(LATENCY_S)
    world.mbapp.reset_peak_in_flight()
    return world


def test_a_first_gmail_sync_writes_its_three_apis_at_once_one_call_each(slow_gmail):
    world = slow_gmail
    _seed(world)

    session = world.sync()

    assert session.status == Status.SUCCEEDED, session.error
    _assert_all_once(world)
    assert world.mbapp.peak_in_flight(EMAIL) >= 2  # another API's batch beside People's
    for api in ("people", "tasks", "calendar"):
        assert world.mbapp.peak_in_flight_for(EMAIL, api) == 1
    world.clock.advance(minutes=30)
    assert not world.sync().changed  # the echoes are recognised: nothing goes back


def test_a_crash_in_one_lane_stops_the_others_and_the_next_session_heals(slow_gmail):
    world = slow_gmail
    _seed(world, contacts=610)  # four People windows: most are still to come when...

    # ...the worker is killed as the tasks' batch is answered.
    with injected(crash_at(AFTER_WRITE, "task", "create_mailbox", 0)):
        crashed = world.sync()

    assert crashed.status == Status.FAILED
    assert InjectedCrash.__name__ in crashed.error
    contacts = SyncLink.objects.filter(user=world.user, item_type="contact")
    assert contacts.count() < 610  # the contacts' lane stopped too
    assert not SyncLink.objects.filter(user=world.user, item_type="task").exists()
    assert WriteIntent.objects.filter(user=world.user).exists()  # what was in flight

    world.mbapp.set_latency()
    healed = world.sync()

    assert healed.status == Status.SUCCEEDED, (healed.status, healed.error)
    _assert_all_once(world, 610)


def test_a_token_expired_while_writes_are_in_flight_is_stored_on_the_session(slow_gmail):
    world = slow_gmail
    _seed(world, contacts=610)  # four People windows: the later ones meet the 401
    world.sync_revoking_the_token_mid_write()
    world.assert_book_once(610)


def test_a_meeting_is_related_to_a_contact_the_same_first_session_brings_up(world_of):
    """SPEC §2b: the meeting's guest is a contact only the mailbox has; the contacts' lane
    creates it in Salesforce (slowly) while the events' lane writes the meeting, and the
    meeting's people are looked up only once that create is answered — so it is the WhoId
    now, not a session later."""
    world = world_of("gmail")
    world.sync()  # the containers
    world.add_contact("Newcomer", GUEST)
    meeting_in_mailbox(world, "Kick-off", world.clock() + dt.timedelta(days=2), [GUEST])
    # The first Collections call (the contacts' lane plans and writes first) is slow.
    world.sfapp.delay_next(1, seconds=1.5, match="/composite/sobjects")
    session = world.sync()

    assert session.status == Status.SUCCEEDED, session.error
    [contact] = world.sfapp.query(f"SELECT Id FROM Contact WHERE Email = '{GUEST}'", world.me)
    [event] = world.sfapp.query("SELECT Id, WhoId FROM Event", world.me)
    assert event["WhoId"] == contact["Id"]
