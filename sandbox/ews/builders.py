"""Item elements for the Python control API and the demo: what Outlook would store.

Each builder returns the `<t:Contact>` / `<t:Task>` / `<t:CalendarItem>` element an EWS
client would send, so items made "as the user" go through the same storage as CreateItem.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from .soap import el, sub, t

FMT = "%Y-%m-%dT%H:%M:%SZ"
RELAY_PROPERTY_SET = "1a3c137e-86df-405b-92f4-4c0a716fc87e"  # as Relay's marker on Graph


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime(FMT)


def extended(value: str, name: str = "RelaySalesforceId", set_id: str = RELAY_PROPERTY_SET):
    prop = el(t("ExtendedProperty"))
    sub(prop, t("ExtendedFieldURI"), PropertySetId=set_id, PropertyName=name, PropertyType="String")
    sub(prop, t("Value"), value)
    return prop


def _categories(parent: ET.Element, categories: Iterable[str]) -> None:
    names = list(categories)
    if names:
        holder = sub(parent, t("Categories"))
        for name in names:
            sub(holder, t("String"), name)


def contact(
    given: str,
    surname: str,
    email: str | None = None,
    *,
    company: str | None = None,
    phone: str | None = None,
    categories: Iterable[str] = (),
    marker: str | None = None,
) -> ET.Element:
    item = el(t("Contact"))
    _categories(item, categories)
    if marker:
        item.append(extended(marker))
    sub(item, t("DisplayName"), f"{given} {surname}".strip())
    sub(item, t("GivenName"), given)
    if company:
        sub(item, t("CompanyName"), company)
    if email:
        sub(sub(item, t("EmailAddresses")), t("Entry"), email, Key="EmailAddress1")
    if phone:
        sub(sub(item, t("PhoneNumbers")), t("Entry"), phone, Key="BusinessPhone")
    sub(item, t("Surname"), surname)
    return item


def task(
    subject: str,
    due: dt.date | None = None,
    *,
    status: str = "NotStarted",
    body: str | None = None,
    marker: str | None = None,
) -> ET.Element:
    item = el(t("Task"))
    sub(item, t("Subject"), subject)
    if body:
        sub(item, t("Body"), body, BodyType="Text")
    if marker:
        item.append(extended(marker))
    if due:
        sub(item, t("DueDate"), f"{due.isoformat()}T00:00:00Z")
    sub(item, t("Status"), status)
    return item


def attendee(address: str, response_type: str = "Unknown") -> ET.Element:
    out = el(t("Attendee"))
    mailbox = sub(out, t("Mailbox"))
    sub(mailbox, t("EmailAddress"), address)
    sub(mailbox, t("RoutingType"), "SMTP")
    sub(out, t("ResponseType"), response_type)
    return out


def attendee_lists(
    item: ET.Element,
    required: Iterable[tuple[str, str]] = (),
    optional: Iterable[tuple[str, str]] = (),
) -> None:
    """`RequiredAttendees` / `OptionalAttendees` of (address, ResponseType) pairs."""
    for tag, people in (
        ("RequiredAttendees", list(required)),
        ("OptionalAttendees", list(optional)),
    ):
        if people:
            holder = sub(item, t(tag))
            for address, response_type in people:
                holder.append(attendee(address, response_type))


def event(
    subject: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    time_zone: str = "UTC",
    body: str | None = None,
    location: str | None = None,
    categories: Iterable[str] = (),
    attendees: Iterable[tuple[str, str]] = (),  # (address, ResponseType): required
    optional: Iterable[tuple[str, str]] = (),  # (address, ResponseType): optional
    uid: str | None = None,  # the iCalendar UID (the server makes one when None)
    organizer: str | None = None,  # another organizer: the copy of an invitee
    my_response: str = "Accept",  # an invitee copy's MyResponseType
    weekly_on: Iterable[str] = (),  # "Monday" …: a weekly series from the start's date
    occurrences: int | None = None,
    all_day: bool = False,
    marker: str | None = None,
) -> ET.Element:
    item = el(t("CalendarItem"))
    sub(item, t("Subject"), subject)
    if body:
        sub(item, t("Body"), body, BodyType="Text")
    _categories(item, categories)
    if marker:
        item.append(extended(marker))
    sub(item, t("Start"), _utc(start))
    sub(item, t("End"), _utc(end))
    sub(item, t("IsAllDayEvent"), "true" if all_day else "false")
    if location:
        sub(item, t("Location"), location)
    if uid:
        sub(item, t("UID"), uid)
    if organizer:
        holder = sub(sub(item, t("Organizer")), t("Mailbox"))
        sub(holder, t("EmailAddress"), organizer)
        sub(holder, t("RoutingType"), "SMTP")
        sub(item, t("MyResponseType"), my_response)
    attendee_lists(item, attendees, optional)
    days = list(weekly_on)
    if days:
        recurrence = sub(item, t("Recurrence"))
        weekly = sub(recurrence, t("WeeklyRecurrence"))
        sub(weekly, t("Interval"), "1")
        sub(weekly, t("DaysOfWeek"), " ".join(days))
        local_day = start.date().isoformat()
        rng = sub(recurrence, t("NumberedRecurrence" if occurrences else "NoEndRecurrence"))
        sub(rng, t("StartDate"), local_day)
        if occurrences:
            sub(rng, t("NumberOfOccurrences"), str(occurrences))
    sub(item, t("StartTimeZone"), Id=time_zone)
    sub(item, t("EndTimeZone"), Id=time_zone)
    return item
