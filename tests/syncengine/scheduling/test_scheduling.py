"""Leases, idle back-off and who is due (SPEC §1 and §5), on the database alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Connection
from syncengine import scheduling
from syncengine.models import SyncSession, UserSyncState
from tests.factories import ConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db


def connected_user(**state):
    user = UserFactory()
    ConnectionFactory(user=user, provider=Connection.Provider.SALESFORCE)
    ConnectionFactory(user=user, provider=Connection.Provider.OFFICE365)
    if state:
        UserSyncState.objects.update_or_create(user=user, defaults=state)
    return user


def test_it_lets_only_one_worker_hold_a_user():
    user = connected_user()
    assert scheduling.claim(user.pk, "worker-a")
    assert not scheduling.claim(user.pk, "worker-b")
    scheduling.release(user.pk, "worker-a")
    assert scheduling.claim(user.pk, "worker-b")


def test_it_recovers_a_user_whose_worker_died_and_closes_its_session():
    user = connected_user()
    now = timezone.now()
    assert scheduling.claim(user.pk, "dead-worker", now=now)
    stale = SyncSession.objects.create(user=user, trigger=SyncSession.Trigger.SCHEDULE)
    assert not scheduling.claim(user.pk, "worker-b", now=now + scheduling.LEASE / 2)
    assert scheduling.claim(user.pk, "worker-b", now=now + scheduling.LEASE + timedelta(seconds=1))
    stale.refresh_from_db()
    assert stale.status == SyncSession.Status.ABANDONED
    assert stale.finished_at is not None


def test_a_heartbeat_keeps_the_lease_and_fails_once_taken_over():
    user = connected_user()
    assert scheduling.claim(user.pk, "worker-a")
    assert scheduling.heartbeat(user.pk, "worker-a")
    assert not scheduling.heartbeat(user.pk, "worker-b")


@pytest.mark.parametrize(
    ("outcomes", "expected_minutes"),
    [
        ([False], 60),
        ([False, False], 120),
        ([False, False, False], 120),
        ([False, False, True], 30),
        ([True], 30),
    ],
)
def test_idle_sessions_back_off_30_60_120_and_a_change_resets(outcomes, expected_minutes):
    user = connected_user()
    now = timezone.now()
    for found in outcomes:
        state = scheduling.record_outcome(user.pk, found_changes=found, failed=False, now=now)
    assert state.next_due_at == now + timedelta(minutes=expected_minutes)


def test_sync_now_resets_the_back_off():
    user = connected_user()
    scheduling.record_outcome(user.pk, found_changes=False, failed=False)
    scheduling.record_outcome(user.pk, found_changes=False, failed=False)
    scheduling.reset_backoff(user.pk)
    state = UserSyncState.objects.get(user=user)
    assert (state.idle_streak, state.next_due_at) == (0, None)
    assert user.pk in scheduling.due_user_ids()


def test_failures_count_up_and_a_rate_limit_sets_the_retry_time():
    user = connected_user()
    now = timezone.now()
    scheduling.record_outcome(user.pk, found_changes=False, failed=True, now=now)
    state = scheduling.record_outcome(
        user.pk, found_changes=False, failed=True, retry_after=timedelta(minutes=7), now=now
    )
    assert state.consecutive_failures == 2
    assert state.next_due_at == now + timedelta(minutes=7)
    state = scheduling.record_outcome(user.pk, found_changes=True, failed=False, now=now)
    assert state.consecutive_failures == 0


def test_due_users_exclude_paused_not_yet_due_and_unconnected_users():
    due = connected_user()
    later = connected_user(next_due_at=timezone.now() + timedelta(minutes=40))
    paused = connected_user(paused=True)
    needs_reconnect = connected_user()
    Connection.objects.filter(user=needs_reconnect, side="mailbox").update(
        status=Connection.Status.NEEDS_RECONNECT
    )
    only_salesforce = UserFactory()
    ConnectionFactory(user=only_salesforce, provider=Connection.Provider.SALESFORCE)
    ids = scheduling.due_user_ids()
    assert due.pk in ids
    assert not {later.pk, paused.pk, needs_reconnect.pk, only_salesforce.pk} & set(ids)


def test_beat_dispatches_every_30_minutes_and_staff_can_change_it():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    task = PeriodicTask.objects.get(task=scheduling.DISPATCH_TASK)
    assert (task.interval.every, task.interval.period) == (30, "minutes")
    assert scheduling.base_interval() == timedelta(minutes=30)
    task.interval = IntervalSchedule.objects.create(every=45, period="minutes")
    task.save()
    assert scheduling.base_interval() == timedelta(minutes=45)


def test_the_dispatcher_queues_each_due_user_once(monkeypatch):
    from syncengine import services

    queued = []
    monkeypatch.setattr("syncengine.tasks.run_sync_session.delay", lambda *a: queued.append(a))
    due = connected_user()
    connected_user(next_due_at=timezone.now() + timedelta(hours=1))
    assert services.dispatch_due_sessions() == [due.pk]
    assert queued == [(due.pk, "schedule")]


def test_saving_settings_resets_the_back_off(client):
    from syncsettings.models import SyncSettings

    user = connected_user()
    scheduling.record_outcome(user.pk, found_changes=False, failed=False)
    scheduling.record_outcome(user.pk, found_changes=False, failed=False)
    client.force_login(user)
    response = client.post(
        "/settings/filters/",
        {"contacts_down_enabled": "on", "tasks_down_enabled": "on", "contact_scope": "all"},
    )
    assert response.status_code == 302
    assert SyncSettings.for_user(user).contact_scope == "all"
    state = UserSyncState.objects.get(user=user)
    assert (state.idle_streak, state.next_due_at) == (0, None)
