"""Gmail's feeds are four APIs a batch cannot mix (People, Calendar, Tasks, Gmail), and
none depends on another: a session sends their reads at once, one per API, so an idle
session waits about one call's latency, not four in a row. A token refresh is never done
on a helper thread (it writes the Connection): a read that needed one is made again on
the session's thread, once."""

from __future__ import annotations

import pytest

from accounts.models import Connection
from syncengine.models import SyncSession

from .conftest import EMAIL

Status = SyncSession.Status


@pytest.fixture
def gmail_world(world_of):
    return world_of("gmail")


def test_an_idle_gmail_session_reads_its_four_apis_at_once(gmail_world):
    world = gmail_world
    world.settled_contact()
    world.mbapp.set_latency(0.2)  # long enough that calls sent together overlap
    world.mbapp.reset_peak_in_flight()
    world.mbapp.clear_calls()

    idle = world.sync()

    assert idle.status == Status.SUCCEEDED, idle.error
    assert not idle.changed
    assert idle.api_calls_mailbox == 4 == len(world.mbapp.calls)
    assert world.mbapp.peak_in_flight(EMAIL) == 4
    for api in ("people", "calendar", "tasks", "gmail"):
        assert world.mbapp.peak_in_flight_for(EMAIL, api) == 1


def test_an_expired_token_is_refreshed_on_the_session_thread_and_nothing_is_read_twice(
    gmail_world,
):
    world = gmail_world
    world.settled_contact()
    world.mbapp.expire_tokens(EMAIL)
    mailbox = Connection.objects.mailbox_for(world.user)
    old_token = mailbox.access_token
    mailbox.token_expires_at = mailbox.token_expires_at.replace(year=2000)
    mailbox.save()
    world.mbapp.clear_calls()

    session = world.sync()

    assert session.status == Status.SUCCEEDED, session.error
    mailbox = Connection.objects.mailbox_for(world.user)
    assert mailbox.access_token != old_token
    assert mailbox.token_expires_at.year > 2000
    # Refreshed once before the reads went, on the session's thread; each API read once.
    paths = [c.path for c in world.mbapp.calls]
    assert len([p for p in paths if p.startswith("/token")]) == 1, paths
    assert session.api_calls_mailbox == 4 == len(paths) - 1


def test_a_token_refused_early_is_refreshed_once_on_the_session_thread(gmail_world):
    """The server expired the token before its time: every helper thread meets a 401 and
    may not refresh; the session thread reads again, refreshes once, and brings the
    change made meanwhile."""
    world = gmail_world
    sf_id = world.settled_contact()
    [copy] = world.contacts()
    world.edit_contact(copy["id"], "King")
    world.mbapp.expire_tokens(EMAIL)  # the Connection still thinks its token is good
    world.mbapp.clear_calls()

    session = world.sync()

    assert session.status == Status.SUCCEEDED, session.error
    paths = [c.path for c in world.mbapp.calls]
    assert len([p for p in paths if p.startswith("/token")]) == 1, paths
    assert world.sfapp.get(sf_id)["LastName"] == "King"
    assert len(world.contacts()) == 1
