"""The session step that relates linked mailbox meetings to their people (SPEC §2b).

Runs after the event pass, over the events this session read from the mailbox (an idle
session read none, so it costs nothing). For each linked event whose people — attendees,
organizer, responses — hash differently from what the link last related, the meeting goes
into one batch for ``salesforce.relations.SalesforceRelations.relate``. A meeting that
names nobody Relay could relate (only the user, colleagues, blocked or free-mail
addresses) and for which Relay related nobody before costs no call: its hash is stored.

What is kept on the link (``SyncLink.relations``): ``uid`` (iCalendar UID), ``hash``
(people last related; cleared when a write failed, so the next session retries) and
``made`` (the people Relay related: the only ones Relay ever unrelates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncsettings.services import blocklist_for, own_addresses

from .mappers.people import MailboxPeople, people_hash
from .models import SyncLink
from .planner import ItemType
from .salesforce.relations import Meeting, SalesforceRelations


@dataclass
class RelationsOutcome:
    related: int = 0  # meetings whose relations were planned and written
    errors: int = 0  # meetings with a refused relation write


def _linkable(people: MailboxPeople, own: set[str], blocklist: Any) -> bool:
    return any(a not in own and not blocklist.is_blocked(a) for a in people.addresses())


def relate_meetings(
    user: Any,
    sf: Any,
    codec: Any,
    raw_items: Mapping[str, Mapping[str, Any]],
    *,
    mailbox_address: str = "",
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
        people = codec.people(ItemType.EVENT, raw_items[row.mailbox_id])
        if people is None:
            continue
        digest = people_hash(people)
        kept = dict(row.relations or {})
        if kept.get("hash") == digest:
            continue
        made = frozenset(kept.get("made") or ())
        if not made and not _linkable(people, own, blocklist):
            row.relations = {**kept, "uid": people.ical_uid, "hash": digest}
            row.save(update_fields=["relations"])
            continue
        batch.append((row, Meeting(row.sf_id, people, made), digest))
    if not batch:
        return outcome
    result = SalesforceRelations(sf).relate(
        [m for _, m, _ in batch], user_addresses=sorted(own), blocklist=blocklist
    )
    for row, meeting, digest in batch:
        plan = result.plans.get(row.sf_id)
        if plan is None:  # the Salesforce event is gone: the event sync handles that
            continue
        failed = bool(result.errors.get(row.sf_id))
        outcome.related += 0 if plan.empty else 1
        outcome.errors += int(failed)
        row.relations = {
            "uid": meeting.people.ical_uid,
            "hash": "" if failed else digest,
            "made": sorted(plan.made | (meeting.made if failed else frozenset())),
        }
        row.save(update_fields=["relations"])
    return outcome
