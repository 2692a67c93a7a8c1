"""/healthz (the process answers) and /readyz (it can do its job), as JSON; 503 on failure.

/readyz checks, each with a short timeout so the probe itself never hangs:
- database: a query answers;
- broker: a connection to CELERY_BROKER_URL opens;
- beat: its heartbeat (config.beat) is younger than two beat intervals, and the dispatch
  task, once it has run, ran within two of its own intervals;
- workers: at least one Celery worker answers a ping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.beat import last_heartbeat
from config.celery_app import app as celery_app

BROKER_TIMEOUT_SECONDS = 2.0
PING_TIMEOUT_SECONDS = 1.5

Check = Callable[[], str]  # returns a detail; raises on failure


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def check_broker() -> str:
    # The URL from settings, read at each probe (the Celery app reads the same setting).
    with celery_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else "connected"


def beat_interval_seconds() -> float:
    return float(getattr(settings, "CELERY_BEAT_MAX_LOOP_INTERVAL", 30))


def check_beat() -> str:
    from syncengine.scheduling import DISPATCH_TASK, base_interval

    beat = last_heartbeat()
    limit = 2 * beat_interval_seconds()
    if beat is None:
        raise RuntimeError("beat has not ticked (no heartbeat)")
    age = time.time() - beat
    if age > limit:
        raise RuntimeError(f"beat's last tick was {age:.0f} s ago (limit {limit:.0f} s)")
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.filter(task=DISPATCH_TASK, enabled=True).first()
    if task is not None and task.last_run_at is not None:
        overdue = timezone.now() - task.last_run_at
        if overdue > 2 * base_interval():
            raise RuntimeError(
                f"the dispatch task last ran {overdue // timedelta(minutes=1)} minutes ago"
            )
    return f"last tick {age:.0f} s ago"


def check_workers() -> str:
    replies = celery_app.control.ping(timeout=PING_TIMEOUT_SECONDS)
    if not replies:
        raise RuntimeError("no worker answered a ping")
    return f"{len(replies)} worker(s) answered"


READINESS_CHECKS: dict[str, Check] = {
    "database": check_database,
    "broker": check_broker,
    "beat": check_beat,
    "workers": check_workers,
}


def run_checks(checks: dict[str, Check]) -> tuple[bool, dict[str, dict[str, object]]]:
    results: dict[str, dict[str, object]] = {}
    for name, check in checks.items():
        try:
            results[name] = {"ok": True, "detail": check()}
        except Exception as exc:  # a probe reports every failure, whatever its kind
            results[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
    return all(r["ok"] for r in results.values()), results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    ok, results = run_checks(READINESS_CHECKS)
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": results}, status=200 if ok else 503
    )
