"""The user's side of the Exchange Server kind for the engine model (model.py).

Reads come from the EWS emulator's store, rendered as the emulator answers them and parsed
by exchangelib (no HTTP call, so a fault armed for the next session is never spent by the
model looking). New items are stored through the emulator's Python API ("made in
Outlook"); edits go through exchangelib's `save` over EWS as the user's own client would
(UpdateItem, SendToNone: a user's edit never counts as an invitation Relay sent). The
model arms its faults only when a session starts, so these calls never meet one.

Ids are the emulator's counters (item ids, occurrence ids, change keys and meeting UIDs
restart with every reset), so a seed replays exactly.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from exchangelib import CalendarItem, EWSDate, EWSDateTime, EWSTimeZone
from exchangelib.indexed_properties import EmailAddress
from exchangelib.properties import Attendee, Mailbox
from lxml import etree as lxml_etree

from sandbox.ews import builders
from sandbox.ews.render import Shape
from syncengine.mappers import exchange as emap

from .conftest import EMAIL

HORIZON = dt.timedelta(days=400)  # how far either side of "now" a series is expanded
UTC = EWSTimeZone("UTC")


def _ews_utc(value: dt.datetime) -> EWSDateTime:
    return EWSDateTime(*value.astimezone(dt.UTC).timetuple()[:6], tzinfo=UTC)


def events(w: Any) -> list[CalendarItem]:
    """The calendar's events marked "Salesforce", a series as its occurrences (what a
    CalendarView answers): exchangelib CalendarItems with `.uid` and `.id`."""
    app, account = w.mbapp, w.ews_account()
    until = (w.clock() + HORIZON).date()
    with app.lock:
        box = app.mailbox(EMAIL)
        folder = box.folders[w.container("events")]
        rendered = []
        for item in app.items_in(EMAIL, folder):
            if "Recurrence" in item.fields:
                found = app.occurrences(box, item, until)
                rendered += [app.render_any(box, occ, Shape()) for occ in found]
            else:
                rendered.append(app.render_any(box, item, Shape()))
    parsed = [
        CalendarItem.from_xml(elem=lxml_etree.fromstring(ET.tostring(elem)), account=account)
        for elem in rendered
    ]
    return [e for e in parsed if emap.has_salesforce_category(e)]


def _one(w: Any, role: str, item_id: str) -> Any:
    found = events(w) if role == "events" else w.ews_items(role)
    return next(i for i in found if i.id == item_id)


# -- made in Outlook (the emulator's Python API) -----------------------------------------


def create_task(w: Any, subject: str, due: dt.date) -> str:
    item = w.mbapp.create_item(EMAIL, builders.task(subject, due), w.container("tasks"))
    return str(item.id)


def create_event(
    w: Any,
    subject: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    all_day: bool = False,
    weekly_occurrences: int | None = None,
    guests: Iterable[str] = (),
) -> str:
    element = builders.event(
        subject,
        start,
        end,
        categories=["Salesforce"],
        all_day=all_day,
        attendees=[(g, "Unknown") for g in guests],
        weekly_on=[start.strftime("%A")] if weekly_occurrences else (),
        occurrences=weekly_occurrences,
    )
    return str(w.mbapp.create_item(EMAIL, element, w.container("events")).id)


def rename_occurrence(w: Any, master_id: str, index: int, subject: str) -> None:
    """Rename one occurrence (1-based): an exception, as in Outlook."""
    w.mbapp.modify_occurrence(EMAIL, master_id, index, subject=subject)


def delete_item(w: Any, item_id: str) -> None:
    w.mbapp.delete_item_as_user(EMAIL, item_id)


# -- edited in the user's client (exchangelib, UpdateItem with SendToNone) ---------------


def set_contact_email(w: Any, contact_id: str, address: str) -> None:
    contact = _one(w, "contacts", contact_id)
    contact.email_addresses = [EmailAddress(label="EmailAddress1", email=address)]
    contact.save(update_fields=["email_addresses"])


def edit_task(w: Any, task_id: str, subject: str | None = None, due: dt.date | None = None) -> None:
    task = _one(w, "tasks", task_id)
    if subject is not None:
        task.subject = subject
    if due is not None:
        task.due_date = EWSDate(due.year, due.month, due.day)
    task.save(update_fields=["subject"] if subject is not None else ["due_date"])


def edit_event(
    w: Any,
    event_id: str,
    subject: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> None:
    event = _one(w, "events", event_id)
    names = []
    if subject is not None:
        event.subject, names = subject, ["subject"]
    if start is not None and end is not None:
        event.start, event.end = _ews_utc(start), _ews_utc(end)
        names += ["start", "end"]
    event.save(update_fields=names)


def attendees(event: CalendarItem) -> list[str]:
    people = [*(event.required_attendees or ()), *(event.optional_attendees or ())]
    return [a.mailbox.email_address.lower() for a in people if a.mailbox]


def set_attendees(w: Any, event_id: str, addresses: Iterable[str]) -> None:
    event = _one(w, "events", event_id)
    guests = [
        Attendee(mailbox=Mailbox(email_address=a), response_type="Unknown") for a in addresses
    ]
    event.required_attendees = guests or None
    event.save(update_fields=["required_attendees"])
