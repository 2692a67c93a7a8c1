"""Expanding an EWS `<t:Recurrence>` into occurrence start dates, in the series' time zone.

Patterns: Daily, Weekly (DaysOfWeek, FirstDayOfWeek), AbsoluteMonthly, RelativeMonthly,
AbsoluteYearly, RelativeYearly; ranges: NoEnd, EndDate, Numbered. An occurrence keeps the
series' wall-clock start in the series' time zone, so its UTC time moves across a DST
change, as Exchange does. Occurrences are numbered from 1 (EWS's InstanceIndex), deleted
ones included.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/recurrence-recurrencetype
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from sandbox.common import HttpError
from sandbox.graph.timezones import resolve

from .soap import EwsError, local, t

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEK_INDEX = {"First": 1, "Second": 2, "Third": 3, "Fourth": 4, "Last": -1}
MAX_OCCURRENCES = 5000  # a guard against runaway NoEnd series


def zone(name: str | None) -> ZoneInfo:
    """A Windows (or IANA) time-zone id as EWS accepts it; unknown ones are refused."""
    try:
        return resolve(name or "UTC")
    except HttpError as exc:
        raise EwsError(
            "ErrorTimeZone", f"The time zone '{name}' is not valid or not supported."
        ) from exc


def invalid(message: str) -> EwsError:
    return EwsError("ErrorInvalidRecurrence", message)


def _date(text: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat((text or "")[:10])
    except ValueError as exc:
        raise invalid(f"'{text}' is not a valid recurrence date.") from exc


def _int(parent: ET.Element, name: str, default: int | None = None) -> int:
    value = parent.findtext(t(name))
    if value is None:
        if default is None:
            raise invalid(f"The recurrence pattern needs {name}.")
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise invalid(f"{name} must be a number.") from exc


def _days(pattern: ET.Element) -> list[int]:
    text = pattern.findtext(t("DaysOfWeek")) or ""
    names = text.split()
    out = []
    for name in names:
        if name == "Day":
            out.extend(range(7))
        elif name == "Weekday":
            out.extend(range(5))
        elif name == "WeekendDay":
            out.extend((5, 6))
        elif name in DAYS:
            out.append(DAYS.index(name))
        else:
            raise invalid(f"'{name}' is not a day of the week.")
    if not out:
        raise invalid("The recurrence pattern needs DaysOfWeek.")
    return out


def _nth_weekday(year: int, month: int, weekdays: list[int], index: int) -> dt.date | None:
    days = [
        dt.date(year, month, d)
        for d in range(1, 32)
        if _valid(year, month, d) and dt.date(year, month, d).weekday() in weekdays
    ]
    if not days:
        return None
    return days[-1] if index == -1 else (days[index - 1] if index <= len(days) else None)


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def occurrence_dates(recurrence: ET.Element, until: dt.date) -> Iterator[tuple[int, dt.date]]:
    """(InstanceIndex, local date) pairs in order, up to `until` or the range's end."""
    pattern = next((c for c in recurrence if local(c.tag).endswith("Recurrence")), None)
    rng = next(
        (c for c in recurrence if local(c.tag).endswith("Recurrence") and c is not pattern), None
    )
    if pattern is None or rng is None:
        raise invalid("A recurrence needs a pattern and a range.")
    start = _date(rng.findtext(t("StartDate")))
    kind = local(rng.tag)
    last = _date(rng.findtext(t("EndDate"))) if kind == "EndDateRecurrence" else None
    count = _int(rng, "NumberOfOccurrences") if kind == "NumberedRecurrence" else None
    if kind not in ("NoEndRecurrence", "EndDateRecurrence", "NumberedRecurrence"):
        raise invalid(f"The recurrence range {kind} is not valid.")
    for index, day in enumerate(_candidates(pattern, start), start=1):
        if day > until or (last and day > last) or index > MAX_OCCURRENCES:
            return
        if count is not None and index > count:
            return
        yield index, day


def _candidates(pattern: ET.Element, start: dt.date) -> Iterator[dt.date]:
    kind = local(pattern.tag)
    interval = _int(pattern, "Interval", 1)
    if interval < 1 and kind not in ("AbsoluteYearlyRecurrence", "RelativeYearlyRecurrence"):
        raise invalid("The recurrence interval must be at least 1.")
    if kind == "DailyRecurrence":
        day = start
        while True:
            yield day
            day += dt.timedelta(days=interval)
    elif kind == "WeeklyRecurrence":
        wanted = set(_days(pattern))
        first = DAYS.index(pattern.findtext(t("FirstDayOfWeek")) or "Sunday")
        week = start - dt.timedelta(days=(start.weekday() - first) % 7)
        while True:
            for offset in range(7):
                day = week + dt.timedelta(days=offset)
                if day >= start and day.weekday() in wanted:
                    yield day
            week += dt.timedelta(weeks=interval)
    elif kind in ("AbsoluteMonthlyRecurrence", "RelativeMonthlyRecurrence"):
        yield from _monthly(pattern, start, interval, kind.startswith("Relative"), None)
    elif kind in ("AbsoluteYearlyRecurrence", "RelativeYearlyRecurrence"):
        month_name = pattern.findtext(t("Month")) or ""
        if month_name not in MONTHS:
            raise invalid("A yearly pattern needs Month.")
        month = MONTHS.index(month_name) + 1
        yield from _monthly(pattern, start, 12, kind.startswith("Relative"), month)
    else:
        raise invalid(f"The recurrence pattern {kind} is not supported.")


def _monthly(
    pattern: ET.Element, start: dt.date, interval: int, relative: bool, month: int | None
) -> Iterator[dt.date]:
    index = start.year * 12 + start.month - 1
    if month is not None:  # yearly: the first such month at or after the start
        while index % 12 != month - 1:
            index += 1
    if relative:
        weekdays = _days(pattern)
        which = WEEK_INDEX.get(pattern.findtext(t("DayOfWeekIndex")) or "", 0)
        if not which:
            raise invalid("A relative pattern needs DayOfWeekIndex.")
    else:
        target = _int(pattern, "DayOfMonth")
        if not 1 <= target <= 31:
            raise invalid("DayOfMonth must be between 1 and 31.")
    while True:
        year, mon = divmod(index, 12)
        if relative:
            day = _nth_weekday(year, mon + 1, weekdays, which)
        else:
            # Exchange puts a 31st-of-the-month occurrence on the last day of short months.
            last = max(d for d in range(28, 32) if _valid(year, mon + 1, d))
            day = dt.date(year, mon + 1, min(target, last))
        if day and day >= start:
            yield day
        index += interval
