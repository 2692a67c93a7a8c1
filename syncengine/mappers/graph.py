"""Microsoft Graph contact / todoTask / event JSON <-> canonical records.

Time (see timezones.py for the DST rule):
- Graph writes ``{dateTime, timeZone}`` pairs with Windows zone names; reads
  accept any zone Graph may send (Windows, IANA, "UTC").
- Timed events are written as wall time in the Windows zone of the zone the
  caller passes (the user's zone, so Outlook shows the zone the user expects),
  computed by the Windows zone's rules, which Graph applies (a few IANA zones
  drifted from theirs: America/Scoresbysund, Antarctica/Casey), except an instant
  in the second pass of a fall-back hour, which no wall time names
  unambiguously: that one is written in UTC.
- All-day events are midnight-to-midnight in the event's zone, end exclusive;
  reading takes the date part when the time is midnight in the zone Graph
  used, and otherwise (Graph converted the times to another zone) converts to
  the user's zone first.
- A To Do due date is a date. Relay writes midnight in the user's zone. To Do
  keeps "midnight where the user set it" converted to UTC, e.g. a due date of
  24 Oct set in UTC-10 comes back as 2024-10-24T10:00 UTC (microsoftgraph docs
  issue #6982 and relatives), so a due time that is not midnight is converted
  to the user's zone before the date is taken.

Markers: contacts and events carry the Salesforce id in a single-value extended
property (``SF_ID_PROPERTY``; Graph returns it only when asked with
``$expand=`` ``SF_ID_EXPAND``); To Do tasks carry it in ``linkedResources``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from .canonical import (
    ContactFields,
    EventFields,
    TaskFields,
    clean_text,
    html_to_text,
    normalize,
    split_display_name,
)
from .timezones import (
    UTC,
    UnknownTimeZoneError,
    date_in_zone,
    iana_to_windows,
    local_to_utc,
    parse_naive,
    resolve_zone,
    wall_time_for,
)

SF_ID_PROPERTY = "String {1a3c137e-86df-405b-92f4-4c0a716fc87e} Name RelaySalesforceId"
SF_ID_EXPAND = f"singleValueExtendedProperties($filter=id eq '{SF_ID_PROPERTY}')"
SALESFORCE_CATEGORY = "Salesforce"
RELAY_APPLICATION = "Relay"

TODO_STATUS_TO_GRAPH: dict[str, str] = {
    "not_started": "notStarted",
    "in_progress": "inProgress",
    "completed": "completed",
    "waiting": "waitingOnOthers",
    "deferred": "deferred",
}
TODO_STATUS_FROM_GRAPH: dict[str, str] = {v.lower(): k for k, v in TODO_STATUS_TO_GRAPH.items()}

SHOW_AS_TO_GRAPH: dict[str, str] = {
    "free": "free",
    "tentative": "tentative",
    "busy": "busy",
    "oof": "oof",
    "working_elsewhere": "workingElsewhere",
    "unknown": "unknown",
}
SHOW_AS_FROM_GRAPH: dict[str, str] = {v.lower(): k for k, v in SHOW_AS_TO_GRAPH.items()}


# --- markers -----------------------------------------------------------------------------


def graph_marker(sf_id: str) -> dict[str, str]:
    """The ``singleValueExtendedProperties`` entry holding the Salesforce id."""
    return {"id": SF_ID_PROPERTY, "value": sf_id}


def sf_id_from_graph(item: Mapping[str, Any]) -> str | None:
    """The Salesforce id Relay stored on a Graph contact or event (None if absent)."""
    for prop in item.get("singleValueExtendedProperties") or ():
        if str(prop.get("id", "")).casefold() == SF_ID_PROPERTY.casefold():
            return clean_text(prop.get("value"))
    return None


def todo_marker(sf_id: str, instance_url: str) -> dict[str, str]:
    """The To Do ``linkedResources`` entry pointing at the Salesforce record."""
    return {
        "applicationName": RELAY_APPLICATION,
        "displayName": "Salesforce",
        "externalId": sf_id,
        "webUrl": f"{instance_url.rstrip('/')}/{sf_id}",
    }


def sf_id_from_todo(item: Mapping[str, Any]) -> str | None:
    for res in item.get("linkedResources") or ():
        if res.get("applicationName") == RELAY_APPLICATION and res.get("externalId"):
            return clean_text(res["externalId"])
    return None


# --- shared helpers ----------------------------------------------------------------------


def _body_text(body: Mapping[str, Any] | None) -> str | None:
    if not body:
        return None
    content = body.get("content")
    if str(body.get("contentType", "text")).lower() == "html":
        return html_to_text(content)
    return clean_text(content)


def _text_body(text: str | None) -> dict[str, str]:
    return {"contentType": "text", "content": text or ""}


def text_body(text: str | None) -> dict[str, str]:
    """A Graph ``body`` holding plain text (what Relay writes into event bodies)."""
    return _text_body(text)


def format_graph_datetime(wall: dt.datetime) -> str:
    """A naive wall time in Graph's format ("2026-03-01T15:00:00.0000000")."""
    return wall.strftime("%Y-%m-%dT%H:%M:%S.") + f"{wall.microsecond:06d}0"


