"""The heartbeat that keeps a long session's lease, and the sweep that closes sessions
whose worker stopped beating (issue 5, item 6), on the database alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Connection
from syncengine import runs, scheduling, services
from syncengine.models import SyncCursor, SyncSession, UserSyncState
from syncengine.session import SessionRun, run_session
from tests.factories import ConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = SyncSession.Status


def connected_user():
    user = UserFactory()
    ConnectionFactory(user=user, provider=Connection.Provider.SALESFORCE)
    ConnectionFactory(user=user, provider=Connection.Provider.OFFICE365)
    return user


def session_of(user, *, beat_ago=None, started_ago=None):
    session = SyncSession.objects.create(user=user, trigger=SyncSession.Trigger.SCHEDULE)
    now = timezone.now()
    SyncSession.objects.filter(pk=session.pk).update(
        heartbeat_at=now - beat_ago if beat_ago is not None else None,
        started_at=now - (started_ago or timedelta(0)),
    )
    return session


def two_types_writing_cursors(self):
    """Stands in for the engine: one cursor per item type, the lease checked between."""
    for feed in ("contacts", "tasks"):
        self.check_lease()
        SyncCursor.objects.create(user=self.user, feed=feed, value="v")
        self.counters.add("contact", "down", "created")
        self.changed = True


def test_a_heartbeat_renews_the_lease_and_the_running_sessions_beat():
    user = connected_user()
    assert scheduling.claim(user.pk, "worker-a")
    UserSyncState.objects.filter(user=user).update(claimed_until=timezone.now())
    session = session_of(user, beat_ago=timedelta(minutes=5))
    assert scheduling.heartbeat(user.pk, "worker-a")
    state = UserSyncState.objects.get(user=user)
    assert state.claimed_until > timezone.now() + scheduling.LEASE - timedelta(seconds=5)
    session.refresh_from_db()
    assert session.heartbeat_at > timezone.now() - timedelta(seconds=5)


def test_a_heartbeat_of_a_worker_that_lost_the_lease_touches_nothing():
    user = connected_user()
    assert scheduling.claim(user.pk, "worker-b")
    session = session_of(user, beat_ago=timedelta(minutes=5))
    session.refresh_from_db()
    before = session.heartbeat_at
    assert not scheduling.heartbeat(user.pk, "worker-a")
    session.refresh_from_db()
    assert session.heartbeat_at == before
    assert UserSyncState.objects.get(user=user).claimed_by == "worker-b"


def test_a_session_stops_as_abandoned_without_further_writes_when_the_beat_fails(monkeypatch):
    user = connected_user()
    monkeypatch.setattr(SessionRun, "run", two_types_writing_cursors)
    answers = iter([True, False])
    session = run_session(user, SyncSession.Trigger.SCHEDULE, heartbeat=lambda: next(answers))
    assert session.status == Status.ABANDONED
    assert session.finished_at is not None
    assert "Another worker" in session.error
    assert session.counters["contact"]["down"]["created"] == 1
    assert list(SyncCursor.objects.filter(user=user).values_list("feed", flat=True)) == ["contacts"]


def test_an_abandoned_session_already_closed_by_the_new_holder_is_left_as_it_is(monkeypatch):
    user = connected_user()

    def taken_over(self):
        scheduling.close_abandoned_sessions(user.pk, timezone.now())  # the new holder's claim
        self.check_lease()

    monkeypatch.setattr(SessionRun, "run", taken_over)
    session = run_session(user, SyncSession.Trigger.SCHEDULE, heartbeat=lambda: False)
    assert session.status == Status.ABANDONED
    assert "The worker running this session stopped" in session.error


def test_a_session_with_a_beating_heartbeat_runs_to_the_end(monkeypatch):
    user = connected_user()
    monkeypatch.setattr(SessionRun, "run", two_types_writing_cursors)
    beats = []
    session = run_session(
        user, SyncSession.Trigger.SCHEDULE, heartbeat=lambda: beats.append(1) or True
    )
    assert session.status == Status.SUCCEEDED
    assert len(beats) == 2
    assert SyncCursor.objects.filter(user=user).count() == 2


def test_a_claimed_session_beats_on_its_lease_and_stops_once_another_worker_takes_it(
    monkeypatch,
):
    user = connected_user()
    seen = []
    # The stall below is simulated in the database, not in time: every beat must renew.
    monkeypatch.setattr(runs, "BEAT_EVERY", 0.0)

    def engine(self):
        seen.append(self.heartbeat())  # our lease: renewed
        # The lease ran out (a long stall) and another worker claimed the user.
        UserSyncState.objects.filter(user=user).update(claimed_until=timezone.now())
        assert scheduling.claim(user.pk, "worker-b", now=timezone.now() + timedelta(seconds=1))
        seen.append(self.heartbeat())
        self.check_lease()
        SyncCursor.objects.create(user=user, feed="never", value="v")

    monkeypatch.setattr(SessionRun, "run", engine)
    session = services.run_claimed_session(user.pk, "manual")
    assert seen == [True, False]
    assert session.status == Status.ABANDONED
    assert not SyncCursor.objects.filter(user=user).exists()
    state = UserSyncState.objects.get(user=user)
    # The new holder keeps its lease, and no back-off was recorded for the stopped session.
    assert state.claimed_by == "worker-b"
    assert state.next_due_at is None


def test_beats_soon_after_the_claim_cost_no_query(monkeypatch):
    """Nobody can take a lease minutes long within seconds of its renewal: an idle session
    beating between its item types does not write the lease each time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = connected_user()
    counted = []

    def engine(self):
        with CaptureQueriesContext(connection) as queries:
            beats = [self.heartbeat() for _ in range(5)]
        counted.append((beats, len(queries)))

    monkeypatch.setattr(SessionRun, "run", engine)
    services.run_claimed_session(user.pk, "manual")
    assert counted == [([True] * 5, 0)]


