"""A session keeps its own time limit (runs.time_limited, SPEC §10 "tasks have time
limits"): the threads pool a worker runs by default does not enforce Celery's, so a huge or
stuck session must stop by itself at a heartbeat, keep what it wrote, free the user's lease
and let the next session finish the job — with no duplicate on either side."""

from __future__ import annotations

import datetime as dt

from syncengine import runs
from syncengine.models import SyncLink, SyncSession, UserSyncState

from .conftest import NOW

Status = SyncSession.Status


class Clock:
    """A monotonic clock the test moves: each reading is one second later."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_a_session_past_its_time_limit_keeps_what_it_wrote_and_the_next_one_finishes(world):
    world.sf_contact("Adams", "adams@example.com")
    world.sf_task("Call", NOW.date() + dt.timedelta(days=1))
    beats: list[int] = []

    def beat() -> bool:
        beats.append(1)
        return True

    # The clock reads once when the limit starts and once per beat: with a limit of 2.5 s
    # the beats before the contacts and before their creates pass, the third (before the
    # tasks) is past the limit.
    session = world.sync(heartbeat=runs.time_limited(beat, 2.5, clock=Clock()))
    assert session.status == Status.RETRY_LATER
    assert "time limit" in session.error and "goes on where it left off" in session.error
    assert session.retry_after_seconds == 60
    assert len(beats) == 2  # the third beat raised before renewing the lease
    assert [c["email"] for c in world.contacts()] == ["adams@example.com"]  # kept
    assert world.tasks() == []  # stopped before the tasks

    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert [c["email"] for c in world.contacts()] == ["adams@example.com"]
    assert [t["title"] for t in world.tasks()] == ["Call"]
    assert SyncLink.objects.filter(user=world.user).count() == 2
    assert not world.sync().changed  # settled: nothing written twice


def test_the_workers_session_stops_at_the_soft_time_limit_and_frees_the_user(world, settings):
    world.sf_contact("Adams", "adams@example.com")
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 0  # past it at the first heartbeat

    session = runs.run_claimed_session(world.user.pk, "schedule")
    assert session is not None and session.status == Status.RETRY_LATER
    assert world.contacts() == []
    state = UserSyncState.objects.get(user=world.user)
    assert not state.claimed_by  # the lease is released: the next session can start

    settings.CELERY_TASK_SOFT_TIME_LIMIT = 15 * 60
    session = runs.run_claimed_session(world.user.pk, "schedule")
    assert session is not None and session.status == Status.SUCCEEDED, session.error
    assert [c["email"] for c in world.contacts()] == ["adams@example.com"]