def parse_graph_datetime(value: Mapping[str, Any] | None) -> dt.datetime | None:
    """A ``{dateTime, timeZone}`` pair as an aware UTC datetime (timeZone defaults to UTC)."""
    if not value or not value.get("dateTime"):
        return None
    return local_to_utc(parse_naive(value["dateTime"]), value.get("timeZone") or "UTC")


def _date_of(value: Mapping[str, Any], user_tz: str) -> dt.date:
    """The calendar date a midnight-anchored ``{dateTime, timeZone}`` stands for."""
    wall = parse_naive(value["dateTime"])
    if wall.time() == dt.time():
        return wall.date()
    instant = local_to_utc(wall, value.get("timeZone") or "UTC")
    return date_in_zone(instant, user_tz)


def _date_pair(day: dt.date, windows_zone: str) -> dict[str, str]:
    return {
        "dateTime": format_graph_datetime(dt.datetime.combine(day, dt.time())),
        "timeZone": windows_zone,
    }


def _instant_pair(instant: dt.datetime, tz: str) -> dict[str, str]:
    """The wall time Graph reads back as `instant`. Graph reads it in the Windows zone, by
    that zone's rules, which are not always the IANA zone's (America/Scoresbysund keeps
    Azores time in CLDR, Antarctica/Casey and Vostok changed offsets since their Windows
    zones were assigned): so the wall time is computed in the Windows zone itself."""
    windows = iana_to_windows(tz)
    wall = wall_time_for(instant, resolve_zone(windows).key)
    if wall is None:  # second pass of a fall-back hour: only UTC names it exactly
        return _utc_pair(instant)
    return {"dateTime": format_graph_datetime(wall), "timeZone": windows}


def _utc_pair(instant: dt.datetime) -> dict[str, str]:
    wall = instant.astimezone(UTC).replace(tzinfo=None)
    return {"dateTime": format_graph_datetime(wall), "timeZone": "UTC"}


def _replace_first(existing: Sequence[Any] | None, value: Any) -> list[Any]:
    """``existing`` with its first entry replaced by ``value`` (dropped when None):
    Relay syncs one email / business phone and leaves the user's others alone."""
    rest = list(existing or [])[1:]
    return [value, *rest] if value is not None else rest


# --- contacts ----------------------------------------------------------------------------


def _names_from_display(
    item: Mapping[str, Any], email: str | None, company: str | None
) -> tuple[str | None, str | None]:
    display = clean_text(item.get("displayName"))
    if not display or display.casefold() in {(email or "").casefold(), (company or "").casefold()}:
        return None, None
    return split_display_name(display)


