"""Scope changes, the sliding window, expired cursors, the brake, crashes and provider
failures, end to end against the sandbox for both mailboxes."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Connection
from syncengine.faults import AFTER_WRITE, crash_at, injected
from syncengine.held import confirm_held_deletions, discard_held_deletions
from syncengine.models import SyncLink, SyncLogEntry, SyncSession

from .conftest import EMAIL, EWS_SERVICE, NOW

DAY = dt.timedelta(days=1)
Status = SyncSession.Status


def emails(world):
    return sorted(c["email"] for c in world.contacts())


def test_it_follows_the_contact_scope_to_all_then_a_view_then_a_missing_view(world):
    world.sf_contact("Mine", "mine@example.com")
    world.sf_contact("Theirs", "theirs@example.com", owner=world.other)
    world.sf_contact("Vip", "vip@example.com", owner=world.other, Title="VIP")
    world.sync()
    assert emails(world) == ["mine@example.com"]

    world.settings(contact_scope="all")
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert emails(world) == ["mine@example.com", "theirs@example.com", "vip@example.com"]

    view = world.sfapp.add_list_view("VIPs", "VIPs", "everything", "Title = 'VIP'")
    world.settings(contact_scope="view", contact_view_id=view)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert emails(world) == ["vip@example.com"]  # the others left the scope: removed
    assert len(world.sf_live("Contact")) == 3  # Salesforce untouched

    world.sfapp.delete_list_view(view)
    world.sfapp.update(world.sf_live("Contact")[0]["Id"], {"Phone": "1"}, world.me)
    session = world.sync()
    assert emails(world) == ["vip@example.com"]  # nothing deleted because of it
    problems = SyncLogEntry.objects.filter(session=session, kind=SyncLogEntry.Kind.PROBLEM)
    assert "view missing" in problems.get().message


def test_it_brings_an_event_down_when_the_window_slides_to_it(world):
    world.sf_event("Far away", NOW + 70 * DAY)
    world.sf_event("Soon", NOW + 1 * DAY)
    world.sync()
    assert [e["subject"] for e in world.events()] == ["Soon"]
    world.clock.advance(days=16)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert sorted(e["subject"] for e in world.events()) == ["Far away", "Soon"]  # Soon frozen
    assert SyncLink.objects.get(user=world.user, state="frozen")
    assert not world.sync().changed


def test_it_reconciles_after_an_expired_cursor_without_duplicates_or_deletions(world):
    world.sf_contact("Lovelace", "ada@example.com")
    world.sf_task("Call Ada", (NOW + 2 * DAY).date())
    world.sync()
    if world.kind == "exchange":
        world.mbapp.invalidate_sync_states(EMAIL)  # ErrorInvalidSyncStateData
    elif world.kind == "office365":
        world.mbapp.expire_delta_tokens(EMAIL)
    else:
        world.mbapp.expire_sync_tokens(EMAIL)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert not session.changed
    assert emails(world) == ["ada@example.com"]
    assert len(world.tasks()) == 1
    assert len(world.sf_live("Contact")) == 1
    assert not world.sync().changed


def test_it_holds_a_mass_deletion_until_confirmed(world):
    for n in range(30):
        world.sf_contact(f"Person{n}", f"p{n}@example.com")
    world.sync()
    assert len(world.contacts()) == 30
    for row in world.sf_live("Contact"):
        world.sfapp.delete(row["Id"], world.me)
    held = world.sync()
    assert held.status == Status.NEEDS_CONFIRMATION
    assert len(world.contacts()) == 30
    assert SyncLink.objects.filter(user=world.user, state="held_deletion").count() == 30
    assert not world.sync().changed  # held links wait

    done = confirm_held_deletions(world.user, now=world.clock())
    assert done.status == Status.SUCCEEDED, done.error
    assert world.contacts() == []
    assert not SyncLink.objects.filter(user=world.user).exists()


def test_it_discards_a_held_mailbox_side_mass_deletion_by_restoring(world):
    for n in range(30):
        world.sf_contact(f"Person{n}", f"p{n}@example.com")
    world.sync()
    for contact in world.contacts():
        world.delete_contact(contact["id"])
    held = world.sync()
    assert held.status == Status.NEEDS_CONFIRMATION
    assert len(world.sf_live("Contact")) == 30
    done = discard_held_deletions(world.user, now=world.clock())
    assert done.status == Status.SUCCEEDED, done.error
    assert len(world.contacts()) == 30
    assert SyncLink.objects.filter(user=world.user, state="linked").count() == 30
    assert not world.sync().changed


def test_it_carries_out_a_decision_recorded_on_the_dashboard_in_the_queued_session(world):
    from syncengine import services

    for n in range(30):
        world.sf_contact(f"Person{n}", f"p{n}@example.com")
    world.sync()
    for contact in world.contacts():
        world.delete_contact(contact["id"])
    assert world.sync().status == Status.NEEDS_CONFIRMATION
    decided = services.decide_held_deletions(world.user, "discard")
    assert (decided.count, decided.busy) == (30, False)
    assert len(world.contacts()) == 0  # recording the decision ran nothing

    services.run_claimed_session(world.user.pk, "manual")  # what the queued task runs
    assert len(world.contacts()) == 30
    assert set(SyncLink.objects.filter(user=world.user).values_list("state", "held_decision")) == {
        ("linked", "")
    }
    assert not world.sync().changed


def test_it_heals_a_crash_between_a_write_and_its_link_by_the_marker(world):
    world.sf_contact("Lovelace", "ada@example.com")
    world.sf_contact("Hopper", "grace@example.com")
    world.sf_task("Call Ada", (NOW + 2 * DAY).date())
    # The worker dies once the contacts are written, before their links.
    with injected(crash_at(AFTER_WRITE, "contact", "create_mailbox")):
        crashed = world.sync()
    assert crashed.status == Status.FAILED
    assert len(world.contacts()) == 2  # written, not linked
    assert not SyncLink.objects.filter(user=world.user, item_type="contact").exists()
    healed = world.sync()
    assert healed.status == Status.SUCCEEDED, healed.error
    assert emails(world) == ["ada@example.com", "grace@example.com"]
    assert len(world.tasks()) == 1
    assert len(world.sf_live("Contact")) == 2
    assert SyncLink.objects.filter(user=world.user, item_type="contact").count() == 2
    assert not world.sync().changed


def test_it_fails_and_asks_for_reconnection_when_the_refresh_token_is_revoked(world):
    world.sync()
    if world.kind == "exchange":
        # No user token: the organisation's service account lost its password (or role).
        world.mbapp.add_service_account(EWS_SERVICE[0], "rotated-by-the-admin")
    else:
        world.mbapp.revoke_refresh_tokens(EMAIL)
        world.mbapp.expire_tokens(EMAIL)
        mailbox = Connection.objects.mailbox_for(world.user)
        mailbox.token_expires_at = mailbox.token_expires_at.replace(year=2000)
        mailbox.save()
    session = world.sync()
    assert session.status == Status.FAILED
    mailbox = Connection.objects.mailbox_for(world.user)
    assert mailbox.status == Connection.Status.NEEDS_RECONNECT
    again = world.sync()
    assert again.status == Status.FAILED
    assert again.api_calls_salesforce == again.sf_calls_seen == 0


@pytest.mark.parametrize("side", ["salesforce", "mailbox"])
def test_it_retries_later_after_a_503_and_loses_nothing(world, side):
    world.sf_contact("Lovelace", "ada@example.com")
    world.sync()
    world.sf_contact("Hopper", "grace@example.com")
    app = world.sfapp if side == "salesforce" else world.mbapp
    app.fail_next(5, 503)
    session = world.sync()
    assert session.status == Status.RETRY_LATER, session.error
    app.clear_faults()
    later = world.sync()
    assert later.status == Status.SUCCEEDED, later.error
    assert emails(world) == ["ada@example.com", "grace@example.com"]
