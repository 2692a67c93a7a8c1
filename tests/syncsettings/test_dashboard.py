import pytest
from django.urls import reverse

from accounts.models import Connection
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def test_it_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_shows_both_sides_not_connected_and_never_synced(user_client):
    html = user_client.get(reverse("dashboard")).content.decode()
    assert html.count("Not connected") == 2
    assert '<strong id="last-sync">never</strong>' in html
    assert reverse("syncsettings:filters") in html
    assert reverse("syncsettings:detailed") in html


def test_it_shows_connection_status_and_last_error(user_client, user):
    ConnectionFactory(user=user, provider="salesforce", access_token="AT-dash-123")
    mailbox = ConnectionFactory(user=user, provider="gmail", external_address="al@gmail.com")
    mailbox.mark_needs_reconnect("Google refused the refresh token.")
    html = user_client.get("/").content.decode()
    assert "Active" in html
    assert "Needs reconnecting" in html
    assert "Google refused the refresh token." in html
    assert "al@gmail.com" in html
    assert "AT-dash-123" not in html
    assert "Not connected" not in html


def test_it_shows_the_last_sync_in_the_users_time_zone(user_client, user):
    import datetime as dt

    from syncengine.models import SyncSession
    from syncsettings.models import SyncSettings

    SyncSettings.objects.create(user=user, time_zone="Asia/Tokyo")
    session = SyncSession.objects.create(user=user, trigger="schedule")
    done = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    SyncSession.objects.filter(pk=session.pk).update(status="succeeded", finished_at=done)
    html = user_client.get("/").content.decode()
    assert "2026-03-02 08:30 — Succeeded" in html  # UTC+9
    assert "Times are in Asia/Tokyo." in html


def test_it_shows_only_the_users_own_connections(user_client, other_user):
    ConnectionFactory(user=other_user, provider="office365", external_address="bob@corp.example")
    html = user_client.get("/").content.decode()
    assert "bob@corp.example" not in html
    assert html.count("Not connected") == 2
    assert Connection.objects.count() == 1
