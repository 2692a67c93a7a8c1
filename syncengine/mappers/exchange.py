"""exchangelib Contact / Task / CalendarItem <-> canonical records (Exchange Server, EWS).

Pure: these functions build and read exchangelib item objects and never talk to a server.

Marker: Relay's Salesforce id is a named extended property in the same property set and
with the same name as on Office 365 (graph.SF_ID_PROPERTY), so a mailbox moved between
Exchange Server and Exchange Online keeps its links. `register_marker()` makes it the
`relay_sf_id` attribute of the three item classes (exchangelib registers extended
properties per class, process-wide; registering twice is a no-op).

Time:
- Timed events are written in the user's zone (EWSDateTime in that EWSTimeZone), so Outlook
  shows the zone the user expects; reading converts to UTC.
- All-day events are written as midnight-to-midnight in the user's zone (end exclusive).
  exchangelib reads them back as dates with an INCLUSIVE end (it subtracts a day from
  Exchange's exclusive midnight); canonical end dates are exclusive, so reading adds it.
- A task's due date is a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from exchangelib import CalendarItem, Contact, EWSDate, EWSDateTime, EWSTimeZone, Task
from exchangelib.extended_properties import ExtendedProperty
from exchangelib.indexed_properties import EmailAddress, PhoneNumber, PhysicalAddress
from exchangelib.properties import Body, HTMLBody

from .canonical import (
    ContactFields,
    EventFields,
    TaskFields,
    clean_text,
    html_to_text,
    normalize,
    split_display_name,
)
from .occurrences import series_key
from .people import Attendee, MailboxPeople, Response
from .timezones import UnknownTimeZoneError, resolve_zone

SF_ID_PROPERTY_SET = "1a3c137e-86df-405b-92f4-4c0a716fc87e"  # as graph.SF_ID_PROPERTY
SF_ID_PROPERTY_NAME = "RelaySalesforceId"
MARKER_ATTRIBUTE = "relay_sf_id"
SALESFORCE_CATEGORY = "Salesforce"

TASK_STATUS_TO_EWS: dict[str, str] = {
    "not_started": "NotStarted",
    "in_progress": "InProgress",
    "completed": "Completed",
    "waiting": "WaitingOnOthers",
    "deferred": "Deferred",
}
TASK_STATUS_FROM_EWS: dict[str, str] = {v: k for k, v in TASK_STATUS_TO_EWS.items()}
SHOW_AS_TO_EWS: dict[str, str] = {
    "free": "Free",
    "tentative": "Tentative",
    "busy": "Busy",
    "oof": "OOF",
    "working_elsewhere": "WorkingElsewhere",
    "unknown": "NoData",
}
SHOW_AS_FROM_EWS: dict[str, str] = {v: k for k, v in SHOW_AS_TO_EWS.items()}
# An attendee's ResponseType (ResponseTypeType: Unknown, Organizer, Tentative, Accept,
# Decline, NoResponseReceived) as the canonical response.
RESPONSE_FROM_EWS: dict[str, Response] = {
    "Accept": "accepted",
    "Decline": "declined",
    "Tentative": "tentative",
}

# The fields each *_to_ews writes: pass them as `update_fields` to item.save().
CONTACT_FIELDS = (
    "display_name",
    "given_name",
    "surname",
    "email_addresses",
    "phone_numbers",
    "job_title",
    "department",
    "company_name",
    "physical_addresses",
    "body",
)
TASK_FIELDS = ("subject", "body", "due_date", "status", "importance", "complete_date")
EVENT_FIELDS = (
    "subject",
    "body",
    "location",
    "is_all_day",
    "start",
    "end",
    "legacy_free_busy_status",
    "categories",
)


class SalesforceIdProperty(ExtendedProperty):  # type: ignore[misc]  # exchangelib has no type hints
    """Relay's marker: the Salesforce id of the record an item is linked to."""

    property_set_id = SF_ID_PROPERTY_SET
    property_name = SF_ID_PROPERTY_NAME
    property_type = "String"


def register_marker() -> None:
    for cls in (Contact, Task, CalendarItem):
        if MARKER_ATTRIBUTE not in {f.name for f in cls.FIELDS}:
            cls.register(MARKER_ATTRIBUTE, SalesforceIdProperty)


def sf_id_of(item: Any) -> str | None:
    return clean_text(getattr(item, MARKER_ATTRIBUTE, None))


def _set_marker(item: Any, sf_id: str | None) -> None:
    if sf_id:
        register_marker()
        setattr(item, MARKER_ATTRIBUTE, sf_id)


def _body_text(body: Any) -> str | None:
    if body is None:
        return None
    return html_to_text(str(body)) if isinstance(body, HTMLBody) else clean_text(str(body))


def _zone(tz: str) -> EWSTimeZone:
    try:
        return EWSTimeZone(resolve_zone(tz).key)
    except UnknownTimeZoneError:
        return EWSTimeZone("UTC")


