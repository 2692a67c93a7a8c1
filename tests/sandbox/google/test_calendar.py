"""Calendar v3 through google-api-python-client over HTTPS."""

import pytest
from googleapiclient.errors import HttpError

from .conftest import ALICE

MARK = {"private": {"relaySalesforce": "1"}}


def _ev(summary, start, end, tz="Europe/Berlin", **extra):
    return {
        "summary": summary,
        "start": {"dateTime": start, "timeZone": tz},
        "end": {"dateTime": end, "timeZone": tz},
        **extra,
    }


def _walk(cal, **kwargs):
    items, page = [], None
    while True:
        resp = cal.events().list(calendarId="primary", pageToken=page, **kwargs).execute()
        items += resp["items"]
        page = resp.get("nextPageToken")
        if not page:
            return items, resp["nextSyncToken"]
        assert "nextSyncToken" not in resp


def test_it_runs_sync_token_rounds_including_cancelled(google, api):
    cal = api("calendar", "v3")
    a = (
        cal.events()
        .insert(calendarId="primary", body=_ev("A", "2030-01-07T10:00:00", "2030-01-07T11:00:00"))
        .execute()
    )
    b = google.app.create_event(
        ALICE, _ev("B", "2030-01-08T10:00:00+01:00", "2030-01-08T11:00:00+01:00")
    )
    google.app.create_event(
        ALICE, _ev("C", "2030-01-09T10:00:00Z", "2030-01-09T11:00:00Z", tz="UTC")
    )
    items, token = _walk(cal, maxResults=2)
    assert {e["summary"] for e in items} == {"A", "B", "C"}
    assert _walk(cal, syncToken=token)[0] == []

    cal.events().patch(calendarId="primary", eventId=a["id"], body={"summary": "A2"}).execute()
    google.app.delete_event(ALICE, b["id"])
    items, token2 = _walk(cal, syncToken=token)
    got = {e["id"]: e for e in items}
    assert got[a["id"]]["summary"] == "A2"
    assert got[b["id"]]["status"] == "cancelled"
    # The deleted event is hidden from a plain listing, visible with showDeleted.
    assert b["id"] not in [e["id"] for e in _walk(cal)[0]]
    assert b["id"] in [e["id"] for e in _walk(cal, showDeleted=True)[0]]
    assert _walk(cal, syncToken=token2)[0] == []


def test_it_refuses_sync_token_with_time_min_and_expired_tokens_with_410(google, api):
    cal = api("calendar", "v3")
    _, token = _walk(cal, timeMin="2020-01-01T00:00:00Z")
    with pytest.raises(HttpError) as exc:
        _walk(cal, syncToken=token, timeMin="2020-01-01T00:00:00Z")
    assert exc.value.resp.status == 400
    google.app.expire_sync_tokens(ALICE)
    with pytest.raises(HttpError) as exc:
        _walk(cal, syncToken=token)
    assert exc.value.resp.status == 410
    assert exc.value.error_details[0]["reason"] == "fullSyncRequired"


def test_it_expands_a_weekly_series_in_its_zone_and_keeps_all_day_dates(google, api):
    cal = api("calendar", "v3")
    # Mondays 09:00 Berlin across the DST switch (2030-03-31): UTC hour goes 8 → 7.
    series = (
        cal.events()
        .insert(
            calendarId="primary",
            body=_ev(
                "Weekly",
                "2030-03-18T09:00:00",
                "2030-03-18T09:30:00",
                recurrence=["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"],
            ),
        )
        .execute()
    )
    google.app.create_event(
        ALICE, {"summary": "Fair", "start": {"date": "2030-03-20"}, "end": {"date": "2030-03-22"}}
    )
    items, _ = _walk(
        cal,
        singleEvents=True,
        orderBy="startTime",
        timeMin="2030-03-01T00:00:00Z",
        timeMax="2030-05-01T00:00:00Z",
    )
    weekly = [e for e in items if e.get("recurringEventId") == series["id"]]
    assert [e["start"]["dateTime"] for e in weekly] == [
        "2030-03-18T09:00:00+01:00",
        "2030-03-25T09:00:00+01:00",
        "2030-04-01T09:00:00+02:00",
        "2030-04-08T09:00:00+02:00",
    ]
    assert weekly[2]["id"] == f"{series['id']}_20300401T070000Z"
    assert weekly[2]["originalStartTime"]["dateTime"] == "2030-04-01T09:00:00+02:00"
    fair = next(e for e in items if e["summary"] == "Fair")
    assert fair["start"] == {"date": "2030-03-20"} and fair["end"] == {"date": "2030-03-22"}
    # Without singleEvents the series comes back once, with its recurrence.
    plain, _ = _walk(cal)
    assert [e["recurrence"] for e in plain if e["id"] == series["id"]] == [
        ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"]
    ]

    # An exception (patched instance) and a cancelled instance.
    cal.events().patch(
        calendarId="primary", eventId=weekly[1]["id"], body={"summary": "Moved"}
    ).execute()
    cal.events().delete(calendarId="primary", eventId=weekly[3]["id"]).execute()
    items, _ = _walk(cal, singleEvents=True, orderBy="startTime", timeMin="2030-03-01T00:00:00Z")
    names = [e["summary"] for e in items if e.get("recurringEventId") == series["id"]]
    assert names == ["Weekly", "Moved", "Weekly"]
    inst = cal.events().instances(calendarId="primary", eventId=series["id"]).execute()["items"]
    assert len(inst) == 3
    # Window filtering: only the all-day event overlaps 20-21 March.
    items, _ = _walk(
        cal,
        singleEvents=True,
        timeMin="2030-03-20T00:00:00+01:00",
        timeMax="2030-03-21T00:00:00+01:00",
    )
    assert [e["summary"] for e in items] == ["Fair"]


def test_it_filters_by_private_extended_property_and_honours_client_ids(google, api):
    cal = api("calendar", "v3")
    cal.events().insert(
        calendarId="primary",
        body=_ev("Marked", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z", extendedProperties=MARK),
    ).execute()
    google.app.create_event(ALICE, _ev("Plain", "2030-01-02T10:00:00Z", "2030-01-02T11:00:00Z"))
    items, _ = _walk(cal, privateExtendedProperty="relaySalesforce=1")
    assert [e["summary"] for e in items] == ["Marked"]
    assert items[0]["extendedProperties"]["private"] == {"relaySalesforce": "1"}

    body = _ev("Mine", "2030-01-03T10:00:00Z", "2030-01-03T11:00:00Z", id="sf00u000001abcd")
    made = cal.events().insert(calendarId="primary", body=body).execute()
    assert made["id"] == "sf00u000001abcd" and made["iCalUID"]
    with pytest.raises(HttpError) as exc:
        cal.events().insert(calendarId="primary", body=body).execute()
    assert exc.value.resp.status == 409
    with pytest.raises(HttpError) as exc:
        cal.events().insert(calendarId="primary", body={**body, "id": "BAD_ID!"}).execute()
    assert exc.value.resp.status == 400
    got = cal.events().get(calendarId="primary", eventId="sf00u000001abcd").execute()
    assert got["organizer"]["email"] == ALICE and got["etag"] == made["etag"]
