import datetime as dt

import pytest

from syncengine.mappers import graph

UTC = dt.UTC
SF_ID = "00U5e00000AbCdEFGH"


def timed(start, minutes=60, **extra):
    return {"start": start, "end": start + dt.timedelta(minutes=minutes), **extra}


def test_it_stores_and_finds_the_salesforce_id_marker():
    marker = graph.graph_marker(SF_ID)
    assert marker == {"id": graph.SF_ID_PROPERTY, "value": SF_ID}
    assert graph.SF_ID_PROPERTY.startswith("String {") and "Name RelaySalesforceId" in marker["id"]
    item = {"singleValueExtendedProperties": [{**marker, "id": marker["id"].upper()}]}
    assert graph.sf_id_from_graph(item) == SF_ID
    assert graph.sf_id_from_graph({"singleValueExtendedProperties": []}) is None
    assert graph.SF_ID_PROPERTY in graph.SF_ID_EXPAND


def test_it_stores_the_task_marker_as_a_linked_resource():
    resource = graph.todo_marker("00T5e00000XyZ", "https://acme.my.salesforce.com/")
    assert resource == {
        "applicationName": "Relay",
        "displayName": "Salesforce",
        "externalId": "00T5e00000XyZ",
        "webUrl": "https://acme.my.salesforce.com/00T5e00000XyZ",
    }
    other = {"applicationName": "Teams", "externalId": "nope"}
    assert graph.sf_id_from_todo({"linkedResources": [other, resource]}) == "00T5e00000XyZ"
    assert graph.sf_id_from_todo({}) is None


def test_it_names_contacts_without_structured_names_from_the_display_name():
    named = graph.contact_from_graph({"displayName": "Jane Q. Doe", "givenName": ""})
    assert (named["first_name"], named["last_name"]) == ("Jane Q.", "Doe")
    by_email = graph.contact_from_graph(
        {"displayName": "jane@acme.com", "emailAddresses": [{"address": "jane@acme.com"}]}
    )
    assert (by_email["first_name"], by_email["last_name"]) == (None, None)


def test_it_keeps_the_users_other_emails_and_phones():
    existing = {
        "emailAddresses": [{"address": "old@acme.com"}, {"address": "home@example.com"}],
        "businessPhones": ["+1 1", "+1 2"],
    }
    fields = {"first_name": "Ada", "last_name": "L", "email": "ada@acme.com", "phone": None}
    written = graph.contact_to_graph(fields, existing=existing)
    assert written["emailAddresses"] == [
        {"address": "ada@acme.com", "name": "Ada L"},
        {"address": "home@example.com"},
    ]
    assert written["businessPhones"] == ["+1 2"]
    assert written["displayName"] == "Ada L"


def test_it_writes_a_todo_due_date_as_midnight_in_the_users_zone():
    task = {"subject": "Renewal", "due_date": dt.date(2026, 3, 1)}
    written = graph.task_to_graph(task, "Pacific/Honolulu")  # UTC-10
    assert written["dueDateTime"] == {
        "dateTime": "2026-03-01T00:00:00.0000000",
        "timeZone": "Hawaiian Standard Time",
    }
    assert graph.task_from_graph(written, "Pacific/Honolulu")["due_date"] == dt.date(2026, 3, 1)
    assert written["body"] == {"contentType": "text", "content": ""}


@pytest.mark.parametrize(
    ("stored", "user_tz", "due"),
    [
        # To Do keeps midnight-where-it-was-set in UTC (microsoftgraph docs issue #6982 & co).
        ("2024-10-24T10:00:00.0000000", "Hawaiian Standard Time", dt.date(2024, 10, 24)),
        ("2024-10-23T10:00:00.0000000", "Line Islands Standard Time", dt.date(2024, 10, 24)),
        ("2024-10-23T15:00:00.0000000", "Tokyo Standard Time", dt.date(2024, 10, 24)),
        ("2024-10-24T00:00:00.0000000", "Tokyo Standard Time", dt.date(2024, 10, 24)),
    ],
)
def test_it_reads_todo_due_dates_converted_to_utc_in_the_users_zone(stored, user_tz, due):
    item = {"title": "t", "dueDateTime": {"dateTime": stored, "timeZone": "UTC"}}
    assert graph.task_from_graph(item, user_tz)["due_date"] == due


def test_it_maps_todo_status_and_importance_one_to_one():
    for status, graph_status in graph.TODO_STATUS_TO_GRAPH.items():
        written = graph.task_to_graph({"status": status, "priority": "high"}, "UTC")
        assert written["status"] == graph_status
        assert graph.task_from_graph(written, "UTC")["status"] == status
    assert graph.task_from_graph({"status": "waitingOnOthers"}, "UTC")["status"] == "waiting"
    assert graph.task_from_graph({"importance": "high"}, "UTC")["priority"] == "high"


