"""The Issues page (issue 6 item 3): per-item problems, connection problems with Reconnect,
held deletions, isolation; an issue disappears when its item syncs."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Connection
from syncengine.models import SyncLink, SyncLogEntry, SyncSession
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db

TOKEN = "ACCESS-tok-issues-4b1d"


def a_session(user, status="partial", minutes_ago=0):
    session = SyncSession.objects.create(user=user, trigger="schedule")
    started = timezone.now() - timedelta(minutes=minutes_ago)
    SyncSession.objects.filter(pk=session.pk).update(
        status=status, started_at=started, finished_at=started + timedelta(seconds=2)
    )
    session.refresh_from_db()
    return session


def item_error(session, minutes_ago=0, **fields):
    entry = SyncLogEntry.objects.create(
        session=session, user=session.user, kind="item_error", **fields
    )
    when = (
        session.started_at + timedelta(seconds=1)
        if not minutes_ago
        else (timezone.now() - timedelta(minutes=minutes_ago))
    )
    SyncLogEntry.objects.filter(pk=entry.pk).update(created_at=when)
    entry.refresh_from_db()
    return entry


def failing_link(user, **fields):
    values = {
        "item_type": "contact",
        "sf_id": "003000000000ABC",
        "mailbox_id": "AAMk-contact-1",
        "origin": "salesforce",
        "snapshot": {"first_name": "Ada", "last_name": "Lovelace"},
        "error_count": 3,
        "last_error": "ErrorInvalidProperty: the email address is malformed",
        "last_synced_at": timezone.now() - timedelta(hours=3),
        **fields,
    }
    return SyncLink.objects.create(user=user, **values)


def issues_html(client):
    response = client.get(reverse("syncengine:issues"))
    assert response.status_code == 200
    return response.content.decode()


def test_it_is_linked_from_the_nav_and_the_dashboard(user_client):
    html = user_client.get(reverse("dashboard")).content.decode()
    assert html.count(f'href="{reverse("syncengine:issues")}"') == 2


def test_it_asks_for_a_login(client):
    response = client.get(reverse("syncengine:issues"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_says_so_when_there_is_nothing(user_client, user):
    # Never synced: no claim that everything did (issue 10).
    assert "No issues" not in issues_html(user_client)
    assert "Nothing has synced yet" in issues_html(user_client)
    a_session(user, status="succeeded")
    assert "No issues: everything synced" in issues_html(user_client)


def test_it_never_claims_everything_synced_after_a_failed_session(user_client, user):
    a_session(user, status="succeeded", minutes_ago=60)
    a_session(user, status=SyncSession.Status.FAILED)
    html = issues_html(user_client)
    assert "everything synced" not in html
    assert "ended as “Failed”" in html


def test_it_shows_a_failing_item_with_side_message_since_and_tries(user_client, user):
    link = failing_link(user)
    first = item_error(
        a_session(user, minutes_ago=90),
        minutes_ago=89,
        item_type="contact",
        side="mailbox",
        sf_id=link.sf_id,
        mailbox_id=link.mailbox_id,
        message="mailbox refused the write: ErrorInvalidProperty",
    )
    item_error(
        a_session(user, minutes_ago=30),
        minutes_ago=29,
        item_type="contact",
        side="mailbox",
        sf_id=link.sf_id,
        message="mailbox refused the write: ErrorInvalidProperty",
    )
    html = issues_html(user_client)
    assert "Contact “Ada Lovelace”" in html
    assert "Salesforce id 003000000000ABC" in html
    assert "mailbox id AAMk-contact-1" in html
    assert "<td>Mailbox</td>" in html
    assert "ErrorInvalidProperty: the email address is malformed" in html
    assert f"{timezone.localtime(first.created_at):%Y-%m-%d %H:%M} UTC" in html
    assert "<td>3</td>" in html


def test_an_issue_disappears_when_the_item_syncs(user_client, user):
    link = failing_link(user)
    item_error(a_session(user, minutes_ago=10), item_type="contact", sf_id=link.sf_id)
    assert "Ada Lovelace" in issues_html(user_client)
    # What the executor does on the next successful write (Executor.save).
    SyncLink.objects.filter(pk=link.pk).update(
        error_count=0, last_error="", last_synced_at=timezone.now()
    )
    a_session(user, status="succeeded")  # the session that synced it
    html = issues_html(user_client)
    assert "Ada Lovelace" not in html
    assert "No issues" in html


def test_it_shows_a_refused_create_until_a_link_exists(user_client, user):
    session = a_session(user)
    item_error(
        session,
        item_type="task",
        side="salesforce",
        mailbox_id="task-in-mailbox-7",
        message="salesforce refused the write: FIELD_CUSTOM_VALIDATION_EXCEPTION",
        payload={"code": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Due date required"},
    )
    html = issues_html(user_client)
    assert "Task" in html and "mailbox id task-in-mailbox-7" in html
    assert "<td>Salesforce</td>" in html
    assert "Due date required" in html
    SyncLink.objects.create(
        user=user,
        item_type="task",
        sf_id="00T000000000001",
        mailbox_id="task-in-mailbox-7",
        origin="mailbox",
        last_synced_at=timezone.now() + timedelta(seconds=5),
    )
    assert "task-in-mailbox-7" not in issues_html(user_client)


def test_a_refused_create_not_reported_by_a_later_session_is_gone(user_client, user):
    item_error(
        a_session(user, minutes_ago=60), item_type="task", mailbox_id="t-9", message="refused"
    )
    assert "t-9" in issues_html(user_client)
    a_session(user, status="succeeded", minutes_ago=1)
    assert "t-9" not in issues_html(user_client)


def test_a_failed_session_does_not_clear_item_issues(user_client, user):
    item_error(
        a_session(user, minutes_ago=60), item_type="task", mailbox_id="t-9", message="refused"
    )
    a_session(user, status="failed", minutes_ago=1)
    assert "t-9" in issues_html(user_client)


def test_it_counts_tries_of_an_unlinked_item(user_client, user):
    for minutes in (50, 40, 30):
        item_error(
            a_session(user, minutes_ago=minutes), item_type="event", mailbox_id="ev-1",
            message="refused",
        )  # fmt: skip
    html = issues_html(user_client)
    assert "<td>3</td>" in html


def test_it_shows_a_connection_needing_reconnection_with_a_reconnect_button(user_client, user):
    conn = ConnectionFactory(user=user, provider="office365", access_token=TOKEN)
    conn.mark_needs_reconnect("Office 365 refused the refresh token: invalid_grant")
    ConnectionFactory(user=user, provider="salesforce")
    html = issues_html(user_client)
    assert "Office 365 refused the refresh token: invalid_grant" in html
    assert f'action="{reverse("oauth:start", args=["office365"])}"' in html
    assert "Reconnect Office 365" in html
    assert "Reconnect Salesforce" not in html
    assert TOKEN not in html


def test_it_shows_a_disconnected_connection(user_client, user):
    ConnectionFactory(user=user, provider="salesforce", status=Connection.Status.DISCONNECTED)
    html = issues_html(user_client)
    assert "Disconnected" in html
    assert f'action="{reverse("oauth:start", args=["salesforce"])}"' in html


def test_it_links_held_deletions_to_history(user_client, user):
    SyncLink.objects.create(
        user=user, item_type="contact", sf_id="003H", mailbox_id="mH", origin="salesforce",
        state=SyncLink.State.HELD_DELETION, held_side="mailbox",
    )  # fmt: skip
    html = issues_html(user_client)
    assert "1 deletion(s) wait for your confirmation" in html
    assert f'href="{reverse("syncengine:history")}#held-deletions"' in html


def test_it_never_shows_another_users_issues(user_client, user, other_user):
    failing_link(other_user, snapshot={"last_name": "Secretperson"})
    item_error(a_session(other_user), item_type="task", mailbox_id="bobs-task", message="x")
    conn = ConnectionFactory(user=other_user, provider="gmail", access_token=TOKEN)
    conn.mark_needs_reconnect("Gmail said invalid_grant for bob")
    SyncLink.objects.create(
        user=other_user, item_type="contact", sf_id="003H", mailbox_id="mH",
        origin="salesforce", state=SyncLink.State.HELD_DELETION,
    )  # fmt: skip
    html = issues_html(user_client)
    assert "Secretperson" not in html
    assert "bobs-task" not in html
    assert "invalid_grant for bob" not in html
    assert "deletion(s) wait" not in html
    assert 'id="no-issues"' in html
