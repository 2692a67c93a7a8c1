"""The support desk on the admin's user page (issue 10 item 7): sync state, the last 10
sessions with links, held deletions, the explainer search, and the buttons — Pause with a
reason the user sees, Disconnect behind a confirmation page — plus sessions' counters as
a table with their log inline, users shown by email, and the beat interval for Support."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.models import Connection
from syncengine.models import ItemLedgerEntry, SyncLink, SyncLogEntry, SyncSession, UserSyncState
from tests.factories import ConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def support_client(client):
    agent = UserFactory(username="agent", is_staff=True)
    agent.groups.add(Group.objects.get(name="Support"))
    client.force_login(agent)
    return client


@pytest.fixture
def customer():
    customer = UserFactory(username="customer", email="customer@acme.example")
    ConnectionFactory(user=customer, provider="salesforce")
    ConnectionFactory(user=customer, provider="office365", external_account_id="mb-1")
    return customer


def user_page(client, user) -> str:
    response = client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_user_page_shows_state_sessions_held_and_the_explainer(support_client, customer):
    sessions = [
        SyncSession.objects.create(user=customer, trigger="schedule", status="succeeded")
        for _ in range(12)
    ]
    UserSyncState.objects.create(user=customer, consecutive_failures=3)
    SyncLink.objects.create(
        user=customer, item_type="contact", sf_id="003H", mailbox_id="mH", origin="salesforce",
        state=SyncLink.State.HELD_DELETION, snapshot={"last_name": "Heldperson"},
    )  # fmt: skip
    html = user_page(support_client, customer)
    assert 'id="desk-state"' in html and "Consecutive failures" in html
    assert html.count(reverse("admin:syncengine_syncsession_change", args=[sessions[-1].pk])) == 1
    assert reverse("admin:syncengine_syncsession_change", args=[sessions[0].pk]) not in html
    assert "Heldperson" in html
    assert reverse("admin:accounts_user_explain", args=[customer.pk]) in html
    for action in ("sync_now", "pause", "rebuild", "disconnect"):
        assert reverse("admin:accounts_user_desk", args=[customer.pk, action]) in html


def test_pause_asks_for_a_reason_the_user_then_sees(support_client, customer, client):
    url = reverse("admin:accounts_user_desk", args=[customer.pk, "pause"])
    assert 'name="reason"' in support_client.get(url).content.decode()
    refused = support_client.post(url, {"reason": ""})
    assert "Say why" in refused.content.decode()
    support_client.post(url, {"reason": "Your org is over its API limit; we resume tomorrow."})
    state = UserSyncState.objects.get(user=customer)
    assert state.paused and state.pause_reason.startswith("Your org is over")
    assert LogEntry.objects.filter(object_id=str(customer.pk), change_message__contains="Paused")
    client.force_login(customer)
    html = client.get(reverse("dashboard")).content.decode()
    assert "Syncing is paused by support" in html and "over its API limit" in html


def test_disconnect_runs_only_after_confirmation(support_client, customer, monkeypatch):
    monkeypatch.setattr("accounts.oauth.services.disconnect", _forget)
    url = reverse("admin:accounts_user_desk", args=[customer.pk, "disconnect"])
    page = support_client.get(url).content.decode()
    assert "Are you sure?" in page and 'id="desk-confirm-button"' in page
    assert not Connection.objects.filter(user=customer, status="disconnected").exists()
    support_client.post(url)
    assert Connection.objects.filter(user=customer, status="disconnected").count() == 2


def _forget(connection):
    connection.status = Connection.Status.DISCONNECTED
    connection.save()


def test_the_explainer_search_answers_for_that_user(support_client, customer):
    session = SyncSession.objects.create(user=customer, trigger="schedule", status="succeeded")
    ItemLedgerEntry.objects.create(
        user=customer, session=session, item_type="contact", sf_id="003X", name="Bob Other",
        action="skipped", reason_code="not_in_contact_scope",
        reason="This contact is owned by 005OTHER; your scope is Only my contacts.",
        created_at=timezone.now(),
    )  # fmt: skip
    url = reverse("admin:accounts_user_explain", args=[customer.pk])
    html = support_client.get(url, {"q": "Bob"}).content.decode()
    assert "not_in_contact_scope" in html and "Only my contacts" in html


def test_staff_outside_support_get_no_desk(client, customer):
    client.force_login(UserFactory(username="intern", is_staff=True))
    url = reverse("admin:accounts_user_desk", args=[customer.pk, "disconnect"])
    assert client.post(url).status_code == 403
    assert not Connection.objects.filter(user=customer, status="disconnected").exists()


def test_a_session_shows_counters_as_a_table_and_its_log_inline(support_client, customer):
    session = SyncSession.objects.create(
        user=customer, trigger="schedule", status="partial",
        counters={"contact": {"down": {"created": 109, "errors": 1}}},
    )  # fmt: skip
    SyncLogEntry.objects.create(
        session=session, user=customer, kind="item_error", message="Graph said ErrorInvalidId"
    )
    html = support_client.get(
        reverse("admin:syncengine_syncsession_change", args=[session.pk])
    ).content.decode()
    assert 'id="session-counters"' in html and "<td>109</td>" in html
    assert "Graph said ErrorInvalidId" in html
    listing = support_client.get(reverse("admin:syncengine_syncsession_changelist")).content
    assert b"customer@acme.example" in listing


def test_support_can_change_the_beat_interval(support_client):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="relay.dispatch_due_sessions")
    url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    assert support_client.get(url).status_code == 200
    interval_add = reverse("admin:django_celery_beat_intervalschedule_add")
    assert support_client.get(interval_add).status_code == 200


def test_a_search_with_no_answer_offers_the_salesforce_lookup(support_client, customer):
    # Nothing in the ledger matches: the desk goes on to the Salesforce lookup of the chosen
    # type (here it says Salesforce must be connected first) instead of failing the page.
    Connection.objects.filter(user=customer, provider="salesforce").update(status="disconnected")
    url = reverse("admin:accounts_user_explain", args=[customer.pk])
    response = support_client.get(url, {"q": "Nobody Known", "lookup": "contact"})
    assert response.status_code == 200
    assert "Connect Salesforce first" in response.content.decode()
