"""Meetings as the user makes them in the mailbox (every kind), for the §2b tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sandbox.ews import builders as ews_builders

from .conftest import EMAIL


def _graph_attendees(guests: list[str]) -> list[dict[str, Any]]:
    return [{"emailAddress": {"address": g, "name": g}, "type": "required"} for g in guests]


def meeting_in_mailbox(
    world: Any, subject: str, start: dt.datetime, guests: list[str], uid: str | None = None
) -> str:
    """A meeting the user organizes, with attendees, marked for Salesforce; `uid` gives it
    a known iCalendar UID (the same meeting in another mailbox)."""
    if world.kind == "exchange":
        return str(world.ews_meeting(subject, start, guests, uid=uid))
    end = start + dt.timedelta(hours=1)
    if world.kind == "office365":
        body: dict[str, Any] = {
            "subject": subject,
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "categories": ["Salesforce"],
            "attendees": _graph_attendees(guests),
        }
        if uid:
            body["iCalUId"] = uid
        return world.mbapp.create_event(EMAIL, body)["id"]
    body = {
        "summary": subject,
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
        "attendees": [{"email": g} for g in guests],
        "extendedProperties": {"private": {"relaySalesforce": "1"}},
    }
    if uid:
        body["iCalUID"] = uid
    return world.mbapp.create_event(EMAIL, body)["id"]


def set_attendees(world: Any, event_id: str, guests: list[str]) -> None:
    if world.kind == "exchange":
        world.ews_set_attendees(event_id, guests)
    elif world.kind == "office365":
        world.mbapp.update_event(EMAIL, event_id, {"attendees": _graph_attendees(guests)})
    else:
        world.mbapp.update_event(EMAIL, event_id, {"attendees": [{"email": g} for g in guests]})


def reply(world: Any, event_id: str, guest: str, accepted: bool) -> None:
    if world.kind == "exchange":
        world.ews_reply(event_id, guest, accepted)
        return
    # The Graph and Google emulators name these two replies alike.
    world.mbapp.respond_to_event(EMAIL, event_id, guest, "accepted" if accepted else "declined")


def edit_subject(world: Any, event_id: str, subject: str) -> None:
    if world.kind == "exchange":
        world.edit_event(event_id, subject=subject)
        return
    key = "subject" if world.kind == "office365" else "summary"
    world.mbapp.update_event(EMAIL, event_id, {key: subject})


def weekly_meeting_in_mailbox(
    world: Any,
    subject: str,
    first: dt.datetime,
    count: int,
    guests: list[str],
    uid: str,
    *,
    mailbox: str = EMAIL,
    organizer: str | None = None,
) -> str:
    """A weekly meeting (`count` occurrences from `first`, UTC) with attendees, marked for
    Salesforce, with a known iCalendar UID; in `mailbox`, organized by `organizer` (an
    invitee's copy) when given. Returns the series' id."""
    end = first + dt.timedelta(hours=1)
    if world.kind == "exchange":
        element = ews_builders.event(
            subject,
            first,
            end,
            categories=["Salesforce"],
            attendees=[(g, "Unknown") for g in guests],
            uid=uid,
            organizer=organizer,
            weekly_on=[first.strftime("%A")],
            occurrences=count,
        )
        return str(world.mbapp.create_item(mailbox, element).id)
    if world.kind == "office365":
        body: dict[str, Any] = {
            "subject": subject,
            "start": {"dateTime": first.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "categories": ["Salesforce"],
            "attendees": _graph_attendees(guests),
            "iCalUId": uid,
            "recurrence": {
                "pattern": {
                    "type": "weekly",
                    "interval": 1,
                    "daysOfWeek": [first.strftime("%A").lower()],
                },
                "range": {
                    "type": "numbered",
                    "startDate": first.date().isoformat(),
                    "numberOfOccurrences": count,
                },
            },
        }
        if organizer:
            body["organizer"] = {"emailAddress": {"address": organizer, "name": organizer}}
        return str(world.mbapp.create_event(mailbox, body)["id"])
    body = {
        "summary": subject,
        "start": {"dateTime": first.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
        "attendees": [{"email": g} for g in guests],
        "iCalUID": uid,
        "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count}"],
        "extendedProperties": {"private": {"relaySalesforce": "1"}},
    }
    if organizer:
        body["organizer"] = {"email": organizer}
    return str(world.mbapp.create_event(mailbox, body)["id"])
