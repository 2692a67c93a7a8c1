import datetime as dt

import pytest

from syncengine.mappers import salesforce as sf

UTC = dt.UTC


def test_it_parses_and_formats_salesforce_datetimes():
    parsed = sf.parse_sf_datetime("2026-03-01T15:00:00.000+0000")
    assert parsed == dt.datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
    assert sf.parse_sf_datetime("2026-03-01T15:00:00.250+0000").microsecond == 250000
    assert sf.parse_sf_datetime("2026-03-01T10:00:00.000-0500") == parsed
    assert sf.parse_sf_datetime("2026-03-01T15:00:00Z") == parsed
    assert sf.parse_sf_datetime(None) is None
    paris = dt.timezone(dt.timedelta(hours=1))
    assert (
        sf.format_sf_datetime(dt.datetime(2026, 3, 1, 16, 0, tzinfo=paris))
        == "2026-03-01T15:00:00.000+0000"
    )
    assert sf.parse_sf_date("2026-03-01") == dt.date(2026, 3, 1)


def test_it_reads_every_field_relay_maps_and_lists_it_in_the_soql_fields():
    for name in ("Id", "OwnerId", "SystemModstamp", "LastModifiedDate", "IsDeleted"):
        assert name in sf.CONTACT_FIELDS and name in sf.TASK_FIELDS and name in sf.EVENT_FIELDS
    assert "MasterRecordId" in sf.CONTACT_FIELDS
    assert "Account.Name" in sf.CONTACT_FIELDS
    assert {"IsChild", "IsAllDayEvent", "DurationInMinutes", "ShowAs"} <= set(sf.EVENT_FIELDS)


def test_it_reads_the_company_from_the_account_and_never_writes_it():
    record = {
        "attributes": {"type": "Contact"},
        "Id": "0035e00000AbCdE",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Email": "Ada@Example.com",
        "Account": {"attributes": {"type": "Account"}, "Name": "Analytical Engines"},
        "MailingStreet": "12 St James's Sq\r\nFloor 2",
        "Phone": "",
    }
    fields = sf.contact_from_sf(record)
    assert fields["company"] == "Analytical Engines"
    assert fields["street"] == "12 St James's Sq\nFloor 2"
    assert fields["phone"] is None
    assert fields["email"] == "Ada@Example.com"
    written = sf.contact_to_sf(fields)
    assert "Account" not in written and "AccountId" not in written and "company" not in written
    assert written["Phone"] is None  # null clears the field in Salesforce


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"first_name": "Ada", "last_name": "Lovelace"}, ("Ada", "Lovelace")),
        ({"first_name": "Madonna"}, (None, "Madonna")),
        ({"company": "Acme", "email": "info@acme.com"}, (None, "Acme")),
        ({"email": "Jane.Doe@Example.com", "phone": "+1 555"}, (None, "Jane.Doe@Example.com")),
        ({"phone": "+1 555 0100"}, (None, "+1 555 0100")),
        ({"mobile": "+1 555 0199", "phone": "+1 555 0100"}, (None, "+1 555 0199")),
        ({"first_name": "  ", "last_name": ""}, (None, "(no name)")),
    ],
)
def test_it_derives_a_last_name_like_the_mailbox_shows_the_contact(fields, expected):
    assert sf.derive_last_name(fields) == expected
    written = sf.contact_to_sf(fields)
    assert (written["FirstName"], written["LastName"]) == expected


@pytest.mark.parametrize(
    ("sf_status", "status"),
    [
        ("Not Started", "not_started"),
        ("In Progress", "in_progress"),
        ("Completed", "completed"),
        ("Waiting on someone else", "waiting"),
        ("Deferred", "deferred"),
    ],
)
def test_it_maps_task_statuses_one_to_one(sf_status, status):
    assert sf.task_from_sf({"Status": sf_status})["status"] == status
    assert sf.task_to_sf({"status": status})["Status"] == sf_status


