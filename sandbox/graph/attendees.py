"""Event attendees and the meeting messages Exchange sends for an organizer's writes.

Graph has no parameter to suppress meeting messages: creating, updating or deleting an
event the mailbox owner organizes that has attendees sends requests, updates or
cancellations (https://learn.microsoft.com/en-us/graph/api/user-post-events — "an
invitation is sent to each attendee"; https://learn.microsoft.com/en-us/graph/api/event-delete
— "a meeting cancellation is sent to the attendees"). The emulator sends nothing but
records each message so tests can assert that Relay never invites anyone.
"""

from __future__ import annotations

from typing import Any

from sandbox.common.meetings import MeetingMessage, messages_for

from .store import invalid

__all__ = ["MeetingMessage", "messages_for", "normalize", "set_response"]

ATTENDEE_TYPES = ("required", "optional", "resource")
RESPONSES = (
    "none",
    "organizer",
    "tentativelyAccepted",
    "accepted",
    "declined",
    "notResponded",
)
NEVER = "0001-01-01T00:00:00Z"


def address_of(attendee: dict[str, Any]) -> str:
    return str(((attendee.get("emailAddress") or {}).get("address")) or "").lower()


def normalize(new: list[Any] | None, old: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Attendees as Graph stores them. A client cannot set a response (`status` comes from
    the attendee's reply): known attendees keep theirs, new ones start at "none"."""
    if new is None:
        return []
    if not isinstance(new, list):
        raise invalid("attendees must be a collection.", "RequestBodyRead")
    previous = {address_of(a): a for a in old or []}
    out = []
    seen: set[str] = set()
    for value in new:
        if not isinstance(value, dict) or not address_of(value):
            raise invalid("An attendee needs an emailAddress with an address.")
        kind = value.get("type") or "required"
        if kind not in ATTENDEE_TYPES:
            raise invalid(f"'{kind}' is not a valid attendee type.", "RequestBodyRead")
        address = address_of(value)
        if address in seen:
            continue  # Exchange keeps one attendee per address
        seen.add(address)
        email = dict(value["emailAddress"])
        email.setdefault("name", email.get("address"))
        known = previous.get(address)
        status = dict(known["status"]) if known else {"response": "none", "time": NEVER}
        out.append({"type": kind, "status": status, "emailAddress": email})
    return out


def set_response(attendees: list[dict[str, Any]], address: str, response: str, at: str) -> None:
    if response not in RESPONSES:
        raise ValueError(f"unknown response {response!r}; one of {RESPONSES}")
    for attendee in attendees:
        if address_of(attendee) == address.lower():
            attendee["status"] = {"response": response, "time": at}
            return
    raise KeyError(f"{address} is not an attendee")
