"""Meetings as the user makes them in the mailbox (every kind), for the §2b tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
