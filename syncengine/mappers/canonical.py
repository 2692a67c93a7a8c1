"""Relay's canonical records: the one shape every side is mapped to before planning.

The planner compares canonical records, so ``normalize`` decides what counts as
a change. Its rules:

- Every field is present; missing, ``None``, ``""`` and whitespace-only strings
  are all ``None`` (an empty string and an absent field are not a change).
- Strings are stripped and line endings become ``\\n`` (Outlook sends CRLF).
- Emails keep the case the user typed (Salesforce and the mailbox show it);
  matching compares ``email_key(email)``, which is case-insensitive.
- Dates are ``datetime.date``; datetimes are aware, converted to UTC, whole seconds.
- task: ``status`` defaults to "not_started", ``priority`` to "normal";
  ``completed_at`` is kept only while the status is "completed" (every side
  clears it when a task is reopened).
- event: timed events carry ``start``/``end`` (UTC) and no dates; all-day events
  carry ``start_date``/``end_date`` (end EXCLUSIVE) and no datetimes. A missing or
  non-positive all-day span becomes one day; a missing or negative timed end
  becomes ``start`` (zero length). ``show_as`` defaults to "busy" (every side's
  default).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any, Literal, TypedDict

from .timezones import parse_aware


class ItemType(StrEnum):
    """The synced item types: the one enum the mappers, the planner and the engine share."""

    CONTACT = "contact"
    TASK = "task"
    EVENT = "event"


TaskStatus = Literal["not_started", "in_progress", "completed", "waiting", "deferred"]
TaskPriority = Literal["low", "normal", "high"]
ShowAs = Literal["free", "tentative", "busy", "oof", "working_elsewhere", "unknown"]


class ContactFields(TypedDict):
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    mobile: str | None
    title: str | None
    department: str | None
    company: str | None
    street: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None
    description: str | None


class TaskFields(TypedDict):
    subject: str | None
    description: str | None
    due_date: dt.date | None
    status: TaskStatus
    priority: TaskPriority
    completed_at: dt.datetime | None


class EventFields(TypedDict):
    subject: str | None
    description: str | None
    location: str | None
    all_day: bool
    start: dt.datetime | None
    end: dt.datetime | None
    start_date: dt.date | None
    end_date: dt.date | None
    show_as: ShowAs


CONTACT_FIELDS: tuple[str, ...] = tuple(ContactFields.__annotations__)
TASK_FIELDS: tuple[str, ...] = tuple(TaskFields.__annotations__)
EVENT_FIELDS: tuple[str, ...] = tuple(EventFields.__annotations__)
FIELDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "contact": CONTACT_FIELDS,
    "task": TASK_FIELDS,
    "event": EVENT_FIELDS,
}

TASK_STATUSES: tuple[str, ...] = ("not_started", "in_progress", "completed", "waiting", "deferred")
TASK_PRIORITIES: tuple[str, ...] = ("low", "normal", "high")
SHOW_AS_VALUES: tuple[str, ...] = (
    "free",
    "tentative",
    "busy",
    "oof",
    "working_elsewhere",
    "unknown",
)

_DATE_FIELDS = frozenset({"due_date", "start_date", "end_date"})
_DATETIME_FIELDS = frozenset({"completed_at", "start", "end"})


def clean_text(value: Any) -> str | None:
    """A stripped string with ``\\n`` line endings, or None for None/empty/blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        raise TypeError("a date field got a datetime; convert it in the user's zone first")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip()[:10])
    raise TypeError(f"expected a date, got {type(value).__name__}")


def as_utc(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = parse_aware(value)
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime in a canonical record; Relay stores aware UTC")
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _choice(value: Any, allowed: tuple[str, ...], default: str, name: str) -> str:
    if value is None or value == "":
        return default
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return str(value)


def normalize(item_type: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical record for ``fields`` (see the module docstring for the rules).

    Unknown keys are an error: they mean a mapper and the planner disagree on names.
    """
    try:
        names = FIELDS_BY_TYPE[item_type]
    except KeyError:
        raise ValueError(f"unknown item type {item_type!r}") from None
    unknown = set(fields) - set(names)
    if unknown:
        raise ValueError(f"unknown {item_type} fields: {sorted(unknown)}")
    out: dict[str, Any] = {}
    for name in names:
        value = fields.get(name)
        if name in _DATE_FIELDS:
            out[name] = as_date(value)
        elif name in _DATETIME_FIELDS:
            out[name] = as_utc(value)
        elif name == "all_day":
            out[name] = bool(value)
        elif name in ("status", "priority", "show_as"):
            out[name] = value
        else:
            out[name] = clean_text(value)
    if item_type == "task":
        out["status"] = _choice(out["status"], TASK_STATUSES, "not_started", "status")
        out["priority"] = _choice(out["priority"], TASK_PRIORITIES, "normal", "priority")
        if out["status"] != "completed":
            out["completed_at"] = None
    elif item_type == "event":
        out["show_as"] = _choice(out["show_as"], SHOW_AS_VALUES, "busy", "show_as")
        _normalize_event_span(out)
    return out


def _normalize_event_span(out: dict[str, Any]) -> None:
    if out["all_day"]:
        if out["start_date"] is None and out["start"] is not None:
            out["start_date"] = out["start"].date()
        if out["start_date"] is None:
            raise ValueError("an all-day event needs start_date")
        if out["end_date"] is None or out["end_date"] <= out["start_date"]:
            out["end_date"] = out["start_date"] + dt.timedelta(days=1)
        out["start"] = out["end"] = None
    else:
        if out["start"] is None:
            raise ValueError("a timed event needs start")
        if out["end"] is None or out["end"] < out["start"]:
            out["end"] = out["start"]
        out["start_date"] = out["end_date"] = None


def email_key(email: str | None) -> str | None:
    """The form emails are matched by: stripped and case-folded (None when empty)."""
    text = clean_text(email)
    return text.casefold() if text else None


def keep_richer(read: str, previous: str | None, image_of: Mapping[str, str], seen: str) -> str:
    """Resolve a lossy mapping on the way back.

    ``read`` is what the API value ``seen`` maps to; ``image_of`` maps a canonical
    value to what the API can hold. When the previous canonical value still has
    ``seen`` as its image, the API did not change it, so the richer previous value
    stands (a Salesforce "waiting" task stays "waiting" while Google shows
    needsAction); otherwise the user changed it on the API side and ``read`` wins.
    """
    if previous is not None and image_of.get(previous) == seen:
        return previous
    return read


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    _SKIP = frozenset({"style", "script", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str | None) -> str | None:
    """Plain text of an HTML body (Outlook and Google Calendar store bodies as HTML):
    tags dropped, block elements as line breaks, entities decoded, blank runs collapsed."""
    if not html:
        return None
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).replace("\xa0", " ").split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return clean_text(text)


_HTML_TAG = re.compile(r"<(?:br|p|div|span|b|i|u|a|ul|ol|li|html|body|font)\b[^>]*>", re.I)


def looks_like_html(text: str | None) -> bool:
    return bool(text) and _HTML_TAG.search(text) is not None  # type: ignore[arg-type]


def split_display_name(display_name: str | None) -> tuple[str | None, str | None]:
    """("Jane Q.", "Doe") from "Jane Q. Doe"; a single word is the last name."""
    text = clean_text(display_name)
    if not text:
        return None, None
    if "," in text:  # "Doe, Jane" (Outlook's "Last, First" file-as order)
        last, _, first = text.partition(",")
        return clean_text(first), clean_text(last)
    first, _, last = text.rpartition(" ")
    return clean_text(first), clean_text(last)
