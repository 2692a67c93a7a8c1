import datetime as dt

from exchangelib import (
    Attendee,
    CalendarItem,
    Contact,
    EWSDate,
    EWSDateTime,
    EWSTimeZone,
    Mailbox,
    Task,
)
from exchangelib.indexed_properties import EmailAddress, PhoneNumber
from exchangelib.properties import HTMLBody

from syncengine.mappers import exchange, graph

UTC = dt.UTC
SF_ID = "0035e00000AbCdEFGH"


def test_it_uses_the_same_marker_property_as_office_365():
    assert exchange.SF_ID_PROPERTY_SET in graph.SF_ID_PROPERTY
    assert f"Name {exchange.SF_ID_PROPERTY_NAME}" in graph.SF_ID_PROPERTY
    exchange.register_marker()
    exchange.register_marker()  # idempotent
    item = exchange.contact_to_ews({"first_name": "Ann", "last_name": "Lee"}, sf_id=SF_ID)
    assert exchange.sf_id_of(item) == SF_ID
    assert exchange.sf_id_of(Contact()) is None


def test_it_maps_a_contact_both_ways():
    fields = {
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "Ann.Lee@Client.example",
        "phone": "+49 30 1",
        "mobile": "+49 170 2",
        "title": "CEO",
        "department": "Board",
        "company": "Client AG",
        "street": "Main St 1",
        "city": "Berlin",
        "state": None,
        "postal_code": "10115",
        "country": "Germany",
        "description": "Met at the fair",
    }
    item = exchange.contact_to_ews(fields)
    assert item.display_name == "Ann Lee"
    assert exchange.contact_from_ews(item) == fields


def test_it_keeps_the_users_other_emails_and_phones():
    existing = Contact(
        display_name="Ann",
        email_addresses=[
            EmailAddress(label="EmailAddress1", email="old@client.example"),
            EmailAddress(label="EmailAddress2", email="home@example.com"),
        ],
        phone_numbers=[PhoneNumber(label="HomePhone", phone_number="+1 9")],
    )
    item = exchange.contact_to_ews(
        {"first_name": "Ann", "email": "new@client.example", "phone": "+1 1"}, existing=existing
    )
    assert item is existing
    assert {(e.label, e.email) for e in item.email_addresses} == {
        ("EmailAddress1", "new@client.example"),
        ("EmailAddress2", "home@example.com"),
    }
    assert {(p.label, p.phone_number) for p in item.phone_numbers} == {
        ("HomePhone", "+1 9"),
        ("BusinessPhone", "+1 1"),
    }


def test_it_names_a_contact_from_its_display_name_unless_that_is_the_email():
    named = exchange.contact_from_ews(Contact(display_name="Jane Q. Doe"))
    assert (named["first_name"], named["last_name"]) == ("Jane Q.", "Doe")
    by_email = exchange.contact_from_ews(
        Contact(
            display_name="jane@acme.com",
            email_addresses=[EmailAddress(label="EmailAddress1", email="jane@acme.com")],
        )
    )
    assert (by_email["first_name"], by_email["last_name"]) == (None, None)


def test_it_maps_a_task_with_due_date_status_and_priority():
    done = dt.datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    fields = {
        "subject": "Send quote",
        "description": "Before Friday",
        "due_date": dt.date(2026, 3, 6),
        "status": "completed",
        "priority": "high",
        "completed_at": done,
    }
    item = exchange.task_to_ews(fields, sf_id="00T5e00000XyZ")
    assert (item.status, item.importance, item.percent_complete) == ("Completed", "High", 100)
    assert item.due_date == EWSDate(2026, 3, 6)
    assert exchange.task_from_ews(item) == fields
    reopened = exchange.task_to_ews({**fields, "status": "waiting"}, existing=item)
    assert reopened.complete_date is None
    assert exchange.task_from_ews(reopened)["status"] == "waiting"


def test_it_reads_a_due_datetime_as_its_date():
    item = Task(subject="x", due_date=EWSDateTime(2026, 3, 6, 0, 0, tzinfo=EWSTimeZone("UTC")))
    assert exchange.task_from_ews(item)["due_date"] == dt.date(2026, 3, 6)


def test_it_writes_timed_events_in_the_users_zone():
    start = dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 in Berlin (summer time)
    fields = {
        "subject": "Review",
        "description": None,
        "location": "Room 1",
        "all_day": False,
        "start": start,
        "end": start + dt.timedelta(hours=1),
        "start_date": None,
        "end_date": None,
        "show_as": "tentative",
    }
    item = exchange.event_to_ews(fields, "W. Europe Standard Time", sf_id="00U5e00000AbC")
    assert item.start.tzinfo.key == "Europe/Berlin"
    assert (item.start.hour, item.legacy_free_busy_status) == (9, "Tentative")
    assert item.categories == ["Salesforce"]
    assert exchange.event_from_ews(item) == fields
    assert item.required_attendees is None  # never an attendee, never an invitation


