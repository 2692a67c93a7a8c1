"""A recurring series the user marks for Salesforce goes up occurrence by occurrence
(keyed by series id + original start), without duplicates, and keeps its local time
across a daylight-saving change in the user's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from syncengine.models import SyncLink, SyncSession

from .conftest import EMAIL
from .test_it_skips_cancelled_occurrences import series as weekly_series

Status = SyncSession.Status
BERLIN = ZoneInfo("Europe/Berlin")


def _sf_events(world):
    rows = world.sfapp.query("SELECT Id, Subject, StartDateTime FROM Event", world.me)
    return sorted(rows, key=lambda r: r["StartDateTime"])


def _local(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("+0000", "+00:00")).astimezone(BERLIN)


def test_it_sends_a_series_up_occurrence_by_occurrence_across_a_dst_change(world):
    world.settings(time_zone="Europe/Berlin")
    world.clock.now = dt.datetime(2024, 10, 14, 12, 0, tzinfo=dt.UTC)  # DST ends Oct 27
    first = dt.date(2024, 10, 1)  # 8 Tuesdays, all in the window, the last four after DST
    weekly_series(world, "Standup", first, 8)

    session = world.sync()
    assert session.status == Status.SUCCEEDED, (session.status, session.error)
    rows = _sf_events(world)
    starts = [_local(r["StartDateTime"]) for r in rows]
    assert {r["Subject"] for r in rows} == {"Standup"}
    assert [s.date() for s in starts] == [first + dt.timedelta(weeks=w) for w in range(8)]
    assert {(s.hour, s.minute) for s in starts} == {(9, 0)}  # same local time after DST
    assert SyncLink.objects.filter(user=world.user, item_type="event").count() == len(rows)

    again = world.sync()
    assert again.status == Status.SUCCEEDED, again.error
    assert len(_sf_events(world)) == len(rows)  # no duplicate
    assert not again.changed


def test_it_updates_only_the_edited_occurrence(world):
    world.settings(time_zone="Europe/Berlin")
    first = (world.clock.now + dt.timedelta(days=1)).date()
    series = weekly_series(world, "Standup", first, 4)
    world.sync()
    before = {r["Id"]: r["Subject"] for r in _sf_events(world)}
    assert len(before) == 4

    if world.kind == "exchange":
        world.mbapp.modify_occurrence(EMAIL, series, 2, subject="Standup (moved room)")
    elif world.kind == "office365":
        lo, hi = world.clock.now, world.clock.now + dt.timedelta(days=40)
        occurrences = [
            e for e in world.mbapp.calendar_view(EMAIL, lo, hi) if e.get("seriesMasterId") == series
        ]
        target = sorted(occurrences, key=lambda e: e["start"]["dateTime"])[1]
        world.mbapp.update_event(EMAIL, target["id"], {"subject": "Standup (moved room)"})
    else:
        second = first + dt.timedelta(weeks=1)
        stamp = dt.datetime(second.year, second.month, second.day, 9, tzinfo=BERLIN)
        instance = f"{series}_{stamp.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
        world.mbapp.update_event(EMAIL, instance, {"summary": "Standup (moved room)"})

    session = world.sync()
    assert session.status == Status.SUCCEEDED, (session.status, session.error)
    after = {r["Id"]: r["Subject"] for r in _sf_events(world)}
    assert after.keys() == before.keys()
    changed = [i for i in after if after[i] != before[i]]
    assert len(changed) == 1 and after[changed[0]] == "Standup (moved room)"
    assert session.counters["event"]["up"]["updated"] == 1
    assert not world.sync().changed
