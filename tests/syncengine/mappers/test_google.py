import datetime as dt

import pytest

from syncengine.mappers import google

UTC = dt.UTC
SF_ID = "00T5e00000AbCdEFGH"


@pytest.mark.parametrize(
    ("previous", "google_status", "expected"),
    [
        (None, "needsAction", "not_started"),
        (None, "completed", "completed"),
        ("waiting", "needsAction", "waiting"),
        ("in_progress", "needsAction", "in_progress"),
        ("deferred", "needsAction", "deferred"),
        ("waiting", "completed", "completed"),  # completed in Gmail
        ("completed", "needsAction", "not_started"),  # reopened in Gmail
        ("completed", "completed", "completed"),
    ],
)
def test_it_keeps_salesforces_richer_status_while_google_shows_the_task_open(
    previous, google_status, expected
):
    assert google.status_from_google(google_status, previous) == expected
    item = {"title": "t", "status": google_status}
    prev = {"status": previous, "priority": "high"} if previous else None
    task = google.task_from_google(item, previous=prev)
    assert task["status"] == expected
    assert task["priority"] == ("high" if previous else "normal")


def test_it_writes_only_googles_two_statuses():
    for status in ("not_started", "in_progress", "waiting", "deferred"):
        written = google.task_to_google({"status": status})
        assert written["status"] == "needsAction" and written["completed"] is None
    done = google.task_to_google(
        {"status": "completed", "completed_at": dt.datetime(2026, 3, 1, 9, 5, tzinfo=UTC)}
    )
    assert done["status"] == "completed"
    assert done["completed"] == "2026-03-01T09:05:00.000Z"


def test_it_puts_the_marker_on_the_last_line_of_the_notes_and_strips_it_back():
    written = google.task_to_google({"description": "Call about renewal"}, sf_id=SF_ID)
    assert written["notes"] == f"Call about renewal\n\n[Salesforce: {SF_ID}]"
    assert google.sf_id_from_google_task(written) == SF_ID
    assert google.task_from_google(written)["description"] == "Call about renewal"
    bare = google.task_to_google({}, sf_id=SF_ID)
    assert bare["notes"] == f"[Salesforce: {SF_ID}]"
    assert google.task_from_google(bare)["description"] is None
    # Only Relay's own last line counts; the same words elsewhere are the user's text.
    text = f"[Salesforce: {SF_ID}]\nsee above"
    assert google.split_notes(text) == (text, None)
    assert google.split_notes("Edited by the user\n[Salesforce: 00T5e00000AbCdEFGH]  ") == (
        "Edited by the user",
        SF_ID,
    )


def test_it_writes_due_dates_as_midnight_utc_and_reads_the_date():
    written = google.task_to_google({"due_date": dt.date(2026, 3, 1)})
    assert written["due"] == "2026-03-01T00:00:00.000Z"
    assert google.task_from_google(written)["due_date"] == dt.date(2026, 3, 1)
    assert google.task_from_google({"due": ""})["due_date"] is None


def test_it_maps_contacts_with_typed_phones_membership_and_marker():
    fields = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@acme.com",
        "phone": "+44 1",
        "mobile": "+44 7",
        "company": "Acme",
        "city": "London",
    }
    existing = {
        "phoneNumbers": [{"value": "+44 9", "type": "home"}, {"value": "+44 0", "type": "work"}],
        "clientData": [{"key": "other", "value": "x"}],
    }
    person = google.contact_to_google(
        fields, sf_id="003X", group_resource_name="contactGroups/abc", existing=existing
    )
    assert person["phoneNumbers"] == [
        {"value": "+44 7", "type": "mobile"},
        {"value": "+44 1", "type": "work"},
        {"value": "+44 9", "type": "home"},
    ]
    assert person["clientData"] == [
        {"key": "other", "value": "x"},
        {"key": "relaySalesforceId", "value": "003X"},
    ]
    assert person["memberships"] == [
        {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/abc"}}
    ]
    assert person["addresses"][0]["city"] == "London"
    back = google.contact_from_google(person)
    assert back["phone"] == "+44 1" and back["mobile"] == "+44 7"
    assert google.sf_id_from_person(person) == "003X"


def test_it_reads_all_day_events_as_dates():
    item = {
        "summary": "Trade fair",
        "start": {"date": "2026-03-01"},
        "end": {"date": "2026-03-04"},
        "transparency": "transparent",
    }
    event = google.event_from_google(item, "Asia/Tokyo")
    assert event["all_day"] is True
    assert (event["start_date"], event["end_date"]) == (dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    assert event["show_as"] == "free"
    written = google.event_to_google(event, "Asia/Tokyo")
    assert written["start"]["date"] == "2026-03-01" and written["start"]["dateTime"] is None
    assert written["end"]["date"] == "2026-03-04"


def test_it_writes_timed_events_with_offset_and_zone_and_reads_them_in_utc():
    event = {
        "start": dt.datetime(2026, 11, 1, 9, 30, tzinfo=UTC),  # 01:30 PST, the repeated hour
        "end": dt.datetime(2026, 11, 1, 10, 0, tzinfo=UTC),
    }
    written = google.event_to_google(event, "Pacific Standard Time")
    assert written["start"] == {
        "dateTime": "2026-11-01T01:30:00-08:00",
        "timeZone": "America/Los_Angeles",
        "date": None,
    }
    back = google.event_from_google(written)
    assert (back["start"], back["end"]) == (event["start"], event["end"])
    no_offset = {"start": {"dateTime": "2026-03-08T02:30:00", "timeZone": "America/Los_Angeles"}}
    assert google.event_from_google(no_offset)["start"] == dt.datetime(
        2026, 3, 8, 10, 30, tzinfo=UTC
    )


def test_it_marks_events_for_salesforce_in_private_extended_properties():
    written = google.event_to_google(
        {"start": dt.datetime(2026, 3, 1, tzinfo=UTC)},
        sf_id="00U1",
        existing_private={"mine": "keep"},
    )
    assert written["extendedProperties"] == {
        "private": {"mine": "keep", "relaySalesforce": "1", "relaySalesforceId": "00U1"}
    }
    assert google.is_marked_for_salesforce(written)
    assert not google.is_marked_for_salesforce({"extendedProperties": {"private": {}}})
    assert google.sf_id_from_google_event(written) == "00U1"


def test_it_maps_transparency_and_event_types_to_show_as():
    base = {
        "start": {"dateTime": "2026-03-01T10:00:00Z"},
        "end": {"dateTime": "2026-03-01T11:00:00Z"},
    }
    assert google.event_from_google(base)["show_as"] == "busy"
    assert google.event_from_google({**base, "eventType": "outOfOffice"})["show_as"] == "oof"
    working = {**base, "eventType": "workingLocation"}
    assert google.event_from_google(working)["show_as"] == "working_elsewhere"
    tentative = {**google.event_from_google(base), "show_as": "tentative"}
    written = google.event_to_google(tentative)
    assert written["transparency"] == "opaque"
    assert google.event_from_google(written, previous=tentative)["show_as"] == "tentative"
    freed = {**written, "transparency": "transparent"}
    assert google.event_from_google(freed, previous=tentative)["show_as"] == "free"


def test_it_reads_html_descriptions_as_text():
    item = {"start": {"date": "2026-03-01"}, "description": "Agenda:<br>1. <b>pricing</b>"}
    assert google.event_from_google(item)["description"] == "Agenda:\n1. pricing"
    plain = {"start": {"date": "2026-03-01"}, "description": "a < b and c > d"}
    assert google.event_from_google(plain)["description"] == "a < b and c > d"
