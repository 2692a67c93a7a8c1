"""Sync settings as the planner needs them, and the scope / window predicates (SPEC §3).

Edges, decided here once so every caller agrees:

* "within the last 14 days" is inclusive: an instant ``t`` qualifies when
  ``t >= now - 14 days``; 14 days exactly is in, one second more is out.
* A task's due date is a date in the user's time zone. It qualifies when
  ``due_date >= today - 14 days`` with ``today`` the user's local date at ``now``; so a
  task due on D stays in until local midnight starting D + 15. A completed task due in the
  future qualifies too (the user will expect to see it).
* The event window is closed at both ends: a timed event is in when ``end >= now - 14 d``
  and ``start <= now + 60 d``. An all-day event (dates, end exclusive) is in when its last
  day ``end_date - 1`` is on or after the local date of ``now - 14 d`` and its
  ``start_date`` is on or before the local date of ``now + 60 d``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from .records import CLOSED_TASK_STATUSES, ItemType, SalesforceRecord

TASK_LOOKBACK = dt.timedelta(days=14)
EVENT_LOOKBACK = dt.timedelta(days=14)
EVENT_LOOKAHEAD = dt.timedelta(days=60)


class ContactScope(StrEnum):
    ALL = "all"
    MINE = "mine"
    VIEW = "view"


def _all_on() -> dict[ItemType, bool]:
    return dict.fromkeys(ItemType, True)


@dataclass(frozen=True)
class SyncRules:
    user_sf_id: str
    down_enabled: Mapping[ItemType, bool] = field(default_factory=_all_on)
    contact_scope: ContactScope = ContactScope.MINE
    # The ids the chosen list view returns, as Salesforce evaluates it. None: the view is
    # gone, so no contact is synced down and nothing is deleted because of it.
    view_member_ids: frozenset[str] | None = None
    # Contacts and tasks; events always follow "on" (SPEC §4).
    auto_remove: Mapping[ItemType, bool] = field(default_factory=_all_on)
    time_zone: str = "UTC"
    # For sentences only (the explainer names the view); no decision reads it.
    view_name: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def contact_view_missing(self) -> bool:
        return self.contact_scope == ContactScope.VIEW and self.view_member_ids is None

    def down_allowed(self, item_type: ItemType) -> bool:
        """Whether Salesforce → mailbox writes happen at all for the type this session."""
        return down_switch_rule(item_type, self) is None

    def auto_removal(self, item_type: ItemType) -> bool:
        if item_type == ItemType.EVENT:
            return True
        return self.auto_remove.get(item_type, True)


def local_date(instant: dt.datetime, zone: ZoneInfo) -> dt.date:
    return instant.astimezone(zone).date()


# --- the rules, one function each ------------------------------------------------------
#
# Each rule returns None when it lets the record through, else an Exclusion: a stable
# reason code plus the facts a sentence needs (the owner, the date, the view). The planner
# and the explainer (syncengine.explain) call these same functions, so what Relay does and
# what it says about an item cannot drift apart.


class Reason(StrEnum):
    """Why an item is (not) synced: the stable codes every surface shows (SPEC §9)."""

    SYNCED = "synced"
    WAITING_NEXT_SESSION = "waiting_next_session"
    DOWN_SYNC_OFF = "down_sync_off"
    OUTSIDE_WINDOW = "outside_window"
    NOT_ASSIGNEE = "not_assignee"
    NOT_OWNER_OR_INVITEE = "not_owner_or_invitee"
    NOT_IN_CONTACT_SCOPE = "not_in_contact_scope"
    NOT_IN_VIEW = "not_in_view"
    VIEW_MISSING = "view_missing"
    BLOCKED_ADDRESS = "blocked_address"
    NOT_MARKED_FOR_SALESFORCE = "not_marked_for_salesforce"
    HELD_FOR_CONFIRMATION = "held_for_confirmation"
    FROZEN = "frozen"
    DELETION_PENDING = "deletion_pending"
    ERROR = "error"
    # A Salesforce change not written: the mailbox would email the meeting's attendees.
    ORGANIZED_MEETING = "organized_meeting"


@dataclass(frozen=True)
class Exclusion:
    code: Reason
    owner_id: str | None = None  # the record's owner (not the user's)
    # outside_window: the local date the record left the window (in the past) or will
    # enter it (in the future)
    date: dt.date | None = None
    entering: bool = False


def down_switch_rule(item_type: ItemType, rules: SyncRules) -> Exclusion | None:
    """The type's Salesforce → mailbox switch (a missing contact view counts as off)."""
    if item_type == ItemType.CONTACT and rules.contact_view_missing:
        return Exclusion(Reason.VIEW_MISSING)
    if not rules.down_enabled.get(item_type, True):
        return Exclusion(Reason.DOWN_SYNC_OFF)
    return None


def assignee_rule(record: SalesforceRecord, rules: SyncRules) -> Exclusion | None:
    if record.owner_id != rules.user_sf_id:
        return Exclusion(Reason.NOT_ASSIGNEE, owner_id=record.owner_id)
    return None


