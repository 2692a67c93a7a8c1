"""Regression of the soak (office365 seed 172; SPEC §2b, API-NOTES §I): Salesforce relates
an event to up to 50 Contacts or one Lead, never both. The user replaces the only Contact
guest of a meeting with a Lead (or the Lead with a Contact): Relay set the new WhoId while
the person it was removing was still related, Salesforce refused it, and the session ended
PARTIAL with the event related to nobody. Relay now takes out whom it unrelates before it
sets the new Who, so one session swaps them. End to end, for every mailbox kind."""

from __future__ import annotations

import datetime as dt

import pytest

from syncengine.models import SyncSession

from .conftest import EMAIL, NOW, World
from .meetings import meeting_in_mailbox, set_attendees
from .test_it_unrelates_removed_guests import who_and_parents

Status = SyncSession.Status
CONTACT, LEAD = "ada@customer.example", "pat@prospect.example"


@pytest.mark.parametrize(
    "before,after", [(CONTACT, LEAD), (LEAD, CONTACT)], ids=["to-lead", "to-contact"]
)
def test_it_swaps_the_only_guest_for_one_of_the_other_kind(
    world: World, before: str, after: str
) -> None:
    ids = {
        CONTACT: world.sf_contact("Lovelace", CONTACT, FirstName="Ada"),
        LEAD: world.sfapp.create(
            "Lead", {"LastName": "Prospect", "Company": "P Inc", "Email": LEAD}, world.me
        ),
    }
    item = meeting_in_mailbox(world, "Pricing", NOW + dt.timedelta(days=2), [before])
    assert world.sync().status == Status.SUCCEEDED
    [event] = world.sfapp.query("SELECT Id FROM Event", world.me)
    assert who_and_parents(world, event["Id"]) == (ids[before], {ids[before]})

    set_attendees(world, item, [after])
    swapped = world.sync()
    assert swapped.status == Status.SUCCEEDED, (swapped.status, swapped.error)
    assert who_and_parents(world, event["Id"]) == (ids[after], {ids[after]})
    quiet = world.sync()
    assert quiet.status == Status.SUCCEEDED and not quiet.changed, quiet.counters
    assert world.mbapp.sent_invitations(EMAIL) == []
