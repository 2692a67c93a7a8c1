"""What a plan asks the executor to do. Frozen, typed, and free of API shapes.

Every action that writes a side also tells the executor how to write the link row right
after the write (SPEC §5: an echo of our own write must not read as a change):

* the side that was *not* written keeps the hash / facts carried in the action;
* the side that *was* written gets the hash of the item as read back (the mapper's view
  of what the API now returns; an API that drops a field yields its own hash);
* ``snapshot`` becomes the action's ``fields``.

Deletions drop the link row; Forget drops it without touching either side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .links import Origin
from .records import ItemType, SalesforceFacts, Side

Fields = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CreateMailbox:
    """Down-sync a new record: create the item (with the Salesforce id as its marker)."""

    sf_id: str
    fields: Fields
    sf_hash: str
    sf_facts: SalesforceFacts


@dataclass(frozen=True, slots=True)
class UpdateMailbox:
    mailbox_id: str
    sf_id: str  # also rewrite the marker: after a merge relink it names the master
    fields: Fields
    sf_hash: str
    sf_facts: SalesforceFacts


@dataclass(frozen=True, slots=True)
class RestoreMailbox:
    """Recreate a mailbox copy the user deleted and move the link to the new item."""

    sf_id: str
    old_mailbox_id: str
    fields: Fields
    sf_hash: str
    sf_facts: SalesforceFacts


@dataclass(frozen=True, slots=True)
class DeleteMailbox:
    mailbox_id: str
    sf_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class CreateSalesforce:
    """Up-sync a new mailbox item (owner: the user), then store the new id on the item.

    ``replaces_sf_id``: the record was deleted in Salesforce but edited in the mailbox
    (an edit beats a deletion); the new record takes over the old link.
    """

    mailbox_id: str
    fields: Fields
    mailbox_hash: str
    replaces_sf_id: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateSalesforce:
    sf_id: str
    mailbox_id: str
    fields: Fields
    mailbox_hash: str


@dataclass(frozen=True, slots=True)
class DeleteSalesforce:
    sf_id: str
    mailbox_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class LinkPair:
    """Link an unlinked pair found by matching or by the marker on the mailbox item.

    ``fields`` are the winner's; they are written to ``write_to`` (None: both sides already
    agree). The link stores both sides' hashes afterwards.
    """

    sf_id: str
    mailbox_id: str
    fields: Fields
    winner: Side
    write_to: Side | None
    sf_hash: str
    mailbox_hash: str
    sf_facts: SalesforceFacts
    origin: Origin
    matched_by: str  # "marker" or "key"


@dataclass(frozen=True, slots=True)
class Relink:
    """A merged-away Salesforce contact: the link now points at the master record."""

    old_sf_id: str
    new_sf_id: str
    mailbox_id: str


@dataclass(frozen=True, slots=True)
class Forget:
    """Drop a link, touching neither side."""

    sf_id: str
    mailbox_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Freeze:
    """A task or event left its window: keep the link and the item, stop down-sync."""

    sf_id: str
    mailbox_id: str


@dataclass(frozen=True, slots=True)
class Unfreeze:
    sf_id: str
    mailbox_id: str


@dataclass(frozen=True, slots=True)
class RefreshLink:
    """Re-stamp a link without writing a side: new scope facts (owner, invitees, dates
    moved without a content change) or a new hash for a side whose content did not change.
    None leaves a value as it is."""

    sf_id: str
    mailbox_id: str
    sf_hash: str | None = None
    mailbox_hash: str | None = None
    sf_facts: SalesforceFacts | None = None


@dataclass(frozen=True, slots=True)
class Conflict:
    """A log entry: both sides changed; ``winner`` was applied, the loser is recorded."""

    sf_id: str
    mailbox_id: str
    winner: Side
    loser_fields: Fields


@dataclass(frozen=True, slots=True)
class Skip:
    """Nothing done, counted in the session record (``reason`` says why)."""

    reason: str
    sf_id: str | None = None
    mailbox_id: str | None = None


Deletion = DeleteMailbox | DeleteSalesforce


@dataclass(frozen=True, slots=True)
class HoldDeletions:
    """The mass-deletion brake: these deletions wait for Confirm / Discard; the executor
    marks their links ``held_deletion`` and the session ends as "needs confirmation"."""

    side: Side
    deletions: tuple[Deletion, ...]
    reason: str


Action = (
    CreateMailbox
    | UpdateMailbox
    | RestoreMailbox
    | DeleteMailbox
    | CreateSalesforce
    | UpdateSalesforce
    | DeleteSalesforce
    | LinkPair
    | Relink
    | Forget
    | Freeze
    | Unfreeze
    | RefreshLink
    | Conflict
    | Skip
    | HoldDeletions
)

SIDE_WRITES = (
    CreateMailbox,
    UpdateMailbox,
    RestoreMailbox,
    DeleteMailbox,
    CreateSalesforce,
    UpdateSalesforce,
    DeleteSalesforce,
)


# The order a plan's actions run in, defined once (the planner sorts by it, the executor
# runs it): stage after stage, and within a stage kind after kind in this order. Link
# bookkeeping first (a forgotten link frees its id for the pair that replaces it), then
# writes that keep data, then deletions, which the brake may have held.
EXECUTION_STAGES: tuple[tuple[type, ...], ...] = (
    (RefreshLink, Relink, Forget, Unfreeze),
    (LinkPair,),
    (UpdateSalesforce, UpdateMailbox),
    (Conflict,),
    (RestoreMailbox, CreateMailbox, CreateSalesforce),
    (Freeze,),
    (DeleteMailbox, DeleteSalesforce, HoldDeletions),
    (Skip,),
)
STAGE_OF: dict[type, int] = {kind: n for n, stage in enumerate(EXECUTION_STAGES) for kind in stage}


def stage_of(action: Action) -> int:
    return STAGE_OF[type(action)]


@dataclass(frozen=True, slots=True)
class Plan:
    item_type: ItemType
    actions: tuple[Action, ...] = ()
    problems: tuple[str, ...] = field(default=())
    # Mailbox creates not planned because the mailbox would exceed the number of items of
    # the type it can hold (``mailbox_capacity``); each is a Skip with LEFT_OUT_FULL.
    left_out: int = 0

    def of(self, kind: type) -> list[Any]:
        return [action for action in self.actions if isinstance(action, kind)]

    @property
    def writes(self) -> list[Action]:
        """Actions that write to Salesforce or the mailbox (LinkPair only when it writes)."""
        return [
            action
            for action in self.actions
            if isinstance(action, SIDE_WRITES)
            or (isinstance(action, LinkPair) and action.write_to is not None)
        ]

    @property
    def held(self) -> list[HoldDeletions]:
        return self.of(HoldDeletions)
