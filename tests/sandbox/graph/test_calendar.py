"""Events, series, calendarView/delta, time zones, all-day events, master categories."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import requests

from .conftest import ANN

WINDOW = {"startDateTime": "2024-05-01T00:00:00Z", "endDateTime": "2024-05-15T00:00:00Z"}
PACIFIC = {"Prefer": 'outlook.timezone="Pacific Standard Time"'}


def _series(app):
    return app.create_event(
        ANN,
        {
            "subject": "Stand-up",
            "categories": ["Salesforce"],
            "start": {"dateTime": "2024-04-22T09:00:00", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2024-04-22T09:30:00", "timeZone": "W. Europe Standard Time"},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"]},
                "range": {"type": "endDate", "startDate": "2024-04-22", "endDate": "2024-06-30"},
            },
        },
    )


def test_it_creates_events_through_o365_and_lists_them_in_a_window(account):
    acct, _ = account
    cal = acct.schedule().get_default_calendar()
    ev = cal.new_event()
    ev.subject = "Demo for Fabrikam"
    ev.start = dt.datetime(2024, 5, 2, 15, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    ev.end = ev.start + dt.timedelta(hours=1)
    ev.categories = ["Salesforce"]
    ev.attendees.add("wei@fabrikam.example")
    assert ev.save()
    utc = ZoneInfo("UTC")
    got = list(
        cal.get_events(
            include_recurring=True,
            start_recurring=dt.datetime(2024, 5, 1, tzinfo=utc),
            end_recurring=dt.datetime(2024, 5, 3, tzinfo=utc),
        )
    )
    assert [(e.subject, e.start.astimezone(utc).hour, e.categories) for e in got] == [
        ("Demo for Fabrikam", 13, ["Salesforce"])
    ]
    assert got[0].attendees[0].address == "wei@fabrikam.example"


def test_it_expands_series_in_calendar_view_delta_and_tracks_exceptions(graph, api):
    app = graph.app
    master = _series(app)
    outside = app.create_event(
        ANN,
        {
            "subject": "Far away",
            "start": {"dateTime": "2024-09-01T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2024-09-01T11:00:00", "timeZone": "UTC"},
        },
    )
    rows, link = api.rounds("me/calendarView/delta", **WINDOW)
    # May 1-14, 2024: Wed 1, Mon 6, Wed 8, Mon 13 — occurrences only, no master.
    assert [r["type"] for r in rows] == ["occurrence"] * 4
    assert {r["seriesMasterId"] for r in rows} == {master["id"]}
    assert rows[0]["start"] == {"dateTime": "2024-05-01T07:00:00.0000000", "timeZone": "UTC"}
    assert rows[0]["originalStart"] == "2024-05-01T07:00:00Z"

    moved, cancelled = rows[1]["id"], rows[2]["id"]
    app.update_event(ANN, moved, {"subject": "Stand-up (moved)"})
    app.delete_event(ANN, cancelled)
    app.update_event(ANN, outside["id"], {"subject": "Still far"})
    page = api.get(link)
    by_id = {r["id"]: r for r in page["value"]}
    assert by_id[moved]["type"] == "exception" and by_id[moved]["subject"] == "Stand-up (moved)"
    assert by_id[cancelled]["@removed"] == {"reason": "deleted"}
    # A change outside the window still surfaces, as @removed (filter by date, say the docs).
    assert by_id[outside["id"]]["@removed"] == {"reason": "deleted"}
    assert len(by_id) == 3
    got = api.get(f"me/events/{moved}")
    assert got["seriesMasterId"] == master["id"]


def test_it_renders_all_day_events_in_the_preferred_zone(graph, api):
    app = graph.app
    app.create_event(
        ANN,
        {
            "subject": "Trade fair",
            "isAllDay": True,
            "start": {"dateTime": "2024-05-03T00:00:00", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2024-05-04T00:00:00", "timeZone": "W. Europe Standard Time"},
        },
    )
    app.create_event(
        ANN,
        {
            "subject": "Call",
            "start": {"dateTime": "2024-05-03T18:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2024-05-03T19:00:00", "timeZone": "UTC"},
        },
    )
    rows, _ = api.rounds("me/calendarView/delta", headers=PACIFIC, **WINDOW)
    by_subject = {r["subject"]: r for r in rows}
    fair = by_subject["Trade fair"]
    assert fair["isAllDay"] and fair["start"] == {
        "dateTime": "2024-05-03T00:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }
    assert fair["end"]["dateTime"] == "2024-05-04T00:00:00.0000000"
    assert by_subject["Call"]["start"]["dateTime"] == "2024-05-03T11:00:00.0000000"


def test_it_validates_time_zones_all_day_midnights_and_delta_query_options(graph, api):
    def post(body):
        with pytest.raises(requests.HTTPError) as err:
            api.post("me/events", body)
        return err.value.response

    bad_zone = post(
        {
            "subject": "x",
            "start": {"dateTime": "2024-05-03T10:00:00", "timeZone": "Mars Standard Time"},
            "end": {"dateTime": "2024-05-03T11:00:00", "timeZone": "UTC"},
        }
    )
    assert bad_zone.status_code == 400
    assert bad_zone.json()["error"]["code"] == "TimeZoneNotSupportedException"
    not_midnight = post(
        {
            "subject": "x",
            "isAllDay": True,
            "start": {"dateTime": "2024-05-03T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2024-05-04T10:00:00", "timeZone": "UTC"},
        }
    )
    assert not_midnight.status_code == 400
    for params in ({**WINDOW, "$select": "subject"}, {}):
        with pytest.raises(requests.HTTPError) as err:
            api.get("me/calendarView/delta", **params)
        assert err.value.response.status_code == 400


def test_it_keeps_extended_properties_on_events(api):
    prop = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name SfId"
    made = api.post(
        "me/events",
        {
            "subject": "Synced",
            "singleValueExtendedProperties": [{"id": prop, "value": "00U1"}],
            "start": {"dateTime": "2024-05-03T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2024-05-03T11:00:00", "timeZone": "UTC"},
        },
    )
    got = api.get(
        f"me/events/{made['id']}",
        **{"$expand": f"singleValueExtendedProperties($filter=id eq '{prop}')"},
    )
    assert got["singleValueExtendedProperties"][0]["value"] == "00U1"
    assert made["iCalUId"] and made["changeKey"] and made["type"] == "singleInstance"


def test_it_manages_master_categories_and_refuses_duplicates(account, api):
    acct, _ = account
    cats = acct.outlook_categories()
    made = cats.create_category("Salesforce")
    assert [c.name for c in cats.get_categories()] == ["Salesforce"]
    with pytest.raises(requests.HTTPError) as err:
        cats.create_category("salesforce")
    assert err.value.response.status_code == 409
    made.update_color("yellow")  # O365 maps names to presets ("preset3" trips its enum lookup)
    assert api.get(f"me/outlook/masterCategories/{made.object_id}")["color"] == "preset3"
    made.delete()
    assert api.get("me/outlook/masterCategories")["value"] == []
