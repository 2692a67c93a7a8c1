"""The dashboard tells the truth (issue 10): next sync time from the schedule and back-off,
a pause by support with its reason, first-sync progress without JavaScript, onboarding
until done, and a 14-day chart readable without colour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from syncengine import scheduling
from syncengine.models import SyncSession, UserSyncState
from syncengine.status import status_for
from syncsettings.models import SyncSettings
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def connect_both(user):
    ConnectionFactory(user=user, provider="salesforce")
    ConnectionFactory(user=user, provider="office365", external_account_id="mb-1")


def dashboard(client) -> str:
    return client.get(reverse("dashboard")).content.decode()


def test_onboarding_lists_the_four_steps_until_the_first_sync(user_client, user):
    html = dashboard(user_client)
    assert 'id="onboarding"' in html
    for step in ("Connect Salesforce", "Connect your mailbox", "Choose what syncs", "First sync"):
        assert step in html
    assert html.count('class="step todo"') == 4
    connect_both(user)
    SyncSettings.for_user(user)
    assert dashboard(user_client).count('class="step todo"') == 1
    SyncSession.objects.create(user=user, trigger="manual", status="succeeded")
    assert 'id="onboarding"' not in dashboard(user_client)


def test_it_shows_the_next_sync_with_back_off_in_the_users_zone(user_client, user):
    connect_both(user)
    SyncSettings.objects.create(user=user, time_zone="America/New_York")
    due = dt.datetime(2030, 1, 10, 17, 0, tzinfo=dt.UTC)
    UserSyncState.objects.create(user=user, next_due_at=due, idle_streak=2)
    html = dashboard(user_client)
    assert "2030-01-10 12:00 (America/New_York)" in html
    assert "back-off" in html and "Every 120 minutes now." in html


def test_a_pause_by_support_shows_with_its_reason(user_client, user):
    connect_both(user)
    UserSyncState.objects.create(user=user, paused=True, pause_reason="Your org hit its API limit.")
    html = dashboard(user_client)
    assert 'id="paused"' in html and "Your org hit its API limit." in html
    assert "not scheduled" in html


def test_progress_of_a_running_first_sync_shows_on_reload(user_client, user):
    connect_both(user)
    SyncSession.objects.create(
        user=user,
        trigger="manual",
        progress={"contact": {"done": 40, "total": 109}, "task": {"done": 0, "total": 12}},
    )
    html = dashboard(user_client)
    assert 'aria-live="polite"' in html
    assert "40 of 109 done" in html and "0 of 12 done" in html
    assert 'id="sync-now" disabled' in html and "A sync is running now." in html
    fragment = user_client.get(reverse("syncsettings:progress")).content.decode()
    assert 'data-running="true"' in fragment and "40 of 109 done" in fragment


def test_the_chart_counts_changes_per_day_and_api_calls(user_client, user):
    connect_both(user)
    session = SyncSession.objects.create(user=user, trigger="schedule", status="succeeded")
    SyncSession.objects.filter(pk=session.pk).update(
        counters={"contact": {"down": {"created": 5, "updated": 2}, "up": {"created": 1}}},
        api_calls_salesforce=9,
        sf_org_api_limit=15000,
        sf_org_api_used=120,
        started_at=timezone.now(),
    )
    html = dashboard(user_client)
    assert 'role="img"' in html and "<title>" in html
    assert "contact: 7 / 1" in html  # the table: down / up
    assert "Salesforce → mailbox: 7</title>" in html
    assert "<td>9 of 15000 (0.06 %)</td>" in html  # Relay's calls against the allocation
    assert "daily allocation is 15000 calls" in html
    assert "cdn" not in html.lower()


def test_a_second_sync_now_while_queued_is_refused(user):
    from syncengine.services import request_sync_now

    connect_both(user)
    assert request_sync_now(user) is True
    assert request_sync_now(user) is False
    assert status_for(user).queued and not status_for(user).can_sync_now
    scheduling.clear_queued(user.pk)  # a worker took it off the queue
    assert request_sync_now(user) is True
