"""The session after a bulk load reads back the echoes of its writes (a big book: 50,000 of
them). Relay keeps the record of each, which the planner and the ledger read, but not the
mailbox's raw JSON of a settled echo; an item the user edited, or one with a Salesforce
change to send down, keeps its JSON (the update is built over it), and such an update
still lands right. On Exchange the feed names its changes by ChangeKey, and an echo still
at the ChangeKey of Relay's write is not read at all."""

from __future__ import annotations

import pytest

from syncengine import reads
from syncengine.models import SyncLink, SyncSession
from syncengine.planner import ItemType

Status = SyncSession.Status


@pytest.fixture
def contact_inputs(monkeypatch):
    """The contact inputs each session's reader built (a spy around `Reader.inputs`)."""
    seen: list[reads.TypeInputs] = []
    original = reads.Reader.inputs

    def spy(self, item_type, links, batch, changes):
        data = original(self, item_type, links, batch, changes)
        if item_type == ItemType.CONTACT:
            seen.append(data)
        return data

    monkeypatch.setattr(reads.Reader, "inputs", spy)
    return seen


def test_settled_echoes_keep_their_record_but_not_their_raw_json(world, contact_inputs):
    ids = [world.sf_contact(f"Lee{i}", f"lee{i}@example.com") for i in range(4)]
    first = world.sync()
    assert first.status == Status.SUCCEEDED, first.error
    links = {
        link.sf_id: link.mailbox_id
        for link in SyncLink.objects.filter(user=world.user, item_type="contact")
    }
    assert set(links) == set(ids)
    edited_in_mailbox, edited_in_salesforce = links[ids[0]], links[ids[1]]
    world.edit_contact(edited_in_mailbox, "Leeward")
    world.sfapp.update(ids[1], {"Phone": "+1 555 0199"}, world.me)

    contact_inputs.clear()
    second = world.sync()
    assert second.status == Status.SUCCEEDED, second.error
    [data] = contact_inputs
    read = set(data.mailbox_changes)
    assert edited_in_mailbox in read
    echoes = read - {edited_in_mailbox, edited_in_salesforce}
    assert edited_in_mailbox in data.raw_items
    if edited_in_salesforce in read:
        assert edited_in_salesforce in data.raw_items  # its update builds on it
    if world.kind == "exchange":
        # SyncFolderItems names each change by id and ChangeKey: an untouched copy is at
        # the ChangeKey Relay's create returned, so it is not read at all (no GetItem).
        assert not echoes
        assert set(data.raw_items) == {edited_in_mailbox}
    else:
        assert echoes  # Graph's delta and Google's sync tokens carry the untouched copies
    assert not echoes & set(data.raw_items)
    assert second.counters["contact"]["up"]["updated"] == 1
    assert second.counters["contact"]["down"]["updated"] == 1
    copies = {c["id"]: c for c in world.contacts()}
    assert copies[edited_in_mailbox]["last"] == "Leeward"
    assert world.sfapp.get(ids[0])["LastName"] == "Leeward"

    # A later Salesforce edit of an echo whose JSON was not kept still goes down.
    echo_sf = ids[2]
    world.sfapp.update(echo_sf, {"LastName": "Lane", "Phone": "+1 555 0101"}, world.me)
    third = world.sync()
    assert third.status == Status.SUCCEEDED, third.error
    assert third.counters["contact"]["down"]["updated"] == 1
    assert {c["id"]: c for c in world.contacts()}[links[echo_sf]]["last"] == "Lane"
