"""Initial sync, the idle session, edits and deletions on each side, for both mailboxes."""

from __future__ import annotations

import datetime as dt

from syncengine.models import SyncLink, SyncSession

from .conftest import NOW

DAY = dt.timedelta(days=1)


def seed(world):
    world.sf_contact("Lovelace", "ada@example.com", FirstName="Ada")
    world.sf_contact("Hopper", "grace@example.com", FirstName="Grace")
    world.sf_contact("Other", "other@example.com", owner=world.other)  # not "mine"
    world.sf_task("Call Ada", (NOW + 3 * DAY).date())
    world.sf_event("Lunch with Ada", NOW + 2 * DAY)
    world.sf_event("Far away", NOW + 70 * DAY)  # outside the window


def test_it_brings_salesforce_down_then_idles(world):
    seed(world)
    first = world.sync()
    assert first.status == SyncSession.Status.SUCCEEDED, first.error
    assert sorted(c["email"] for c in world.contacts()) == ["ada@example.com", "grace@example.com"]
    assert [t["title"] for t in world.tasks()] == ["Call Ada"]
    assert [e["subject"] for e in world.events()] == ["Lunch with Ada"]
    assert first.counters["contact"]["down"]["created"] == 2
    assert first.changed
    assert SyncLink.objects.filter(user=world.user).count() == 4
    print(world.kind, "initial", first.api_calls_salesforce, first.api_calls_mailbox)

    if world.kind == "exchange":
        # SyncFolderItems reports Relay's own creates by id and ChangeKey: contacts and
        # tasks still at the ChangeKey of Relay's write are not read; the calendar's are,
        # with one GetItem (its series need expanding). Then the session is idle.
        echoes = world.sync()
        assert not echoes.changed and echoes.api_calls_mailbox == 4 + 1
    idle = world.sync()
    assert idle.status == SyncSession.Status.SUCCEEDED, idle.error
    assert not idle.changed
    assert idle.api_calls_salesforce == 1 == idle.sf_calls_seen
    # Graph: one $batch, the email folder included; Google: People, Calendar, Tasks and
    # the Gmail label's history (a batch cannot mix APIs).
    expected_mailbox = 1 if world.kind == "office365" else 4
    assert idle.api_calls_mailbox == expected_mailbox == idle.mb_calls_seen
    assert len(world.contacts()) == 2


def test_it_links_existing_mailbox_copies_instead_of_duplicating(world):
    world.add_contact("Lovelace", "ADA@example.com")
    world.sf_contact("Lovelace", "ada@example.com")
    session = world.sync()
    assert session.status == SyncSession.Status.SUCCEEDED, session.error
    contacts = world.contacts()
    assert len(contacts) == 1
    assert len(world.sf_live("Contact")) == 1
    assert SyncLink.objects.get(user=world.user).mailbox_id == contacts[0]["id"]
    assert not world.sync().changed


def test_it_sends_edits_across_both_ways(world):
    seed(world)
    world.sync()
    ada = next(c for c in world.contacts() if c["email"] == "ada@example.com")
    world.edit_contact(ada["id"], "Byron")
    grace = next(c for c in world.contacts() if c["email"] == "grace@example.com")
    link = SyncLink.objects.get(user=world.user, mailbox_id=grace["id"])
    grace_id = link.sf_id
    world.sfapp.update(grace_id, {"Title": "Admiral"}, world.me)
    task = world.tasks()[0]
    world.edit_task(task["id"], "Call Ada twice")

    session = world.sync()
    assert session.status == SyncSession.Status.SUCCEEDED, session.error
    ada_link = SyncLink.objects.get(user=world.user, mailbox_id=ada["id"])
    assert world.sfapp.get(ada_link.sf_id)["LastName"] == "Byron"
    assert world.sfapp.get(SyncLink.objects.get(item_type="task").sf_id)["Subject"] == (
        "Call Ada twice"
    )
    mailbox_grace = next(c for c in world.contacts() if c["id"] == link.mailbox_id)["raw"]
    if world.kind == "exchange":
        title = mailbox_grace.job_title
    elif world.kind == "office365":
        title = mailbox_grace.get("jobTitle")
    else:
        title = (mailbox_grace.get("organizations") or [{}])[0].get("title")
    assert title == "Admiral"
    assert session.counters["contact"]["up"]["updated"] == 1
    assert session.counters["contact"]["down"]["updated"] == 1
    assert not world.sync().changed  # the echoes are not changes


def test_it_deletes_across_under_auto_removal(world):
    seed(world)
    world.sync()
    ada = next(c for c in world.contacts() if c["email"] == "ada@example.com")
    ada_sf = SyncLink.objects.get(user=world.user, mailbox_id=ada["id"]).sf_id
    grace = next(c for c in world.contacts() if c["email"] == "grace@example.com")
    grace_sf = SyncLink.objects.get(user=world.user, mailbox_id=grace["id"]).sf_id
    world.delete_contact(ada["id"])
    world.sfapp.delete(grace_sf, world.me)

    session = world.sync()
    assert session.status == SyncSession.Status.SUCCEEDED, session.error
    assert world.sfapp.get(ada_sf) is None or world.sfapp.get(ada_sf).get("IsDeleted")
    assert world.contacts() == []
    assert not SyncLink.objects.filter(user=world.user, item_type="contact").exists()
    assert not world.sync().changed


def test_it_restores_a_mailbox_deletion_when_auto_removal_is_off(world):
    seed(world)
    world.settings(auto_remove_contacts=False)
    world.sync()
    ada = next(c for c in world.contacts() if c["email"] == "ada@example.com")
    ada_sf = SyncLink.objects.get(user=world.user, mailbox_id=ada["id"]).sf_id
    world.delete_contact(ada["id"])

    session = world.sync()
    assert session.status == SyncSession.Status.SUCCEEDED, session.error
    assert session.counters["contact"]["down"]["restored"] == 1
    assert not world.sfapp.get(ada_sf).get("IsDeleted")
    restored = next(c for c in world.contacts() if c["email"] == "ada@example.com")
    assert restored["id"] != ada["id"]
    assert SyncLink.objects.get(user=world.user, sf_id=ada_sf).mailbox_id == restored["id"]
    assert not world.sync().changed
