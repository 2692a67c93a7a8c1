import datetime as dt

import pytest

from syncengine.mappers.occurrences import (
    google_series_key,
    graph_series_key,
    parse_series_key,
    series_key,
)

UTC = dt.UTC


def test_it_keys_an_occurrence_by_series_and_original_start_in_utc():
    eastern = dt.timezone(dt.timedelta(hours=-5))
    key = series_key("AAMk-series", dt.datetime(2026, 3, 2, 10, 0, tzinfo=eastern))
    assert key == "AAMk-series|20260302T150000Z"
    assert key == series_key("AAMk-series", dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    assert series_key("s", dt.date(2026, 3, 2)) == "s|20260302"
    assert parse_series_key(key) == ("AAMk-series", dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    assert parse_series_key("s|20260302") == ("s", dt.date(2026, 3, 2))
    with pytest.raises(ValueError):
        series_key("s", dt.datetime(2026, 3, 2, 15, 0))


def test_it_reads_the_key_of_graph_occurrences_and_exceptions():
    occurrence = {
        "type": "occurrence",
        "seriesMasterId": "AAMkMaster",
        "originalStart": "2026-03-09T17:00:00Z",
        "start": {"dateTime": "2026-03-09T17:00:00.0000000", "timeZone": "UTC"},
    }
    moved = {**occurrence, "type": "exception", "start": {"dateTime": "2026-03-10T09:00:00"}}
    assert graph_series_key(occurrence) == "AAMkMaster|20260309T170000Z"
    assert graph_series_key(moved) == graph_series_key(occurrence)
    assert graph_series_key({"type": "singleInstance", "id": "x"}) is None
    assert graph_series_key({"type": "seriesMaster", "id": "AAMkMaster"}) is None
    all_day = {
        "type": "occurrence",
        "isAllDay": True,
        "seriesMasterId": "M",
        "originalStartTimeZone": "Tokyo Standard Time",
        "originalStart": "2026-02-28T15:00:00Z",
    }
    assert graph_series_key(all_day) == "M|20260301"


def test_it_reads_the_key_of_google_instances():
    instance = {
        "id": "abc_20260309T170000Z",
        "recurringEventId": "abc",
        "originalStartTime": {
            "dateTime": "2026-03-09T10:00:00-07:00",
            "timeZone": "America/Denver",
        },
    }
    assert google_series_key(instance) == "abc|20260309T170000Z"
    all_day = {"recurringEventId": "abc", "originalStartTime": {"date": "2026-03-09"}}
    assert google_series_key(all_day) == "abc|20260309"
    assert google_series_key({"id": "single"}) is None


def test_it_keeps_weekly_keys_stable_across_a_dst_change():
    # A weekly 10:00 Denver meeting: each occurrence keeps its own original start.
    before = {
        "recurringEventId": "w",
        "originalStartTime": {"dateTime": "2026-03-02T10:00:00-07:00"},
    }
    after = {
        "recurringEventId": "w",
        "originalStartTime": {"dateTime": "2026-03-09T10:00:00-06:00"},
    }
    assert google_series_key(before) == "w|20260302T170000Z"
    assert google_series_key(after) == "w|20260309T160000Z"
