"""When a session checks that its linked Salesforce records still exist (SPEC §5).

Salesforce keeps a deleted record in the Recycle Bin for 15 days; after it is purged,
queryAll and getDeleted never mention it again. A user whose sessions stopped longer
than that (vacation, an expired token, a paused account) would keep the stale mailbox
copies forever, so a session reconciles — asks which linked ids still exist and treats
the gone ones as deleted in Salesforce, through the planner's guards — when:

- absence: the last Salesforce read of this user is older than the Recycle Bin window
  (less a day of margin: the bin is emptied by a background job, not to the second);
- purge: getDeleted's `earliestDateAvailable` of an object (read in the session's one
  Composite) is later than that last read: something deleted since was purged early
  (an admin emptied the bin, or it hit its size cap);
- routine: once a week per user, at a time of the week set by a hash of the user's
  Salesforce id, so the cost spreads evenly and anything the two rules above cannot see
  (sharing lost, an ill-timed purge) is caught within a week.

Pure functions on cursor values; the Reader stores what they return.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

RECYCLE_BIN = dt.timedelta(days=15)
ABSENCE_LIMIT = RECYCLE_BIN - dt.timedelta(days=1)
ROUTINE_PERIOD = dt.timedelta(days=7)

LAST_READ_CURSOR = "salesforce:read_at"  # our clock at the last successful feed read
ROUTINE_CURSOR = "reconcile:next"  # when this user's next routine reconciliation is due


@dataclass(frozen=True)
class Decision:
    due: bool
    reason: str  # "absence", "purge:<object>", "routine" or "" when not due
    next_routine: dt.datetime  # to store as ROUTINE_CURSOR


def routine_offset(user_key: str) -> dt.timedelta:
    """Where in the week this user's routine reconciliation falls (stable across runs)."""
    digest = hashlib.sha256(user_key.encode()).digest()
    seconds = int.from_bytes(digest[:8], "big") % int(ROUTINE_PERIOD.total_seconds())
    return dt.timedelta(seconds=seconds)


def first_routine(user_key: str, now: dt.datetime) -> dt.datetime:
    """The next slot of this user's weekly rhythm strictly after `now` (slots are the
    epoch week plus the user's offset, so every user keeps one weekday and hour)."""
    epoch = dt.datetime(1970, 1, 5, tzinfo=dt.UTC)  # a Monday
    slot = epoch + routine_offset(user_key)
    periods = (now - slot) // ROUTINE_PERIOD + 1
    return slot + periods * ROUTINE_PERIOD


def decide(
    user_key: str,
    now: dt.datetime,
    last_read: dt.datetime | None,
    next_routine: dt.datetime | None,
    earliest_available: dict[str, dt.datetime],
    *,
    first_session: bool,
) -> Decision:
    """Whether this session reconciles, and the routine slot to store after it.

    `last_read` None on a user that is not new (the engine predates this cursor) counts
    as an absence: one reconciliation, then the cursor exists."""
    scheduled = next_routine or first_routine(user_key, now)
    if first_session:
        return Decision(False, "", scheduled)  # nothing is linked before the first read
    reason = ""
    if last_read is None or now - last_read > ABSENCE_LIMIT:
        reason = "absence"
    else:
        for obj, earliest in sorted(earliest_available.items()):
            # An earliestDateAvailable in the future is no evidence of a purge (a clock
            # skew, or an org younger than our reading of it): only a past one counts.
            if last_read < earliest <= now:
                reason = f"purge:{obj}"
                break
    if not reason and now >= scheduled:
        reason = "routine"
    if reason:
        # Any reconciliation counts as the routine one: the next is at the user's next slot.
        scheduled = first_routine(user_key, now)
    return Decision(bool(reason), reason, scheduled)
