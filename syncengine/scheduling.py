"""Who syncs when, and making sure a user never has two sessions at once.

The per-user lock is a lease on `UserSyncState.claimed_until`, taken by compare-and-swap
(`filter(...).update(...)` and check the row count, as healthchecks claims work). It holds
across workers and machines because the database is shared, works on SQLite and
PostgreSQL alike, and a worker that dies simply lets its lease run out: the next claim
after `claimed_until` recovers the user, and the abandoned session is closed.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Least
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import Connection

from .models import SyncSession, UserSyncState

# A worker renews its lease at least this often; a lease this old means the worker died.
LEASE = timedelta(minutes=getattr(settings, "RELAY_SYNC_LEASE_MINUTES", 10))
BASE_INTERVAL = timedelta(minutes=30)
# SPEC §5: sessions that find nothing back off 30 → 60 → 120 minutes.
MAX_IDLE_DOUBLINGS = 2


def worker_name() -> str:
    """Who holds a lease: this machine, process and thread. A worker process runs several
    sessions at once (a thread each, CELERY_WORKER_POOL=threads), so the thread is part of
    the name: a thread whose lease ran out during a stall must see its heartbeat refused
    when another thread of the same process took the user over."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{threading.get_native_id()}"


def state_for(user_id: int) -> UserSyncState:
    state, _ = UserSyncState.objects.get_or_create(user_id=user_id)
    return state


def claim(
    user_id: int,
    owner: str,
    now: datetime | None = None,
    *,
    dequeue: bool = False,
    only_if: Q | None = None,
) -> bool:
    """Take the user's lease if nobody holds a live one. True when this worker has it.

    With `dequeue`, the same UPDATE also notes the user's queued task as taken off the
    queue (see clear_queued). The common case, a released lease, costs that one query:
    only a lease that ran out (its worker died) can leave a session 'running', so only
    taking over one of those closes abandoned sessions.

    With `only_if` (a condition on the UserSyncState row, e.g. an `~Exists(...)`), only a
    released lease is taken, and only when the condition holds, in that one UPDATE: False
    then says "not like this" and the caller claims again without it (runs.py folds its
    "anything to do first?" check into the claim this way)."""
    now = now or timezone.now()
    fields: dict[str, object] = {"claimed_by": owner, "claimed_until": now + LEASE}
    if dequeue:
        fields["queued_at"] = None
    rows = UserSyncState.objects.filter(user_id=user_id)
    if only_if is not None:
        return bool(rows.filter(only_if, claimed_until__isnull=True).update(**fields))
    if rows.filter(claimed_until__isnull=True).update(**fields):
        return True
    state_for(user_id)  # a first session: the row may not exist yet
    if rows.filter(claimed_until__isnull=True).update(**fields):
        return True
    if rows.filter(claimed_until__lt=now).update(**fields):
        close_abandoned_sessions(user_id, now)
        return True
    return False


def heartbeat(user_id: int, owner: str, session: SyncSession | None = None) -> bool:
    """Renew the lease and the running session's heartbeat (`session`, or the user's running
    one: the lease holder runs the only one). False if another worker took over: then
    nothing is touched."""
    now = timezone.now()
    renewed = UserSyncState.objects.filter(user_id=user_id, claimed_by=owner).update(
        claimed_until=now + LEASE
    )
    if not renewed:
        return False
    if session is not None and session.pk:
        SyncSession.objects.filter(pk=session.pk).update(heartbeat_at=now)
    else:
        SyncSession.objects.filter(user_id=user_id, status=SyncSession.Status.RUNNING).update(
            heartbeat_at=now
        )
    return True


def is_busy(user_id: int, now: datetime | None = None) -> bool:
    """Whether a worker holds a live lease on the user (a session is running)."""
    now = now or timezone.now()
    return UserSyncState.objects.filter(user_id=user_id, claimed_until__gte=now).exists()


def mark_queued(user_id: int, now: datetime | None = None) -> bool:
    """Note that a session task is being queued for the user, unless one is queued (and not
    lost: younger than a lease) or running. True when the caller should queue it."""
    now = now or timezone.now()
    state_for(user_id)
    return bool(
        UserSyncState.objects.filter(user_id=user_id)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - LEASE))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(queued_at=now)
    )


def clear_queued(user_id: int) -> None:
    """A worker took the user's queued task off the queue."""
    UserSyncState.objects.filter(user_id=user_id).exclude(queued_at=None).update(queued_at=None)


def release(user_id: int, owner: str) -> None:
    UserSyncState.objects.filter(user_id=user_id, claimed_by=owner).update(
        claimed_by="", claimed_until=None
    )


def close_abandoned_sessions(user_id: int, now: datetime) -> int:
    """Sessions still 'running' when their user is claimed anew lost their worker."""
    return SyncSession.objects.filter(user_id=user_id, status=SyncSession.Status.RUNNING).update(
        status=SyncSession.Status.ABANDONED,
        finished_at=now,
        error="The worker running this session stopped; a later session picks up its work.",
    )


