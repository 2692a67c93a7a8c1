"""/metrics for Prometheus (prometheus-client), computed from the database at scrape time.

Every process (web, workers) would otherwise need its own counters and a shared store;
the database already records every session, so a scrape reads the truth from there:

- relay_sync_sessions{outcome, trigger}: sessions recorded, by status and trigger;
- relay_sync_session_duration_seconds: histogram of finished sessions' durations;
- relay_api_calls_total{provider}: API calls spent by recorded sessions, per provider;
- relay_users_overdue: active users whose next session is due longer than one interval ago;
- relay_connections_needing_reconnect: connections waiting for the user to reconnect;
- relay_celery_queue_length: messages waiting in the default Celery queue.

Protected: with RELAY_METRICS_TOKEN set, a request needs `Authorization: Bearer <token>`;
without it, only a direct (not proxied) request from a loopback address is answered.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

DURATION_BUCKETS_SECONDS = (1, 5, 15, 30, 60, 120, 300, 600, 1200)


def _session_counts() -> Metric:
    from syncengine.models import SyncSession

    family = GaugeMetricFamily(
        "relay_sync_sessions",
        "Sync sessions recorded, by outcome and trigger.",
        labels=["outcome", "trigger"],
    )
    rows = SyncSession.objects.values("status", "trigger").annotate(n=Count("id"))
    for row in rows.order_by("status", "trigger"):
        family.add_metric([row["status"], row["trigger"]], row["n"])
    return family


def _durations() -> Metric:
    from syncengine.models import SyncSession

    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    finished = SyncSession.objects.filter(finished_at__isnull=False).annotate(duration=duration)
    aggregates = {
        f"le_{i}": Count("id", filter=Q(duration__lte=timedelta(seconds=bound)))
        for i, bound in enumerate(DURATION_BUCKETS_SECONDS)
    }
    totals = finished.aggregate(count=Count("id"), total=Sum("duration"), **aggregates)
    buckets = [(str(float(b)), totals[f"le_{i}"]) for i, b in enumerate(DURATION_BUCKETS_SECONDS)]
    buckets.append(("+Inf", totals["count"]))
    total = totals["total"]
    sum_seconds = total.total_seconds() if isinstance(total, timedelta) else float(total or 0)
    return HistogramMetricFamily(
        "relay_sync_session_duration_seconds",
        "Duration of finished sync sessions.",
        buckets=buckets,
        sum_value=sum_seconds,
    )


def _api_calls() -> Metric:
    from accounts.models import Connection
    from syncengine.models import SyncSession

    family = CounterMetricFamily(
        "relay_api_calls", "Provider API calls spent by sync sessions.", labels=["provider"]
    )
    salesforce = SyncSession.objects.aggregate(n=Sum("api_calls_salesforce"))["n"] or 0
    family.add_metric([Connection.Provider.SALESFORCE.value], salesforce)
    rows = (
        SyncSession.objects.filter(user__connections__side=Connection.Side.MAILBOX)
        .values("user__connections__provider")
        .annotate(n=Sum("api_calls_mailbox"))
        .order_by("user__connections__provider")
    )
    for row in rows:
        family.add_metric([row["user__connections__provider"]], row["n"] or 0)
    return family


def _users_overdue() -> Metric:
    from syncengine.models import UserSyncState
    from syncengine.scheduling import base_interval

    cutoff = timezone.now() - base_interval()
    n = UserSyncState.objects.filter(paused=False, next_due_at__lt=cutoff).count()
    return GaugeMetricFamily(
        "relay_users_overdue", "Users whose next session is overdue by over one interval.", n
    )


def _needs_reconnect() -> Metric:
    from accounts.models import Connection

    n = Connection.objects.filter(status=Connection.Status.NEEDS_RECONNECT).count()
    return GaugeMetricFamily(
        "relay_connections_needing_reconnect", "Connections waiting for a reconnect.", n
    )


def queue_length() -> int:
    from config.celery_app import app

    queue = app.conf.task_default_queue or "celery"
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return int(conn.default_channel.queue_declare(queue=queue, passive=True).message_count)


def _queue() -> Iterator[Metric]:
    try:
        n = queue_length()
    except Exception:  # a broker outage shows on /readyz; the scrape still answers
        return
    yield GaugeMetricFamily(
        "relay_celery_queue_length", "Messages waiting in the default Celery queue.", n
    )


class RelayCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield _session_counts()
        yield _durations()
        yield _api_calls()
        yield _users_overdue()
        yield _needs_reconnect()
        yield from _queue()


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(RelayCollector())


def _allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "RELAY_METRICS_TOKEN", "")
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "")
        return given.startswith("Bearer ") and secrets.compare_digest(given[7:], token)
    if request.META.get("HTTP_X_FORWARDED_FOR"):
        return False  # came through the public proxy
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse(
            "Metrics need `Authorization: Bearer <RELAY_METRICS_TOKEN>` (or a direct request"
            " from this machine when no token is set).\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
