"""One worker process runs several users' sessions at once, a thread each (issue 15's
fleet): the lease still lets only one of them run a given user's session, and the worker's
own bookkeeping around an idle session stays a few queries."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Connection
from syncengine import runs
from syncengine.models import HeldDecision, SyncLink, SyncSession, UserSyncState
from syncengine.session import SessionRun
from tests.factories import ConnectionFactory, UserFactory

Status = SyncSession.Status
WAIT = 20  # seconds: far beyond what any step below needs, so a hang fails, not blocks


def connected_user():
    user = UserFactory()
    ConnectionFactory(user=user, provider=Connection.Provider.SALESFORCE)
    ConnectionFactory(user=user, provider=Connection.Provider.OFFICE365)
    return user


def in_thread(target):
    """Run `target` in a thread of this process with its own database connection."""
    out = []

    def run():
        try:
            out.append(target())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


@pytest.mark.django_db(transaction=True)  # committed rows: the other thread sees them
def test_two_threads_never_run_the_same_users_session_at_once(monkeypatch):
    user = connected_user()
    inside, other_done = threading.Event(), threading.Event()
    ran = []

    def engine(self):
        ran.append(threading.get_ident())
        inside.set()
        assert other_done.wait(WAIT)  # the other thread tried while this one runs

    monkeypatch.setattr(SessionRun, "run", engine)
    first, first_out = in_thread(lambda: runs.run_claimed_session(user.pk, "schedule"))
    assert inside.wait(WAIT)
    second, second_out = in_thread(lambda: runs.run_claimed_session(user.pk, "schedule"))
    second.join(WAIT)
    other_done.set()
    first.join(WAIT)
    assert second_out == [None]  # the user was busy: nothing ran
    assert [s.status for s in first_out] == [Status.SUCCEEDED]
    assert len(ran) == 1
    assert SyncSession.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_thread_whose_lease_ran_out_stops_when_another_thread_took_the_user(monkeypatch):
    """Same process, same machine: only the thread in the lease's name tells them apart."""
    monkeypatch.setattr(runs, "BEAT_EVERY", 0.0)  # every beat renews (the stall is faked)
    user = connected_user()
    stalled = threading.get_ident()
    taken, beaten = threading.Event(), threading.Event()
    seen = []

    def engine(self):
        if threading.get_ident() != stalled:  # the thread that took the user over
            taken.set()
            assert beaten.wait(WAIT)
            return
        # A stall longer than the lease: it ran out, and another thread claims the user.
        past = timezone.now() - timedelta(seconds=1)
        UserSyncState.objects.filter(user=user).update(claimed_until=past)
        other, _ = in_thread(lambda: runs.run_claimed_session(user.pk, "schedule"))
        assert taken.wait(WAIT)
        seen.append(self.heartbeat())  # while the other thread holds the lease
        beaten.set()
        other.join(WAIT)
        self.check_lease()

    monkeypatch.setattr(SessionRun, "run", engine)
    session = runs.run_claimed_session(user.pk, "schedule")
    assert seen == [False]
    assert session.status == Status.ABANDONED
    statuses = set(SyncSession.objects.filter(user=user).values_list("status", flat=True))
    assert statuses == {Status.ABANDONED, Status.SUCCEEDED}


@pytest.mark.django_db
def test_the_worker_wraps_an_idle_session_in_three_queries_of_its_own(monkeypatch):
    """Claim (with the "any decision waiting?" check), the user, and the outcome (with the
    release and the "any decision or email due?" checks); the session's row is its own."""
    user = connected_user()
    monkeypatch.setattr(SessionRun, "run", lambda self: None)  # an idle session's engine part
    runs.run_claimed_session(user.pk, "schedule")  # the state row exists from now on
    with CaptureQueriesContext(connection) as queries:
        session = runs.run_claimed_session(user.pk, "schedule")
    assert session.status == Status.SUCCEEDED
    sqls = [q["sql"] for q in queries.captured_queries]
    session_rows = [q for q in sqls if '"syncengine_syncsession"' in q.split(" WHERE ")[0]]
    assert len(session_rows) == 2  # its INSERT and its outcome's UPDATE
    assert len(sqls) - len(session_rows) == 3, sqls
    state = UserSyncState.objects.get(user=user)
    assert (state.claimed_by, state.claimed_until, state.idle_streak) == ("", None, 2)


@pytest.mark.django_db
def test_a_decision_recorded_while_the_session_ran_is_carried_out_before_the_release(
    monkeypatch,
):
    user = connected_user()
    link = SyncLink.objects.create(
        user=user, item_type="contact", sf_id="003A", mailbox_id="m1",
        state=SyncLink.State.HELD_DELETION, held_side="salesforce",
    )  # fmt: skip

    def engine(self):  # the user presses Discard on the dashboard meanwhile
        SyncLink.objects.filter(pk=link.pk).update(held_decision=HeldDecision.DISCARD)

    monkeypatch.setattr(SessionRun, "run", engine)
    runs.run_claimed_session(user.pk, "schedule")
    link.refresh_from_db()
    assert link.held_decision == ""  # carried out (refused here: no provider to reach)
    triggers = list(SyncSession.objects.filter(user=user).order_by("pk").values_list("trigger"))
    assert triggers == [("schedule",), ("manual",)]  # the decision's own session
    assert UserSyncState.objects.get(user=user).claimed_until is None
