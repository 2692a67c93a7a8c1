"""Expanding Graph `patternedRecurrence` objects into occurrence dates.

Supported patterns: daily, weekly (interval + daysOfWeek + firstDayOfWeek), absoluteMonthly
(interval + dayOfMonth). Ranges: endDate, numbered, noEnd. Dates are local to the series'
time zone; the caller puts the series' wall-clock start time on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from .store import invalid

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MAX_OCCURRENCES = 5000  # a guard against runaway noEnd series


def validate(recurrence: dict[str, Any]) -> None:
    pattern = recurrence.get("pattern") or {}
    rng = recurrence.get("range") or {}
    kind = pattern.get("type")
    if kind not in ("daily", "weekly", "absoluteMonthly"):
        raise invalid(
            f"Recurrence pattern type '{kind}' is not supported.", "ErrorInvalidRecurrence"
        )
    if int(pattern.get("interval") or 0) < 1:
        raise invalid("The recurrence interval must be at least 1.", "ErrorInvalidRecurrence")
    if kind == "weekly":
        days = pattern.get("daysOfWeek") or []
        if not days or any(d.lower() not in DAYS for d in days):
            raise invalid("A weekly pattern needs daysOfWeek.", "ErrorInvalidRecurrence")
    if kind == "absoluteMonthly" and not 1 <= int(pattern.get("dayOfMonth") or 0) <= 31:
        raise invalid("An absoluteMonthly pattern needs dayOfMonth.", "ErrorInvalidRecurrence")
    if rng.get("type") not in ("endDate", "noEnd", "numbered"):
        raise invalid("The recurrence range type is invalid.", "ErrorInvalidRecurrence")
    _date(rng.get("startDate"))
    if rng["type"] == "endDate":
        _date(rng.get("endDate"))
    if rng["type"] == "numbered" and int(rng.get("numberOfOccurrences") or 0) < 1:
        raise invalid("numberOfOccurrences must be at least 1.", "ErrorInvalidRecurrence")


def _date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise invalid(f"'{value}' is not a valid date.", "ErrorInvalidRecurrence") from exc


def dates(recurrence: dict[str, Any], until: dt.date) -> Iterator[dt.date]:
    """Occurrence dates in order, stopping after `until` (inclusive) or at the range's end."""
    pattern, rng = recurrence["pattern"], recurrence["range"]
    start = _date(rng["startDate"])
    last = _date(rng["endDate"]) if rng["type"] == "endDate" else None
    remaining = int(rng["numberOfOccurrences"]) if rng["type"] == "numbered" else None
    for count, day in enumerate(_candidates(pattern, start)):
        if day > until or (last and day > last) or count >= _MAX_OCCURRENCES:
            return
        if remaining is not None and count >= remaining:
            return
        yield day


def _candidates(pattern: dict[str, Any], start: dt.date) -> Iterator[dt.date]:
    interval = int(pattern.get("interval") or 1)
    kind = pattern["type"]
    if kind == "daily":
        day = start
        while True:
            yield day
            day += dt.timedelta(days=interval)
    elif kind == "weekly":
        wanted = {DAYS.index(d.lower()) for d in pattern["daysOfWeek"]}
        first = DAYS.index((pattern.get("firstDayOfWeek") or "sunday").lower())
        week_start = start - dt.timedelta(days=(start.weekday() - first) % 7)
        while True:
            for offset in range(7):
                day = week_start + dt.timedelta(days=offset)
                if day >= start and day.weekday() in wanted:
                    yield day
            week_start += dt.timedelta(weeks=interval)
    else:  # absoluteMonthly
        month_index = start.year * 12 + start.month - 1
        target = int(pattern["dayOfMonth"])
        while True:
            year, month = divmod(month_index, 12)
            try:
                day = dt.date(year, month + 1, target)
            except ValueError:
                day = None  # months without that day are skipped, as Outlook does
            if day and day >= start:
                yield day
            month_index += interval
