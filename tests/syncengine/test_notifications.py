"""Emails about a user's sync health (issue 6 item 3, SPEC §7): one when a connection needs
reconnecting or after 10 consecutive failed sessions, one when it recovers — per episode,
not per session — plain text, never a token, with a link to the Issues page."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Connection
from syncengine import services
from syncengine.models import SyncSession, UserSyncState
from syncengine.notifications import notify_after_session
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db

ACCESS = "ACCESS-tok-notify-77aa"
REFRESH = "REFRESH-tok-notify-88bb"


@pytest.fixture
def connections(user):
    sf = ConnectionFactory(user=user, provider="salesforce", access_token=ACCESS,
                           refresh_token=REFRESH)  # fmt: skip
    mb = ConnectionFactory(user=user, provider="office365", access_token=ACCESS + "-mb",
                           refresh_token=REFRESH + "-mb")  # fmt: skip
    return sf, mb


@pytest.fixture
def engine_succeeds(monkeypatch):
    """Stand in for the engine: a session that runs through (no provider needed)."""

    def run(user, trigger, **kwargs):
        return SyncSession.objects.create(
            user=user, trigger=trigger, status=SyncSession.Status.SUCCEEDED
        )

    monkeypatch.setattr("syncengine.session.run_session", run)


def sync(user):
    return services.run_claimed_session(user.pk, "schedule")


def assert_clean(message):
    text = message.subject + message.body
    for secret in (ACCESS, REFRESH, "access_token", "refresh_token"):
        assert secret not in text
    assert not message.alternatives  # plain text only


def test_it_sends_one_email_for_twelve_failed_sessions(user, settings):
    settings.RELAY_BASE_URL = "https://relay.example"
    # No connection at all: every session stops at once (a real engine run, no provider).
    for n in range(1, 13):
        session = sync(user)
        assert session.status == SyncSession.Status.FAILED
        assert len(mail.outbox) == (1 if n >= 10 else 0), n
    [message] = mail.outbox
    assert message.to == [user.email]
    assert "keeps failing" in message.subject
    assert "last 10 sync sessions" in message.body
    assert "No Salesforce connection" in message.body
    assert "https://relay.example" + reverse("syncengine:issues") in message.body
    assert_clean(message)
    state = UserSyncState.objects.get(user=user)
    assert state.consecutive_failures == 12
    assert state.problem_kind == "failures" and state.problem_notified_at


def test_it_sends_one_recovery_email_when_a_session_succeeds_again(user, monkeypatch):
    for _ in range(10):
        sync(user)  # no connection yet: each session stops before any provider call
    assert len(mail.outbox) == 1
    mail.outbox.clear()

    def run(user, trigger, **kwargs):
        return SyncSession.objects.create(user=user, trigger=trigger, status="succeeded")

    monkeypatch.setattr("syncengine.session.run_session", run)
    sync(user)
    sync(user)
    [message] = mail.outbox
    assert "works again" in message.subject
    assert reverse("syncengine:issues") in message.body
    assert_clean(message)
    state = UserSyncState.objects.get(user=user)
    assert state.problem_notified_at is None and state.problem_kind == ""


def test_it_sends_one_email_when_a_connection_needs_reconnecting(user, connections):
    _, mb = connections
    mb.mark_needs_reconnect("Office 365 refused the refresh token: invalid_grant")
    for _ in range(12):  # stopped sessions, then the 10-failures mark: the same episode
        sync(user)
    [message] = mail.outbox
    assert "reconnect" in message.subject.lower()
    assert "Office 365" in message.body and "invalid_grant" in message.body
    assert reverse("syncengine:issues") in message.body
    assert_clean(message)
    assert UserSyncState.objects.get(user=user).problem_kind == "reconnect"


def test_it_sends_the_recovery_email_after_a_reconnect(user, connections, engine_succeeds):
    _, mb = connections
    mb.mark_needs_reconnect("Office 365 refused the refresh token: invalid_grant")
    notify_after_session(user, SyncSession.objects.create(user=user, trigger="schedule",
                                                          status="failed"))  # fmt: skip
    assert len(mail.outbox) == 1
    # Still broken: a session that somehow ran does not end the episode.
    sync(user)
    assert len(mail.outbox) == 1
    mb.mark_active()  # the user pressed Reconnect
    sync(user)
    sync(user)
    assert len(mail.outbox) == 2
    assert "works again" in mail.outbox[1].subject
    assert_clean(mail.outbox[1])


def test_a_new_episode_gets_a_new_email(user, connections, engine_succeeds, monkeypatch):
    sf, _ = connections
    for _ in range(2):
        sf.mark_needs_reconnect("Salesforce said INVALID_SESSION_ID")
        notify_after_session(user, SyncSession.objects.create(user=user, trigger="schedule",
                                                              status="failed"))  # fmt: skip
        sf.mark_active()
        sync(user)
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [
        "Relay: please reconnect your account",
        "Relay: your sync works again",
        "Relay: please reconnect your account",
        "Relay: your sync works again",
    ]


def test_nine_failures_send_nothing(user):
    for _ in range(9):
        sync(user)
    assert mail.outbox == []


def test_a_succeeding_user_gets_no_email(user, connections, engine_succeeds):
    for _ in range(3):
        sync(user)
    assert mail.outbox == []


def test_a_mail_server_failure_does_not_break_the_session(user, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr("syncengine.notifications.send_mail", broken)
    for _ in range(11):
        assert sync(user).status == SyncSession.Status.FAILED
    # Sent (and failed) once: the episode is recorded, later sessions do not retry the mail.
    assert UserSyncState.objects.get(user=user).problem_notified_at is not None
    assert Connection.objects.count() == 0
