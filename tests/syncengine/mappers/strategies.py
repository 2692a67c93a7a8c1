"""Hypothesis strategies for canonical records (already normalized, as the planner sees them)."""

import datetime as dt

from hypothesis import strategies as st

from syncengine.mappers.canonical import (
    CONTACT_FIELDS,
    SHOW_AS_VALUES,
    TASK_PRIORITIES,
    TASK_STATUSES,
    normalize,
)

# No surrogates (not valid in JSON text); control characters and odd whitespace are welcome.
_chars = st.characters(blacklist_categories=("Cs",))
text = st.one_of(st.none(), st.just(""), st.just("  "), st.text(_chars, max_size=40))

# The zones the round trips write in: both naming schemes, both sides of UTC, DST north and
# south, half-hour and 45-minute offsets, and the date line.
ZONES = [
    "UTC",
    "Pacific Standard Time",
    "America/New_York",
    "Europe/Berlin",
    "W. Europe Standard Time",
    "GMT Standard Time",
    "Tokyo Standard Time",
    "Hawaiian Standard Time",
    "Pacific/Honolulu",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Kolkata",
    "Nepal Standard Time",
    "Line Islands Standard Time",
    "Dateline Standard Time",
    "Chatham Islands Standard Time",
]
zones = st.sampled_from(ZONES)

any_utc_datetimes = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2090, 12, 31),
    timezones=st.just(dt.UTC),
)


def _sunday(year: int, month: int, nth: int) -> dt.date:
    """The nth Sunday of a month (nth = -1: the last one)."""
    if nth > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(6 - first.weekday()) % 7 + 7 * (nth - 1))
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


# DST changes in UTC: US Pacific (2nd Sunday of March 10:00, 1st Sunday of November 09:00)
# and the EU (last Sundays of March and October, 01:00), 2007-2090.
DST_CHANGES = [
    moment
    for year in range(2007, 2091)
    for moment in (
        _at(_sunday(year, 3, 2), 10),
        _at(_sunday(year, 11, 1), 9),
        _at(_sunday(year, 3, -1), 1),
        _at(_sunday(year, 10, -1), 1),
    )
]
near_dst_changes = st.builds(
    lambda moment, minutes: moment + dt.timedelta(minutes=minutes),
    st.sampled_from(DST_CHANGES),
    st.integers(-150, 150),
)
# Random instants, a third of them within 2.5 hours of a DST change.
utc_datetimes = st.one_of(any_utc_datetimes, any_utc_datetimes, near_dst_changes)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31))


@st.composite
def contacts(draw):
    names = CONTACT_FIELDS
    return normalize("contact", {name: draw(text) for name in names})


@st.composite
def tasks(draw):
    return normalize(
        "task",
        {
            "subject": draw(text),
            "description": draw(text),
            "due_date": draw(st.none() | dates),
            "status": draw(st.sampled_from(TASK_STATUSES)),
            "priority": draw(st.sampled_from(TASK_PRIORITIES)),
            "completed_at": draw(st.none() | utc_datetimes),
        },
    )


@st.composite
def events(draw):
    fields = {
        "subject": draw(text),
        "description": draw(text),
        "location": draw(text),
        "show_as": draw(st.sampled_from(SHOW_AS_VALUES)),
        "all_day": draw(st.booleans()),
    }
    if fields["all_day"]:
        fields["start_date"] = draw(dates)
        fields["end_date"] = fields["start_date"] + dt.timedelta(days=draw(st.integers(1, 14)))
    else:
        fields["start"] = draw(utc_datetimes)
        minutes = draw(st.integers(0, 3 * 1440))
        fields["end"] = fields["start"] + dt.timedelta(minutes=minutes)
    return normalize("event", fields)
