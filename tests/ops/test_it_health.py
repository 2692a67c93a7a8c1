"""/healthz and /readyz (config/health.py)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config import health
from config.beat import record_heartbeat
from syncengine.scheduling import DISPATCH_TASK


@pytest.fixture
def worker_answers(monkeypatch):
    """The worker ping is the one check no test process can make true without a worker
    (the prod-check runs a real one); every other check below is real."""
    monkeypatch.setitem(health.READINESS_CHECKS, "workers", lambda: "1 worker(s) answered")


def ready(client):
    response = client.get("/readyz")
    return response.status_code, response.json()


@pytest.mark.django_db
def test_it_is_alive_without_any_dependency(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_turns_not_ready_when_beat_stops(client, settings, worker_answers):
    settings.CELERY_BEAT_MAX_LOOP_INTERVAL = 30
    record_heartbeat()
    status, body = ready(client)
    assert status == 200, body
    assert body["checks"]["beat"]["ok"] is True

    record_heartbeat(time.time() - 61)  # beat's last tick more than two intervals ago
    status, body = ready(client)
    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["beat"]["ok"] is False
    assert "last tick" in body["checks"]["beat"]["detail"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_it_turns_not_ready_when_the_dispatch_task_stopped_running(client, worker_answers):
    record_heartbeat()
    task = PeriodicTask.objects.get(task=DISPATCH_TASK)
    task.last_run_at = timezone.now() - timedelta(minutes=61)  # two 30-minute intervals
    task.save()
    status, body = ready(client)
    assert status == 503
    assert "dispatch task" in body["checks"]["beat"]["detail"]


@pytest.mark.django_db
def test_it_turns_not_ready_when_the_broker_is_down(client, settings, worker_answers):
    import socket

    record_heartbeat()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    status, body = ready(client)
    assert body["checks"]["broker"]["ok"] is True, body
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    status, body = ready(client)
    assert status == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["beat"]["ok"] is True