def _instant(value: dt.datetime, zone: EWSTimeZone | None = None) -> EWSDateTime:
    """An aware datetime as exchangelib wants it (EWSDateTime in an EWSTimeZone)."""
    utc = value.astimezone(dt.UTC)
    out = EWSDateTime(*utc.timetuple()[:6], tzinfo=EWSTimeZone("UTC"))
    return out.astimezone(zone) if zone is not None else out


def _plain(value: Any) -> Any:
    """exchangelib's EWSDateTime as a plain UTC datetime (its astimezone refuses dt.UTC)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return dt.datetime(*value.utctimetuple()[:6], tzinfo=dt.UTC)
    return value


def _first(entries: Sequence[Any] | None, label: str) -> Any:
    return next((e for e in entries or () if getattr(e, "label", None) == label), None)


def _replace_label(entries: Sequence[Any] | None, label: str, new: Any) -> list[Any]:
    """The user's other entries kept; the one with `label` replaced (or dropped)."""
    kept = [e for e in entries or () if getattr(e, "label", None) != label]
    return kept + ([new] if new is not None else [])


# --- contacts ----------------------------------------------------------------------------


def contact_from_ews(item: Contact) -> ContactFields:
    """Canonical contact; names come from the display name when both are empty."""
    email = _first(item.email_addresses, "EmailAddress1")
    phone = _first(item.phone_numbers, "BusinessPhone")
    mobile = _first(item.phone_numbers, "MobilePhone")
    address = _first(item.physical_addresses, "Business")
    company = clean_text(item.company_name)
    first, last = clean_text(item.given_name), clean_text(item.surname)
    if not first and not last:
        display = clean_text(item.display_name)
        address_text = email.email if email else None
        if display and display.casefold() not in {
            (address_text or "").casefold(),
            (company or "").casefold(),
        }:
            first, last = split_display_name(display)
    fields = {
        "first_name": first,
        "last_name": last,
        "email": email.email if email else None,
        "phone": phone.phone_number if phone else None,
        "mobile": mobile.phone_number if mobile else None,
        "title": item.job_title,
        "department": item.department,
        "company": company,
        "street": address.street if address else None,
        "city": address.city if address else None,
        "state": address.state if address else None,
        "postal_code": address.zipcode if address else None,
        "country": address.country if address else None,
        "description": _body_text(item.body),
    }
    return normalize("contact", fields)  # type: ignore[return-value]


def contact_to_ews(
    fields: Mapping[str, Any],
    *,
    sf_id: str | None = None,
    existing: Contact | None = None,
    folder: Any = None,
) -> Contact:
    """A new Contact, or `existing` changed in place (its other emails, phones and
    addresses kept). Save with `update_fields=CONTACT_FIELDS` when updating."""
    f = normalize("contact", fields)
    item = existing if existing is not None else Contact(folder=folder)
    display = " ".join(p for p in (f["first_name"], f["last_name"]) if p)
    item.display_name = display or f["email"] or f["company"] or "(no name)"
    item.given_name, item.surname = f["first_name"], f["last_name"]
    email = EmailAddress(email=f["email"], label="EmailAddress1") if f["email"] else None
    item.email_addresses = _replace_label(item.email_addresses, "EmailAddress1", email) or None
    phones = _replace_label(
        item.phone_numbers,
        "BusinessPhone",
        PhoneNumber(label="BusinessPhone", phone_number=f["phone"]) if f["phone"] else None,
    )
    phones = _replace_label(
        phones,
        "MobilePhone",
        PhoneNumber(label="MobilePhone", phone_number=f["mobile"]) if f["mobile"] else None,
    )
    item.phone_numbers = phones or None
    parts = {k: f[k] for k in ("street", "city", "state", "postal_code", "country")}
    address = (
        PhysicalAddress(
            label="Business",
            street=parts["street"],
            city=parts["city"],
            state=parts["state"],
            zipcode=parts["postal_code"],
            country=parts["country"],
        )
        if any(parts.values())
        else None
    )
    item.physical_addresses = _replace_label(item.physical_addresses, "Business", address) or None
    item.job_title, item.department = f["title"], f["department"]
    item.company_name = f["company"]
    item.body = Body(f["description"]) if f["description"] else None
    _set_marker(item, sf_id)
    return item


# --- tasks -------------------------------------------------------------------------------


def task_from_ews(item: Task) -> TaskFields:
    due = item.due_date
    if isinstance(due, dt.datetime):
        due = due.date()
    importance = str(item.importance or "Normal").lower()
    fields = {
        "subject": item.subject,
        "description": _body_text(item.body),
        "due_date": due,
        "status": TASK_STATUS_FROM_EWS.get(str(item.status or "NotStarted"), "not_started"),
        "priority": importance if importance in ("low", "normal", "high") else "normal",
        "completed_at": _plain(item.complete_date),
    }
    return normalize("task", fields)  # type: ignore[return-value]


