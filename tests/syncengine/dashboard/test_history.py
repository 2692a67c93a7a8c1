"""History, Sync now and held deletions on the dashboard (issue 5 item 7)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from syncengine.models import SyncLink, SyncLogEntry, SyncSession, UserSyncState
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def a_session(user, minutes_ago=0, **fields):
    session = SyncSession.objects.create(user=user, trigger=SyncSession.Trigger.SCHEDULE)
    started = timezone.now() - timedelta(minutes=minutes_ago)
    fields.setdefault("status", SyncSession.Status.SUCCEEDED)
    fields.setdefault("finished_at", started + timedelta(seconds=3))
    SyncSession.objects.filter(pk=session.pk).update(started_at=started, **fields)
    session.refresh_from_db()
    return session


def test_it_lists_the_users_sessions_newest_first_with_counts_and_calls(user_client, user):
    a_session(user, minutes_ago=60, api_calls_salesforce=7)
    newest = a_session(
        user,
        counters={"contact": {"down": {"created": 12, "updated": 0}}},
        api_calls_salesforce=3,
        api_calls_mailbox=2,
    )
    SyncLogEntry.objects.create(
        session=newest, user=user, kind="item_error", message="Graph said: ErrorInvalidId"
    )
    html = user_client.get(reverse("syncengine:history")).content.decode()
    assert html.index("Salesforce 3, mailbox 2") < html.index("Salesforce 7, mailbox 0")
    assert "contact down: created 12" in html
    assert "Graph said: ErrorInvalidId" in html


def test_it_paginates_twenty_sessions_a_page(user_client, user):
    for minutes in range(25):
        a_session(user, minutes_ago=minutes)
    first = user_client.get(reverse("syncengine:history")).content.decode()
    second = user_client.get(reverse("syncengine:history") + "?page=2").content.decode()
    assert first.count('class="session ') == 20
    assert second.count('class="session ') == 5


def test_it_never_shows_another_users_sessions(user_client, other_user):
    a_session(other_user, api_calls_salesforce=99)
    html = user_client.get(reverse("syncengine:history")).content.decode()
    assert "Salesforce 99" not in html
    assert "No sync session yet." in html


def test_sync_now_queues_a_session_and_resets_the_back_off(
    user_client, user, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        "syncengine.tasks.run_sync_session.delay", lambda *args: queued.append(args)
    )
    connect_both(user)
    UserSyncState.objects.create(user=user, idle_streak=2, next_due_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = user_client.post(reverse("syncengine:sync_now"))
        assert queued == []  # not before the request's transaction commits
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert queued == [(user.pk, "manual")]
    state = UserSyncState.objects.get(user=user)
    assert (state.idle_streak, state.next_due_at) == (0, None)
    user_client.post(reverse("syncengine:sync_now"))  # a double click queues nothing more
    assert queued == [(user.pk, "manual")]


def test_sync_now_queues_nothing_before_both_sides_are_connected(user_client, user, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "syncengine.tasks.run_sync_session.delay", lambda *args: queued.append(args)
    )
    ConnectionFactory(user=user, provider="salesforce")
    response = user_client.post(reverse("syncengine:sync_now"), follow=True)
    assert queued == []
    assert "Connect both Salesforce and your mailbox" in response.content.decode()
    html = user_client.get(reverse("dashboard")).content.decode()
    assert 'id="sync-now" disabled' in html


def connect_both(user):
    ConnectionFactory(user=user, provider="salesforce")
    ConnectionFactory(user=user, provider="office365", external_account_id="mb-1")


def test_sync_now_never_redirects_off_site(user_client, monkeypatch):
    monkeypatch.setattr("syncengine.tasks.run_sync_session.delay", lambda *args: None)
    response = user_client.post(reverse("syncengine:sync_now"), {"next": "https://evil.example/"})
    assert response.url == reverse("syncengine:history")


def test_it_shows_held_deletions_with_confirm_and_discard(user_client, user):
    SyncLink.objects.create(
        user=user,
        item_type="contact",
        sf_id="003000000000001AAA",
        mailbox_id="mb-1",
        origin="salesforce",
        state=SyncLink.State.HELD_DELETION,
        held_side="mailbox",
        snapshot={"last_name": "Lovelace"},
    )
    html = user_client.get(reverse("syncengine:history")).content.decode()
    assert "Deletions waiting for your confirmation (1)" in html
    assert "Lovelace" in html
    assert 'value="confirm"' in html and 'value="discard"' in html


def test_sync_now_never_queues_a_second_task_while_one_is_queued_or_running(
    user_client, user, monkeypatch, django_capture_on_commit_callbacks
):
    from syncengine import scheduling

    connect_both(user)
    queued = []
    monkeypatch.setattr(
        "syncengine.tasks.run_sync_session.delay", lambda *args: queued.append(args)
    )
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(reverse("syncengine:sync_now"))
        user_client.post(reverse("syncengine:sync_now"))
    assert queued == [(user.pk, "manual")]  # the second click found one queued

    # A worker takes the task: while its session runs, clicks queue nothing either.
    scheduling.clear_queued(user.pk)
    assert scheduling.claim(user.pk, "worker-1")
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(reverse("syncengine:sync_now"))
    assert len(queued) == 1

    # Once it is done, Sync now queues again.
    scheduling.release(user.pk, "worker-1")
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(reverse("syncengine:sync_now"))
    assert queued == [(user.pk, "manual")] * 2


def _held_tasks(user, n=3):
    for i in range(n):
        SyncLink.objects.create(
            user=user,
            item_type="task",
            sf_id=f"00T00000000000{i}AAA",
            mailbox_id=f"mb-{i}",
            origin="salesforce",
            state=SyncLink.State.HELD_DELETION,
            held_side="mailbox",
        )


@pytest.mark.parametrize(("decision", "verb"), [("confirm", "deleted"), ("discard", "kept")])
def test_confirm_and_discard_record_the_decision_and_queue_a_session(
    user_client, user, monkeypatch, decision, verb, django_capture_on_commit_callbacks
):
    from syncengine import session as engine

    ran = []
    monkeypatch.setattr(engine, "run_session", lambda *a, **k: ran.append(a))
    queued = []
    monkeypatch.setattr(
        "syncengine.tasks.run_sync_session.delay", lambda *args: queued.append(args)
    )
    _held_tasks(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            reverse("syncengine:held_deletions"), {"decision": decision}, follow=True
        )
    assert f"3 held item(s) will be {verb} by a sync session queued now." in (
        response.content.decode()
    )
    assert ran == []  # no provider session inside the web request
    assert queued == [(user.pk, "manual")]
    assert set(SyncLink.objects.values_list("state", "held_decision")) == {
        ("held_deletion", decision)
    }


def test_the_queued_session_carries_out_the_decision_under_the_users_lease(user, monkeypatch):
    from syncengine import held, scheduling, services
    from syncengine import session as engine

    _held_tasks(user)
    SyncLink.objects.update(held_decision="confirm")
    seen = []

    def resolve(u, heartbeat):
        seen.append((u.pk, UserSyncState.objects.get(user=u).claimed_by, heartbeat()))
        return []

    def run_session(u, trigger, heartbeat):
        return SyncSession.objects.create(user=u, trigger=trigger, status="succeeded")

    monkeypatch.setattr(held, "resolve_decided_held", resolve)
    monkeypatch.setattr(engine, "run_session", run_session)
    services.run_claimed_session(user.pk, "manual")
    # Before the session and again after it (a decision recorded meanwhile), leased.
    assert seen == [(user.pk, scheduling.worker_name(), True)] * 2
    assert UserSyncState.objects.get(user=user).claimed_by == ""


def test_held_deletions_wait_while_a_session_runs(user_client, user):
    from syncengine import scheduling

    _held_tasks(user, 1)
    assert scheduling.claim(user.pk, "another-worker")
    response = user_client.post(
        reverse("syncengine:held_deletions"), {"decision": "confirm"}, follow=True
    )
    assert "A sync session is running: 1 held item(s) will be deleted when it ends." in (
        response.content.decode()
    )
    link = SyncLink.objects.get(user=user)
    assert (link.state, link.held_decision) == (SyncLink.State.HELD_DELETION, "confirm")
