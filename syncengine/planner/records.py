"""Canonical records: what each side looks like once the mappers are done with it.

The mappers (syncengine/mappers/) turn a Salesforce sObject or a Graph / Google item into
``fields`` keyed by the canonical names below, so the planner never sees an API shape.
Both sides use the same names; a side that cannot store a field (Google Tasks has no
priority) simply leaves it out, and the per-side content hash in the link absorbs that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from syncengine.mappers.canonical import (
    CONTACT_FIELDS as CONTACT_FIELDS,
)
from syncengine.mappers.canonical import (
    EVENT_FIELDS as EVENT_FIELDS,
)
from syncengine.mappers.canonical import (
    TASK_FIELDS as TASK_FIELDS,
)
from syncengine.mappers.canonical import (
    ItemType as ItemType,
)


class Side(StrEnum):
    SALESFORCE = "salesforce"
    MAILBOX = "mailbox"


# --- canonical field names and types: one definition, in syncengine.mappers.canonical --

FIELDS_BY_TYPE: Mapping[ItemType, tuple[str, ...]] = {
    ItemType.CONTACT: CONTACT_FIELDS,
    ItemType.TASK: TASK_FIELDS,
    ItemType.EVENT: EVENT_FIELDS,
}

# Salesforce's default closed status maps to "completed"; it is the only closed one here.
CLOSED_TASK_STATUSES: frozenset[str] = frozenset({"completed"})


# --- normalization and hashing -----------------------------------------------------------


def _normalize_value(value: Any) -> Any:
    # Strings: trim and unify line endings, and "" means "no value": Graph returns "" where
    # Salesforce returns null, and that difference must not read as an edit.
    if isinstance(value, str):
        text = value.replace("\r\n", "\n").strip()
        return text or None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime in canonical fields: {value!r}")
        # Second precision: Salesforce stores milliseconds, Graph seven decimals.
        return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted(str(_normalize_value(v)) for v in value)
    return value


def normalize_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The comparable form of canonical fields: normalized values, empty values dropped."""
    normalized = {key: _normalize_value(value) for key, value in fields.items()}
    return {key: value for key, value in sorted(normalized.items()) if value is not None}


def content_hash(fields: Mapping[str, Any]) -> str:
    """A stable hash of the normalized canonical fields (sorted keys, normalized values)."""
    payload = json.dumps(normalize_fields(fields), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return normalize_fields(a) == normalize_fields(b)


# --- records -------------------------------------------------------------------------------


# The fields the window rules read. The link keeps Salesforce's current values of these
# even while a change is not synced down (switch off, frozen), so a window decision never
# flips back and forth between the record and an older snapshot.
SCOPE_FIELDS: tuple[str, ...] = (
    "status",
    "due_date",
    "all_day",
    "start",
    "end",
    "start_date",
    "end_date",
)


@dataclass(frozen=True, slots=True)
class SalesforceFacts:
    """What scope decisions need, as last seen in Salesforce; the link keeps a copy so
    windows and scopes can be re-evaluated without re-reading unchanged records."""

    owner_id: str
    modified_at: dt.datetime  # LastModifiedDate (the 14-day task rule reads it)
    invitee_ids: frozenset[str] = frozenset()
    scope_fields: tuple[tuple[str, Any], ...] = ()  # sorted (name, value) of SCOPE_FIELDS
    # The content hash last seen. When it differs from the link's sf_hash, Salesforce holds
    # a change not yet synced down (switch off, frozen, view missing): the engine must
    # read that record again while the link is in this state (see LinkState.sf_pending).
    content_hash: str | None = None


@dataclass(frozen=True, slots=True)
class SalesforceRecord:
    sf_id: str
    item_type: ItemType
    fields: Mapping[str, Any]
    owner_id: str
    modified_at: dt.datetime  # aware; LastModifiedDate (SystemModstamp if that is all we have)
    deleted: bool = False  # IsDeleted from queryAll
    invitee_ids: frozenset[str] = frozenset()  # events: EventRelation.RelationId
    merged_into: str | None = None  # contacts: MasterRecordId of a merged-away record

    @property
    def content_hash(self) -> str:
        return content_hash(self.fields)

    @property
    def facts(self) -> SalesforceFacts:
        scope_fields = tuple((k, self.fields[k]) for k in SCOPE_FIELDS if k in self.fields)
        return SalesforceFacts(
            self.owner_id, self.modified_at, self.invitee_ids, scope_fields, self.content_hash
        )


@dataclass(frozen=True, slots=True)
class MailboxRecord:
    mailbox_id: str
    item_type: ItemType
    fields: Mapping[str, Any]
    modified_at: dt.datetime  # aware; lastModifiedDateTime / updated
    deleted: bool = False
    # In the Salesforce folder / list / group, or carrying the "Salesforce" category or
    # marker. False when the user moved it out or removed the category.
    marked: bool = True
    # The Salesforce id we stored on the item when we wrote it.
    sf_id_marker: str | None = None
    # A recurring occurrence: series id + original start; each occurrence is its own item.
    series_key: str | None = None

    @property
    def content_hash(self) -> str:
        return content_hash(self.fields)

    @property
    def gone(self) -> bool:
        """Deleted, or moved out of what Relay syncs: the same thing for SPEC §4."""
        return self.deleted or not self.marked
