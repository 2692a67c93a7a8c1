"""Server-rendered pictures (no script, no CDN): numbers → shapes the templates draw as
inline SVG. Every shape carries its label and count as text, and patterns as well as
colours tell segments apart, so nothing depends on colour alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User

BAR_WIDTH = 100.0  # percent of the SVG's width; the SVG scales to its container
PATTERNS = ("solid", "hatch", "dots", "cross")


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    count: int
    x: float  # percent
    width: float  # percent
    pattern: str

    @property
    def title(self) -> str:
        return f"{self.label}: {self.count}"


def action_bar(counts: Sequence[tuple[str, str, int]]) -> list[Segment]:
    """One stacked bar of a session's actions: (key, label, count) → segments."""
    total = sum(n for _, _, n in counts)
    if not total:
        return []
    out, x = [], 0.0
    for i, (key, label, n) in enumerate(counts):
        width = BAR_WIDTH * n / total
        out.append(Segment(key, label, n, round(x, 3), round(width, 3), PATTERNS[i % 4]))
        x += width
    return out


# --- the dashboard's 14-day chart -------------------------------------------------------

CHART_DAYS = 14
WRITE_KEYS = ("created", "updated", "deleted", "restored")
SERIES = (("down", "Salesforce → mailbox", "solid"), ("up", "Mailbox → Salesforce", "hatch"))


@dataclass(frozen=True)
class DayBar:
    day: str  # YYYY-MM-DD in the user's zone
    label: str  # "Mar 5"
    x: float
    segments: tuple[tuple[str, str, float, float, int], ...]  # (series, pattern, y, h, n)
    by_type: tuple[tuple[str, int, int], ...]  # (type, down, up)
    total: int
    api_calls: int
    org_limit: int | None  # the org's daily API allocation as a session saw it that day
    org_used: int | None  # the org's own 24-hour usage then (all integrations)
    calls_height: float = 0.0  # percent of the calls panel

    @property
    def calls_y(self) -> float:
        return round(100 - self.calls_height, 2)

    @property
    def share(self) -> str:
        if not self.org_limit:
            return ""
        return f"{100 * self.api_calls / self.org_limit:.2f} %"


def changes_chart(user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Changes per day (local days) by direction, per type in the table, and the
    Salesforce API calls per day, for the last 14 days."""
    from django.utils import timezone

    from .models import SyncSession

    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    today = now.astimezone(zone).date()
    days = [today - dt.timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    start = dt.datetime.combine(days[0], dt.time(), zone)
    totals: dict[dt.date, dict[tuple[str, str], int]] = {d: {} for d in days}
    calls = dict.fromkeys(days, 0)
    limits: dict[dt.date, int] = {}
    used: dict[dt.date, int] = {}
    rows = SyncSession.objects.filter(user=user, started_at__gte=start).values_list(
        "started_at", "counters", "api_calls_salesforce", "sf_org_api_limit", "sf_org_api_used"
    )
    for started, counters, api_calls, org_limit, org_used in rows:
        day = started.astimezone(zone).date()
        if day not in totals:
            continue
        calls[day] += api_calls or 0
        if org_limit:
            limits[day] = max(limits.get(day, 0), org_limit)
        if org_used is not None:
            used[day] = max(used.get(day, 0), org_used)
        for item_type, directions in (counters or {}).items():
            if item_type.startswith("_") or not isinstance(directions, dict):
                continue
            for direction, counts in directions.items():
                n = sum(int(counts.get(k) or 0) for k in WRITE_KEYS)
                key = (item_type, direction)
                totals[day][key] = totals[day].get(key, 0) + n
    peak = max([sum(v.values()) for v in totals.values()] + [1])
    calls_peak = max([*calls.values(), 1])
    bars = []
    width = 100 / CHART_DAYS
    for i, day in enumerate(days):
        y, segments = 100.0, []
        for direction, label, pattern in SERIES:
            n = sum(v for (t, d), v in totals[day].items() if d == direction)
            h = 90 * n / peak
            y -= h
            segments.append((label, pattern, round(y, 2), round(h, 2), n))
        types = sorted({t for t, _ in totals[day]})
        by_type = tuple(
            (t, totals[day].get((t, "down"), 0), totals[day].get((t, "up"), 0)) for t in types
        )
        bars.append(
            DayBar(
                day.isoformat(),
                day.strftime("%b %-d"),
                round(i * width + width * 0.15, 2),
                tuple(segments),
                by_type,
                sum(totals[day].values()),
                calls[day],
                limits.get(day),
                used.get(day),
                round(90 * calls[day] / calls_peak, 2),
            )
        )
    return {
        "bars": bars,
        "bar_width": round(width * 0.7, 2),
        "peak": peak,
        "any": any(b.total or b.api_calls for b in bars),
        "series": SERIES,
        "calls_peak": calls_peak,
        "org_limit": max(limits.values(), default=None),
    }