def contact_from_graph(item: Mapping[str, Any]) -> ContactFields:
    """Canonical contact. A contact with no given name or surname takes both from its
    display name, unless the display name is just its email address or company."""
    emails = item.get("emailAddresses") or []
    email = clean_text(emails[0].get("address")) if emails else None
    phones = item.get("businessPhones") or []
    company = clean_text(item.get("companyName"))
    first, last = clean_text(item.get("givenName")), clean_text(item.get("surname"))
    if not first and not last:
        first, last = _names_from_display(item, email, company)
    address = item.get("businessAddress") or {}
    fields = {
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phones[0] if phones else None,
        "mobile": item.get("mobilePhone"),
        "title": item.get("jobTitle"),
        "department": item.get("department"),
        "company": company,
        "street": address.get("street"),
        "city": address.get("city"),
        "state": address.get("state"),
        "postal_code": address.get("postalCode"),
        "country": address.get("countryOrRegion"),
        "description": item.get("personalNotes"),
    }
    return normalize("contact", fields)  # type: ignore[return-value]


def contact_to_graph(
    fields: Mapping[str, Any],
    *,
    sf_id: str | None = None,
    existing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Graph contact JSON for POST/PATCH. ``existing`` (the current Graph item) keeps
    the user's other email addresses and business phones; ``sf_id`` adds the marker."""
    f = normalize("contact", fields)
    display = " ".join(p for p in (f["first_name"], f["last_name"]) if p) or None
    existing = existing or {}
    out: dict[str, Any] = {
        "givenName": f["first_name"],
        "surname": f["last_name"],
        "emailAddresses": _replace_first(
            existing.get("emailAddresses"),
            {"address": f["email"], "name": display or f["email"]} if f["email"] else None,
        ),
        "businessPhones": _replace_first(existing.get("businessPhones"), f["phone"]),
        "mobilePhone": f["mobile"],
        "jobTitle": f["title"],
        "department": f["department"],
        "companyName": f["company"],
        "businessAddress": {
            "street": f["street"],
            "city": f["city"],
            "state": f["state"],
            "postalCode": f["postal_code"],
            "countryOrRegion": f["country"],
        },
        "personalNotes": f["description"],
    }
    if display:
        out["displayName"] = display
    if sf_id:
        out["singleValueExtendedProperties"] = [graph_marker(sf_id)]
    return out


# --- To Do tasks -------------------------------------------------------------------------


def task_from_graph(item: Mapping[str, Any], user_tz: str) -> TaskFields:
    """Canonical task; ``user_tz`` (Windows or IANA) is the zone the due date lives in."""
    due = item.get("dueDateTime")
    status = TODO_STATUS_FROM_GRAPH.get(str(item.get("status") or "notStarted").lower())
    importance = str(item.get("importance") or "normal").lower()
    fields = {
        "subject": item.get("title"),
        "description": _body_text(item.get("body")),
        "due_date": _date_of(due, user_tz) if due and due.get("dateTime") else None,
        "status": status or "not_started",
        "priority": importance if importance in ("low", "normal", "high") else "normal",
        "completed_at": parse_graph_datetime(item.get("completedDateTime")),
    }
    return normalize("task", fields)  # type: ignore[return-value]


def task_to_graph(
    fields: Mapping[str, Any],
    user_tz: str,
    *,
    sf_id: str | None = None,
    instance_url: str | None = None,
) -> dict[str, Any]:
    """todoTask JSON. Pass ``sf_id`` and ``instance_url`` on create to add the
    ``linkedResources`` marker (Graph creates linked resources with the task)."""
    f = normalize("task", fields)
    windows = iana_to_windows(user_tz)
    out: dict[str, Any] = {
        "title": f["subject"] or "",
        "body": _text_body(f["description"]),
        "status": TODO_STATUS_TO_GRAPH[f["status"]],
        "importance": f["priority"],
        "dueDateTime": _date_pair(f["due_date"], windows) if f["due_date"] else None,
        "completedDateTime": _utc_pair(f["completed_at"]) if f["completed_at"] else None,
    }
    if sf_id:
        out["linkedResources"] = [todo_marker(sf_id, instance_url or "")]
    return out


# --- events ------------------------------------------------------------------------------


def event_from_graph(item: Mapping[str, Any], user_tz: str = "UTC") -> EventFields:
    """Canonical event. All-day dates are read in the event's ``originalStartTimeZone``
    when Graph converted its midnights to another zone (a ``Prefer: outlook.timezone``
    other than the event's), else in ``user_tz``."""
    all_day = bool(item.get("isAllDay"))
    fields: dict[str, Any] = {
        "subject": item.get("subject"),
        "description": _body_text(item.get("body")),
        "location": (item.get("location") or {}).get("displayName"),
        "all_day": all_day,
        "show_as": SHOW_AS_FROM_GRAPH.get(str(item.get("showAs") or "busy").lower(), "busy"),
    }
    if all_day:
        zone = _event_zone(item, user_tz)
        fields["start_date"] = _date_of(item["start"], zone)
        fields["end_date"] = _date_of(item["end"], zone) if item.get("end") else None
    else:
        fields["start"] = parse_graph_datetime(item.get("start"))
        fields["end"] = parse_graph_datetime(item.get("end"))
    return normalize("event", fields)  # type: ignore[return-value]


def _event_zone(item: Mapping[str, Any], user_tz: str) -> str:
    """The zone an all-day event's midnights belong to: the zone it was created in
    (``originalStartTimeZone``) when Graph names a usable one, else the user's."""
    original = item.get("originalStartTimeZone")
    if original:
        try:
            resolve_zone(original)
            return str(original)
        except UnknownTimeZoneError:
            pass
    return user_tz


def event_to_graph(
    fields: Mapping[str, Any],
    tz: str = "UTC",
    *,
    sf_id: str | None = None,
    categories: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Graph event JSON in zone ``tz``. ``categories`` (the event's current ones) are
    kept; "Salesforce" is always among the result, as SPEC §2 marks events by it."""
    f = normalize("event", fields)
    cats = list(categories or [])
    if not any(c.casefold() == SALESFORCE_CATEGORY.casefold() for c in cats):
        cats.append(SALESFORCE_CATEGORY)
    out: dict[str, Any] = {
        "subject": f["subject"] or "",
        "body": _text_body(f["description"]),
        "location": {"displayName": f["location"] or ""},
        "isAllDay": f["all_day"],
        "showAs": SHOW_AS_TO_GRAPH[f["show_as"]],
        "categories": cats,
    }
    if f["all_day"]:
        windows = iana_to_windows(tz)
        out["start"] = _date_pair(f["start_date"], windows)
        out["end"] = _date_pair(f["end_date"], windows)
    else:
        out["start"], out["end"] = _instant_pair(f["start"], tz), _instant_pair(f["end"], tz)
        if out["start"]["timeZone"] != out["end"]["timeZone"]:  # one end fell back to UTC
            out["start"], out["end"] = _utc_pair(f["start"]), _utc_pair(f["end"])
    if sf_id:
        out["singleValueExtendedProperties"] = [graph_marker(sf_id)]
    return out


def has_salesforce_category(item: Mapping[str, Any]) -> bool:
    """True when the user (or Relay) gave the event the "Salesforce" category."""
    return any(
        str(c).casefold() == SALESFORCE_CATEGORY.casefold() for c in item.get("categories") or ()
    )


def is_organized_meeting(item: Mapping[str, Any]) -> bool:
    """True for an event the mailbox owner organizes that has attendees: any Graph write
    to it (create, PATCH, DELETE) sends them a meeting message, which Relay never does."""
    return bool(item.get("attendees")) and item.get("isOrganizer", True) is not False