def task_to_ews(
    fields: Mapping[str, Any],
    *,
    sf_id: str | None = None,
    existing: Task | None = None,
    folder: Any = None,
) -> Task:
    f = normalize("task", fields)
    item = existing if existing is not None else Task(folder=folder)
    item.subject = f["subject"] or ""
    item.body = Body(f["description"]) if f["description"] else None
    item.due_date = EWSDate.from_date(f["due_date"]) if f["due_date"] else None
    item.status = TASK_STATUS_TO_EWS[f["status"]]
    item.importance = f["priority"].capitalize()
    completed = f["completed_at"]
    item.complete_date = _instant(completed) if completed else None
    item.percent_complete = Decimal(100 if f["status"] == "completed" else 0)
    _set_marker(item, sf_id)
    return item


# --- events ------------------------------------------------------------------------------


def event_from_ews(item: CalendarItem) -> EventFields:
    """Canonical event (for a master, its first occurrence's times)."""
    all_day = bool(item.is_all_day)
    fields: dict[str, Any] = {
        "subject": item.subject,
        "description": _body_text(item.body),
        "location": item.location,
        "all_day": all_day,
        "show_as": SHOW_AS_FROM_EWS.get(str(item.legacy_free_busy_status or "Busy"), "busy"),
    }
    if all_day:
        start, end = item.start, item.end
        fields["start_date"] = start if not isinstance(start, dt.datetime) else start.date()
        last = end if not isinstance(end, dt.datetime) else end.date()
        # exchangelib's end is the last day; canonical's is the day after.
        fields["end_date"] = last + dt.timedelta(days=1) if last else None
    else:
        fields["start"], fields["end"] = _plain(item.start), _plain(item.end)
    return normalize("event", fields)  # type: ignore[return-value]


def event_to_ews(
    fields: Mapping[str, Any],
    tz: str = "UTC",
    *,
    sf_id: str | None = None,
    existing: CalendarItem | None = None,
    folder: Any = None,
) -> CalendarItem:
    """A CalendarItem in zone `tz` (Windows or IANA); the user's categories are kept and
    "Salesforce" is always among them (SPEC §2). Never touches attendees: Relay writes with
    SendToNone and gives no attendees to the mailbox copy."""
    f = normalize("event", fields)
    item = existing if existing is not None else CalendarItem(folder=folder)
    cats = list(item.categories or [])
    if not any(c.casefold() == SALESFORCE_CATEGORY.casefold() for c in cats):
        cats.append(SALESFORCE_CATEGORY)
    item.categories = cats
    item.subject = f["subject"] or ""
    item.body = Body(f["description"]) if f["description"] else None
    item.location = f["location"]
    item.legacy_free_busy_status = SHOW_AS_TO_EWS[f["show_as"]]
    item.is_all_day = f["all_day"]
    zone = _zone(tz)
    if f["all_day"]:
        # Midnights in the user's zone (end exclusive), as Exchange stores all-day events;
        # exchangelib takes the zone from the datetimes and reads dates back.
        item.start = EWSDateTime.combine(f["start_date"], dt.time(0)).replace(tzinfo=zone)
        item.end = EWSDateTime.combine(f["end_date"], dt.time(0)).replace(tzinfo=zone)
    else:
        item.start, item.end = _instant(f["start"], zone), _instant(f["end"], zone)
    _set_marker(item, sf_id)
    return item


def has_salesforce_category(item: CalendarItem) -> bool:
    return any(str(c).casefold() == SALESFORCE_CATEGORY.casefold() for c in item.categories or ())


def event_description(item: CalendarItem) -> str | None:
    """The body as text, as the mailbox holds it (Relay's "In Salesforce:" block included)."""
    return _body_text(item.body)


def _address(mailbox: Any) -> str:
    return str(getattr(mailbox, "email_address", None) or "").strip().lower()


def people_from_ews(item: CalendarItem) -> MailboxPeople:
    """Required and optional attendees (Resources — rooms, equipment — are not people),
    the organizer, and the meeting's identity across mailboxes: EWS `UID` is the iCalendar
    UID, the same for every occurrence of a series, so an occurrence or exception is named
    by its UID and original start (RecurrenceId), as its series key; both are the same in
    every attendee's copy. The owner organizes unless MyResponseType says otherwise."""
    organizer = _address(item.organizer) or None
    attendees = []
    for role, people in (
        ("required", item.required_attendees),
        ("optional", item.optional_attendees),
    ):
        for person in people or ():
            address = _address(person.mailbox)
            if not address or address == organizer:
                continue
            attendees.append(
                Attendee(
                    address,
                    str(getattr(person.mailbox, "name", None) or "").strip(),
                    "optional" if role == "optional" else "required",
                    RESPONSE_FROM_EWS.get(str(person.response_type or ""), "none"),
                )
            )
    uid = clean_text(item.uid)
    original = item.recurrence_id or item.original_start
    if uid and str(item.type or "") in ("Occurrence", "Exception") and original is not None:
        when = _plain(original)
        uid = series_key(uid, when.date() if item.is_all_day else when)
    mine = str(item.my_response_type or "Organizer") == "Organizer"
    return MailboxPeople(uid, organizer, tuple(attendees), mine)
