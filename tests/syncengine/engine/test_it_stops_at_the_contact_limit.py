"""A Google account holds a limited number of contacts (25,000; the emulator's knob
`max_contacts_per_account`). With a scope wider than that, Relay stops creating Google
contacts before the limit, says so on the Issues page, and keeps syncing everything
else; the entry goes when the scope fits again. Kinds without such a limit are untouched."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from syncengine.issues import issues_for
from syncengine.models import SyncLink, SyncSession

Status = SyncSession.Status
LIMIT = 5


def limited(world, monkeypatch, settings, limit=LIMIT):
    monkeypatch.setattr(world.stack.google_app, "max_contacts_per_account", limit)
    settings.GOOGLE_CONTACT_LIMIT = limit  # what Relay knows of Google's limit


def seed(world, n=8):
    world.settings(contact_scope="all")
    return [world.sf_contact(f"Last{i}", f"c{i}@example.com", owner=world.other) for i in range(n)]


def limit_problems(world):
    return [p for p in issues_for(world.user).problems if "not added to your mailbox" in p]


@pytest.mark.parametrize("world", ["gmail"], indirect=True)
def test_it_stops_creating_google_contacts_before_the_limit(world, monkeypatch, settings):
    limited(world, monkeypatch, settings)
    ids = seed(world)
    world.sf_task("Call back", dt.date(2024, 5, 20))

    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert len(world.contacts()) == LIMIT  # never refused by Google: Relay counted first
    assert session.counters["task"]["down"]["created"] == 1  # other types keep syncing
    assert limit_problems(world) == [
        "3 Salesforce contacts in your sync scope were not added to your mailbox: it can hold"
        " about 5 contacts. Choose a narrower contact scope (My contacts or a list view) to"
        " sync the rest; everything else keeps syncing."
    ]
    client = Client()
    client.force_login(world.user)
    page = client.get(reverse("syncengine:issues")).content.decode()
    assert 'id="sync-problems"' in page and "3 Salesforce contacts in your sync scope" in page

    # The contacts already synced keep syncing, and the entry stays while it is true.
    linked = SyncLink.objects.filter(user=world.user, item_type="contact").order_by("sf_id")
    first = linked.first().sf_id
    world.sfapp.update(first, {"Title": "Buyer"})
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert session.counters["contact"]["down"]["updated"] == 1
    assert session.counters["contact"]["down"].get("errors", 0) == 0
    assert len(limit_problems(world)) == 1

    # Later sessions stay cheap (the idle cost: 1 Salesforce call, 4 Google calls) and
    # never fail or retry the contacts left out.
    for _ in range(2):
        session = world.sync()
        assert session.status == Status.SUCCEEDED, session.error
        assert (session.sf_calls_seen, session.mb_calls_seen) == (1, 4)
        assert len(limit_problems(world)) == 1
    assert len(world.contacts()) == LIMIT
    assert set(ids) >= set(linked.values_list("sf_id", flat=True))

    # The account may hold more now: the scope fits, everything comes down, the entry goes.
    limited(world, monkeypatch, settings, limit=20)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert len(world.contacts()) == 8
    assert limit_problems(world) == []
    assert world.sync().status == Status.SUCCEEDED
    assert limit_problems(world) == []


@pytest.mark.parametrize("world", ["gmail"], indirect=True)
def test_room_the_user_makes_is_filled_the_next_day(world, monkeypatch, settings):
    limited(world, monkeypatch, settings)
    ids = seed(world)
    world.sync()
    linked = list(SyncLink.objects.filter(user=world.user, item_type="contact").order_by("sf_id"))
    for link in linked[:2]:  # deleted in Salesforce: their Google copies go too
        world.sfapp.delete(link.sf_id)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert len(world.contacts()) == 3
    assert len(limit_problems(world)) == 1

    world.clock.advance(days=1)  # the scope is read again once a day while it does not fit
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert len(world.contacts()) == 5
    assert limit_problems(world) == [
        "1 Salesforce contact in your sync scope was not added to your mailbox: it can hold"
        " about 5 contacts. Choose a narrower contact scope (My contacts or a list view) to"
        " sync the rest; everything else keeps syncing."
    ]
    assert len(ids) == 8


@pytest.mark.parametrize("world", ["office365", "exchange"], indirect=True)
def test_kinds_without_a_contact_limit_sync_the_whole_scope(world, monkeypatch, settings):
    limited(world, monkeypatch, settings)  # Google's limit is nothing to the other kinds
    seed(world)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert len(world.contacts()) == 8
    assert limit_problems(world) == []
