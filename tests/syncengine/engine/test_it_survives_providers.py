"""Rate limits on each side, a revoked Salesforce refresh token and merged Salesforce
contacts, end to end against the sandbox for both mailboxes."""

from __future__ import annotations

import pytest

from accounts.models import Connection
from syncengine.models import SyncLink, SyncSession

Status = SyncSession.Status


def emails(world):
    return sorted(c["email"] for c in world.contacts())


def _pending_both_ways(world):
    world.sf_contact("Lovelace", "ada@example.com")
    world.sync()
    world.sf_contact("Hopper", "grace@example.com")
    world.add_contact("Typed", "typed@example.com")


@pytest.mark.parametrize("where", ["salesforce", "mailbox_call", "mailbox_inner"])
def test_it_backs_off_on_a_rate_limit_and_loses_nothing(world, where):
    _pending_both_ways(world)
    if where == "salesforce":
        world.sfapp.exhaust_budget()  # REQUEST_LIMIT_EXCEEDED
    elif world.kind == "exchange":
        # ErrorServerBusy with BackOffMilliseconds: on the first call, or on the writes.
        operation = "" if where == "mailbox_call" else "CreateItem"
        world.mbapp.server_busy_next(1, back_off_ms=120_000, operation=operation)
    elif where == "mailbox_call" or world.kind == "gmail":
        world.mbapp.throttle_next(1, retry_after=120)  # the whole call answers 429
    else:
        # One request inside the Graph $batch answers 429 + Retry-After.
        world.mbapp.throttle_next(1, retry_after=120, match="/contactFolders/")
    session = world.sync()
    assert session.status == Status.RETRY_LATER, (session.status, session.error)
    assert session.retry_after_seconds and session.retry_after_seconds > 0
    if where != "salesforce":
        assert session.retry_after_seconds == 120
    else:
        assert session.retry_after_seconds == 3600
    world.sfapp.set_budget(used=0)
    world.mbapp.clear_faults()

    later = world.sync()
    assert later.status == Status.SUCCEEDED, (later.status, later.error)
    assert emails(world) == ["ada@example.com", "grace@example.com", "typed@example.com"]
    assert len(world.sf_live("Contact")) == 3
    assert SyncLink.objects.filter(user=world.user, item_type="contact").count() == 3
    assert not world.sync().changed


def test_it_fails_and_asks_to_reconnect_salesforce_when_its_refresh_token_is_revoked(world):
    _pending_both_ways(world)
    world.sfapp.tokens.revoke_refresh_tokens(world.me)
    world.sfapp.expire_tokens(world.me)
    session = world.sync()
    assert session.status == Status.FAILED, session.error
    sf = Connection.objects.salesforce_for(world.user)
    assert sf.status == Connection.Status.NEEDS_RECONNECT
    assert Connection.objects.mailbox_for(world.user).status == Connection.Status.ACTIVE
    assert session.mb_calls_seen == 0  # Salesforce is read first: no mailbox write
    assert emails(world) == ["ada@example.com", "typed@example.com"]  # nothing written
    again = world.sync()
    assert again.status == Status.FAILED
    assert again.sf_calls_seen == 0 and again.mb_calls_seen == 0


def test_it_relinks_the_copy_of_a_merged_contact_to_the_master(world):
    loser = world.sf_contact("Lovelace", "ada@example.com")
    world.sync()
    assert len(world.contacts()) == 1
    master = world.sf_contact("Lovelace", "ada.lovelace@example.com", FirstName="Ada")
    world.sfapp.merge_contacts(master, [loser])

    session = world.sync()
    assert session.status == Status.SUCCEEDED, (session.status, session.error)
    [contact] = world.contacts()  # no duplicate
    link = SyncLink.objects.get(user=world.user, item_type="contact")
    assert link.sf_id == master
    assert contact["email"] == "ada.lovelace@example.com"
    assert len(world.sf_live("Contact")) == 1
    assert not world.sync().changed


def test_it_removes_the_merged_away_copy_when_the_master_has_one(world):
    loser = world.sf_contact("Lovelace", "ada@example.com")
    master = world.sf_contact("Lovelace", "ada.lovelace@example.com", FirstName="Ada")
    world.sync()
    assert len(world.contacts()) == 2
    world.sfapp.merge_contacts(master, [loser])

    session = world.sync()
    assert session.status == Status.SUCCEEDED, (session.status, session.error)
    assert emails(world) == ["ada.lovelace@example.com"]
    assert SyncLink.objects.get(user=world.user, item_type="contact").sf_id == master
    assert not world.sync().changed


def test_it_does_not_lose_a_mailbox_edit_of_a_merged_away_copy(world):
    loser = world.sf_contact("Lovelace", "ada@example.com")
    world.sync()
    [copy] = world.contacts()
    master = world.sf_contact("Lovelace", "ada.lovelace@example.com")
    world.sfapp.merge_contacts(master, [loser])
    world.clock.advance(minutes=5)  # the user's edit is the later one: it wins
    world.edit_contact(copy["id"], "Byron")

    session = world.sync()
    assert session.status == Status.SUCCEEDED, (session.status, session.error)
    assert len(world.contacts()) == 1
    assert len(world.sf_live("Contact")) == 1
    link = SyncLink.objects.get(user=world.user, item_type="contact")
    assert link.sf_id == master
    assert world.sfapp.get(master)["LastName"] == "Byron"
    assert world.contacts()[0]["last"] == "Byron"
    assert not world.sync().changed
