"""Small builders for planner tests: records, and links for a pair synced at a given time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from syncengine.planner import (
    ItemType,
    LinkState,
    LinkStatus,
    MailboxRecord,
    Origin,
    SalesforceRecord,
    SyncRules,
)

USER = "005USER"
OTHER = "005OTHER"
NOW = dt.datetime(2024, 3, 15, 12, 0, tzinfo=dt.UTC)
EARLIER = NOW - dt.timedelta(days=1)

DEFAULT_FIELDS: dict[ItemType, dict[str, Any]] = {
    ItemType.CONTACT: {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
    ItemType.TASK: {
        "subject": "Call Ada",
        "due_date": dt.date(2024, 3, 20),
        "status": "not_started",
        "priority": "normal",
    },
    ItemType.EVENT: {
        "subject": "Lunch",
        "all_day": False,
        "start": NOW + dt.timedelta(days=2),
        "end": NOW + dt.timedelta(days=2, hours=1),
    },
}


def sf(
    sf_id: str = "sf1",
    item_type: ItemType = ItemType.CONTACT,
    *,
    owner: str = USER,
    modified: dt.datetime = EARLIER,
    **fields: Any,
) -> SalesforceRecord:
    return SalesforceRecord(
        sf_id, item_type, {**DEFAULT_FIELDS[item_type], **fields}, owner, modified
    )


def mb(
    mailbox_id: str = "mb1",
    item_type: ItemType = ItemType.CONTACT,
    *,
    modified: dt.datetime = EARLIER,
    marker: str | None = None,
    **fields: Any,
) -> MailboxRecord:
    return MailboxRecord(
        mailbox_id,
        item_type,
        {**DEFAULT_FIELDS[item_type], **fields},
        modified,
        sf_id_marker=marker,
    )


def link(
    record: SalesforceRecord,
    item: MailboxRecord,
    *,
    origin: Origin = Origin.SALESFORCE,
    state: LinkStatus = LinkStatus.LINKED,
) -> LinkState:
    """The link as the executor leaves it after syncing this very pair."""
    return LinkState(
        record.sf_id,
        item.mailbox_id,
        record.content_hash,
        item.content_hash,
        dict(record.fields),
        origin,
        state,
        record.facts,
        last_synced_at=EARLIER,
    )


def rules(**overrides: Any) -> SyncRules:
    return SyncRules(user_sf_id=USER, **overrides)


def edited(record: Any, when: dt.datetime = NOW, **fields: Any) -> Any:
    from dataclasses import replace

    return replace(record, fields={**record.fields, **fields}, modified_at=when)
