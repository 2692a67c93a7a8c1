"""SOQL date literals run in the querying user's time zone (TimeZoneSidKey), not in UTC.

Reference: SOQL and SOSL Reference, "Date Formats and Date Literals": a literal such as TODAY
is the day in the time zone of the user who runs the query.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

ZONES = ["America/Los_Angeles", "Pacific/Auckland"]


def _user(org, name, zone):
    uid = org.emu.add_user(f"{name}@acme.example", name, TimeZoneSidKey=zone)
    return uid, org.sf(org.emu.issue_token(uid)[0])


def _names(sf, cond):
    soql = f"SELECT LastName FROM Contact WHERE {cond} ORDER BY LastName"
    return [r["LastName"] for r in sf.query(soql)["records"]]


@pytest.mark.parametrize("zone", ZONES)
def test_it_starts_today_at_the_users_local_midnight(org, zone):
    midnight = datetime(2024, 5, 15, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    # The UTC date of the two records is the same, so a UTC evaluation could not split them.
    assert (midnight - timedelta(seconds=1)).date() == midnight.date()
    org.emu.set_clock(midnight - timedelta(seconds=1))
    org.emu.create("Contact", {"LastName": "Before"})
    org.emu.create("Task", {"Subject": "due yesterday", "ActivityDate": "2024-05-14"})
    org.emu.set_clock(midnight)
    org.emu.create("Contact", {"LastName": "After"})
    org.emu.create("Task", {"Subject": "due today", "ActivityDate": "2024-05-15"})
    org.emu.create("Task", {"Subject": "due tomorrow", "ActivityDate": "2024-05-16"})
    org.emu.advance(seconds=1)
    _, sf = _user(org, "Local", zone)

    assert _names(sf, "CreatedDate = TODAY") == ["After"]
    assert _names(sf, "CreatedDate = YESTERDAY") == ["Before"]
    assert _names(sf, "CreatedDate = LAST_N_DAYS:1") == ["After", "Before"]
    assert _names(sf, "CreatedDate < TODAY") == ["Before"]
    assert _names(sf, "CreatedDate >= TODAY") == ["After"]
    assert _names(sf, "CreatedDate = TOMORROW") == []

    def due(cond):
        rows = sf.query(f"SELECT Subject FROM Task WHERE {cond}")["records"]
        return sorted(r["Subject"] for r in rows)

    assert due("ActivityDate = TODAY") == ["due today"]
    assert due("ActivityDate = YESTERDAY") == ["due yesterday"]
    assert due("ActivityDate = TOMORROW") == ["due tomorrow"]
    assert due("ActivityDate = NEXT_N_DAYS:1") == ["due tomorrow"]
    assert due("ActivityDate = LAST_N_DAYS:1") == ["due today", "due yesterday"]
    assert due("ActivityDate = 2024-05-15") == ["due today"]  # a date is a date, no zone


def test_it_answers_the_same_query_differently_for_users_in_different_zones(org):
    auckland_midnight = datetime(2024, 5, 15, tzinfo=ZoneInfo("Pacific/Auckland"))
    org.emu.set_clock(auckland_midnight.astimezone(UTC) + timedelta(minutes=1))
    org.emu.create("Task", {"Subject": "15th", "ActivityDate": "2024-05-15"})
    org.emu.create("Task", {"Subject": "14th", "ActivityDate": "2024-05-14"})
    _, kiwi = _user(org, "Kiwi", "Pacific/Auckland")
    coast_id, coast = _user(org, "Coast", "America/Los_Angeles")
    q = "SELECT Subject FROM Task WHERE ActivityDate = TODAY"
    assert [r["Subject"] for r in kiwi.query(q)["records"]] == ["15th"]
    assert [r["Subject"] for r in coast.query(q)["records"]] == ["14th"]  # still the 14th there

    # TimeZoneSidKey is per user and settable; the next query follows it.
    coast.User.update(coast_id, {"TimeZoneSidKey": "Pacific/Auckland"})
    assert [r["Subject"] for r in coast.query(q)["records"]] == ["15th"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        coast.User.update(coast_id, {"TimeZoneSidKey": "Mars/Olympus_Mons"})
    assert exc.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
