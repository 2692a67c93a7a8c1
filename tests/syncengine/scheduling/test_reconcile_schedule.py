"""When a session reconciles its links (syncengine.reconcile): pure rules, no HTTP."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from syncengine.reconcile import ROUTINE_PERIOD, decide, first_routine, routine_offset

NOW = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
LATER = NOW + 3 * DAY  # a routine slot well after the session


def test_it_reconciles_after_longer_than_the_recycle_bin_keeps_deletions():
    assert decide("u", NOW, NOW - 20 * DAY, LATER, {}, first_session=False).reason == "absence"
    assert decide("u", NOW, NOW - 13 * DAY, LATER, {}, first_session=False).reason == ""


def test_it_reconciles_when_getdeleted_says_deletions_after_the_last_read_were_purged():
    purged = {"Task": NOW - HOUR}
    got = decide("u", NOW, NOW - 2 * HOUR, LATER, purged, first_session=False)
    assert got.reason == "purge:Task"
    old = {"Task": NOW - 16 * DAY}  # the bin's ordinary 15 days: nothing missed
    assert decide("u", NOW, NOW - HOUR, LATER, old, first_session=False).reason == ""
    future = {"Task": NOW + DAY}  # skewed or nonsensical: no evidence of a purge
    assert decide("u", NOW, NOW - HOUR, LATER, future, first_session=False).reason == ""


def test_a_first_session_never_reconciles_and_a_user_without_the_cursor_does_once():
    assert not decide("u", NOW, None, None, {}, first_session=True).due
    assert decide("u", NOW, None, LATER, {}, first_session=False).reason == "absence"


def test_the_routine_slot_comes_once_a_week_and_moves_on_after_any_reconciliation():
    slot = first_routine("005A", NOW)
    assert NOW < slot <= NOW + ROUTINE_PERIOD
    before = decide("005A", slot - HOUR, slot - 2 * HOUR, slot, {}, first_session=False)
    assert not before.due and before.next_routine == slot
    at = decide("005A", slot + HOUR, slot, slot, {}, first_session=False)
    assert at.reason == "routine" and at.next_routine == slot + ROUTINE_PERIOD
    away = decide("005A", slot - HOUR, slot - 20 * DAY, slot, {}, first_session=False)
    assert away.reason == "absence" and away.next_routine == slot  # the next slot after now


def test_users_spread_over_the_week():
    days = Counter(routine_offset(f"005{n:012d}AAA") // DAY for n in range(7000))
    assert set(days) == set(range(7))
    assert max(days.values()) < 1.15 * min(days.values())
