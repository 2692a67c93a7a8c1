"""The per-item ledger behind "why (not) synced?": the Items search, a session's page, the
pruning task, and query counts that stay flat as items grow (issue 10)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from syncengine import ledger
from syncengine.models import ItemLedgerEntry, SyncLink, SyncSession
from syncengine.tasks import prune_item_ledger
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def a_session(user) -> SyncSession:
    return SyncSession.objects.create(
        user=user, trigger=SyncSession.Trigger.SCHEDULE, status=SyncSession.Status.SUCCEEDED
    )


def entries(session, n: int, *, prefix: str = "Person", **values) -> list[ItemLedgerEntry]:
    values = {"item_type": "contact", "action": "skipped", "direction": "down", **values}
    values.setdefault("reason_code", "not_in_contact_scope")
    values.setdefault(
        "reason", "This contact is owned by 005OTHER; your scope is Only my contacts."
    )
    rows = [
        ItemLedgerEntry(
            user=session.user,
            session=session,
            sf_id=f"003{prefix[:3]}{i:012d}"[:18],
            name=f"{prefix} {i} <{prefix.lower()}{i}@example.com>",
            created_at=timezone.now(),
            **values,
        )
        for i in range(n)
    ]
    return ItemLedgerEntry.objects.bulk_create(rows)


def links(user, n: int) -> None:
    SyncLink.objects.bulk_create(
        SyncLink(
            user=user,
            item_type="contact",
            sf_id=f"003LNK{i:012d}",
            mailbox_id=f"mb-{i}",
            snapshot={"first_name": "Linked", "last_name": f"Person{i}", "email": f"l{i}@x.com"},
            origin="salesforce",
            sf_hash="h",
            mailbox_hash="h",
            last_synced_at=timezone.now(),
        )
        for i in range(n)
    )


def test_it_finds_an_excluded_contact_and_says_why(user_client, user):
    session = a_session(user)
    entries(session, 1, prefix="Theirs")
    html = user_client.get(reverse("syncengine:items"), {"q": "theirs0@example"}).content.decode()
    assert "not_in_contact_scope" in html
    assert "your scope is Only my contacts" in html
    assert reverse("syncengine:session", args=[session.pk]) in html


def test_it_explains_a_linked_contact_as_synced(user_client, user):
    ConnectionFactory(user=user, side="salesforce", provider="salesforce")
    links(user, 1)
    html = user_client.get(reverse("syncengine:items"), {"q": "Person0"}).content.decode()
    assert "<code>synced</code> Synced; last synced" in html


def test_it_offers_a_salesforce_lookup_for_an_item_never_seen(user_client, user):
    html = user_client.get(reverse("syncengine:items"), {"q": "Nobody"}).content.decode()
    assert 'id="lookup"' in html and 'name="lookup" value="contact"' in html


def test_it_refuses_an_oversized_query_with_a_message(user_client, user):
    html = user_client.get(reverse("syncengine:items"), {"q": "x" * 201}).content.decode()
    assert "limited to 200 characters" in html


def test_it_never_shows_another_users_items(user_client, user, other_user):
    entries(a_session(other_user), 1, prefix="Secret")
    html = user_client.get(reverse("syncengine:items"), {"q": "Secret"}).content.decode()
    assert "secret0@example.com" not in html
    other = SyncSession.objects.get(user=other_user)
    assert user_client.get(reverse("syncengine:session", args=[other.pk])).status_code == 404


def test_a_session_page_lists_its_items_filtered_by_type_direction_and_action(user_client, user):
    session = a_session(user)
    entries(session, 3, prefix="Excluded")
    entries(session, 2, prefix="Created", action="created", reason_code="synced", reason="")
    entries(session, 1, prefix="Uptask", item_type="task", action="updated", direction="up",
            reason_code="synced", reason="")  # fmt: skip
    url = reverse("syncengine:session", args=[session.pk])
    html = user_client.get(url).content.decode()
    assert html.count('class="item action-') == 6
    assert "Skipped by a rule: 3" in html and "Created: 2" in html  # the bar's legend
    assert 'role="img"' in html
    only_up = user_client.get(url, {"direction": "up"}).content.decode()
    assert only_up.count('class="item action-') == 1 and "Uptask 0" in only_up
    created = user_client.get(url, {"action": "created", "type": "contact"}).content.decode()
    assert created.count('class="item action-created"') == 2
    bogus = user_client.get(url, {"action": "<script>"}).content.decode()
    assert bogus.count('class="item action-') == 6  # an unknown filter is ignored


def test_history_links_each_session_to_its_page(user_client, user):
    session = a_session(user)
    html = user_client.get(reverse("syncengine:history")).content.decode()
    assert reverse("syncengine:session", args=[session.pk]) in html


@pytest.mark.parametrize("n", [5, 120])
def test_the_item_search_costs_the_same_queries_for_5_or_120_matches(
    user_client, user, n, django_assert_max_num_queries
):
    ConnectionFactory(user=user, side="salesforce", provider="salesforce")
    session = a_session(user)
    entries(session, n)
    links(user, n)
    with django_assert_max_num_queries(14):
        response = user_client.get(reverse("syncengine:items"), {"q": "Person"})
    assert response.content.decode().count('class="answer ') == min(2 * n, 50)


@pytest.mark.parametrize("n", [5, 300])
def test_the_session_page_costs_the_same_queries_for_5_or_300_items(
    user_client, user, n, django_assert_max_num_queries
):
    session = a_session(user)
    entries(session, n)
    with django_assert_max_num_queries(10):
        response = user_client.get(reverse("syncengine:session", args=[session.pk]))
    assert response.status_code == 200


def test_pruning_keeps_90_days_and_is_a_beat_task(user):
    session = a_session(user)
    old, kept = entries(session, 2)
    now = timezone.now()
    ItemLedgerEntry.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=91))
    ItemLedgerEntry.objects.filter(pk=kept.pk).update(created_at=now - timedelta(days=89))
    assert ledger.prune(keep_days=10) == 1  # asking for less than 90 days still keeps 90
    assert list(ItemLedgerEntry.objects.values_list("pk", flat=True)) == [kept.pk]
    ItemLedgerEntry.objects.filter(pk=kept.pk).update(created_at=now - timedelta(days=95))
    assert prune_item_ledger() == 1
    task = PeriodicTask.objects.get(task="relay.prune_item_ledger")
    assert task.enabled and task.interval.every == 1 and task.interval.period == "days"