def test_the_sweep_closes_sessions_whose_heartbeat_is_older_than_the_lease():
    now = timezone.now()
    stale = session_of(connected_user(), beat_ago=scheduling.LEASE + timedelta(seconds=1))
    never_beat = session_of(connected_user(), started_ago=scheduling.LEASE + timedelta(minutes=1))
    fresh = session_of(connected_user(), beat_ago=scheduling.LEASE - timedelta(minutes=1))
    young = session_of(connected_user(), started_ago=timedelta(minutes=1))
    leased_user = connected_user()
    assert scheduling.claim(leased_user.pk, "worker-a")
    leased = session_of(leased_user, beat_ago=scheduling.LEASE + timedelta(minutes=1))

    assert scheduling.close_stale_sessions(now) == 2
    statuses = {
        s.pk: s.status
        for s in SyncSession.objects.filter(
            pk__in=[stale.pk, never_beat.pk, fresh.pk, young.pk, leased.pk]
        )
    }
    assert statuses == {
        stale.pk: Status.ABANDONED,
        never_beat.pk: Status.ABANDONED,
        fresh.pk: Status.RUNNING,
        young.pk: Status.RUNNING,
        leased.pk: Status.RUNNING,  # someone holds a live lease: its worker is alive
    }
    stale.refresh_from_db()
    assert stale.finished_at == now
    assert "stopped beating" in stale.error


def test_the_sweep_leaves_finished_sessions_alone():
    done = session_of(connected_user(), beat_ago=timedelta(hours=3))
    SyncSession.objects.filter(pk=done.pk).update(status=Status.SUCCEEDED)
    assert scheduling.close_stale_sessions() == 0
    done.refresh_from_db()
    assert done.status == Status.SUCCEEDED


def test_the_dispatcher_sweeps_stale_sessions(monkeypatch):
    monkeypatch.setattr("syncengine.tasks.run_sync_session.delay", lambda *a: None)
    stale = session_of(connected_user(), beat_ago=scheduling.LEASE * 2)
    services.dispatch_due_sessions()
    stale.refresh_from_db()
    assert stale.status == Status.ABANDONED
