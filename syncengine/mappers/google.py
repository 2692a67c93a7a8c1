"""Google People person / Tasks task / Calendar event JSON <-> canonical records.

Decisions where the APIs are narrower than Salesforce:
- Google Tasks has two statuses. Writing, everything not completed is
  ``needsAction``. Reading, ``needsAction`` keeps the previous canonical status
  when that status is not "completed" (a Salesforce "waiting" task stays
  "waiting" while the user leaves it open in Gmail); ``needsAction`` after
  "completed" means the user reopened it: "not_started". Google Tasks has no
  priority, so the previous priority stands ("normal" for a new task).
- Google Tasks has no custom properties: the Salesforce id is appended to the
  notes as a last line ``[Salesforce: 00T…]`` and stripped again on reading,
  so it never reaches the canonical description.
- A Google Tasks due date is a date sent as midnight UTC ("time portion
  discarded"); Relay reads the date part of the string as written.
- Calendar ``transparency`` has two values: opaque <-> busy, transparent <->
  free; tentative / oof / working_elsewhere / unknown are written opaque and
  survive a read-back through ``previous``. Out-of-office and working-location
  events (``eventType``) read as "oof" and "working_elsewhere".
- Calendar descriptions may hold HTML (the web UI writes it); it is read as
  text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .canonical import (
    ContactFields,
    EventFields,
    TaskFields,
    as_date,
    clean_text,
    html_to_text,
    keep_richer,
    looks_like_html,
    normalize,
    split_display_name,
)
from .timezones import UTC, iana_name, local_to_utc, parse_aware, parse_naive, resolve_zone

SF_ID_KEY = "relaySalesforceId"
SF_FLAG_KEY = "relaySalesforce"
CONTACT_GROUP_NAME = "Salesforce Contacts"
TASK_LIST_NAME = "Salesforce Tasks"

#: ``personFields`` / ``readMask`` Relay reads, and the ``updatePersonFields`` it writes.
PERSON_FIELDS = (
    "names,emailAddresses,phoneNumbers,organizations,addresses,biographies,"
    "clientData,memberships,metadata"
)
UPDATE_PERSON_FIELDS = (
    "names,emailAddresses,phoneNumbers,organizations,addresses,biographies,clientData"
)

# --- people ------------------------------------------------------------------------------


def sf_id_from_person(person: Mapping[str, Any]) -> str | None:
    for entry in person.get("clientData") or ():
        if entry.get("key") == SF_ID_KEY:
            return clean_text(entry.get("value"))
    return None


def _first(items: Iterable[Mapping[str, Any]] | None, kind: str | None = None) -> Mapping[str, Any]:
    """The first entry of a People list field (of ``type`` ``kind`` when given)."""
    for item in items or ():
        if kind is None or str(item.get("type", "")).lower() == kind:
            return item
    return {}


def _phone(person: Mapping[str, Any], kind: str) -> str | None:
    return clean_text(_first(person.get("phoneNumbers"), kind).get("value"))


def contact_from_google(person: Mapping[str, Any]) -> ContactFields:
    """Canonical contact. The phone is the first ``work`` number (else the first
    number with no type), the mobile the first ``mobile`` one; the address is the
    first ``work`` address, else the first address."""
    name = _first(person.get("names"))
    org = _first(person.get("organizations"))
    address = _first(person.get("addresses"), "work") or _first(person.get("addresses"))
    phone = _phone(person, "work")
    if phone is None:
        untyped = [p for p in person.get("phoneNumbers") or () if not p.get("type")]
        phone = clean_text(untyped[0].get("value")) if untyped else None
    first, last = clean_text(name.get("givenName")), clean_text(name.get("familyName"))
    email = clean_text(_first(person.get("emailAddresses")).get("value"))
    if not first and not last:
        display = clean_text(name.get("unstructuredName") or name.get("displayName"))
        if display and display.casefold() not in {
            (email or "").casefold(),
            (clean_text(org.get("name")) or "").casefold(),
        }:
            first, last = split_display_name(display)
    fields = {
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "mobile": _phone(person, "mobile"),
        "title": org.get("title"),
        "department": org.get("department"),
        "company": org.get("name"),
        "street": address.get("streetAddress"),
        "city": address.get("city"),
        "state": address.get("region"),
        "postal_code": address.get("postalCode"),
        "country": address.get("country"),
        "description": _first(person.get("biographies")).get("value"),
    }
    return normalize("contact", fields)  # type: ignore[return-value]


def _replace_typed(existing: Any, kind: str, value: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The user's entries of other types, with Relay's ``kind`` entry first (or removed)."""
    others = [dict(e) for e in existing or () if str(e.get("type", "")).lower() != kind]
    return [value, *others] if value else others


