"""Celery beat's scheduler with a heartbeat /readyz can read.

django-celery-beat writes a task's last_run_at only when it sends it (every 30 minutes for
the dispatch task) and saves in batches, so it cannot tell a live beat from a dead one
within minutes. This scheduler records the time of every tick in the cache (Redis in
production, which the system checks require), and /readyz wants it younger than two beat
intervals (CELERY_BEAT_MAX_LOOP_INTERVAL).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django_celery_beat.schedulers import DatabaseScheduler

HEARTBEAT_KEY = "relay:beat:heartbeat"


def record_heartbeat(now: float | None = None) -> None:
    cache.set(HEARTBEAT_KEY, now if now is not None else time.time(), timeout=24 * 3600)


def last_heartbeat() -> float | None:
    value = cache.get(HEARTBEAT_KEY)
    return float(value) if value is not None else None


class HeartbeatScheduler(DatabaseScheduler):
    def tick(self, *args: Any, **kwargs: Any) -> float:
        record_heartbeat()
        return super().tick(*args, **kwargs)
