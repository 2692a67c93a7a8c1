"""/metrics (config/metrics.py): a real session moves the counters, and strangers get 403."""

import re

import pytest

from accounts.models import Connection
from tests.syncengine.engine.conftest import make_world

TOKEN = "metrics-test-token"


def scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.mark.django_db
def test_it_counts_a_real_session_in_the_scraped_metrics(sandbox, settings, client):
    settings.RELAY_METRICS_TOKEN = TOKEN
    world = make_world("gmail", sandbox, settings)
    before = scrape(client)
    assert value(before, "relay_sync_sessions", outcome="succeeded", trigger="manual") == 0

    world.sf_contact("Zed", "zed@customer.example")
    session = world.sync()
    assert session.status == "succeeded"

    after = scrape(client)
    assert value(after, "relay_sync_sessions", outcome="succeeded", trigger="manual") == 1
    assert value(after, "relay_sync_session_duration_seconds_count") == 1
    assert value(after, "relay_sync_session_duration_seconds_bucket", le="+Inf") == 1
    sf_calls = value(after, "relay_api_calls_total", provider="salesforce")
    gmail_calls = value(after, "relay_api_calls_total", provider="gmail")
    assert sf_calls == session.api_calls_salesforce > 0
    assert gmail_calls == session.api_calls_mailbox > 0
    assert value(after, "relay_connections_needing_reconnect") == 0

    Connection.objects.filter(user=world.user, side="mailbox").update(
        status=Connection.Status.NEEDS_RECONNECT
    )
    assert value(scrape(client), "relay_connections_needing_reconnect") == 1


@pytest.mark.django_db
def test_it_refuses_metrics_without_the_token(settings, client):
    settings.RELAY_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


@pytest.mark.django_db
def test_it_answers_only_direct_loopback_requests_without_a_token(settings, client):
    settings.RELAY_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.status_code == 403
