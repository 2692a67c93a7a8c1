"""Write intents: a create is recorded before it is sent, so a worker that dies, or a
response lost after the provider applied the write, never ends in a duplicate (SPEC §5).

Content matching after the fact is not enough: the user may edit the item between the
crash and the next session (rename a task, change a contact's email, move an event), and
the edited item no longer matches what was created. The intent holds what was sent, so
the next session finds the create's product by that content before planning anything:

- a Salesforce create (Salesforce holds no marker of ours): among the type's unlinked
  records in this session's change feed — the type's cursor never advances past an
  unfinished run, so every record created by it is in the feed — the one whose content is
  what was sent (exactly, else by the match key of what was sent: the user edited the
  record in Salesforce too). It is linked to the source mailbox item with the hashes of
  what was sent, so the planner sees the user's edit as an edit; then the Salesforce id is
  stored on the mailbox item (the marker);
- a mailbox create: its payload carried the marker, so the planner pairs the item by the
  marker, whatever was edited; the intent only has to go.

An intent whose create is not found was never applied: it goes, and the planner creates
the item again from the unlinked source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from accounts.models import User

from .link_store import decode_fields, encode_facts, encode_fields, write_link
from .models import SyncLink, WriteIntent
from .planner import ItemType, match_key
from .planner.records import SalesforceRecord
from .records_io import SOBJECT, sf_record
from .salesforce.types import ChangeBatch

Target = WriteIntent.Target
CreatedSince = Callable[[str, dt.datetime], list[str]]
# The session's clock and Salesforce's may disagree by this much.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Sent:
    """One create about to be sent: the source side's id and what is sent."""

    source_id: str
    fields: Mapping[str, Any]
    sent_hash: str
    source_hash: str = ""
    origin: str = SyncLink.Origin.MAILBOX
    replaces_sf_id: str = ""


def record(
    user: User, item_type: ItemType, target: str, sent: Sequence[Sent], now: dt.datetime
) -> list[WriteIntent]:
    """Store the intents durably (committed before the create is sent)."""
    rows = [
        WriteIntent(
            user=user,
            item_type=str(item_type),
            target=target,
            source_id=s.source_id,
            replaces_sf_id=s.replaces_sf_id or "",
            fields=encode_fields(s.fields),
            sent_hash=s.sent_hash,
            source_hash=s.source_hash or "",
            origin=s.origin,
            created_at=now,
        )
        for s in sent
    ]
    with transaction.atomic():
        return WriteIntent.objects.bulk_create(rows)


def drop(intents: Sequence[WriteIntent]) -> None:
    ids = [i.pk for i in intents if i.pk is not None]
    if ids:
        WriteIntent.objects.filter(pk__in=ids).delete()


def mark_created(intent: WriteIntent, created_id: str) -> None:
    """The create's product is linked; only its marker may still be owed."""
    WriteIntent.objects.filter(pk=intent.pk).update(created_id=created_id)


def has_pending(user: User, item_type: ItemType) -> bool:
    return WriteIntent.objects.filter(user=user, item_type=str(item_type)).exists()


def pending_types(user: User) -> set[str]:
    """The item types with unsettled creates, in one query (a session asks once)."""
    return set(WriteIntent.objects.filter(user=user).values_list("item_type", flat=True))


@dataclass
class Resolution:
    """What resolving left to do once the mailbox items are at hand: store these markers
    (mailbox id, sf id, fields), then drop `intents`."""

    markers: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    intents: list[WriteIntent] = field(default_factory=list)
    linked: int = 0


def type_rows(item_type: ItemType, batch: ChangeBatch) -> list[Mapping[str, Any]]:
    changes = {
        ItemType.CONTACT: batch.contacts,
        ItemType.TASK: batch.tasks,
        ItemType.EVENT: batch.events,
    }[item_type]
    return list(changes.records.values())