def close_stale_sessions(now: datetime | None = None) -> int:
    """The dispatcher's sweep: a session still 'running' whose heartbeat is older than a
    lease, for a user nobody holds a live lease on, lost its worker. Closed as abandoned so
    History stops showing it running (the next claim would close it too, but a paused or
    disconnected user may not be claimed for a long time)."""
    now = now or timezone.now()
    cutoff = now - LEASE
    live = UserSyncState.objects.filter(claimed_until__gte=now).values("user_id")
    return (
        SyncSession.objects.filter(status=SyncSession.Status.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        .exclude(user_id__in=live)
        .update(
            status=SyncSession.Status.ABANDONED,
            finished_at=now,
            error="The worker running this session stopped beating; a later session picks up"
            " its work.",
        )
    )


DISPATCH_TASK = "relay.dispatch_due_sessions"


def base_interval() -> timedelta:
    """The beat interval staff set on the dispatch task in admin (30 minutes by default)."""
    task = PeriodicTask.objects.filter(task=DISPATCH_TASK, enabled=True).first()
    if task is None or task.interval is None:
        return BASE_INTERVAL
    return timedelta(seconds=task.interval.schedule.run_every.total_seconds())


def next_interval(idle_streak: int, base: timedelta = BASE_INTERVAL) -> timedelta:
    return base * int(2 ** min(idle_streak, MAX_IDLE_DOUBLINGS))  # int: int ** int is Any to mypy


def finish(
    user_id: int,
    owner: str,
    *,
    found_changes: bool,
    failed: bool,
    retry_after: timedelta | None = None,
    now: datetime | None = None,
    base: timedelta = BASE_INTERVAL,
    only_if: Q | None = None,
) -> bool:
    """record_outcome and release in one UPDATE (what a worker does after each session).

    The new idle streak and due time are computed by the database from the row's own
    values, so no read and no transaction are needed: one statement is atomic.

    With `only_if` (a condition on the row before this UPDATE), nothing is written unless
    it holds; the answer says whether the row was written."""
    now = now or timezone.now()
    if found_changes or failed:
        streak: Any = Value(0)
        due: Any = Value(now + (retry_after if retry_after is not None else base))
    else:
        streak = Least(F("idle_streak") + 1, Value(MAX_IDLE_DOUBLINGS))
        due = Case(  # next_interval of the streak just computed
            *(
                When(idle_streak__gte=n - 1, then=Value(now + next_interval(n, base)))
                for n in range(MAX_IDLE_DOUBLINGS, 0, -1)
            ),
            default=Value(now + next_interval(0, base)),
            output_field=DateTimeField(),
        )
        if retry_after is not None:
            due = Value(now + retry_after)
    mine = Q(claimed_by=owner)
    rows = UserSyncState.objects.filter(user_id=user_id)
    if only_if is not None:
        rows = rows.filter(only_if)
    return bool(
        rows.update(
            consecutive_failures=F("consecutive_failures") + 1 if failed else Value(0),
            idle_streak=streak,
            next_due_at=due,
            claimed_by=Case(When(mine, then=Value("")), default=F("claimed_by")),
            claimed_until=Case(When(mine, then=Value(None)), default=F("claimed_until")),
        )
    )


@transaction.atomic
def record_outcome(
    user_id: int,
    *,
    found_changes: bool,
    failed: bool,
    retry_after: timedelta | None = None,
    now: datetime | None = None,
    base: timedelta = BASE_INTERVAL,
) -> UserSyncState:
    """After a session: update the idle back-off, failure streak and next due time."""
    now = now or timezone.now()
    state_for(user_id)
    state = UserSyncState.objects.select_for_update().get(user_id=user_id)
    state.consecutive_failures = state.consecutive_failures + 1 if failed else 0
    if found_changes or failed:
        state.idle_streak = 0
    else:
        state.idle_streak = min(state.idle_streak + 1, MAX_IDLE_DOUBLINGS)
    state.next_due_at = now + (
        retry_after if retry_after is not None else next_interval(state.idle_streak, base)
    )
    state.save(update_fields=["consecutive_failures", "idle_streak", "next_due_at"])
    return state


def reset_backoff(user_id: int) -> None:
    """A settings save or "Sync now": back to the 30-minute rhythm (SPEC §5)."""
    state_for(user_id)
    UserSyncState.objects.filter(user_id=user_id).update(idle_streak=0, next_due_at=None)


def due_user_ids(now: datetime | None = None, slack: timedelta = timedelta(minutes=2)) -> list[int]:
    """Users with both connections active, not paused, whose next session is due.

    `slack` lets a user due a minute after the beat tick go now rather than a whole
    interval later.
    """
    now = now or timezone.now()
    sf_users = set(
        Connection.objects.filter(
            side=Connection.Side.SALESFORCE, status=Connection.Status.ACTIVE
        ).values_list("user_id", flat=True)
    )
    mailbox_users = set(
        Connection.objects.filter(
            side=Connection.Side.MAILBOX, status=Connection.Status.ACTIVE
        ).values_list("user_id", flat=True)
    )
    candidates = sf_users & mailbox_users
    not_due = set(
        UserSyncState.objects.filter(user_id__in=candidates)
        .filter(Q(paused=True) | Q(next_due_at__gt=now + slack))
        .values_list("user_id", flat=True)
    )
    return sorted(candidates - not_due)
