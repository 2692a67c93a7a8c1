"""Scope and window predicates at their edges (SPEC §3)."""

from __future__ import annotations

import datetime as dt

import pytest

from syncengine.planner import ContactScope, ItemType, deletion_brake_threshold, in_scope

from .factories import NOW, OTHER, USER, rules, sf

SECOND = dt.timedelta(seconds=1)
DAY = dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("status", "modified", "due", "expected"),
    [
        # Open tasks are always in, however old.
        ("not_started", NOW - 400 * DAY, None, True),
        ("in_progress", NOW - 400 * DAY, dt.date(2020, 1, 1), True),
        # Completed: LastModifiedDate within the last 14 days, inclusive.
        ("completed", NOW - 14 * DAY + SECOND, None, True),
        ("completed", NOW - 14 * DAY, None, True),
        ("completed", NOW - 14 * DAY - SECOND, None, False),
        # Completed: due date within the last 14 days (today in UTC is 2024-03-15).
        ("completed", NOW - 400 * DAY, dt.date(2024, 3, 2), True),
        ("completed", NOW - 400 * DAY, dt.date(2024, 3, 1), True),
        ("completed", NOW - 400 * DAY, dt.date(2024, 2, 29), False),
        ("completed", NOW - 400 * DAY, dt.date(2024, 4, 1), True),  # due in the future
    ],
)
def test_it_applies_the_task_window(status, modified, due, expected):
    record = sf("t", ItemType.TASK, modified=modified, status=status, due_date=due)
    assert in_scope(record, rules(), NOW) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Due 2024-03-01 stays in until local midnight starting 2024-03-16.
        (dt.datetime(2024, 3, 15, 23, 59, 59, tzinfo=dt.UTC), True),
        (dt.datetime(2024, 3, 16, 0, 0, 0, tzinfo=dt.UTC), False),
    ],
)
def test_it_reads_a_due_date_a_second_either_side_of_midnight(now, expected):
    record = sf(
        "t",
        ItemType.TASK,
        modified=now - 400 * DAY,
        status="completed",
        due_date=dt.date(2024, 3, 1),
    )
    assert in_scope(record, rules(), now) is expected


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # 2024-03-15 12:00 UTC is already 2024-03-16 02:00 in Kiritimati (UTC+14): the
        # cut-off date is 2024-03-02 there.
        ("Pacific/Kiritimati", False),
        ("UTC", True),
        ("Pacific/Pago_Pago", True),  # 01:00 on 03-15 (UTC-11): cut-off 03-01
    ],
)
def test_it_reads_due_dates_in_the_users_zone(zone, expected):
    record = sf(
        "t",
        ItemType.TASK,
        modified=NOW - 400 * DAY,
        status="completed",
        due_date=dt.date(2024, 3, 1),
    )
    assert in_scope(record, rules(time_zone=zone), NOW) is expected


def test_it_keeps_only_the_users_tasks():
    assert in_scope(sf("t", ItemType.TASK, owner=OTHER), rules(), NOW) is False


def timed(start: dt.datetime, end: dt.datetime, **kw):
    return sf("e", ItemType.EVENT, start=start, end=end, all_day=False, **kw)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Ends no earlier than 14 days ago.
        (NOW - 20 * DAY, NOW - 14 * DAY + SECOND, True),
        (NOW - 20 * DAY, NOW - 14 * DAY, True),
        (NOW - 20 * DAY, NOW - 14 * DAY - SECOND, False),
        # Starts no later than 60 days from now.
        (NOW + 60 * DAY - SECOND, NOW + 61 * DAY, True),
        (NOW + 60 * DAY, NOW + 61 * DAY, True),
        (NOW + 60 * DAY + SECOND, NOW + 61 * DAY, False),
        # A long event spanning the whole window overlaps it.
        (NOW - 100 * DAY, NOW + 100 * DAY, True),
    ],
)
def test_it_applies_the_event_window(start, end, expected):
    assert in_scope(timed(start, end), rules(), NOW) is expected


@pytest.mark.parametrize(
    ("owner", "invitees", "expected"),
    [(USER, frozenset(), True), (OTHER, frozenset({USER}), True), (OTHER, frozenset(), False)],
)
def test_it_keeps_events_the_user_owns_or_is_invited_to(owner, invitees, expected):
    from dataclasses import replace

    record = replace(timed(NOW, NOW + DAY, owner=owner), invitee_ids=invitees)
    assert in_scope(record, rules(), NOW) is expected