def test_it_reads_custom_task_statuses_by_is_closed():
    assert sf.task_from_sf({"Status": "Done-Done", "IsClosed": True})["status"] == "completed"
    assert sf.task_from_sf({"Status": "Parked", "IsClosed": False})["status"] == "not_started"


def test_it_reads_tasks_with_dates_priorities_and_completion():
    task = sf.task_from_sf(
        {
            "Subject": " Call back ",
            "ActivityDate": "2026-03-09",
            "Status": "Completed",
            "Priority": "High",
            "CompletedDateTime": "2026-03-08T17:45:12.000+0000",
        }
    )
    assert task == {
        "subject": "Call back",
        "description": None,
        "due_date": dt.date(2026, 3, 9),
        "status": "completed",
        "priority": "high",
        "completed_at": dt.datetime(2026, 3, 8, 17, 45, 12, tzinfo=UTC),
    }
    assert sf.task_to_sf(task) == {
        "Subject": "Call back",
        "Description": None,
        "ActivityDate": "2026-03-09",
        "Status": "Completed",
        "Priority": "High",
    }


def test_it_writes_all_day_events_as_activity_date_and_whole_days():
    event = {
        "subject": "Offsite",
        "all_day": True,
        "start_date": dt.date(2026, 3, 1),
        "end_date": dt.date(2026, 3, 4),
    }
    written = sf.event_to_sf(event)
    assert written["IsAllDayEvent"] is True
    assert written["ActivityDate"] == "2026-03-01"
    assert written["StartDateTime"] == "2026-03-01T00:00:00.000+0000"
    assert written["DurationInMinutes"] == 3 * 1440
    assert "EndDateTime" not in written


def test_it_reads_all_day_events_from_duration_or_the_inclusive_end_date_time():
    base = {"IsAllDayEvent": True, "StartDateTime": "2026-03-01T00:00:00.000+0000"}
    by_duration = sf.event_from_sf(
        {**base, "ActivityDate": "2026-03-01", "DurationInMinutes": 4320}
    )
    assert (by_duration["start_date"], by_duration["end_date"]) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 4),
    )
    # A one-day all-day event: EndDateTime is midnight GMT of the same (last) day.
    one_day = sf.event_from_sf({**base, "EndDateTime": "2026-03-01T00:00:00.000+0000"})
    assert (one_day["start_date"], one_day["end_date"]) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 2),
    )


def test_it_reads_and_writes_timed_events_in_utc():
    record = {
        "Subject": "Demo",
        "IsAllDayEvent": False,
        "StartDateTime": "2026-03-01T15:00:00.000+0000",
        "EndDateTime": "2026-03-01T16:30:00.000+0000",
        "ShowAs": "OutOfOffice",
    }
    event = sf.event_from_sf(record)
    assert event["start"] == dt.datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
    assert event["end"] == dt.datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    assert event["show_as"] == "oof"
    written = sf.event_to_sf(event)
    assert written["StartDateTime"] == record["StartDateTime"]
    assert written["EndDateTime"] == record["EndDateTime"]
    only_duration = sf.event_from_sf({**record, "EndDateTime": None, "DurationInMinutes": 90})
    assert only_duration["end"] == event["end"]


def test_it_keeps_show_as_values_salesforce_cannot_hold():
    tentative = {"start": dt.datetime(2026, 3, 1, 15, tzinfo=UTC), "show_as": "tentative"}
    written = sf.event_to_sf(tentative)
    assert written["ShowAs"] == "Busy"
    assert sf.event_from_sf(written, previous=sf.event_from_sf(written))["show_as"] == "busy"
    assert sf.event_from_sf(written, previous=tentative)["show_as"] == "tentative"
    # The user changed it in Salesforce: that wins over the richer previous value.
    assert sf.event_from_sf({**written, "ShowAs": "Free"}, previous=tentative)["show_as"] == "free"
