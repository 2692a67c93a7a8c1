"""The support desk in admin (issue 6 item 4): user actions, sessions and log entries with
CSV export, held deletions, the admin log, and nothing for staff outside Support."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import Connection
from syncengine.models import (
    MailboxContainer,
    SyncCursor,
    SyncLink,
    SyncLogEntry,
    SyncSession,
    UserSyncState,
)
from tests.factories import ConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCESS = "ACCESS-tok-9f8e7d6c5b4a"
REFRESH = "REFRESH-tok-0a1b2c3d4e5f"
USER_CHANGELIST = "admin:accounts_user_changelist"


@pytest.fixture
def agent():
    agent = UserFactory(username="agent", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    return agent


@pytest.fixture
def support_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def intern_client(client):
    client.force_login(UserFactory(username="intern", is_staff=True))
    return client


@pytest.fixture
def customer():
    customer = UserFactory(username="customer", email="customer@acme.example")
    ConnectionFactory(
        user=customer, provider="salesforce", access_token=ACCESS, refresh_token=REFRESH
    )
    ConnectionFactory(
        user=customer, provider="office365", access_token=ACCESS + "-mb", refresh_token=REFRESH
    )
    return customer


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr("syncengine.tasks.run_sync_session.delay", lambda *a: calls.append(a))
    return calls


@pytest.fixture
def no_revoke_calls(monkeypatch):
    calls = []
    for module in ("salesforce", "google"):
        monkeypatch.setattr(
            f"accounts.providers.{module}.post_best_effort", lambda *a, **k: calls.append(a)
        )
    return calls


def act(client, changelist, action, *pks, follow=False, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(pk) for pk in pks], **extra}
    return client.post(reverse(changelist), data, follow=follow)


def logged(agent, obj, contains):
    entries = LogEntry.objects.filter(user=agent, object_id=str(obj.pk))
    return [e for e in entries if contains in e.get_change_message()]


def assert_no_token(html):
    for secret in (ACCESS, REFRESH, "access_token", "refresh_token"):
        assert secret not in html


def a_session(user, status="succeeded", minutes_ago=0, **fields):
    session = SyncSession.objects.create(user=user, trigger="schedule")
    started = timezone.now() - timedelta(minutes=minutes_ago)
    SyncSession.objects.filter(pk=session.pk).update(
        status=status, started_at=started, finished_at=started + timedelta(seconds=2), **fields
    )
    session.refresh_from_db()
    return session


def held_link(user, sf_id, item_type="contact"):
    return SyncLink.objects.create(
        user=user,
        item_type=item_type,
        sf_id=sf_id,
        mailbox_id=f"mb-{sf_id}",
        origin="salesforce",
        state=SyncLink.State.HELD_DELETION,
        held_side="mailbox",
        snapshot={"last_name": f"Held {sf_id}"},
    )


# --- user actions ---------------------------------------------------------------------------


def test_it_offers_the_support_actions_on_the_user_list(support_client, customer):
    html = support_client.get(reverse(USER_CHANGELIST)).content.decode()
    for action in ("support_sync_now", "support_rebuild", "support_pause", "support_resume"):
        assert f'value="{action}"' in html
    assert 'value="support_disconnect"' in html
    assert_no_token(html)


def test_it_queues_a_support_session_and_logs_it(
    support_client, agent, customer, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        act(support_client, USER_CHANGELIST, "support_sync_now", customer.pk)
    assert queued == [(customer.pk, "support")]  # queued once the action's transaction commits
    assert logged(agent, customer, "Sync now")


def test_it_rebuilds_by_deleting_cursors_only(support_client, agent, customer, other_user):
    SyncCursor.objects.create(user=customer, feed="salesforce:Contact", value="{}")
    SyncCursor.objects.create(user=customer, feed="graph:contacts", value="delta-link")
    SyncCursor.objects.create(user=other_user, feed="salesforce:Contact", value="{}")
    MailboxContainer.objects.create(
        user=customer, provider="office365", role="contacts", external_id="F1", name="SF"
    )
    link = SyncLink.objects.create(
        user=customer, item_type="contact", sf_id="003A", mailbox_id="m1", origin="salesforce"
    )
    act(support_client, USER_CHANGELIST, "support_rebuild", customer.pk)
    assert not SyncCursor.objects.filter(user=customer).exists()
    assert SyncCursor.objects.filter(user=other_user).count() == 1
    assert MailboxContainer.objects.filter(user=customer).count() == 1
    assert SyncLink.objects.filter(pk=link.pk).exists()
    assert logged(agent, customer, "deleted 2 cursor(s)")


def test_it_pauses_and_resumes(support_client, agent, customer):
    act(support_client, USER_CHANGELIST, "support_pause", customer.pk)
    assert UserSyncState.objects.get(user=customer).paused
    assert logged(agent, customer, "Paused")
    act(support_client, USER_CHANGELIST, "support_resume", customer.pk)
    assert not UserSyncState.objects.get(user=customer).paused
    assert logged(agent, customer, "Resumed")


def test_it_disconnects_every_connection(support_client, agent, customer, no_revoke_calls):
    act(support_client, USER_CHANGELIST, "support_disconnect", customer.pk)
    for conn in Connection.objects.filter(user=customer):
        assert conn.status == Connection.Status.DISCONNECTED
        assert conn.access_token == "" and conn.refresh_token == ""
    [entry] = logged(agent, customer, "Disconnected")
    assert "Salesforce" in entry.get_change_message()
    assert "Office 365" in entry.get_change_message()
    # The admin log keeps what happened, never a token.
    for entry in LogEntry.objects.all():
        assert ACCESS not in entry.get_change_message() + entry.object_repr


def test_it_lets_support_flip_the_pause_switch_on_the_sync_state(support_client, agent, customer):
    state = UserSyncState.objects.create(user=customer, consecutive_failures=3)
    url = reverse("admin:syncengine_usersyncstate_change", args=[state.pk])
    page = support_client.get(url).content.decode()
    assert 'name="paused"' in page
    assert 'name="consecutive_failures"' not in page
    support_client.post(url, {"paused": "on", "consecutive_failures": "0"})
    state.refresh_from_db()
    assert state.paused and state.consecutive_failures == 3
    assert LogEntry.objects.filter(user=agent, object_id=str(state.pk)).exists()


# --- sessions and log entries ---------------------------------------------------------------


def test_it_filters_sessions_by_status_and_user_email(support_client, customer, other_user):
    failed = a_session(customer, "failed", error="Salesforce said INVALID_SESSION_ID")
    a_session(customer, "succeeded", minutes_ago=5)
    a_session(other_user, "failed")
    url = reverse("admin:syncengine_syncsession_changelist")
    response = support_client.get(url, {"status__exact": "failed", "q": "customer@acme"})
    assert list(response.context["cl"].result_list) == [failed]
    assert_no_token(response.content.decode())
    # The date hierarchy drills down by day.
    today = timezone.now()
    by_day = support_client.get(
        url,
        {
            "started_at__year": today.year,
            "started_at__month": today.month,
            "started_at__day": today.day,
        },
    )
    assert by_day.status_code == 200


def test_it_filters_log_entries_by_kind_and_item_type(support_client, customer):
    session = a_session(customer)
    wanted = SyncLogEntry.objects.create(
        session=session, user=customer, kind="item_error", item_type="task", message="refused"
    )
    SyncLogEntry.objects.create(
        session=session, user=customer, kind="conflict", item_type="task", message="conflict"
    )
    SyncLogEntry.objects.create(
        session=session, user=customer, kind="item_error", item_type="contact", message="x"
    )
    response = support_client.get(
        reverse("admin:syncengine_synclogentry_changelist"),
        {"kind__exact": "item_error", "item_type__exact": "task"},
    )
    assert list(response.context["cl"].result_list) == [wanted]


def test_it_exports_sessions_as_csv(support_client, customer):
    s1 = a_session(customer, "partial", api_calls_salesforce=7, error='=HYPERLINK("http://evil")')
    a_session(customer, "succeeded", minutes_ago=3)
    response = act(support_client, "admin:syncengine_syncsession_changelist", "export_csv", s1.pk)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["id", "user", "trigger", "status"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["user"] == "customer@acme.example"
    assert row["status"] == "partial"
    assert row["api_calls_salesforce"] == "7"
    assert row["error"].startswith("'=")  # never a live formula in a spreadsheet


def test_it_exports_log_entries_as_csv(support_client, customer):
    session = a_session(customer)
    entry = SyncLogEntry.objects.create(
        session=session,
        user=customer,
        kind="item_error",
        item_type="contact",
        side="salesforce",
        sf_id="003XYZ",
        message="Salesforce refused the write: REQUIRED_FIELD_MISSING",
    )
    response = act(
        support_client, "admin:syncengine_synclogentry_changelist", "export_csv", entry.pk
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["sf_id"] == "003XYZ"
    assert row["kind"] == "item_error"
    assert "REQUIRED_FIELD_MISSING" in row["message"]


def test_it_keeps_sessions_and_log_entries_read_only(support_client, customer):
    session = a_session(customer)
    url = reverse("admin:syncengine_syncsession_change", args=[session.pk])
    assert support_client.get(url).status_code == 200
    assert support_client.post(url, {"status": "failed"}).status_code == 403
    assert support_client.get(reverse("admin:syncengine_syncsession_add")).status_code == 403
    delete = reverse("admin:syncengine_syncsession_delete", args=[session.pk])
    assert support_client.post(delete, {"post": "yes"}).status_code == 403
    session.refresh_from_db()
    assert session.status == "succeeded"


# --- held deletions -------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["confirm", "discard"])
def test_it_records_held_decisions_and_queues_a_session(
    support_client, agent, customer, queued, decision, django_capture_on_commit_callbacks
):
    first = held_link(customer, "003A")
    held_link(customer, "003B")
    changelist = "admin:syncengine_synclink_changelist"
    page = support_client.get(reverse(changelist), {"state__exact": "held_deletion"})
    assert len(page.context["cl"].result_list) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = act(
            support_client, changelist, f"{decision}_held_deletions", first.pk, follow=True
        )
    # Nothing ran in the request: the decision is recorded, a session queued to apply it.
    assert queued == [(customer.pk, "manual")]
    assert set(SyncLink.objects.values_list("state", "held_decision")) == {
        ("held_deletion", decision)
    }
    verb = "Confirmed" if decision == "confirm" else "Discarded"
    assert f"{verb} 2 held deletion(s)" in response.content.decode()
    assert logged(agent, customer, f"{verb} 2 held deletion(s) of contact")


def test_it_tells_support_when_the_users_session_is_busy(
    support_client, customer, queued, django_capture_on_commit_callbacks
):
    from syncengine import scheduling

    link = held_link(customer, "003A")
    assert scheduling.claim(customer.pk, "another-worker")
    with django_capture_on_commit_callbacks(execute=True):
        response = act(
            support_client,
            "admin:syncengine_synclink_changelist",
            "confirm_held_deletions",
            link.pk,
            follow=True,
        )
    assert response.status_code == 200
    assert "A sync session is running for customer" in response.content.decode()
    assert queued == []  # the running session carries it out when it ends
    assert SyncLink.objects.get(pk=link.pk).held_decision == "confirm"


# --- refused outside the group --------------------------------------------------------------


def test_it_gives_staff_outside_support_none_of_the_desk(
    intern_client, customer, queued, no_revoke_calls
):
    session = a_session(customer)
    link = held_link(customer, "003A")
    SyncCursor.objects.create(user=customer, feed="salesforce:Contact", value="{}")
    index = intern_client.get(reverse("admin:index")).content.decode()
    for name in ("Sync sessions", "Sync log entries", "Sync links", "User sync states"):
        assert name not in index
    for url in (
        reverse("admin:syncengine_syncsession_changelist"),
        reverse("admin:syncengine_syncsession_change", args=[session.pk]),
        reverse("admin:syncengine_synclogentry_changelist"),
        reverse("admin:syncengine_synclink_changelist"),
        reverse("admin:syncengine_usersyncstate_changelist"),
    ):
        assert intern_client.get(url).status_code == 403, url
    for action in (
        "support_sync_now",
        "support_rebuild",
        "support_pause",
        "support_disconnect",
    ):
        assert act(intern_client, USER_CHANGELIST, action, customer.pk).status_code == 403
    for action in ("confirm_held_deletions", "discard_held_deletions"):
        response = act(intern_client, "admin:syncengine_synclink_changelist", action, link.pk)
        assert response.status_code == 403
    assert (
        act(
            intern_client, "admin:syncengine_syncsession_changelist", "export_csv", session.pk
        ).status_code
        == 403
    )
    assert queued == [] and no_revoke_calls == []
    assert SyncLink.objects.get(pk=link.pk).held_decision == ""  # no decision recorded
    assert not UserSyncState.objects.filter(user=customer, queued_at__isnull=False).exists()
    assert SyncCursor.objects.filter(user=customer).exists()
    assert not UserSyncState.objects.filter(user=customer, paused=True).exists()
    assert Connection.objects.filter(user=customer, status="active").count() == 2
    assert not LogEntry.objects.exists()


def test_it_hides_the_actions_from_staff_who_may_only_view_users(client, customer, queued):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    html = client.get(reverse(USER_CHANGELIST)).content.decode()
    assert "support_sync_now" not in html
    act(client, USER_CHANGELIST, "support_sync_now", customer.pk)
    assert queued == []
