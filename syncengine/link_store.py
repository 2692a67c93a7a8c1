"""SyncLink rows ↔ the planner's LinkState, and the JSON form of canonical fields.

Canonical fields hold dates and aware datetimes; JSON holds neither. The field name says
which it is (`due_date`, `start_date`, `end_date` are dates; `completed_at`, `start`,
`end` are datetimes), so the stored form is plain ISO text and decoding is by name.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.fields.json import KT

from accounts.models import User

from .models import SyncLink
from .planner import ItemType, LinkState, LinkStatus, Origin, SalesforceFacts

# Shared by 50,000 links of a big book: most records invite nobody; few owners own them.
NOBODY: frozenset[str] = frozenset()
DATE_FIELDS = frozenset({"due_date", "start_date", "end_date"})
DATETIME_FIELDS = frozenset({"completed_at", "start", "end"})


def encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def decode_value(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in DATE_FIELDS:
        return dt.date.fromisoformat(value[:10])
    if name in DATETIME_FIELDS:
        return dt.datetime.fromisoformat(value)
    return value


def encode_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: encode_value(v) for k, v in fields.items()}


def decode_fields(data: Mapping[str, Any] | None) -> dict[str, Any]:
    # Interned names: a big book's links share one copy of each field name, not one each.
    return {sys.intern(k): decode_value(k, v) for k, v in (data or {}).items()}


def encode_facts(facts: SalesforceFacts | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    return {
        "owner_id": facts.owner_id,
        "modified_at": facts.modified_at.isoformat(),
        "invitee_ids": sorted(facts.invitee_ids),
        "scope_fields": [[k, encode_value(v)] for k, v in facts.scope_fields],
        "content_hash": facts.content_hash,
    }


def decode_facts(data: Mapping[str, Any] | None) -> SalesforceFacts | None:
    if not data:
        return None
    return SalesforceFacts(
        owner_id=sys.intern(owner) if isinstance(owner := data["owner_id"], str) else owner,
        modified_at=dt.datetime.fromisoformat(data["modified_at"]),
        invitee_ids=frozenset(invitees) if (invitees := data.get("invitee_ids")) else NOBODY,
        scope_fields=tuple(
            (sys.intern(k), decode_value(k, v)) for k, v in data.get("scope_fields") or ()
        ),
        content_hash=data.get("content_hash"),
    )


def link_state(row: SyncLink) -> LinkState:
    return LinkState(
        sf_id=row.sf_id,
        mailbox_id=row.mailbox_id,
        sf_hash=row.sf_hash or None,
        mailbox_hash=row.mailbox_hash or None,
        snapshot=decode_fields(row.snapshot),
        origin=Origin(row.origin),
        state=LinkStatus(row.state),
        sf_facts=decode_facts(row.sf_facts),
        mailbox_version=row.mailbox_version or None,
        last_synced_at=row.last_synced_at,
    )


def load_links(user: User, item_type: ItemType) -> dict[str, LinkState]:
    """Every link of the type as the planner's LinkState, by Salesforce id. The rows are
    streamed, not cached: a big book's model instances are not all held next to their
    states."""
    rows = SyncLink.objects.filter(user=user, item_type=str(item_type))
    return {row.sf_id: link_state(row) for row in rows.iterator(chunk_size=2000)}


def has_pending_links(user: User, item_type: ItemType) -> bool:
    """Some link holds a Salesforce change not yet synced down (LinkState.sf_pending):
    the facts' content hash differs from the hash last written to the mailbox."""
    return (
        SyncLink.objects.filter(user=user, item_type=item_type)
        .annotate(seen=KT("sf_facts__content_hash"))
        .filter(seen__isnull=False)
        .exclude(seen=F("sf_hash"))
        .exists()
    )


def write_link(user: User, item_type: ItemType, sf_id: str, **values: Any) -> None:
    """Create or update the link of `sf_id` (`values["match_sf_id"]`: the row to move)."""
    match = values.pop("match_sf_id", None) or sf_id
    if values.get("state", SyncLink.State.HELD_DELETION) != SyncLink.State.HELD_DELETION:
        values.setdefault("held_decision", "")  # resolved: a decision no longer applies
    with transaction.atomic():
        updated = SyncLink.objects.filter(user=user, item_type=item_type, sf_id=match).update(
            sf_id=sf_id, **values
        )
        if not updated:
            SyncLink.objects.create(user=user, item_type=item_type, sf_id=sf_id, **values)