def contact_to_google(
    fields: Mapping[str, Any],
    *,
    sf_id: str | None = None,
    group_resource_name: str | None = None,
    existing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A People ``person`` for createContact / updateContact (with
    ``UPDATE_PERSON_FIELDS``). ``existing`` (the current person) keeps the user's
    other emails, phones, addresses and clientData; pass its ``etag`` yourself."""
    f = normalize("contact", fields)
    existing = existing or {}
    person: dict[str, Any] = {
        "names": (
            [{"givenName": f["first_name"] or "", "familyName": f["last_name"] or ""}]
            if f["first_name"] or f["last_name"]
            else []
        ),
        "emailAddresses": [
            *([{"value": f["email"]}] if f["email"] else []),
            *list(existing.get("emailAddresses") or [])[1:],
        ],
        "phoneNumbers": _replace_typed(
            _replace_typed(
                existing.get("phoneNumbers"),
                "work",
                {"value": f["phone"], "type": "work"} if f["phone"] else None,
            ),
            "mobile",
            {"value": f["mobile"], "type": "mobile"} if f["mobile"] else None,
        ),
        "organizations": (
            [{"name": f["company"], "title": f["title"], "department": f["department"]}]
            if f["company"] or f["title"] or f["department"]
            else []
        ),
        "biographies": (
            [{"value": f["description"], "contentType": "TEXT_PLAIN"}] if f["description"] else []
        ),
    }
    address = {
        "type": "work",
        "streetAddress": f["street"],
        "city": f["city"],
        "region": f["state"],
        "postalCode": f["postal_code"],
        "country": f["country"],
    }
    has_address = any(v for k, v in address.items() if k != "type")
    person["addresses"] = _replace_typed(
        existing.get("addresses"), "work", address if has_address else None
    )
    client_data = [e for e in existing.get("clientData") or () if e.get("key") != SF_ID_KEY]
    if sf_id:
        client_data.append({"key": SF_ID_KEY, "value": sf_id})
    if client_data:
        person["clientData"] = client_data
    if group_resource_name:
        person["memberships"] = [
            {"contactGroupMembership": {"contactGroupResourceName": group_resource_name}}
        ]
    return person


# --- tasks -------------------------------------------------------------------------------

_MARKER_RE = re.compile(r"^\[Salesforce: ([A-Za-z0-9]{15,18})\]$")

TASK_STATUS_TO_GOOGLE: dict[str, str] = {
    "not_started": "needsAction",
    "in_progress": "needsAction",
    "waiting": "needsAction",
    "deferred": "needsAction",
    "completed": "completed",
}


def notes_marker(sf_id: str) -> str:
    return f"[Salesforce: {sf_id}]"


def split_notes(notes: str | None) -> tuple[str | None, str | None]:
    """(description, sf_id): the notes without Relay's marker line, and the id in it."""
    text = clean_text(notes)
    if not text:
        return None, None
    body, _, last = text.rpartition("\n")
    m = _MARKER_RE.match(last.strip())
    if m is None:
        return text, None
    return clean_text(body), m.group(1)


def join_notes(description: str | None, sf_id: str | None) -> str:
    text = clean_text(description) or ""
    if not sf_id:
        return text
    return f"{text}\n\n{notes_marker(sf_id)}" if text else notes_marker(sf_id)


def sf_id_from_google_task(item: Mapping[str, Any]) -> str | None:
    return split_notes(item.get("notes"))[1]


def status_from_google(google_status: str | None, previous_status: str | None) -> str:
    """The canonical status for a Google Tasks status, keeping a richer previous one."""
    read = "completed" if google_status == "completed" else "not_started"
    return keep_richer(read, previous_status, TASK_STATUS_TO_GOOGLE, TASK_STATUS_TO_GOOGLE[read])


def task_from_google(
    item: Mapping[str, Any], previous: Mapping[str, Any] | None = None
) -> TaskFields:
    """Canonical task; ``previous`` (the last canonical copy) supplies what Google
    cannot hold: the richer open status and the priority."""
    previous = previous or {}
    description, _ = split_notes(item.get("notes"))
    due = clean_text(item.get("due"))
    fields = {
        "subject": item.get("title"),
        "description": description,
        "due_date": as_date(due[:10]) if due else None,
        "status": status_from_google(item.get("status"), previous.get("status")),
        "priority": previous.get("priority") or "normal",
        "completed_at": parse_aware(item["completed"]) if item.get("completed") else None,
    }
    return normalize("task", fields)  # type: ignore[return-value]


def _rfc3339_utc(instant: dt.datetime) -> str:
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def task_to_google(fields: Mapping[str, Any], *, sf_id: str | None = None) -> dict[str, Any]:
    f = normalize("task", fields)
    out: dict[str, Any] = {
        "title": f["subject"] or "",
        "notes": join_notes(f["description"], sf_id),
        "status": TASK_STATUS_TO_GOOGLE[f["status"]],
        "due": f"{f['due_date'].isoformat()}T00:00:00.000Z" if f["due_date"] else None,
    }
    if f["status"] == "completed":
        out["completed"] = _rfc3339_utc(f["completed_at"]) if f["completed_at"] else None
    else:
        out["completed"] = None  # reopening clears the completion time
    return out


# --- calendar events ---------------------------------------------------------------------

SHOW_AS_TO_GOOGLE: dict[str, str] = {
    "busy": "opaque",
    "free": "transparent",
    "tentative": "opaque",
    "oof": "opaque",
    "working_elsewhere": "opaque",
    "unknown": "opaque",
}
_EVENT_TYPE_SHOW_AS = {"outOfOffice": "oof", "workingLocation": "working_elsewhere"}


def sf_id_from_google_event(item: Mapping[str, Any]) -> str | None:
    private = (item.get("extendedProperties") or {}).get("private") or {}
    return clean_text(private.get(SF_ID_KEY))


def is_marked_for_salesforce(item: Mapping[str, Any]) -> bool:
    """SPEC §2 "marked for Salesforce (Gmail)": private property relaySalesforce = "1"."""
    private = (item.get("extendedProperties") or {}).get("private") or {}
    return private.get(SF_FLAG_KEY) == "1"


def google_private_marker(sf_id: str | None) -> dict[str, str]:
    """``extendedProperties.private`` entries marking an event for Salesforce."""
    marker = {SF_FLAG_KEY: "1"}
    if sf_id:
        marker[SF_ID_KEY] = sf_id
    return marker


def _google_instant(value: Mapping[str, Any], user_tz: str) -> dt.datetime | None:
    text = clean_text(value.get("dateTime"))
    if not text:
        return None
    try:
        return parse_aware(text)
    except ValueError:  # no offset: a wall time in the given (or the user's) zone
        return local_to_utc(parse_naive(text), value.get("timeZone") or user_tz)


def event_from_google(
    item: Mapping[str, Any], user_tz: str = "UTC", previous: Mapping[str, Any] | None = None
) -> EventFields:
    """Canonical event. ``user_tz`` reads a dateTime without offset (Google always
    sends one); ``previous`` keeps show_as values transparency cannot hold."""
    start, end = item.get("start") or {}, item.get("end") or {}
    all_day = bool(start.get("date")) and not start.get("dateTime")
    transparency = item.get("transparency") or "opaque"
    show_as = _EVENT_TYPE_SHOW_AS.get(item.get("eventType") or "")
    if show_as is None:
        read = "free" if transparency == "transparent" else "busy"
        before = (previous or {}).get("show_as")
        show_as = keep_richer(read, before, SHOW_AS_TO_GOOGLE, transparency)
    description = item.get("description")
    if looks_like_html(description):
        description = html_to_text(description)
    fields: dict[str, Any] = {
        "subject": item.get("summary"),
        "description": description,
        "location": item.get("location"),
        "all_day": all_day,
        "show_as": show_as,
    }
    if all_day:
        fields["start_date"] = as_date(start.get("date"))
        fields["end_date"] = as_date(end.get("date"))
    else:
        fields["start"] = _google_instant(start, user_tz)
        fields["end"] = _google_instant(end, user_tz) if end else None
    return normalize("event", fields)  # type: ignore[return-value]


def _google_time(instant: dt.datetime, tz: str) -> dict[str, Any]:
    """RFC 3339 with the zone's offset (exact even in a fall-back hour) + the IANA name."""
    name = iana_name(tz)
    local = instant.astimezone(resolve_zone(name))
    return {"dateTime": local.isoformat(), "timeZone": name, "date": None}


def event_to_google(
    fields: Mapping[str, Any],
    tz: str = "UTC",
    *,
    sf_id: str | None = None,
    existing_private: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Calendar event for insert/patch in zone ``tz`` (IANA or Windows name).
    The unused one of ``date`` / ``dateTime`` is sent as null so a patch that
    turns a timed event into an all-day one (or back) clears the other."""
    f = normalize("event", fields)
    if f["all_day"]:
        start = {"date": f["start_date"].isoformat(), "dateTime": None, "timeZone": None}
        end = {"date": f["end_date"].isoformat(), "dateTime": None, "timeZone": None}
    else:
        start, end = _google_time(f["start"], tz), _google_time(f["end"], tz)
    private = {**(existing_private or {}), **google_private_marker(sf_id)}
    return {
        "summary": f["subject"] or "",
        "description": f["description"] or "",
        "location": f["location"] or "",
        "start": start,
        "end": end,
        "transparency": SHOW_AS_TO_GOOGLE[f["show_as"]],
        "extendedProperties": {"private": private},
    }
