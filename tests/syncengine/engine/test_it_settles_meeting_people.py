"""SPEC §2b with §5 "an echo is no change": when the user invites a customer to a meeting
Relay brought down from Salesforce, the session that relates the Contact settles it — the
next session writes nothing (found by the engine model, soak seed gmail:4)."""

from __future__ import annotations

import datetime as dt

import pytest

from syncengine.models import SyncSession

from .conftest import EMAIL, NOW, World
from .meetings import set_attendees

Status = SyncSession.Status


@pytest.mark.parametrize("world", ["gmail", "office365"], indirect=True)
def test_it_settles_a_guest_added_to_a_salesforce_meeting_in_one_session(world: World) -> None:
    ada = world.sf_contact("Lovelace", "ada@customer.example", FirstName="Ada")
    grace = world.sf_contact("Hopper", "grace@customer.example", FirstName="Grace")
    event = world.sf_event("Kick-off", NOW + dt.timedelta(days=2))
    world.sfapp.create("EventRelation", {"EventId": event, "RelationId": grace}, world.me)
    assert world.sync().status == Status.SUCCEEDED
    [copy] = world.events()
    assert "Grace Hopper" in (body(world) or "")  # the block Relay owns

    set_attendees(world, copy["id"], ["ada@customer.example"])
    related = world.sync()
    assert related.status == Status.SUCCEEDED, related.error
    [row] = world.sfapp.query("SELECT Id, WhoId FROM Event", world.me)
    assert row["WhoId"] == ada

    again = world.sync()
    assert again.status == Status.SUCCEEDED, again.error
    assert not again.changed
    # The copy is a meeting now: its body is shared with the guest (and on Graph a write
    # would mail them), so Relay's block is left as it was, not rewritten to name Ada.
    assert "Lovelace" not in (body(world) or "")

    set_attendees(world, copy["id"], [])
    unrelated = world.sync()
    assert unrelated.status == Status.SUCCEEDED, unrelated.error
    assert not world.sync().changed
    assert world.mbapp.sent_invitations(EMAIL) == []


def body(world: World) -> str | None:
    [copy] = world.events()
    raw = copy["raw"]
    return (
        (raw.get("body") or {}).get("content")
        if world.kind == "office365"
        else raw.get("description")
    )
