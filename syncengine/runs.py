"""What a worker runs for one user: claim the lease, carry out recorded Confirm / Discard
decisions, run the session, record the outcome, notify, release. Called by the Celery
task and the sync_user command; never by a web request."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, Q

from . import held, notifications, scheduling
from . import session as engine
from .models import SyncSession
from .notifications import notify_after_session

BEAT_EVERY = 30.0  # seconds between lease renewals; far below scheduling.LEASE


def run_claimed_session(user_id: int, trigger: str) -> SyncSession | None:
    """Run one session if no other worker runs one for this user; None when one does."""
    owner = scheduling.worker_name()
    nothing_decided = Q(~Exists(held.decided_held(user_id)))
    # This task is off the queue, whatever happens next (the claim says so when it wins).
    # Nearly every claim finds no Confirm / Discard decision waiting: that check rides the
    # claim's UPDATE (one query for both); a claim that does not is made again without it.
    if scheduling.claim(user_id, owner, dequeue=True, only_if=nothing_decided):
        decided = False
    elif scheduling.claim(user_id, owner, dequeue=True):
        decided = True
    else:
        scheduling.clear_queued(user_id)
        return None
    finished = False
    try:
        user = get_user_model().objects.get(pk=user_id)
        renewed = time.monotonic()  # the claim itself just took the lease

        def beat() -> bool:
            # The lease lasts minutes (scheduling.LEASE) and nobody can take it before it
            # ends, so renewing it more often than every BEAT_EVERY seconds only costs two
            # UPDATEs per item type (8 queries of an idle session's ~45).
            nonlocal renewed
            if time.monotonic() - renewed < BEAT_EVERY:
                return True
            if not scheduling.heartbeat(user_id, owner):
                return False
            renewed = time.monotonic()
            return True

        limited = time_limited(beat, settings.CELERY_TASK_SOFT_TIME_LIMIT)
        if decided:
            held.resolve_decided_held(user, heartbeat=limited)
        session = engine.run_session(user, trigger, heartbeat=limited)
        if session.status == SyncSession.Status.ABANDONED:
            return session  # another worker holds the user now: its session decides
        failed = session.status in (SyncSession.Status.FAILED, SyncSession.Status.RETRY_LATER)

        def finish(only_if: Q | None = None) -> bool:
            return scheduling.finish(
                user_id,
                owner,
                found_changes=session.changed,
                failed=failed,
                retry_after=session_retry_after(session),
                base=base_interval(),
                only_if=only_if,
            )

        # The outcome and the release: one UPDATE, which in nearly every session also
        # checks that no decision was recorded meanwhile and that no email is due
        # (notifications.quiet); when either is not so, nothing is written by it and the
        # long way below does the same with those steps in between.
        quiet = nothing_decided & notifications.quiet(user_id, failures_to_come=int(failed))
        if finish(only_if=quiet):
            finished = True
            return session
        # A decision recorded while this session ran found no task queued: carry it out.
        held.resolve_decided_held(user, heartbeat=beat)
        finish()
        finished = True
        notify_after_session(user, session)
        return session
    finally:
        if not finished:
            scheduling.release(user_id, owner)


def time_limited(
    beat: Callable[[], bool], limit_s: float, clock: Callable[[], float] = time.monotonic
) -> Callable[[], bool]:
    """`beat`, which raises engine.SessionTimeLimit once `limit_s` seconds have passed.

    Celery enforces CELERY_TASK_SOFT_TIME_LIMIT only in the prefork pool; the default pool
    is threads (config/settings/base.py), so the session keeps its own limit, checked at
    every heartbeat (between item types and write windows): a stuck or huge session ends
    as "retry later" and frees the worker's thread, whichever pool runs it."""
    deadline = clock() + limit_s

    def limited() -> bool:
        if clock() > deadline:
            raise engine.SessionTimeLimit(limit_s)
        return beat()

    return limited


_base_interval: tuple[float, timedelta] | None = None
BASE_INTERVAL_TTL = 60.0  # seconds a worker trusts the beat interval it last read


def base_interval() -> timedelta:
    """scheduling.base_interval, read at most once a minute per worker process: staff
    change it rarely in admin, and two queries per idle session add up over a fleet."""
    global _base_interval
    now = time.monotonic()
    if _base_interval is None or now - _base_interval[0] > BASE_INTERVAL_TTL:
        _base_interval = (now, scheduling.base_interval())
    return _base_interval[1]


def session_retry_after(session: SyncSession) -> timedelta | None:
    """When a rate-limited or unreachable provider wants us back (5 minutes if unsaid)."""
    if session.status != SyncSession.Status.RETRY_LATER:
        return None
    return timedelta(seconds=session.retry_after_seconds or 300)
