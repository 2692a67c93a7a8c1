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

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def contact_view_missing(self) -> bool:
        return self.contact_scope == ContactScope.VIEW and self.view_member_ids is None

    def down_allowed(self, item_type: ItemType) -> bool:
        """Whether Salesforce → mailbox writes happen at all for the type this session."""
        if item_type == ItemType.CONTACT and self.contact_view_missing:
            return False
        return self.down_enabled.get(item_type, True)

    def auto_removal(self, item_type: ItemType) -> bool:
        if item_type == ItemType.EVENT:
            return True
        return self.auto_remove.get(item_type, True)


def local_date(instant: dt.datetime, zone: ZoneInfo) -> dt.date:
    return instant.astimezone(zone).date()


def task_in_scope(record: SalesforceRecord, rules: SyncRules, now: dt.datetime) -> bool:
    if record.owner_id != rules.user_sf_id:
        return False
    fields = record.fields
    if fields.get("status") not in CLOSED_TASK_STATUSES:
        return True
    if record.modified_at >= now - TASK_LOOKBACK:
        return True
    due = fields.get("due_date")
    if isinstance(due, dt.datetime):  # a mapper slip; a due date is a date
        due = local_date(due, rules.zone)
    return due is not None and due >= local_date(now, rules.zone) - TASK_LOOKBACK


def event_in_window(fields: Mapping[str, object], zone: ZoneInfo, now: dt.datetime) -> bool:
    if fields.get("all_day"):
        start_date = fields.get("start_date")
        end_date = fields.get("end_date") or start_date
        if not isinstance(start_date, dt.date) or not isinstance(end_date, dt.date):
            return False
        last_day = max(start_date, end_date - dt.timedelta(days=1))
        return last_day >= local_date(now - EVENT_LOOKBACK, zone) and start_date <= local_date(
            now + EVENT_LOOKAHEAD, zone
        )
    start = fields.get("start")
    end = fields.get("end") or start
    if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
        return False
    return end >= now - EVENT_LOOKBACK and start <= now + EVENT_LOOKAHEAD


def event_in_scope(record: SalesforceRecord, rules: SyncRules, now: dt.datetime) -> bool:
    involved = record.owner_id == rules.user_sf_id or rules.user_sf_id in record.invitee_ids
    return involved and event_in_window(record.fields, rules.zone, now)


def contact_in_scope(record: SalesforceRecord, rules: SyncRules) -> bool | None:
    """True / False, or None when the scope cannot be decided (the view is missing)."""
    if rules.contact_scope == ContactScope.ALL:
        return True
    if rules.contact_scope == ContactScope.MINE:
        return record.owner_id == rules.user_sf_id
    if rules.view_member_ids is None:
        return None
    return record.sf_id in rules.view_member_ids


def in_scope(record: SalesforceRecord, rules: SyncRules, now: dt.datetime) -> bool | None:
    """The down-sync scope of a live record; None when undecidable (see contact_in_scope)."""
    if record.item_type == ItemType.TASK:
        return task_in_scope(record, rules, now)
    if record.item_type == ItemType.EVENT:
        return event_in_scope(record, rules, now)
    return contact_in_scope(record, rules)


def deletion_brake_threshold(link_count: int) -> int:
    """More deletions than this on one side in one plan are held (SPEC §4)."""
    return max(25, link_count // 5)