def resolve(
    user: User,
    item_type: ItemType,
    batch: ChangeBatch,
    now: dt.datetime,
    created_since: CreatedSince | None = None,
) -> Resolution:
    """Resolve the type's pending intents against this session's Salesforce feed; runs
    before the links are loaded for planning. `created_since(sobject, when)` lists the
    ids of records the user created since `when` (one query, made only when an intent's
    content matches nothing: the user edited the created record in Salesforce too)."""
    out = Resolution()
    pending = list(WriteIntent.objects.filter(user=user, item_type=str(item_type)).order_by("pk"))
    if not pending:
        return out
    links = SyncLink.objects.filter(user=user, item_type=str(item_type))
    linked_sf: set[str] = set()
    # mailbox id -> the Salesforce ids linked to it. A restore's source item stays linked
    # to the deleted record it replaces until the restore is settled, so "linked by other
    # means" must not count that link (else the intent goes and the restore is redone).
    linked_mailbox: dict[str, set[str]] = {}
    for sf_id, mailbox_id in links.values_list("sf_id", "mailbox_id"):
        linked_sf.add(sf_id)
        linked_mailbox.setdefault(mailbox_id, set()).add(sf_id)

    def linked_elsewhere(intent: WriteIntent) -> bool:
        return bool(linked_mailbox.get(intent.source_id, set()) - {intent.replaces_sf_id})

    def now_linked(intent: WriteIntent, sf_id: str) -> None:
        linked_mailbox[intent.source_id] = {sf_id}  # the replaced link's row was moved

    rows = [r for r in type_rows(item_type, batch) if r["Id"] not in linked_sf]
    claimed: set[str] = set()
    unresolved: list[tuple[WriteIntent, dict[str, Any]]] = []
    for intent in pending:
        fields = decode_fields(intent.fields)
        if intent.target == Target.MAILBOX:
            out.intents.append(intent)  # the payload carried the marker: the planner pairs
            continue
        if intent.created_id:  # linked, the marker may be owed
            if intent.created_id in linked_mailbox.get(intent.source_id, ()):
                out.markers.append((intent.source_id, intent.created_id, fields))
            out.intents.append(intent)
            continue
        if linked_elsewhere(intent):
            out.intents.append(intent)  # linked by other means meanwhile
            continue
        found = _find_created(item_type, intent, fields, rows, claimed)
        if found is None:
            unresolved.append((intent, fields))
            continue
        claimed.add(found.sf_id)
        now_linked(intent, found.sf_id)
        _link(user, item_type, intent, found, now)
        out.markers.append((intent.source_id, found.sf_id, fields))
        out.linked += 1
        out.intents.append(intent)
    if unresolved and created_since is not None:
        since = min(i.created_at for i, _ in unresolved) - CLOCK_SKEW
        ours = set(created_since(SOBJECT[item_type], since))
        recent = [r for r in rows if r["Id"] in ours]
        for intent, fields in unresolved:
            found = _most_alike(item_type, fields, recent, claimed)
            if found is not None and not linked_elsewhere(intent):
                now_linked(intent, found.sf_id)
                claimed.add(found.sf_id)
                _link(user, item_type, intent, found, now)
                out.markers.append((intent.source_id, found.sf_id, fields))
                out.linked += 1
    out.intents.extend(i for i, _ in unresolved)
    return out


def _find_created(
    item_type: ItemType,
    intent: WriteIntent,
    fields: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    claimed: set[str],
) -> SalesforceRecord | None:
    records = [
        sf_record(item_type, row, previous=fields)
        for row in sorted(rows, key=lambda r: r["Id"])
        if row["Id"] not in claimed and not row.get("IsDeleted")
    ]
    for record in records:
        if record.content_hash == intent.sent_hash:
            return record
    key = match_key(item_type, fields)
    if key is None:
        return None
    for record in records:
        if match_key(item_type, record.fields) == key:
            return record
    return None


def _most_alike(
    item_type: ItemType,
    fields: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    claimed: set[str],
) -> SalesforceRecord | None:
    """The record created since the intent that shares most of the sent values (at least
    half of them: a user's edit changes one or two fields, while a record the user made
    by hand in that window is unlikely to repeat what was sent); ties go to the oldest."""
    sent = {k: v for k, v in fields.items() if v not in (None, "", [], {})}
    if not sent:
        return None
    best, best_score = None, 0
    for row in sorted(rows, key=lambda r: r["Id"]):
        if row["Id"] in claimed or row.get("IsDeleted"):
            continue
        record = sf_record(item_type, row, previous=fields)
        score = sum(1 for k, v in sent.items() if record.fields.get(k) == v)
        if score > best_score:
            best, best_score = record, score
    return best if best is not None and 2 * best_score >= len(sent) else None


def _link(
    user: User, item_type: ItemType, intent: WriteIntent, found: SalesforceRecord, now: dt.datetime
) -> None:
    """The link the lost create would have written: the hashes of what was sent, so an
    edit made since on either side is planned as an edit."""
    with transaction.atomic():
        write_link(
            user,
            item_type,
            found.sf_id,
            match_sf_id=intent.replaces_sf_id or None,
            mailbox_id=intent.source_id,
            sf_hash=intent.sent_hash,
            mailbox_hash=intent.source_hash,
            snapshot=intent.fields,
            sf_facts=encode_facts(found.facts),
            origin=intent.origin,
            state=SyncLink.State.LINKED,
            error_count=0,
            last_error="",
            last_synced_at=now,
        )
        WriteIntent.objects.filter(pk=intent.pk).update(created_id=found.sf_id)
