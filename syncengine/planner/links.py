"""The link table as the planner sees it: one row per synced pair."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .records import SCOPE_FIELDS, ItemType, SalesforceFacts, SalesforceRecord


class Origin(StrEnum):
    SALESFORCE = "salesforce"  # brought down by down-sync
    MAILBOX = "mailbox"  # created by the user in the mailbox and sent up


class LinkStatus(StrEnum):
    LINKED = "linked"
    FROZEN = "frozen"  # a task or event outside its window: kept, not down-synced
    HELD_DELETION = "held_deletion"  # a deletion the brake held for confirmation


@dataclass(frozen=True, slots=True)
class LinkState:
    """What each side looked like when the pair was last synced.

    ``sf_hash`` / ``mailbox_hash`` are the content hashes of each side *as read back* after
    the last sync (a side that stores fewer fields has its own hash); a side "changed" only
    when its current hash differs from the stored one, so the echo of our own write is
    never a change. ``sf_hash`` None means "not known to be in sync": the Salesforce side
    counts as changed until a sync stores a hash.
    """

    sf_id: str
    mailbox_id: str
    sf_hash: str | None
    mailbox_hash: str | None
    snapshot: Mapping[str, Any]  # canonical fields at the last sync
    origin: Origin
    state: LinkStatus = LinkStatus.LINKED
    sf_facts: SalesforceFacts | None = None  # owner, LastModifiedDate, invitees last seen
    mailbox_version: str | None = None
    last_synced_at: dt.datetime | None = None

    @property
    def sf_pending(self) -> bool:
        """Salesforce changed since the last sync and the change is not synced down yet:
        the engine must pass this record in ``sf_current`` every session until it is."""
        seen = self.sf_facts.content_hash if self.sf_facts else None
        return seen is not None and seen != self.sf_hash

    def last_known_salesforce(self, item_type: ItemType) -> SalesforceRecord | None:
        """The Salesforce record as last seen, for scope and window decisions on a record
        not read this session: the snapshot, with owner, dates and status from the facts."""
        if self.sf_facts is None:
            return None
        return SalesforceRecord(
            sf_id=self.sf_id,
            item_type=item_type,
            fields={
                **{k: v for k, v in self.snapshot.items() if k not in SCOPE_FIELDS},
                **dict(self.sf_facts.scope_fields),
            },
            owner_id=self.sf_facts.owner_id,
            modified_at=self.sf_facts.modified_at,
            invitee_ids=self.sf_facts.invitee_ids,
        )


def salesforce_ids_to_read(links: Iterable[LinkState]) -> set[str]:
    """Linked records the engine must read besides the change feed (pending changes)."""
    return {link.sf_id for link in links if link.sf_pending}
