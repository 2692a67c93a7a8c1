"""Event times and RRULE expansion, in the event's own time zone.

Google expands a series in `start.timeZone`, so a weekly 09:00 Europe/Berlin meeting stays
at 09:00 local across daylight-saving changes; we do the same by handing dateutil an aware
local DTSTART. All-day events work on plain dates (end date exclusive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from .errors import bad_request

# Series without an end are expanded this far past "now" (Google pages on for years).
HORIZON = timedelta(days=400)
MAX_INSTANCES = 1000


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    try:
        return ZoneInfo(name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"Invalid time zone definition for start time: {name}") from None


def fmt_dt(dt: datetime) -> str:
    text = dt.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@dataclass
class Span:
    """An event's start and end: aware datetimes, or dates for all-day events."""

    start: datetime | date
    end: datetime | date
    all_day: bool
    tz: ZoneInfo

    def utc_bounds(self, cal_tz: ZoneInfo) -> tuple[datetime, datetime]:
        if self.all_day:
            # All-day events occupy whole days of the calendar's zone.
            s = datetime.combine(self.start, time(), cal_tz)  # type: ignore[arg-type]
            e = datetime.combine(self.end, time(), cal_tz)  # type: ignore[arg-type]
            return s.astimezone(UTC), e.astimezone(UTC)
        return self.start.astimezone(UTC), self.end.astimezone(UTC)  # type: ignore[union-attr]

    def render(self) -> tuple[dict[str, str], dict[str, str]]:
        if self.all_day:
            return {"date": self.start.isoformat()}, {"date": self.end.isoformat()}
        tzname = str(self.tz.key)
        s = self.start.astimezone(self.tz)  # type: ignore[union-attr]
        e = self.end.astimezone(self.tz)  # type: ignore[union-attr]
        return (
            {"dateTime": fmt_dt(s), "timeZone": tzname},
            {"dateTime": fmt_dt(e), "timeZone": tzname},
        )


def parse_when(value: dict[str, Any] | None, cal_tz: str, which: str) -> datetime | date:
    if not value or not (value.get("dateTime") or value.get("date")):
        raise bad_request(f"Missing {which} time.", "required")
    if value.get("date"):
        try:
            return date.fromisoformat(value["date"])
        except ValueError:
            raise bad_request(f"Invalid {which} time.", "invalid") from None
    try:
        dt = datetime.fromisoformat(value["dateTime"])
    except ValueError:
        raise bad_request(f"Invalid {which} time.", "invalid") from None
    if dt.tzinfo is None:
        # A dateTime without offset is read in the given timeZone (else the calendar's).
        dt = dt.replace(tzinfo=zone(value.get("timeZone"), cal_tz))
    return dt


def span_of(event: dict[str, Any], cal_tz: str) -> Span:
    start = parse_when(event.get("start"), cal_tz, "start")
    end = parse_when(event.get("end"), cal_tz, "end")
    all_day = not isinstance(start, datetime)
    if all_day != (not isinstance(end, datetime)):
        raise bad_request("Start and end times must either both be date or both be dateTime.")
    if end <= start:  # type: ignore[operator]
        raise bad_request("The specified time range is empty.", "timeRangeEmpty")
    tz = zone((event.get("start") or {}).get("timeZone"), cal_tz)
    return Span(start, end, all_day, tz)


def instance_suffix(start: datetime | date) -> str:
    if isinstance(start, datetime):
        return start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return start.strftime("%Y%m%d")


def _rule_lines(recurrence: list[str], all_day: bool, tz: ZoneInfo) -> tuple[str, list[Any]]:
    """The RRULE text dateutil accepts for our DTSTART, and the EXDATE values."""
    rules, exdates = [], []
    for line in recurrence:
        head, _, value = line.partition(":")
        name = head.split(";")[0].upper()
        if name == "RRULE":
            m = re.search(r"UNTIL=(\d{8})(T\d{6}Z?)?", value)
            if m and all_day:
                value = value.replace(m.group(0), f"UNTIL={m.group(1)}")
            elif m and not m.group(2):
                # A date-only UNTIL on a timed series means "through that local day".
                end = datetime.combine(
                    datetime.strptime(m.group(1), "%Y%m%d").date(), time(23, 59, 59), tz
                )
                value = value.replace(m.group(0), "UNTIL=" + instance_suffix(end))
            elif m and not m.group(2).endswith("Z"):
                local = datetime.strptime(m.group(1) + m.group(2), "%Y%m%dT%H%M%S")
                value = value.replace(
                    m.group(0), "UNTIL=" + instance_suffix(local.replace(tzinfo=tz))
                )
            rules.append("RRULE:" + value)
        elif name == "EXDATE":
            tzid = re.search(r"TZID=([^;:]+)", head)
            for item in value.split(","):
                item = item.strip()
                if len(item) == 8:
                    exdates.append(datetime.strptime(item, "%Y%m%d").date())
                else:
                    dt = datetime.strptime(item.rstrip("Z"), "%Y%m%dT%H%M%S")
                    z = UTC if item.endswith("Z") else zone(tzid.group(1) if tzid else None)
                    exdates.append(dt.replace(tzinfo=z))
        elif name not in ("RDATE", "EXRULE"):
            raise bad_request(f"Invalid recurrence rule: {line}", "invalid")
    if len(rules) != 1:
        raise bad_request("Exactly one RRULE is supported per series.", "invalid")
    return rules[0], exdates


def occurrences(
    span: Span,
    recurrence: list[str],
    cal_tz: ZoneInfo,
    window: tuple[datetime | None, datetime | None],
    now: datetime,
    limit: int = MAX_INSTANCES,
) -> list[Span]:
    """The series' instances overlapping `window` (None = open), at most `limit`."""
    rule_text, exdates = _rule_lines(recurrence, span.all_day, span.tz)
    duration = span.end - span.start  # type: ignore[operator]
    if span.all_day:
        dtstart: datetime = datetime.combine(span.start, time())  # type: ignore[arg-type]
    else:
        dtstart = span.start.astimezone(span.tz)  # type: ignore[union-attr]
    try:
        rule = rrulestr(rule_text, dtstart=dtstart)
    except (ValueError, TypeError) as exc:
        raise bad_request(f"Invalid recurrence rule: {exc}", "invalid") from None
    lo, hi = window
    # Open-ended listings stop a horizon past now (or past the series start, if later).
    stop = hi or max(now, span.utc_bounds(cal_tz)[0]) + HORIZON
    out: list[Span] = []
    for occ in rule:
        start: datetime | date = occ.date() if span.all_day else occ
        if start in exdates:
            continue
        inst = Span(start, start + duration, span.all_day, span.tz)
        s, e = inst.utc_bounds(cal_tz)
        if s >= stop:
            break
        if lo is not None and e <= lo:
            continue
        out.append(inst)
        if len(out) >= limit:
            break
    return out
