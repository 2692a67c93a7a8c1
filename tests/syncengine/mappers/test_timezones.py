import datetime as dt
import zoneinfo

import pytest

from syncengine.mappers.timezones import (
    IANA_TO_WINDOWS,
    WINDOWS_TO_IANA,
    UnknownTimeZoneError,
    iana_to_windows,
    local_to_utc,
    parse_aware,
    parse_naive,
    resolve_zone,
    utc_to_local,
    wall_time_for,
    windows_to_iana,
)

UTC = dt.UTC


@pytest.mark.parametrize("windows", sorted(WINDOWS_TO_IANA))
def test_it_maps_every_windows_zone_to_a_real_iana_zone_and_back(windows):
    iana = windows_to_iana(windows)
    assert zoneinfo.ZoneInfo(iana)  # exists in tzdata
    assert iana_to_windows(iana) == windows
    assert resolve_zone(windows).key == iana


def test_it_covers_the_cldr_001_rows_and_common_territory_zones():
    assert len(WINDOWS_TO_IANA) >= 130
    assert WINDOWS_TO_IANA["Pacific Standard Time"] == "America/Los_Angeles"
    assert WINDOWS_TO_IANA["W. Europe Standard Time"] == "Europe/Berlin"
    assert WINDOWS_TO_IANA["Tokyo Standard Time"] == "Asia/Tokyo"
    assert WINDOWS_TO_IANA["Hawaiian Standard Time"] == "Pacific/Honolulu"
    assert WINDOWS_TO_IANA["Dateline Standard Time"] == "Etc/GMT+12"
    # A user in Madrid or Toronto has a zone that is not any "001" row.
    assert iana_to_windows("Europe/Madrid") == "Romance Standard Time"
    assert iana_to_windows("America/Toronto") == "Eastern Standard Time"
    assert iana_to_windows("UTC") == "UTC"


def test_it_maps_every_territory_zone_to_a_real_zone():
    available = zoneinfo.available_timezones()
    missing = [iana for iana in IANA_TO_WINDOWS if iana not in available]
    assert missing == []


def test_it_accepts_windows_iana_and_utc_names_and_names_unknown_ones():
    assert resolve_zone("pacific standard time").key == "America/Los_Angeles"
    assert resolve_zone("tzone://Microsoft/Utc").key == "UTC"
    assert resolve_zone("Etc/GMT").key == "UTC"
    assert resolve_zone("Europe/Paris").key == "Europe/Paris"
    for bad in ("Mars Standard Time", "tzone://Microsoft/Custom", ""):
        with pytest.raises(UnknownTimeZoneError, match="time zone"):
            resolve_zone(bad)
    with pytest.raises(UnknownTimeZoneError, match="Mars"):
        windows_to_iana("Mars Standard Time")
    with pytest.raises(UnknownTimeZoneError):
        iana_to_windows("Not/AZone")


def test_it_reads_a_nonexistent_spring_forward_time_with_the_offset_before_the_gap():
    # 02:30 on 8 March 2026 does not exist in Los Angeles: read as PST, i.e. 03:30 PDT.
    instant = local_to_utc(dt.datetime(2026, 3, 8, 2, 30), "Pacific Standard Time")
    assert instant == dt.datetime(2026, 3, 8, 10, 30, tzinfo=UTC)
    assert utc_to_local(instant, "America/Los_Angeles") == dt.datetime(2026, 3, 8, 3, 30)
    # Europe: 02:30 on 29 March 2026 in Berlin -> 02:30 CET = 01:30 UTC = 03:30 CEST.
    berlin = local_to_utc(dt.datetime(2026, 3, 29, 2, 30), "W. Europe Standard Time")
    assert berlin == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_it_reads_an_ambiguous_fall_back_time_as_the_first_occurrence():
    us = local_to_utc(dt.datetime(2026, 11, 1, 1, 30), "Pacific Standard Time")
    assert us == dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC)  # 01:30 PDT
    eu = local_to_utc(dt.datetime(2026, 10, 25, 2, 30), "Europe/Berlin")
    assert eu == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_it_refuses_to_name_the_second_pass_of_a_fall_back_hour_by_wall_time():
    first = dt.datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    second = dt.datetime(2026, 11, 1, 9, 30, tzinfo=UTC)  # 01:30 PST, the repeat
    assert wall_time_for(first, "America/Los_Angeles") == dt.datetime(2026, 11, 1, 1, 30)
    assert wall_time_for(second, "America/Los_Angeles") is None


def test_it_parses_graph_and_rfc3339_datetimes():
    assert parse_naive("2026-03-01T15:00:00.1234567") == dt.datetime(2026, 3, 1, 15, 0, 0, 123456)
    assert parse_naive("2026-03-01") == dt.datetime(2026, 3, 1)
    expected = dt.datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
    for text in (
        "2026-03-01T15:00:00Z",
        "2026-03-01T15:00:00.000+0000",
        "2026-03-01T10:00:00-05:00",
        "2026-03-01T16:00:00+0100",
    ):
        assert parse_aware(text) == expected
    with pytest.raises(ValueError):
        parse_aware("2026-03-01T15:00:00")
