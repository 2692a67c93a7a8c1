"""Keys for occurrences of recurring mailbox series.

Relay syncs a recurring series occurrence by occurrence inside the window
(SPEC §5): each occurrence or exception is its own item, keyed by the series id
and its ORIGINAL start (the start the recurrence rule gave it, which does not
move when the user reschedules that one occurrence). The key is a stable
string: ``"<series id>|<original start>"`` where the original start is
``YYYYMMDDTHHMMSSZ`` in UTC for timed series and ``YYYYMMDD`` for all-day ones
(the iCalendar RECURRENCE-ID forms).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .timezones import (
    UTC,
    UnknownTimeZoneError,
    date_in_zone,
    local_to_utc,
    parse_aware,
    parse_naive,
)

SEPARATOR = "|"


def series_key(series_id: str, original_start: dt.datetime | dt.date) -> str:
    """The stable key of one occurrence. Aware datetimes are keyed in UTC (seconds);
    dates (all-day series) by the date."""
    if not series_id:
        raise ValueError("series_key needs a series id")
    if isinstance(original_start, dt.datetime):
        if original_start.tzinfo is None:
            raise ValueError("series_key needs an aware original start")
        stamp = original_start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    else:
        stamp = original_start.strftime("%Y%m%d")
    return f"{series_id}{SEPARATOR}{stamp}"


def parse_series_key(key: str) -> tuple[str, dt.datetime | dt.date]:
    """The (series id, original start) a key was built from."""
    series_id, _, stamp = key.rpartition(SEPARATOR)
    if not series_id:
        raise ValueError(f"not a series key: {key!r}")
    if "T" in stamp:
        return series_id, dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return series_id, dt.datetime.strptime(stamp, "%Y%m%d").date()


def graph_series_key(item: Mapping[str, Any]) -> str | None:
    """The key of a Graph occurrence or exception (``seriesMasterId`` + ``originalStart``,
    an Edm.DateTimeOffset); None for single events and series masters. All-day series
    are keyed by the date of ``originalStart`` in ``originalStartTimeZone``."""
    master = item.get("seriesMasterId")
    original = item.get("originalStart")
    if not master or not original or item.get("type") in ("singleInstance", "seriesMaster"):
        return None
    instant = parse_aware(original) if _has_offset(original) else parse_naive(original)
    if instant.tzinfo is None:
        instant = local_to_utc(instant, item.get("originalStartTimeZone") or "UTC")
    if item.get("isAllDay"):
        zone = item.get("originalStartTimeZone") or "UTC"
        try:
            return series_key(master, date_in_zone(instant, zone))
        except UnknownTimeZoneError:
            return series_key(master, instant.date())
    return series_key(master, instant)


def google_series_key(item: Mapping[str, Any], user_tz: str = "UTC") -> str | None:
    """The key of a Google instance (``recurringEventId`` + ``originalStartTime``,
    ``{dateTime}`` or ``{date}``); None for events that are not instances."""
    master = item.get("recurringEventId")
    original = item.get("originalStartTime") or {}
    if not master or not original:
        return None
    if original.get("date") and not original.get("dateTime"):
        return series_key(master, dt.date.fromisoformat(original["date"]))
    text = original["dateTime"]
    if _has_offset(text):
        return series_key(master, parse_aware(text))
    return series_key(master, local_to_utc(parse_naive(text), original.get("timeZone") or user_tz))


def _has_offset(text: str) -> bool:
    tail = text.strip()[10:]
    return tail.endswith(("Z", "z")) or "+" in tail or "-" in tail
