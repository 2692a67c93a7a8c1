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


def test_sync_now_queues_a_session_and_resets_the_back_off(user_client, user, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "syncengine.tasks.run_sync_session.delay", lambda *args: queued.append(args)
    )
    connect_both(user)
    UserSyncState.objects.create(user=user, idle_streak=2, next_due_at=timezone.now())
    response = user_client.post(reverse("syncengine:sync_now"))
    assert response.status_code == 302
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


@pytest.mark.parametrize(("decision", "verb"), [("confirm", "deleted"), ("discard", "kept")])
def test_confirm_and_discard_run_under_the_users_lease(
    user_client, user, monkeypatch, decision, verb
):
    from syncengine import scheduling
    from syncengine import session as engine

    ran = []
    for name in ("confirm_held_deletions", "discard_held_deletions"):
        monkeypatch.setattr(
            engine, name, lambda u, t, name=name: ran.append((name, u.pk, t, held_by(u)))
        )

    def held_by(u):
        return UserSyncState.objects.get(user=u).claimed_by

    for n in range(3):
        SyncLink.objects.create(
            user=user,
            item_type="task",
            sf_id=f"00T00000000000{n}AAA",
            mailbox_id=f"mb-{n}",
            origin="salesforce",
            state=SyncLink.State.HELD_DELETION,
            held_side="mailbox",
        )
    response = user_client.post(
        reverse("syncengine:held_deletions"), {"decision": decision}, follow=True
    )
    assert f"3 held item(s) {verb}." in response.content.decode()
    assert [r[:3] for r in ran] == [(f"{decision}_held_deletions", user.pk, None)]
    assert ran[0][3] == scheduling.worker_name()  # the lease was held while it ran
    assert UserSyncState.objects.get(user=user).claimed_by == ""


def test_held_deletions_wait_while_a_session_runs(user_client, user):
    from syncengine import scheduling

    SyncLink.objects.create(
        user=user,
        item_type="task",
        sf_id="00T000000000001AAA",
        mailbox_id="mb-1",
        origin="salesforce",
        state=SyncLink.State.HELD_DELETION,
        held_side="mailbox",
    )
    assert scheduling.claim(user.pk, "another-worker")
    response = user_client.post(
        reverse("syncengine:held_deletions"), {"decision": "confirm"}, follow=True
    )
    assert "A sync session is running" in response.content.decode()
    assert SyncLink.objects.get(user=user).state == SyncLink.State.HELD_DELETION