def all_day(start: dt.date, days: int = 1):
    return sf(
        "e",
        ItemType.EVENT,
        all_day=True,
        start_date=start,
        end_date=start + dt.timedelta(days=days),
        start=None,
        end=None,
    )


@pytest.mark.parametrize(
    ("zone", "now", "day", "expected"),
    [
        # Kiritimati (UTC+14): 2024-03-15 10:00 UTC is 2024-03-16 00:00 locally, so 14 days
        # ago is 2024-03-02 there; in UTC it would still be 2024-03-01.
        (
            "Pacific/Kiritimati",
            dt.datetime(2024, 3, 15, 10, 0, tzinfo=dt.UTC),
            dt.date(2024, 3, 2),
            True,
        ),
        (
            "Pacific/Kiritimati",
            dt.datetime(2024, 3, 15, 10, 0, tzinfo=dt.UTC),
            dt.date(2024, 3, 1),
            False,
        ),
        (
            "Pacific/Kiritimati",
            dt.datetime(2024, 3, 15, 9, 59, 59, tzinfo=dt.UTC),
            dt.date(2024, 3, 1),
            True,
        ),
        ("UTC", dt.datetime(2024, 3, 15, 10, 0, tzinfo=dt.UTC), dt.date(2024, 3, 1), True),
        # Pago Pago (UTC-11): 2024-03-15 11:00 UTC is 2024-03-15 00:00 locally.
        (
            "Pacific/Pago_Pago",
            dt.datetime(2024, 3, 15, 11, 0, tzinfo=dt.UTC),
            dt.date(2024, 3, 1),
            True,
        ),
        (
            "Pacific/Pago_Pago",
            dt.datetime(2024, 3, 15, 10, 59, 59, tzinfo=dt.UTC),
            dt.date(2024, 2, 29),
            True,
        ),
        (
            "Pacific/Pago_Pago",
            dt.datetime(2024, 3, 15, 11, 0, tzinfo=dt.UTC),
            dt.date(2024, 2, 29),
            False,
        ),
        # The far edge: 60 days ahead, by local date.
        (
            "Pacific/Kiritimati",
            dt.datetime(2024, 3, 15, 10, 0, tzinfo=dt.UTC),
            dt.date(2024, 5, 15),
            True,
        ),
        (
            "Pacific/Kiritimati",
            dt.datetime(2024, 3, 15, 10, 0, tzinfo=dt.UTC),
            dt.date(2024, 5, 16),
            False,
        ),
        (
            "Pacific/Pago_Pago",
            dt.datetime(2024, 3, 15, 10, 0, tzinfo=dt.UTC),
            dt.date(2024, 5, 13),
            True,
        ),
        (
            "Pacific/Pago_Pago",
            dt.datetime(2024, 3, 15, 10, 0, tzinfo=dt.UTC),
            dt.date(2024, 5, 14),
            False,
        ),
    ],
)
def test_it_compares_all_day_events_by_local_date(zone, now, day, expected):
    assert in_scope(all_day(day), rules(time_zone=zone), now) is expected


def test_it_counts_the_last_day_of_a_multi_day_all_day_event():
    # 2024-02-28 .. 2024-03-01 (end exclusive 03-02): its last day is the cut-off day.
    assert in_scope(all_day(dt.date(2024, 2, 28), days=3), rules(), NOW) is True
    assert in_scope(all_day(dt.date(2024, 2, 27), days=3), rules(), NOW) is False


@pytest.mark.parametrize(
    ("scope", "owner", "members", "expected"),
    [
        (ContactScope.ALL, OTHER, None, True),
        (ContactScope.MINE, USER, None, True),
        (ContactScope.MINE, OTHER, None, False),
        (ContactScope.VIEW, OTHER, frozenset({"c"}), True),
        (ContactScope.VIEW, USER, frozenset({"x"}), False),
        (ContactScope.VIEW, USER, None, None),  # the view is gone: undecidable
    ],
)
def test_it_applies_each_contact_scope(scope, owner, members, expected):
    record = sf("c", ItemType.CONTACT, owner=owner)
    assert in_scope(record, rules(contact_scope=scope, view_member_ids=members), NOW) is expected


@pytest.mark.parametrize(
    ("links", "threshold"), [(0, 25), (10, 25), (125, 25), (130, 26), (1000, 200), (1003, 200)]
)
def test_it_sets_the_brake_at_max_25_or_20_percent(links, threshold):
    assert deletion_brake_threshold(links) == threshold
