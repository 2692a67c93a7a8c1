"""Calendar attendees, the emails Calendar sends unless sendUpdates=none, and cancelled
instances of recurring events in full and incremental listings."""

import json

from .conftest import ALICE

WEI = "wei@fabrikam.example"
BOB = "bob@gmail.com"


def _meeting(*guests, summary="Demo"):
    return {
        "summary": summary,
        "start": {"dateTime": "2030-01-07T10:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-01-07T11:00:00", "timeZone": "Europe/Berlin"},
        "attendees": [{"email": g, "displayName": g.split("@")[0]} for g in guests],
    }


def _sent(app):
    return [(m["kind"], m["recipients"], m["policy"]) for m in app.sent_invitations(ALICE)]


def test_it_keeps_attendees_with_response_and_flags(google, api):
    cal = api("calendar", "v3")
    body = _meeting(WEI, ALICE)
    body["attendees"][0]["optional"] = True
    made = cal.events().insert(calendarId="primary", body=body, sendUpdates="none").execute()
    got = cal.events().get(calendarId="primary", eventId=made["id"]).execute()
    wei, me = got["attendees"]
    assert (wei["email"], wei["displayName"], wei["responseStatus"], wei["optional"]) == (
        WEI,
        "wei",
        "needsAction",
        True,
    )
    assert me.get("self") is True and me.get("organizer") is True
    assert got["organizer"]["email"] == ALICE and got["iCalUID"]
    google.app.respond_to_event(ALICE, made["id"], WEI, "accepted")
    again = cal.events().get(calendarId="primary", eventId=made["id"]).execute()
    assert again["attendees"][0]["responseStatus"] == "accepted"
    assert again["etag"] != got["etag"]


def test_it_sends_nothing_with_send_updates_none(google, api):
    cal = api("calendar", "v3")
    events = cal.events()
    made = events.insert(calendarId="primary", body=_meeting(WEI), sendUpdates="none").execute()
    events.patch(
        calendarId="primary", eventId=made["id"], body=_meeting(WEI, BOB), sendUpdates="none"
    ).execute()
    events.delete(calendarId="primary", eventId=made["id"], sendUpdates="none").execute()
    assert google.app.sent_invitations(ALICE) == []


def test_it_records_emails_for_the_default_and_the_deprecated_flag(google, api):
    """The default is documented as no notifications, "Note that some emails might still be
    sent"; the same for sendNotifications=false. Only sendUpdates=none is silent."""
    events = api("calendar", "v3").events()
    a = events.insert(calendarId="primary", body=_meeting(WEI)).execute()
    events.insert(calendarId="primary", body=_meeting(WEI), sendNotifications=False).execute()
    events.insert(calendarId="primary", body=_meeting(WEI), sendNotifications=True).execute()
    assert _sent(google.app) == [
        ("request", [WEI], "default"),
        ("request", [WEI], "default"),
        ("request", [WEI], "all"),
    ]
    events.patch(calendarId="primary", eventId=a["id"], body=_meeting(WEI, BOB)).execute()
    assert _sent(google.app)[-2:] == [
        ("update", [WEI], "default"),
        ("request", [BOB], "default"),
    ]
    events.update(
        calendarId="primary", eventId=a["id"], body=_meeting(BOB), sendUpdates="all"
    ).execute()
    assert _sent(google.app)[-2:] == [("update", [BOB], "all"), ("cancellation", [WEI], "all")]
    events.delete(calendarId="primary", eventId=a["id"]).execute()
    assert _sent(google.app)[-1] == ("cancellation", [BOB], "default")


def test_it_sends_only_to_non_google_guests_with_external_only(google, api):
    events = api("calendar", "v3").events()
    events.insert(
        calendarId="primary", body=_meeting(WEI, BOB), sendUpdates="externalOnly"
    ).execute()
    assert _sent(google.app) == [("request", [WEI], "externalOnly")]


