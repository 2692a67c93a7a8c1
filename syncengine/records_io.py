"""Salesforce API JSON ↔ the planner's records (each mailbox kind has its own codec in
syncengine.mailboxes.<kind>.codec).

The mappers (syncengine.mappers) do the field work; this module adds what the planner
needs around the fields: owner, modification time, tombstones and merges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .mailboxes.base import CONTACTS, EVENTS, TASKS
from .mailboxes.when import parse_when
from .mappers import salesforce as smap
from .planner import ItemType, SalesforceRecord

ROLE = {ItemType.CONTACT: CONTACTS, ItemType.TASK: TASKS, ItemType.EVENT: EVENTS}
SOBJECT = {ItemType.CONTACT: "Contact", ItemType.TASK: "Task", ItemType.EVENT: "Event"}


# --- Salesforce ----------------------------------------------------------------------------


def sf_fields(
    item_type: ItemType, row: Mapping[str, Any], previous: Mapping[str, Any] | None
) -> dict[str, Any]:
    if item_type == ItemType.CONTACT:
        return dict(smap.contact_from_sf(row))
    if item_type == ItemType.TASK:
        return dict(smap.task_from_sf(row))
    return dict(smap.event_from_sf(row, previous))


def sf_record(
    item_type: ItemType,
    row: Mapping[str, Any],
    *,
    previous: Mapping[str, Any] | None = None,
    invitee_ids: frozenset[str] = frozenset(),
) -> SalesforceRecord:
    """A queryAll row (tombstones too) as the planner's record."""
    deleted = bool(row.get("IsDeleted"))
    modified = parse_when(row.get("LastModifiedDate") or row.get("SystemModstamp"))
    fields = {} if deleted else sf_fields(item_type, row, previous)
    return SalesforceRecord(
        sf_id=row["Id"],
        item_type=item_type,
        fields=fields,
        owner_id=str(row.get("OwnerId") or ""),
        modified_at=modified,
        deleted=deleted,
        invitee_ids=invitee_ids,
        merged_into=(row.get("MasterRecordId") or None) if deleted else None,
    )


def sf_payload(item_type: ItemType, fields: Mapping[str, Any]) -> dict[str, Any]:
    if item_type == ItemType.CONTACT:
        return smap.contact_to_sf(fields)
    if item_type == ItemType.TASK:
        return smap.task_to_sf(fields)
    return smap.event_to_sf(fields)


def sf_written(
    item_type: ItemType,
    sf_id: str,
    fields: Mapping[str, Any],
    *,
    owner_id: str,
    now: dt.datetime,
    invitee_ids: frozenset[str] = frozenset(),
) -> SalesforceRecord:
    """What Salesforce holds after writing `fields`: the payload mapped back (so a field
    Salesforce cannot hold, like a contact's company, is absent here as in the echo)."""
    row: dict[str, Any] = {"Id": sf_id, **sf_payload(item_type, fields), "Account": None}
    if item_type == ItemType.TASK and fields.get("completed_at"):
        row["CompletedDateTime"] = smap.format_sf_datetime(fields["completed_at"])
    mapped = sf_fields(item_type, row, fields)
    return SalesforceRecord(sf_id, item_type, mapped, owner_id, now, invitee_ids=invitee_ids)
