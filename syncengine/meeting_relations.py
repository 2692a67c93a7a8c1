"""The session step that relates linked mailbox meetings to their people (SPEC §2b).

Runs after the event pass, over the events this session read from the mailbox (an idle
session read none, so it costs nothing). For each linked event whose people — attendees,
organizer, responses — hash differently from what the link last related, the meeting goes
into one batch for ``salesforce.relations.SalesforceRelations.relate``. A meeting that
names nobody Relay could relate (only the user, colleagues, blocked or free-mail
addresses) and for which Relay related nobody before costs no call: its hash is stored.

What is kept on the link (``SyncLink.relations``): ``uid`` (iCalendar UID), ``hash``
(people last related; cleared when a write failed, so the next session retries),
``made`` (the people Relay related: the only ones Relay ever unrelates) and ``event`` (the
Salesforce event those two are about: a link whose event was recreated starts afresh).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accounts.models import Connection, User
from syncsettings.services import blocklist_for, own_addresses

from .link_store import decode_fields, encode_fields, write_link
from .mailboxes.base import MailboxCodec
from .mappers.people import MailboxPeople, people_hash
from .models import SyncLink
from .planner import ItemType
from .salesforce.relations import Meeting, OrgSettingCache, SalesforceRelations


@dataclass
class RelationsOutcome:
    related: int = 0  # meetings whose relations were planned and written
    errors: int = 0  # meetings with a refused relation write
    # The Salesforce events whose relations were written: their "In Salesforce:" block is
    # refreshed in this same session (people_blocks), not one session later.
    events: set[str] = field(default_factory=set)


def _remember_notified(row: SyncLink, codec: Any, item: Mapping[str, Any]) -> None:
    """Keep on the link how many people a write to this item would message (``notifies``,
    the kind's codec says it), so a Salesforce change in a later session that does not
    read the item is still not written to it (executor: ``notified_by``)."""
    notifies = codec.notified_by_write(ItemType.EVENT, item)
    kept = dict(row.relations or {})
    if int(kept.get("notifies") or 0) != notifies:
        if notifies:
            kept["notifies"] = notifies
        else:
            kept.pop("notifies", None)
        row.relations = kept
        row.save(update_fields=["relations"])


# The people hash of a link whose mailbox copy Relay itself recreated (a restore, "an edit
# beats a deletion"): down-sync never invites, so the new copy has none of the meeting's
# guests, and reading that as "the user removed every guest" would unrelate the people
# Relay related — one session after the restore (found by the soak, office365 seed 89).
RECREATED = "recreated"


def mark_recreated(user: User, sf_ids: list[str]) -> None:
    """The mailbox copies of these linked events were recreated by Relay: the copy's first
    read takes its people as the base, and keeps the relations made."""
    rows = SyncLink.objects.filter(user=user, item_type=str(ItemType.EVENT), sf_id__in=sf_ids)
    for row in rows:
        kept = dict(row.relations or {})
        if kept.get("made"):
            row.relations = {**kept, "hash": RECREATED}
            row.save(update_fields=["relations"])


# The Salesforce event the kept ``hash`` and ``made`` were related on. A link whose event
# Relay recreated (an edit beats a deletion in Salesforce) or re-pointed holds a new event
# with nobody related: what was kept for the old one says nothing about it (soak gmail 89,
# 161), so its people are related afresh.
EVENT = "event"


def _of_this_event(row: SyncLink) -> dict[str, Any]:
    kept = dict(row.relations or {})
    if kept.get(EVENT, row.sf_id) != row.sf_id:
        for key in (EVENT, "hash", "made"):
            kept.pop(key, None)
    return kept


def _linkable(people: MailboxPeople, own: set[str], blocklist: Any) -> bool:
    return any(a not in own and not blocklist.is_blocked(a) for a in people.addresses())


def relate_meetings(
    user: User,
    sf: Any,
    codec: Any,
    raw_items: Mapping[str, Mapping[str, Any]],
    *,
    mailbox_address: str = "",
    org_cache: OrgSettingCache | None = None,
) -> RelationsOutcome:
    """Relate the linked meetings among ``raw_items`` (mailbox JSON by id) whose people
    changed. ``sf``: the session's SalesforceAdapter (its calls are counted)."""
    outcome = RelationsOutcome()
    if not raw_items:
        return outcome
    rows = SyncLink.objects.filter(
        user=user,
        item_type=str(ItemType.EVENT),
        state=SyncLink.State.LINKED,
        mailbox_id__in=list(raw_items),
    )
    own_list = [*own_addresses(user), mailbox_address]
    own = {a.strip().lower() for a in own_list if a}
    blocklist = blocklist_for(user)
    batch: list[tuple[SyncLink, Meeting, str]] = []
    for row in rows:
        _remember_notified(row, codec, raw_items[row.mailbox_id])
        people = codec.people(ItemType.EVENT, raw_items[row.mailbox_id])
        if people is None:
            continue
        digest = people_hash(people)
        kept = _of_this_event(row)
        if kept.get("hash") == digest:
            continue
        if kept.get("hash") == RECREATED:  # Relay's own copy: no guest was removed
            row.relations = {**kept, "uid": people.ical_uid, "hash": digest, EVENT: row.sf_id}
            row.save(update_fields=["relations"])
            continue
        made = frozenset(kept.get("made") or ())
        if not made and not _linkable(people, own, blocklist):
            row.relations = {**kept, "uid": people.ical_uid, "hash": digest, EVENT: row.sf_id}
            row.save(update_fields=["relations"])
            continue
        batch.append((row, Meeting(row.sf_id, people, made), digest))
    if not batch:
        return outcome
    result = SalesforceRelations(sf, cache=org_cache).relate(
        [m for _, m, _ in batch], user_addresses=sorted(own), blocklist=blocklist
    )
    for row, meeting, digest in batch:
        plan = result.plans.get(row.sf_id)
        if plan is None:  # the Salesforce event is gone: the event sync handles that
            continue
        failed = bool(result.errors.get(row.sf_id))
        outcome.related += 0 if plan.empty else 1
        if not plan.empty:
            outcome.events.add(row.sf_id)
        outcome.errors += int(failed)
        row.relations = {
            **_of_this_event(row),
            EVENT: row.sf_id,
            "uid": meeting.people.ical_uid,
            "hash": "" if failed else digest,
            "made": sorted(plan.made | (meeting.made if failed else frozenset())),
        }
        row.save(update_fields=["relations"])
    return outcome


# --- one meeting, one Salesforce event ---------------------------------------------------


def _when(fields: Mapping[str, Any]) -> Any:
    """Which occurrence of a meeting this is: its start (its date when all day)."""
    return fields.get("start_date") if fields.get("all_day") else fields.get("start")


def adopt_shared_meetings(
    user: User, org_id: str, codec: MailboxCodec, items: list[dict[str, Any]]
) -> int:
    """Link this user's unlinked mailbox events to the Salesforce event another Relay user
    of the same org already linked for the same meeting (iCalendar UID), before planning,
    so the planner neither creates a second Salesforce event nor a second mailbox copy.
    Every occurrence of a series carries the series' UID (Google gives each instance the
    same ``iCalUID``), so occurrences pair by UID and start, as the colleague's link last
    saw it; a meeting of one occurrence on each side pairs by UID alone (moved in one
    mailbox, it syncs as an ordinary edit). The new link starts "in step" (both hashes of
    the mailbox's content): what differs later syncs as an ordinary edit. DB only: no API
    call. Returns how many were linked."""
    if not org_id or not items:
        return 0
    linked = set(
        SyncLink.objects.filter(user=user, item_type=str(ItemType.EVENT)).values_list(
            "mailbox_id", flat=True
        )
    )
    by_uid: dict[str, list[Any]] = {}  # uid -> this user's unlinked records, in feed order
    for item in items:
        people = codec.people(ItemType.EVENT, item)
        mailbox_id = codec.item_id(item)
        if people is not None and people.ical_uid and mailbox_id not in linked:
            by_uid.setdefault(people.ical_uid, []).append(codec.record(ItemType.EVENT, item))
    if not by_uid:
        return 0
    colleagues = Connection.objects.filter(
        side=Connection.Side.SALESFORCE, extra__org_id=org_id
    ).exclude(user=user)
    theirs: dict[str, dict[str, Any]] = {}  # uid -> {sf_id: occurrence}, oldest link first
    for uid, sf_id, snapshot in (
        SyncLink.objects.filter(
            item_type=str(ItemType.EVENT),
            user__in=colleagues.values("user"),
            relations__uid__in=list(by_uid),
        )
        .order_by("created_at")
        .values_list("relations__uid", "sf_id", "snapshot")
    ):
        theirs.setdefault(uid, {}).setdefault(sf_id, _when(decode_fields(snapshot)))
    mine = set(
        SyncLink.objects.filter(user=user, item_type=str(ItemType.EVENT)).values_list(
            "sf_id", flat=True
        )
    )
    adopted = 0
    for uid, records in by_uid.items():
        events = {sf_id: when for sf_id, when in theirs.get(uid, {}).items() if sf_id not in mine}
        single = len(records) == 1 and len(theirs.get(uid, {})) == 1
        for record in records:
            when = _when(record.fields)
            found = next((i for i, w in events.items() if w == when), None)
            if found is None and single:
                found = next(iter(events), None)
            if found is None:
                continue
            sf_id = found
            write_link(
                user,
                ItemType.EVENT,
                sf_id,
                mailbox_id=record.mailbox_id,
                sf_hash=record.content_hash,
                mailbox_hash=record.content_hash,
                snapshot=encode_fields(record.fields),
                origin=SyncLink.Origin.MAILBOX,
                state=SyncLink.State.LINKED,
                relations={"uid": uid},
            )
            mine.add(sf_id)
            events.pop(sf_id)
            adopted += 1
    return adopted
