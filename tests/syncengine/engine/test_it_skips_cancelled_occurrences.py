"""A cancelled occurrence of a recurring mailbox series (issue 12): nothing is created in
Salesforce for one cancelled before it was linked, from scratch or incrementally; a
linked one follows the deletion rules (SPEC §4: events as "auto-removal on"). Cancelling
one occurrence is deleting just it: a Google cancelled instance, a deleted Graph
occurrence, an EWS deleted occurrence (the master's DeletedOccurrences)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sandbox.ews import builders as ews_builders
from syncengine.models import SyncLink, SyncSession

from .conftest import EMAIL

Status = SyncSession.Status
BERLIN = ZoneInfo("Europe/Berlin")


def series(world, subject: str, first: dt.date, count: int) -> str:
    if world.kind == "exchange":
        start = dt.datetime(first.year, first.month, first.day, 9, tzinfo=BERLIN)
        element = ews_builders.event(
            subject,
            start,
            start + dt.timedelta(minutes=30),
            time_zone="W. Europe Standard Time",
            categories=["Salesforce"],
            weekly_on=[first.strftime("%A")],
            occurrences=count,
        )
        return str(world.mbapp.create_item(EMAIL, element).id)
    if world.kind == "office365":
        zone = "W. Europe Standard Time"
        item = world.mbapp.create_event(
            EMAIL,
            {
                "subject": subject,
                "start": {"dateTime": f"{first}T09:00:00", "timeZone": zone},
                "end": {"dateTime": f"{first}T09:30:00", "timeZone": zone},
                "categories": ["Salesforce"],
                "recurrence": {
                    "pattern": {
                        "type": "weekly",
                        "interval": 1,
                        "daysOfWeek": [first.strftime("%A").lower()],
                    },
                    "range": {
                        "type": "numbered",
                        "startDate": first.isoformat(),
                        "numberOfOccurrences": count,
                    },
                },
            },
        )
        return item["id"]
    item = world.mbapp.create_event(
        EMAIL,
        {
            "summary": subject,
            "start": {"dateTime": f"{first}T09:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": f"{first}T09:30:00", "timeZone": "Europe/Berlin"},
            "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count}"],
            "extendedProperties": {"private": {"relaySalesforce": "1"}},
        },
    )
    return item["id"]


def cancel(world, series_id: str, day: dt.date) -> None:
    """The user cancels one occurrence (deletes just that one in the calendar)."""
    start = dt.datetime(day.year, day.month, day.day, 9, tzinfo=BERLIN).astimezone(dt.UTC)
    if world.kind == "exchange":
        app = world.mbapp
        with app.lock:
            box = app.mailbox(EMAIL)
            found = [
                o.index
                for o in app.occurrences(box, box.items[series_id], until=day)
                if o.original_start == start
            ]
        assert len(found) == 1
        app.delete_occurrence_as_user(EMAIL, series_id, found[0])
    elif world.kind == "office365":
        lo, hi = start - dt.timedelta(hours=1), start + dt.timedelta(hours=1)
        found = [
            e
            for e in world.mbapp.calendar_view(EMAIL, lo, hi)
            if e.get("seriesMasterId") == series_id
        ]
        assert len(found) == 1
        world.mbapp.delete_event(EMAIL, found[0]["id"])
    else:
        world.mbapp.delete_event(EMAIL, f"{series_id}_{start:%Y%m%dT%H%M%SZ}")


def sf_days(world) -> list[dt.date]:
    rows = world.sfapp.query("SELECT Id, StartDateTime FROM Event", world.me)
    stamps = [
        dt.datetime.fromisoformat(r["StartDateTime"].replace("+0000", "+00:00")) for r in rows
    ]
    return sorted(s.astimezone(BERLIN).date() for s in stamps)


def weeks(first: dt.date, *n: int) -> list[dt.date]:
    return [first + dt.timedelta(weeks=w) for w in n]


def test_it_creates_nothing_for_an_occurrence_cancelled_before_the_first_sync(world):
    world.settings(time_zone="Europe/Berlin")
    first = (world.clock.now + dt.timedelta(days=1)).date()
    standup = series(world, "Standup", first, 4)
    cancel(world, standup, weeks(first, 1)[0])

    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert sf_days(world) == weeks(first, 0, 2, 3)
    again = world.sync()
    assert not again.changed and sf_days(world) == weeks(first, 0, 2, 3)


def test_it_creates_nothing_for_an_occurrence_cancelled_between_two_syncs(world):
    world.settings(time_zone="Europe/Berlin")
    world.sync()  # the feed has a cursor: what follows arrives incrementally
    first = (world.clock.now + dt.timedelta(days=1)).date()
    standup = series(world, "Standup", first, 4)
    cancel(world, standup, weeks(first, 2)[0])

    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert sf_days(world) == weeks(first, 0, 1, 3)
    assert not world.sync().changed


def test_it_deletes_the_salesforce_event_of_a_linked_occurrence_cancelled_later(world):
    world.settings(time_zone="Europe/Berlin")
    first = (world.clock.now + dt.timedelta(days=1)).date()
    standup = series(world, "Standup", first, 4)
    world.sync()
    assert sf_days(world) == weeks(first, 0, 1, 2, 3)

    cancel(world, standup, weeks(first, 3)[0])
    session = world.sync()
    assert session.status == Status.SUCCEEDED, session.error
    assert sf_days(world) == weeks(first, 0, 1, 2)  # only that occurrence
    assert SyncLink.objects.filter(user=world.user, item_type="event").count() == 3
    assert not world.sync().changed