def test_it_maps_all_day_events_with_an_exclusive_end():
    fields = {
        "subject": "Fair",
        "all_day": True,
        "start_date": dt.date(2026, 3, 10),
        "end_date": dt.date(2026, 3, 12),
    }
    item = exchange.event_to_ews(fields, "America/New_York")
    assert item.is_all_day
    assert (item.start.hour, item.start.tzinfo.key) == (0, "America/New_York")
    assert item.end.date() == dt.date(2026, 3, 12)  # midnight after the last day
    # exchangelib reads all-day events back as dates with an inclusive end
    read = CalendarItem(is_all_day=True, start=EWSDate(2026, 3, 10), end=EWSDate(2026, 3, 11))
    got = exchange.event_from_ews(read)
    assert (got["start_date"], got["end_date"]) == (dt.date(2026, 3, 10), dt.date(2026, 3, 12))


def test_it_keeps_the_users_categories_and_reads_html_bodies():
    start = dt.datetime(2026, 1, 1, 9, tzinfo=UTC)
    item = CalendarItem(
        categories=["Red", "salesforce"],
        body=HTMLBody("<p>Hello<br>there</p>"),
        start=EWSDateTime(2026, 1, 1, 9, tzinfo=EWSTimeZone("UTC")),
        end=EWSDateTime(2026, 1, 1, 9, tzinfo=EWSTimeZone("UTC")),
    )
    assert exchange.has_salesforce_category(item)
    assert exchange.event_from_ews(item)["description"] == "Hello\nthere"
    out = exchange.event_to_ews({"subject": "x", "start": start, "end": start}, existing=item)
    assert out.categories == ["Red", "salesforce"]
    assert not exchange.has_salesforce_category(CalendarItem(categories=["Red"]))


def test_it_falls_back_to_utc_for_a_zone_it_cannot_name():
    start = dt.datetime(2026, 1, 1, 9, tzinfo=UTC)
    item = exchange.event_to_ews({"subject": "x", "start": start, "end": start}, "Mars/Olympus")
    assert item.start.tzinfo.key == "UTC"


def _attendee(address: str, response: str = "Unknown", name: str = "") -> Attendee:
    return Attendee(mailbox=Mailbox(email_address=address, name=name), response_type=response)


def test_it_reads_the_people_of_a_meeting_the_user_organizes() -> None:
    item = CalendarItem(
        uid="UID-1",
        organizer=Mailbox(email_address="Ann@Acme.example"),
        my_response_type="Organizer",
        required_attendees=[
            _attendee("Ada@Customer.example", "Accept", "Ada Lovelace"),
            _attendee("ann@acme.example", "Organizer"),  # the organizer listed: not a guest
        ],
        optional_attendees=[_attendee("pat@prospect.example", "Tentative")],
        resources=[_attendee("room-1@acme.example")],  # a room is not a person
    )
    people = exchange.people_from_ews(item)
    assert (people.ical_uid, people.organizer, people.is_organizer) == (
        "UID-1",
        "ann@acme.example",
        True,
    )
    assert [(a.address, a.name, a.role, a.response) for a in people.attendees] == [
        ("ada@customer.example", "Ada Lovelace", "required", "accepted"),
        ("pat@prospect.example", "", "optional", "tentative"),
    ]
    declined = exchange.people_from_ews(
        CalendarItem(required_attendees=[_attendee("x@y.example", "Decline")])
    )
    assert [a.response for a in declined.attendees] == ["declined"]
    unknown = exchange.people_from_ews(
        CalendarItem(required_attendees=[_attendee("x@y.example", "NoResponseReceived")])
    )
    assert [a.response for a in unknown.attendees] == ["none"]


def test_it_names_an_occurrence_by_its_series_uid_and_original_start() -> None:
    original = EWSDateTime(2024, 5, 21, 7, 0, tzinfo=EWSTimeZone("UTC"))
    item = CalendarItem(
        uid="SERIES-UID",
        type="Occurrence",
        recurrence_id=original,
        organizer=Mailbox(email_address="carl@client.example"),
        my_response_type="Accept",
    )
    people = exchange.people_from_ews(item)
    assert people.ical_uid == "SERIES-UID|20240521T070000Z"  # occurrences.series_key
    assert (people.organizer, people.is_organizer) == ("carl@client.example", False)
