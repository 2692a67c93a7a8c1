"""Salesforce Contact / Task / Event sObjects <-> canonical records.

Reads take the records as the REST API returns them (``query``/``queryAll``
rows; relationship fields nested, e.g. ``{"Account": {"Name": ...}}``). Writes
return only fields Relay may write, with ``None`` meaning "clear this field"
(the REST API sets a field to null when the JSON value is null).

Decisions where the API leaves room:
- Contact ``company`` is ``Account.Name``: read-only here. Salesforce links a
  contact to an Account by id, so up-sync never invents or renames Accounts.
- Salesforce requires ``LastName``; ``derive_last_name`` fills it for mailbox
  contacts without one, the way the mailbox itself shows such a contact.
- Task ``CompletedDateTime`` is read-only (Salesforce stamps it when the task
  closes), so ``task_to_sf`` does not send it.
- A task status outside the five standard values (a custom picklist value)
  reads as "completed" when ``IsClosed`` and "not_started" otherwise.
- Event ``ShowAs`` holds Busy / OutOfOffice / Free; "tentative",
  "working_elsewhere" and "unknown" are written as Busy and survive a read-back
  through ``previous`` (see ``canonical.keep_richer``).
- All-day events are written as ``IsAllDayEvent`` + ``ActivityDate`` +
  ``StartDateTime`` (midnight GMT of that date, which the docs require to agree
  with ActivityDate) + ``DurationInMinutes`` (days x 1440); EndDateTime is left
  for Salesforce to derive. They are read from ActivityDate and
  DurationInMinutes, falling back to EndDateTime as the last day (inclusive).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .canonical import (
    ContactFields,
    EventFields,
    TaskFields,
    as_date,
    clean_text,
    keep_richer,
    normalize,
)
from .timezones import UTC, parse_aware

_SYSTEM_FIELDS = ["CreatedDate", "LastModifiedDate", "SystemModstamp", "IsDeleted"]

#: SOQL SELECT list for Contact ("Account.Name" is a relationship field: company).
CONTACT_FIELDS: list[str] = [
    "Id",
    "OwnerId",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "MobilePhone",
    "Title",
    "Department",
    "AccountId",
    "Account.Name",
    "MailingStreet",
    "MailingCity",
    "MailingState",
    "MailingPostalCode",
    "MailingCountry",
    "Description",
    *_SYSTEM_FIELDS,
    "MasterRecordId",
]

TASK_FIELDS: list[str] = [
    "Id",
    "OwnerId",
    "WhoId",
    "WhatId",
    "Subject",
    "Description",
    "ActivityDate",
    "Status",
    "IsClosed",
    "Priority",
    "CompletedDateTime",
    "IsRecurrence",
    "IsArchived",
    *_SYSTEM_FIELDS,
]

EVENT_FIELDS: list[str] = [
    "Id",
    "OwnerId",
    "WhoId",
    "WhatId",
    "Subject",
    "Description",
    "Location",
    "IsAllDayEvent",
    "StartDateTime",
    "EndDateTime",
    "ActivityDate",
    "DurationInMinutes",
    "ShowAs",
    "IsPrivate",
    "IsChild",
    "IsGroupEvent",
    "IsRecurrence",
    "IsArchived",
    *_SYSTEM_FIELDS,
]

# --- values ------------------------------------------------------------------------------

TASK_STATUS_TO_SF: dict[str, str] = {
    "not_started": "Not Started",
    "in_progress": "In Progress",
    "completed": "Completed",
    "waiting": "Waiting on someone else",
    "deferred": "Deferred",
}
TASK_STATUS_FROM_SF: dict[str, str] = {v.lower(): k for k, v in TASK_STATUS_TO_SF.items()}

TASK_PRIORITY_TO_SF: dict[str, str] = {"low": "Low", "normal": "Normal", "high": "High"}
TASK_PRIORITY_FROM_SF: dict[str, str] = {v.lower(): k for k, v in TASK_PRIORITY_TO_SF.items()}

SHOW_AS_TO_SF: dict[str, str] = {
    "busy": "Busy",
    "free": "Free",
    "oof": "OutOfOffice",
    "tentative": "Busy",
    "working_elsewhere": "Busy",
    "unknown": "Busy",
}
SHOW_AS_FROM_SF: dict[str, str] = {"busy": "busy", "free": "free", "outofoffice": "oof"}

MINUTES_PER_DAY = 1440


def parse_sf_datetime(value: str | None) -> dt.datetime | None:
    """A Salesforce dateTime ("2026-03-01T15:00:00.000+0000") as an aware UTC datetime."""
    if value is None or value == "":
        return None
    return parse_aware(value)


def format_sf_datetime(value: dt.datetime) -> str:
    """An aware datetime the way Salesforce sends it: UTC, milliseconds, "+0000"."""
    if value.tzinfo is None:
        raise ValueError("format_sf_datetime needs an aware datetime")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_sf_date(value: str | None) -> dt.date | None:
    """A Salesforce date ("2026-03-01")."""
    return as_date(value)


def format_sf_date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- contacts ----------------------------------------------------------------------------


def contact_from_sf(record: Mapping[str, Any]) -> ContactFields:
    account = record.get("Account")
    company = account.get("Name") if isinstance(account, Mapping) else record.get("Account.Name")
    fields = {
        "first_name": record.get("FirstName"),
        "last_name": record.get("LastName"),
        "email": record.get("Email"),
        "phone": record.get("Phone"),
        "mobile": record.get("MobilePhone"),
        "title": record.get("Title"),
        "department": record.get("Department"),
        "company": company,
        "street": record.get("MailingStreet"),
        "city": record.get("MailingCity"),
        "state": record.get("MailingState"),
        "postal_code": record.get("MailingPostalCode"),
        "country": record.get("MailingCountry"),
        "description": record.get("Description"),
    }
    return normalize("contact", fields)  # type: ignore[return-value]


NO_NAME = "(no name)"


def derive_last_name(fields: Mapping[str, Any]) -> tuple[str | None, str]:
    """(FirstName, LastName) for Salesforce, which requires a last name.

    With a last name, nothing changes. Without one, Relay names the contact the
    way Outlook and Gmail display it, so the user recognises it in Salesforce:
    - only a first name ("Madonna"): it becomes the last name and FirstName is
      left empty (Salesforce shows "Madonna", not "Madonna Madonna");
    - no name at all: the company, else the email address, else the mobile or
      phone number, else "(no name)".
    The mailbox display name never reaches this point: the Graph and Google
    mappers already split it into first/last name when the item has no
    structured name.
    """
    first = clean_text(fields.get("first_name"))
    last = clean_text(fields.get("last_name"))
    if last:
        return first, last
    if first:
        return None, first
    for key in ("company", "email", "mobile", "phone"):
        value = clean_text(fields.get(key))
        if value:
            return None, value
    return None, NO_NAME


def contact_to_sf(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Writable Contact fields (no company: see the module docstring)."""
    f = normalize("contact", fields)
    first, last = derive_last_name(f)
    return {
        "FirstName": first,
        "LastName": last,
        "Email": f["email"],
        "Phone": f["phone"],
        "MobilePhone": f["mobile"],
        "Title": f["title"],
        "Department": f["department"],
        "MailingStreet": f["street"],
        "MailingCity": f["city"],
        "MailingState": f["state"],
        "MailingPostalCode": f["postal_code"],
        "MailingCountry": f["country"],
        "Description": f["description"],
    }