def test_it_records_writes_inside_a_batch_and_refuses_bad_values(google, api):
    from googleapiclient.http import BatchHttpRequest

    cal = api("calendar", "v3")
    results = []
    batch = BatchHttpRequest(
        callback=lambda _id, resp, exc: results.append(exc),
        batch_uri=f"{google.base_url}/batch/calendar/v3",
    )
    batch.add(cal.events().insert(calendarId="primary", body=_meeting(WEI)))
    batch.add(cal.events().insert(calendarId="primary", body=_meeting(WEI), sendUpdates="none"))
    batch.execute(http=api.http)
    assert results == [None, None]
    assert _sent(google.app) == [("request", [WEI], "default")]
    # The client checks the enum itself; a raw request gets the server's 400.
    url = f"{google.base_url}/calendar/v3/calendars/primary/events?sendUpdates=some"
    resp, _ = api.http.request(
        url, "POST", body=json.dumps(_meeting(WEI)), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert len(google.app.events(ALICE)) == 2


def test_it_sends_nothing_for_a_copy_of_someone_elses_meeting(google, api):
    copy = google.app.create_event(
        ALICE,
        {
            **_meeting(ALICE, BOB, summary="Wei's review"),
            "organizer": {"email": WEI},
            "iCalUID": "shared-meeting@fabrikam.example",
        },
    )
    assert copy["iCalUID"] == "shared-meeting@fabrikam.example"
    events = api("calendar", "v3").events()
    events.patch(calendarId="primary", eventId=copy["id"], body={"colorId": "3"}).execute()
    events.delete(calendarId="primary", eventId=copy["id"]).execute()
    assert google.app.sent_invitations(ALICE) == []


def _series(google):
    return google.app.create_event(
        ALICE,
        {
            "summary": "Weekly",
            "start": {"dateTime": "2030-01-07T09:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2030-01-07T09:30:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"],
            "extendedProperties": {"private": {"relaySalesforce": "1"}},
        },
    )


def _walk(cal, **kwargs):
    items, page = [], None
    while True:
        resp = cal.events().list(calendarId="primary", pageToken=page, **kwargs).execute()
        items += resp["items"]
        page = resp.get("nextPageToken")
        if not page:
            return items, resp["nextSyncToken"]


def test_it_lists_cancelled_instances_in_full_and_incremental_listings(google, api):
    cal = api("calendar", "v3")
    master = _series(google)
    _, token = _walk(cal)
    instance = f"{master['id']}_20300114T080000Z"
    cal.events().delete(calendarId="primary", eventId=instance, sendUpdates="none").execute()
    expected = {
        "kind": "calendar#event",
        "id": instance,
        "status": "cancelled",
        "recurringEventId": master["id"],
        "originalStartTime": {"dateTime": "2030-01-14T09:00:00+01:00", "timeZone": "Europe/Berlin"},
    }

    def cancelled(items):
        return [
            {k: v for k, v in e.items() if k != "etag"}
            for e in items
            if e.get("status") == "cancelled"
        ]

    # Full listing, singleEvents=false, no showDeleted: the master and its cancelled instance.
    items, _ = _walk(cal)
    assert [e["id"] for e in items if e.get("status") != "cancelled"] == [master["id"]]
    assert cancelled(items) == [expected]
    # Incremental: the same cancelled instance, with only its few fields.
    assert cancelled(_walk(cal, syncToken=token)[0]) == [expected]
    # singleEvents=true without showDeleted: the occurrence is simply absent.
    singles, _ = _walk(cal, singleEvents=True)
    assert instance not in [e["id"] for e in singles] and len(singles) == 3
    assert cancelled(_walk(cal, singleEvents=True, showDeleted=True)[0]) == [expected]


def test_it_lists_a_deleted_event_with_only_its_id_and_status(google, api):
    cal = api("calendar", "v3")
    _, token = _walk(cal)
    made = google.app.create_event(ALICE, _meeting(WEI))
    google.app.delete_event(ALICE, made["id"])
    items, _ = _walk(cal, syncToken=token)
    assert [{k: v for k, v in e.items() if k != "etag"} for e in items] == [
        {"kind": "calendar#event", "id": made["id"], "status": "cancelled"}
    ]