def task_window_rule(
    record: SalesforceRecord, rules: SyncRules, now: dt.datetime
) -> Exclusion | None:
    """Open tasks always; completed ones due or modified within the last 14 days."""
    fields = record.fields
    if fields.get("status") not in CLOSED_TASK_STATUSES:
        return None
    if record.modified_at >= now - TASK_LOOKBACK:
        return None
    due = fields.get("due_date")
    if isinstance(due, dt.datetime):  # a mapper slip; a due date is a date
        due = local_date(due, rules.zone)
    if due is not None and due >= local_date(now, rules.zone) - TASK_LOOKBACK:
        return None
    # It left on the later of: 14 days after its last change, 15 days after its due date.
    left = local_date(record.modified_at + TASK_LOOKBACK, rules.zone)
    if due is not None:
        left = max(left, due + TASK_LOOKBACK + dt.timedelta(days=1))
    return Exclusion(Reason.OUTSIDE_WINDOW, date=left)


def event_involvement_rule(record: SalesforceRecord, rules: SyncRules) -> Exclusion | None:
    if record.owner_id == rules.user_sf_id or rules.user_sf_id in record.invitee_ids:
        return None
    return Exclusion(Reason.NOT_OWNER_OR_INVITEE, owner_id=record.owner_id)


def event_window_rule(
    fields: Mapping[str, object], zone: ZoneInfo, now: dt.datetime
) -> Exclusion | None:
    """The window [now - 14 d, now + 60 d], closed; all-day events by local date."""
    outside = Exclusion(Reason.OUTSIDE_WINDOW)
    if fields.get("all_day"):
        start_date = fields.get("start_date")
        end_date = fields.get("end_date") or start_date
        if not isinstance(start_date, dt.date) or not isinstance(end_date, dt.date):
            return outside
        last_day = max(start_date, end_date - dt.timedelta(days=1))
        if last_day < local_date(now - EVENT_LOOKBACK, zone):
            return Exclusion(Reason.OUTSIDE_WINDOW, date=last_day + EVENT_LOOKBACK)
        if start_date > local_date(now + EVENT_LOOKAHEAD, zone):
            return Exclusion(
                Reason.OUTSIDE_WINDOW, date=start_date - EVENT_LOOKAHEAD, entering=True
            )
        return None
    start = fields.get("start")
    end = fields.get("end") or start
    if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
        return outside
    if end < now - EVENT_LOOKBACK:
        return Exclusion(Reason.OUTSIDE_WINDOW, date=local_date(end + EVENT_LOOKBACK, zone))
    if start > now + EVENT_LOOKAHEAD:
        entering = local_date(start - EVENT_LOOKAHEAD, zone)
        return Exclusion(Reason.OUTSIDE_WINDOW, date=entering, entering=True)
    return None


def contact_scope_rule(record: SalesforceRecord, rules: SyncRules) -> Exclusion | None:
    """All / only mine / a list view; a missing view excludes every contact."""
    if rules.contact_scope == ContactScope.ALL:
        return None
    if rules.contact_scope == ContactScope.MINE:
        if record.owner_id == rules.user_sf_id:
            return None
        return Exclusion(Reason.NOT_IN_CONTACT_SCOPE, owner_id=record.owner_id)
    if rules.view_member_ids is None:
        return Exclusion(Reason.VIEW_MISSING)
    if record.sf_id in rules.view_member_ids:
        return None
    return Exclusion(Reason.NOT_IN_VIEW)


def scope_exclusion(
    record: SalesforceRecord, rules: SyncRules, now: dt.datetime
) -> Exclusion | None:
    """The first scope rule that keeps a live record out of down-sync, or None."""
    if record.item_type == ItemType.TASK:
        return assignee_rule(record, rules) or task_window_rule(record, rules, now)
    if record.item_type == ItemType.EVENT:
        return event_involvement_rule(record, rules) or event_window_rule(
            record.fields, rules.zone, now
        )
    return contact_scope_rule(record, rules)


# --- predicates over the rules (what the planner branches on) ---------------------------


def task_in_scope(record: SalesforceRecord, rules: SyncRules, now: dt.datetime) -> bool:
    return assignee_rule(record, rules) is None and task_window_rule(record, rules, now) is None


def event_in_window(fields: Mapping[str, object], zone: ZoneInfo, now: dt.datetime) -> bool:
    return event_window_rule(fields, zone, now) is None


def event_in_scope(record: SalesforceRecord, rules: SyncRules, now: dt.datetime) -> bool:
    return (
        event_involvement_rule(record, rules) is None
        and event_window_rule(record.fields, rules.zone, now) is None
    )


def contact_in_scope(record: SalesforceRecord, rules: SyncRules) -> bool | None:
    """True / False, or None when the scope cannot be decided (the view is missing)."""
    exclusion = contact_scope_rule(record, rules)
    if exclusion is not None and exclusion.code == Reason.VIEW_MISSING:
        return None
    return exclusion is None


def in_scope(record: SalesforceRecord, rules: SyncRules, now: dt.datetime) -> bool | None:
    """The down-sync scope of a live record; None when undecidable (see contact_in_scope)."""
    exclusion = scope_exclusion(record, rules, now)
    if exclusion is not None and exclusion.code == Reason.VIEW_MISSING:
        return None
    return exclusion is None


def deletion_brake_threshold(link_count: int) -> int:
    """More deletions than this on one side in one plan are held (SPEC §4)."""
    return max(25, link_count // 5)
