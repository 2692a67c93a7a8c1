"""Contacts that leave the down-sync scope (a narrower scope, a view they drop out of)
are removed from the mailbox at the next session; Salesforce is untouched."""

from __future__ import annotations

from syncengine.models import SyncLink, SyncSession

Status = SyncSession.Status


def all_mailbox_emails(world):
    """Every contact in the mailbox, in the Salesforce folder/group or not."""
    if world.kind == "exchange":
        box = world.mbapp.mailbox("ann@acme.example")
        return sorted(
            entry.text
            for item in box.items.values()
            if item.kind == "Contact"
            for entry in item.fields.get("EmailAddresses", ())
            if entry.get("Key") == "EmailAddress1"
        )
    if world.kind == "office365":
        box = world.mbapp.mailbox("ann@acme.example")
        items = [world.mbapp.contacts_in("ann@acme.example", None)]
        for folder in box.contact_folders:
            items.append(world.mbapp.contacts_in("ann@acme.example", folder))
        return sorted(
            (c.get("emailAddresses") or [{}])[0].get("address") for rows in items for c in rows
        )
    return sorted(
        (p.get("emailAddresses") or [{}])[0].get("value")
        for p in world.mbapp.contacts("ann@acme.example")
    )


def emails(world):
    return sorted(c["email"] for c in world.contacts())


def test_it_removes_contacts_when_the_scope_narrows_from_mine_to_a_view(world):
    world.sf_contact("Mine", "mine@example.com")
    world.sf_contact("Vip", "vip@example.com", Title="VIP")
    world.sync()
    assert emails(world) == ["mine@example.com", "vip@example.com"]

    view = world.sfapp.add_list_view("VIPs", "VIPs", "everything", "Title = 'VIP'")
    world.settings(contact_scope="view", contact_view_id=view)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert session.counters["contact"]["down"]["deleted"] == 1
    assert emails(world) == ["vip@example.com"]
    assert all_mailbox_emails(world) == ["vip@example.com"]  # gone, not just ungrouped
    assert len(world.sf_live("Contact")) == 2
    assert SyncLink.objects.filter(user=world.user, item_type="contact").count() == 1
    assert not world.sync().changed


def test_it_removes_a_contact_that_drops_out_of_the_view(world):
    view = world.sfapp.add_list_view("VIPs", "VIPs", "everything", "Title = 'VIP'")
    world.settings(contact_scope="view", contact_view_id=view)
    vip = world.sf_contact("Vip", "vip@example.com", Title="VIP")
    world.sf_contact("Vip2", "vip2@example.com", Title="VIP", owner=world.other)
    first = world.sync()
    assert first.status == Status.SUCCEEDED, first.error
    assert emails(world) == ["vip2@example.com", "vip@example.com"]

    world.sfapp.update(vip, {"Title": "Former VIP"}, world.me)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert emails(world) == ["vip2@example.com"]
    assert all_mailbox_emails(world) == ["vip2@example.com"]
    assert world.sfapp.get(vip)["Title"] == "Former VIP"  # Salesforce untouched
    assert not world.sync().changed


def test_it_keeps_a_contact_the_user_created_when_it_leaves_the_scope(world):
    world.add_contact("Typed", "typed@example.com")
    world.sync()
    sf_id = SyncLink.objects.get(user=world.user, item_type="contact").sf_id
    world.sfapp.update(sf_id, {"Title": "x"}, world.me)
    view = world.sfapp.add_list_view("VIPs", "VIPs", "everything", "Title = 'VIP'")
    world.settings(contact_scope="view", contact_view_id=view)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert emails(world) == ["typed@example.com"]  # the user's own: stays linked
    assert SyncLink.objects.filter(user=world.user, item_type="contact").count() == 1