# --- tasks -------------------------------------------------------------------------------


def task_from_sf(record: Mapping[str, Any]) -> TaskFields:
    raw_status = clean_text(record.get("Status"))
    status = TASK_STATUS_FROM_SF.get((raw_status or "").lower())
    if status is None:
        status = "completed" if record.get("IsClosed") else "not_started"
    priority = TASK_PRIORITY_FROM_SF.get((clean_text(record.get("Priority")) or "").lower())
    fields = {
        "subject": record.get("Subject"),
        "description": record.get("Description"),
        "due_date": parse_sf_date(record.get("ActivityDate")),
        "status": status,
        "priority": priority or "normal",
        "completed_at": parse_sf_datetime(record.get("CompletedDateTime")),
    }
    return normalize("task", fields)  # type: ignore[return-value]


def task_to_sf(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Writable Task fields (CompletedDateTime is stamped by Salesforce)."""
    f = normalize("task", fields)
    return {
        "Subject": f["subject"],
        "Description": f["description"],
        "ActivityDate": format_sf_date(f["due_date"]),
        "Status": TASK_STATUS_TO_SF[f["status"]],
        "Priority": TASK_PRIORITY_TO_SF[f["priority"]],
    }


# --- events ------------------------------------------------------------------------------


def event_from_sf(
    record: Mapping[str, Any], previous: Mapping[str, Any] | None = None
) -> EventFields:
    """Canonical event; ``previous`` (the last canonical copy) keeps show_as values
    ShowAs cannot hold."""
    raw_show = clean_text(record.get("ShowAs")) or "Busy"
    show_as = SHOW_AS_FROM_SF.get(raw_show.lower(), "busy")
    show_as = keep_richer(
        show_as, (previous or {}).get("show_as"), SHOW_AS_TO_SF, SHOW_AS_TO_SF[show_as]
    )
    start = parse_sf_datetime(record.get("StartDateTime"))
    fields: dict[str, Any] = {
        "subject": record.get("Subject"),
        "description": record.get("Description"),
        "location": record.get("Location"),
        "all_day": bool(record.get("IsAllDayEvent")),
        "show_as": show_as,
    }
    duration = record.get("DurationInMinutes")
    if fields["all_day"]:
        start_date = parse_sf_date(record.get("ActivityDate"))
        if start_date is None and start is not None:
            start_date = start.date()  # midnight GMT of the date
        if duration:
            days = max(1, -(-int(duration) // MINUTES_PER_DAY))
        else:
            end = parse_sf_datetime(record.get("EndDateTime"))
            days = (end.date() - start_date).days + 1 if end and start_date else 1
        fields["start_date"] = start_date
        fields["end_date"] = start_date + dt.timedelta(days=max(1, days)) if start_date else None
    else:
        end = parse_sf_datetime(record.get("EndDateTime"))
        if end is None and start is not None and duration is not None:
            end = start + dt.timedelta(minutes=int(duration))
        fields["start"], fields["end"] = start, end
    return normalize("event", fields)  # type: ignore[return-value]


def event_to_sf(fields: Mapping[str, Any]) -> dict[str, Any]:
    f = normalize("event", fields)
    out: dict[str, Any] = {
        "Subject": f["subject"],
        "Description": f["description"],
        "Location": f["location"],
        "ShowAs": SHOW_AS_TO_SF[f["show_as"]],
        "IsAllDayEvent": f["all_day"],
    }
    if f["all_day"]:
        days = (f["end_date"] - f["start_date"]).days
        midnight = dt.datetime.combine(f["start_date"], dt.time(), tzinfo=UTC)
        out["ActivityDate"] = format_sf_date(f["start_date"])
        out["StartDateTime"] = format_sf_datetime(midnight)
        out["DurationInMinutes"] = days * MINUTES_PER_DAY
    else:
        # EndDateTime alone: Salesforce derives DurationInMinutes (sending both risks a
        # disagreement error when the span is not whole minutes).
        out["StartDateTime"] = format_sf_datetime(f["start"])
        out["EndDateTime"] = format_sf_datetime(f["end"])
    return out
