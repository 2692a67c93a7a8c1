"""Attendees with responses, organizer, iCalUId — and every meeting message Graph sends.

Graph cannot suppress meeting messages: any API create, update or delete of an event the
mailbox owner organizes that has attendees sends requests, updates or cancellations. The
emulator records them (`sent_invitations`) so engine tests can assert Relay sends none.
"""

import requests

from .conftest import ANN

WEI = "wei@fabrikam.example"
OLA = "ola@fabrikam.example"


def _meeting(*attendees, subject="Demo"):
    return {
        "subject": subject,
        "start": {"dateTime": "2026-05-04T10:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-05-04T11:00:00", "timeZone": "W. Europe Standard Time"},
        "attendees": [
            {"emailAddress": {"address": a, "name": a.split("@")[0]}, "type": t}
            for a, t in attendees
        ],
    }


def _sent(app):
    return [(m["kind"], m["recipients"]) for m in app.sent_invitations(ANN)]


def test_it_keeps_attendees_with_response_organizer_and_ical_uid(graph, api):
    created = api.post("me/events", _meeting((WEI, "required"), (OLA, "optional")))
    got = api.get(f"me/events/{created['id']}")
    assert [
        (a["emailAddress"]["address"], a["type"], a["status"]["response"]) for a in got["attendees"]
    ] == [(WEI, "required", "none"), (OLA, "optional", "none")]
    assert got["organizer"]["emailAddress"]["address"] == ANN and got["isOrganizer"] is True
    assert got["iCalUId"] and got["iCalUId"] == created["iCalUId"]

    graph.app.respond_to_event(ANN, created["id"], WEI, "accepted")
    again = api.get(f"me/events/{created['id']}")
    assert again["attendees"][0]["status"]["response"] == "accepted"
    assert again["changeKey"] != got["changeKey"]
    # A client cannot set a response: a PATCH keeps the attendee's own reply.
    body = {"attendees": [dict(a, status={"response": "declined"}) for a in again["attendees"]]}
    patched = api.con.patch(api.url + f"me/events/{created['id']}", data=body).json()
    assert [a["status"]["response"] for a in patched["attendees"]] == ["accepted", "none"]


def test_it_records_a_request_on_create_and_updates_on_every_later_write(graph, api):
    app = graph.app
    created = api.post("me/events", _meeting((WEI, "required")))
    assert _sent(app) == [("request", [WEI])]
    msg = app.sent_invitations(ANN)[0]
    assert (msg["event_id"], msg["ical_uid"], msg["subject"]) == (
        created["id"],
        created["iCalUId"],
        "Demo",
    )

    url = api.url + f"me/events/{created['id']}"
    api.con.patch(url, data={"subject": "Demo v2"})
    assert _sent(app)[-1] == ("update", [WEI])

    both = _meeting((WEI, "required"), (OLA, "required"))["attendees"]
    api.con.patch(url, data={"attendees": both})
    assert _sent(app)[-2:] == [("update", [WEI]), ("request", [OLA])]

    api.con.patch(url, data={"attendees": both[1:]})
    assert _sent(app)[-2:] == [("update", [OLA]), ("cancellation", [WEI])]

    api.con.delete(url)
    assert _sent(app)[-1] == ("cancellation", [OLA])
    assert len(app.sent_invitations(ANN)) == 7


def test_it_records_messages_for_writes_inside_a_batch(graph, api):
    body = {
        "requests": [
            {
                "id": "1",
                "method": "POST",
                "url": "/me/events",
                "headers": {"Content-Type": "application/json"},
                "body": _meeting((WEI, "required")),
            }
        ]
    }
    reply = api.post("$batch", body)
    assert reply["responses"][0]["status"] == 201
    assert _sent(graph.app) == [("request", [WEI])]


def test_it_sends_nothing_for_events_without_attendees_or_not_organized_by_the_owner(graph, api):
    app = graph.app
    plain = api.post("me/events", _meeting())
    url = api.url + f"me/events/{plain['id']}"
    api.con.patch(url, data={"subject": "Alone"})
    api.con.delete(url)

    # Wei's meeting as it sits in Ann's calendar: Ann is an invitee, not the organizer.
    invite = _meeting((ANN, "required"), (OLA, "required"), subject="Wei's review")
    invite["organizer"] = {"emailAddress": {"address": WEI, "name": "Wei"}}
    invite["iCalUId"] = "040000008200E00074C5B7101A82E008-shared"
    copy = app.create_event(ANN, invite)
    assert copy["isOrganizer"] is False and copy["iCalUId"] == invite["iCalUId"]
    assert copy["responseStatus"]["response"] == "notResponded"
    r = api.con.patch(api.url + f"me/events/{copy['id']}", data={"categories": ["Salesforce"]})
    assert r.ok
    api.con.delete(api.url + f"me/events/{copy['id']}")

    # The user's own Outlook edits are not API writes.
    own = app.create_event(ANN, _meeting((WEI, "required")))
    app.update_event(ANN, own["id"], {"subject": "Edited in Outlook"})
    assert app.sent_invitations(ANN) == []


def test_it_refuses_an_attendee_without_an_address(api):
    bad = _meeting()
    bad["attendees"] = [{"type": "required", "emailAddress": {"name": "Nobody"}}]
    try:
        api.post("me/events", bad)
    except requests.HTTPError as err:
        assert err.response.status_code == 400
    else:
        raise AssertionError("an attendee without an address was accepted")