def test_it_keeps_an_all_day_event_in_tokyo_on_its_dates():
    midnight = {
        "isAllDay": True,
        "start": {"dateTime": "2026-03-01T00:00:00.0000000", "timeZone": "Tokyo Standard Time"},
        "end": {"dateTime": "2026-03-03T00:00:00.0000000", "timeZone": "Tokyo Standard Time"},
    }
    # The same event fetched with Prefer: outlook.timezone="UTC" (times moved off midnight).
    in_utc = {
        "isAllDay": True,
        "originalStartTimeZone": "Tokyo Standard Time",
        "start": {"dateTime": "2026-02-28T15:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-03-02T15:00:00.0000000", "timeZone": "UTC"},
    }
    for item, user_tz in ((midnight, "America/Los_Angeles"), (in_utc, "America/Los_Angeles")):
        event = graph.event_from_graph(item, user_tz)
        assert event["all_day"] is True
        assert (event["start_date"], event["end_date"]) == (
            dt.date(2026, 3, 1),
            dt.date(2026, 3, 3),
        )
        assert event["start"] is None


def test_it_writes_all_day_events_midnight_to_midnight_with_the_category():
    event = {"all_day": True, "start_date": dt.date(2026, 3, 1), "end_date": dt.date(2026, 3, 2)}
    written = graph.event_to_graph(event, "Asia/Tokyo", categories=["Red category"])
    assert written["isAllDay"] is True
    assert written["start"] == {
        "dateTime": "2026-03-01T00:00:00.0000000",
        "timeZone": "Tokyo Standard Time",
    }
    assert written["end"]["dateTime"] == "2026-03-02T00:00:00.0000000"
    assert written["categories"] == ["Red category", "Salesforce"]
    again = graph.event_to_graph(event, categories=["salesforce"])
    assert again["categories"] == ["salesforce"]
    assert graph.has_salesforce_category(again)


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        # US spring forward (8 Mar 2026) and fall back (1 Nov 2026), both passes of 01:30.
        ("Pacific Standard Time", dt.datetime(2026, 3, 8, 9, 30, tzinfo=UTC)),
        ("Pacific Standard Time", dt.datetime(2026, 3, 8, 10, 30, tzinfo=UTC)),
        ("Pacific Standard Time", dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("Pacific Standard Time", dt.datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
        # EU spring forward (29 Mar 2026) and fall back (25 Oct 2026), both passes of 02:30.
        ("W. Europe Standard Time", dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        ("W. Europe Standard Time", dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("W. Europe Standard Time", dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("W. Europe Standard Time", dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        ("GMT Standard Time", dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
    ],
)
def test_it_does_not_shift_events_across_dst_transitions(zone, start):
    event = timed(start, minutes=30)
    written = graph.event_to_graph(event, zone)
    back = graph.event_from_graph(written, "UTC")
    assert (back["start"], back["end"]) == (event["start"], event["end"])


def test_it_writes_in_the_users_zone_and_falls_back_to_utc_for_a_repeated_hour():
    plain = graph.event_to_graph(
        timed(dt.datetime(2026, 7, 1, 16, 0, tzinfo=UTC)), "America/Denver"
    )
    assert plain["start"] == {
        "dateTime": "2026-07-01T10:00:00.0000000",
        "timeZone": "Mountain Standard Time",
    }
    repeated = graph.event_to_graph(
        timed(dt.datetime(2026, 11, 1, 9, 30, tzinfo=UTC)), "America/Los_Angeles"
    )
    assert repeated["start"] == {"dateTime": "2026-11-01T09:30:00.0000000", "timeZone": "UTC"}
    assert repeated["end"]["timeZone"] == "UTC"


def test_it_reads_a_nonexistent_local_start_with_the_documented_rule():
    item = {
        "start": {"dateTime": "2026-03-08T02:30:00.0000000", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2026-03-08T04:00:00.0000000", "timeZone": "Pacific Standard Time"},
    }
    event = graph.event_from_graph(item)
    assert event["start"] == dt.datetime(2026, 3, 8, 10, 30, tzinfo=UTC)  # = 03:30 PDT
    assert event["end"] == dt.datetime(2026, 3, 8, 11, 0, tzinfo=UTC)


def test_it_reads_event_bodies_locations_and_show_as():
    item = {
        "subject": "QBR",
        "body": {"contentType": "html", "content": "<html><body><p>Bring&nbsp;slides</p></body>"},
        "location": {"displayName": "Room 4"},
        "showAs": "workingElsewhere",
        "start": {"dateTime": "2026-03-02T15:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-03-02T16:00:00.0000000", "timeZone": "UTC"},
    }
    event = graph.event_from_graph(item)
    assert event["description"] == "Bring slides"
    assert event["location"] == "Room 4"
    assert event["show_as"] == "working_elsewhere"
    assert graph.event_to_graph(event)["showAs"] == "workingElsewhere"
