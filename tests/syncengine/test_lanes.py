"""syncengine.lanes over config.db_turns: a session's lanes run on threads of their own but
use its one database connection in turns — one at a time, in the order they asked, never
off turn — so every lane's writes land in the session's transaction; the first failure
stops the others and is raised on the session's thread."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import Connection
from config import db_turns
from syncengine.lanes import LaneStopped, check, run_lanes, wait_for
from tests.factories import ConnectionFactory


@pytest.mark.django_db
def test_every_lane_writes_through_the_sessions_connection_and_transaction():
    conn = ConnectionFactory()
    seen = []

    def lane(name):
        def run():
            seen.append((name, connection.connection is not None))
            Connection.objects.filter(pk=conn.pk).update(last_error=name)
            with db_turns.off_turn():  # a network wait: another lane may take the turn
                threading.Event().wait(0.02)
            seen.append((name, Connection.objects.get(pk=conn.pk).last_error))

        return run

    outer = connection.connection
    run_lanes([lane("a"), lane("b")])

    assert connection.connection is outer  # the session's thread keeps its connection
    # Both lanes used that same open connection (a lane's own would not see the test's
    # uncommitted Connection row at all), one write after the other.
    assert sorted(name for name, _ in seen) == ["a", "a", "b", "b"]
    assert Connection.objects.get(pk=conn.pk).last_error in ("a", "b")


@pytest.mark.django_db
def test_a_query_off_turn_fails_loudly_instead_of_interleaving():
    def careless():
        with db_turns.off_turn():
            Connection.objects.count()

    with pytest.raises(db_turns.OffTurn):
        run_lanes([careless, lambda: None])


@pytest.mark.django_db
def test_a_helper_writes_on_the_turn_while_its_lane_waits_for_it():
    conn = ConnectionFactory()

    def lane():
        turn = db_turns.current()
        done = threading.Event()

        def helper():
            with db_turns.helper(turn):
                conn.last_error = "token stored"
                conn.save(update_fields=["last_error"])  # Connection.save takes the turn
            done.set()

        threading.Thread(target=helper).start()
        wait_for(done)  # off turn, or the helper could never have it

    run_lanes([lane, lambda: None])
    assert Connection.objects.get(pk=conn.pk).last_error == "token stored"


def test_the_turn_goes_to_the_lanes_in_the_order_they_asked():
    lock = db_turns.FairLock()
    lock.acquire()
    order, ready = [], []
    threads = []
    for name in ("first", "second", "third"):
        asked = threading.Event()

        def take(name=name, asked=asked):
            asked.set()
            lock.acquire()
            order.append(name)
            lock.release()

        thread = threading.Thread(target=take)
        thread.start()
        asked.wait(5)
        threading.Event().wait(0.02)  # the thread is waiting in acquire by now
        threads.append(thread)
        ready.append(name)
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == ready == ["first", "second", "third"]


@pytest.mark.django_db
def test_the_first_failure_stops_the_other_lanes_and_is_raised():
    failed = threading.Event()
    stopped = []

    def failing():
        try:
            raise RuntimeError("server refused")
        finally:
            failed.set()

    def patient():
        check()  # nothing failed yet
        try:
            wait_for(failed)  # gives up its turn until the other lane has failed
        except LaneStopped:
            stopped.append(True)
            raise

    with pytest.raises(RuntimeError, match="server refused"):
        run_lanes([patient, failing])
    assert stopped == [True]


@pytest.mark.django_db
def test_one_lane_runs_on_the_callers_thread():
    threads = []
    run_lanes([lambda: threads.append(threading.current_thread())])
    assert threads == [threading.current_thread()]
