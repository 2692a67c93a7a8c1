"""Relay's Exchange mapper through exchangelib and the emulator: what Relay writes reads back."""

import datetime as dt

from exchangelib.items import SEND_TO_NONE

from syncengine.mappers import exchange

UTC = dt.UTC


def test_it_reads_back_a_contact_task_and_events_as_written(account, ews):
    exchange.register_marker()
    contact_fields = {"first_name": "Ann", "last_name": "Lee", "email": "ann@client.example"}
    contact = exchange.contact_to_ews(contact_fields, sf_id="003X", folder=account.contacts)
    contact.save()
    task_fields = {"subject": "Call", "due_date": dt.date(2026, 3, 6), "priority": "high"}
    task = exchange.task_to_ews(task_fields, sf_id="00TX", folder=account.tasks)
    task.save()
    start = dt.datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    timed_fields = {"subject": "Demo", "start": start, "end": start + dt.timedelta(hours=1)}
    timed = exchange.event_to_ews(
        timed_fields, "W. Europe Standard Time", sf_id="00UX", folder=account.calendar
    )
    timed.save(send_meeting_invitations=SEND_TO_NONE)
    day_fields = {
        "subject": "Fair",
        "all_day": True,
        "start_date": dt.date(2026, 3, 8),  # the US changes to summer time that night
        "end_date": dt.date(2026, 3, 10),
    }
    all_day = exchange.event_to_ews(day_fields, "Eastern Standard Time", folder=account.calendar)
    all_day.save(send_meeting_invitations=SEND_TO_NONE)

    got_contact = account.contacts.get(id=contact.id)
    assert exchange.contact_from_ews(got_contact) == exchange.contact_from_ews(contact)
    assert exchange.sf_id_of(got_contact) == "003X"
    assert exchange.task_from_ews(account.tasks.get(id=task.id))["due_date"] == dt.date(2026, 3, 6)
    got_timed = account.calendar.get(id=timed.id)
    assert exchange.event_from_ews(got_timed)["start"] == start
    assert exchange.has_salesforce_category(got_timed)
    got_day = exchange.event_from_ews(account.calendar.get(id=all_day.id))
    assert (got_day["start_date"], got_day["end_date"]) == (
        dt.date(2026, 3, 8),
        dt.date(2026, 3, 10),
    )
    assert [c.id for c in account.calendar.filter(relay_sf_id="00UX")] == [timed.id]
    assert ews.app.invitations_sent() == []
