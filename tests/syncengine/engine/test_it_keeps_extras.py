"""A mailbox update the engine makes without having read the item this session keeps what
the user added that Relay does not map: other email addresses and phones on a contact,
other categories (Office 365) or private properties (Gmail) on an event."""

from __future__ import annotations

import datetime as dt

from syncengine.models import SyncLink, SyncSession

from .conftest import EMAIL, NOW

Status = SyncSession.Status


def _ews_item(world, item_id):
    [item] = world.ews_account().fetch(ids=[(item_id, None)])
    return item


def _add_extras(world, contact_id):
    if world.kind == "exchange":
        from exchangelib.indexed_properties import EmailAddress, PhoneNumber

        contact = _ews_item(world, contact_id)
        contact.email_addresses = [
            EmailAddress(email="ada@example.com", label="EmailAddress1"),
            EmailAddress(email="ada@home.example", label="EmailAddress2"),
        ]
        contact.phone_numbers = [
            PhoneNumber(label="BusinessPhone", phone_number="+1 555 0100"),
            PhoneNumber(label="HomePhone", phone_number="+1 555 0199"),
        ]
        contact.save(update_fields=["email_addresses", "phone_numbers"])
    elif world.kind == "office365":
        world.mbapp.update_contact(
            EMAIL,
            contact_id,
            {
                "emailAddresses": [
                    {"address": "ada@example.com", "name": "Ada"},
                    {"address": "ada@home.example", "name": "Ada at home"},
                ],
                "businessPhones": ["+1 555 0100", "+1 555 0199"],
            },
        )
    else:
        world.mbapp.update_contact(
            EMAIL,
            contact_id,
            {
                "emailAddresses": [{"value": "ada@example.com"}, {"value": "ada@home.example"}],
                "phoneNumbers": [
                    {"value": "+1 555 0100", "type": "work"},
                    {"value": "+1 555 0199", "type": "home"},
                ],
            },
        )


def _extras(world, raw):
    if world.kind == "exchange":
        emails = sorted(raw.email_addresses or (), key=lambda e: e.label)
        return [e.email for e in emails], [p.phone_number for p in raw.phone_numbers or ()]
    if world.kind == "office365":
        emails = [e["address"] for e in raw.get("emailAddresses") or ()]
        return emails, list(raw.get("businessPhones") or ())
    emails = [e["value"] for e in raw.get("emailAddresses") or ()]
    return emails, [p["value"] for p in raw.get("phoneNumbers") or ()]


def test_it_keeps_the_users_other_emails_and_phones_on_a_contact(world):
    ada = world.sf_contact("Lovelace", "ada@example.com", Phone="+1 555 0100")
    world.sync()
    contact = world.contacts()[0]
    _add_extras(world, contact["id"])
    quiet = world.sync()  # reads the extras: nothing Relay maps changed
    assert quiet.status == Status.SUCCEEDED, quiet.error
    assert quiet.counters["contact"]["up"]["updated"] == 0

    world.sfapp.update(ada, {"Title": "Countess"}, world.me)  # the item is not read again
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert session.counters["contact"]["down"]["updated"] == 1
    emails, phones = _extras(world, world.contacts()[0]["raw"])
    assert emails == ["ada@example.com", "ada@home.example"]
    assert "+1 555 0199" in phones and "+1 555 0100" in phones

    world.sfapp.update(ada, {"Email": "ada@work.example", "Phone": "+1 555 0111"}, world.me)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    emails, phones = _extras(world, world.contacts()[0]["raw"])
    assert emails == ["ada@work.example", "ada@home.example"]
    assert "+1 555 0199" in phones and "+1 555 0111" in phones
    assert "+1 555 0100" not in phones
    assert not world.sync().changed


def test_it_keeps_the_users_other_categories_or_properties_on_an_event(world):
    lunch = world.sf_event("Lunch", NOW + dt.timedelta(days=2))
    world.sync()
    event = world.events()[0]
    if world.kind == "exchange":
        item = _ews_item(world, event["id"])
        item.categories = ["Salesforce", "Red"]
        item.save(update_fields=["categories"])
    elif world.kind == "office365":
        world.mbapp.update_event(EMAIL, event["id"], {"categories": ["Salesforce", "Red"]})
    else:
        private = dict(event["raw"]["extendedProperties"]["private"])
        world.mbapp.update_event(
            EMAIL, event["id"], {"extendedProperties": {"private": {**private, "mine": "1"}}}
        )
    world.sync()
    world.sfapp.update(lunch, {"Subject": "Long lunch"}, world.me)
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    [event] = world.events()
    assert event["subject"] == "Long lunch"
    if world.kind == "exchange":
        assert sorted(event["raw"].categories) == ["Red", "Salesforce"]
    elif world.kind == "office365":
        assert sorted(event["raw"]["categories"]) == ["Red", "Salesforce"]
    else:
        assert event["raw"]["extendedProperties"]["private"]["mine"] == "1"
    assert SyncLink.objects.get(user=world.user, item_type="event").mailbox_id == event["id"]
    assert not world.sync().changed
