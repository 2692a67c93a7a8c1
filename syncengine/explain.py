"""“Is this synced, and if not, why?” for one item (SPEC §9). Pure: no I/O, no ORM, no clock.

    verdict = explain(ItemType.CONTACT, rules=rules, now=now, link=link, salesforce=record)
    verdict.code      # a stable Reason ("not_in_contact_scope")
    verdict.sentence  # "Owned by 005…; your scope is Only my contacts."

The verdict is decided by the planner's own rule functions (syncengine.planner.rules:
down_switch_rule, scope_exclusion and the per-rule functions under it) and its side-state
functions (syncengine.planner.linked), walked in the order decide_link / plan walk them, so
the explanation is what the engine does with the same inputs:
``verdict.acted_on`` is True exactly when the planner syncs the item (writes it, links it,
propagates its deletion, or finds it in sync) — tests/syncengine/planner/test_explain.py
holds that per reason code.

Inputs besides the planner's: ``error`` (the last write the session saw refused — the
planner does not know it, the ledger does) and ``owner_names`` (ids → names, for the
sentence only). Every surface (the Items page, the session page, ``sync_explain``, admin)
calls this through syncengine.ledger_query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .emails.blocklist import Blocklist, normalize_address
from .planner import ItemType, LinkState, LinkStatus, MailboxRecord, Origin, SalesforceRecord
from .planner.linked import SideState, mailbox_side_state, sf_side_state
from .planner.rules import (
    ContactScope,
    Exclusion,
    Reason,
    SyncRules,
    down_switch_rule,
    scope_exclusion,
)

# The codes under which the planner acts on the item (or finds it in sync). A pending
# deletion is a kind of waiting: the next session propagates it.
ACTED_ON: frozenset[Reason] = frozenset(
    {Reason.SYNCED, Reason.WAITING_NEXT_SESSION, Reason.DELETION_PENDING}
)

_PLURAL = {ItemType.CONTACT: "contacts", ItemType.TASK: "tasks", ItemType.EVENT: "calendar events"}
_SCOPE_LABEL = {
    ContactScope.ALL: "All contacts",
    ContactScope.MINE: "Only my contacts",
    ContactScope.VIEW: "Custom view",
}


@dataclass(frozen=True)
class ItemError:
    """A write Salesforce or the mailbox refused, as the session logged it."""

    side: str  # "salesforce" | "mailbox"
    message: str
    at: dt.datetime


@dataclass(frozen=True)
class Verdict:
    code: Reason
    sentence: str
    date: dt.date | None = None  # outside_window / frozen: the date it left or will enter

    @property
    def acted_on(self) -> bool:
        return self.code in ACTED_ON

    @property
    def state(self) -> str:
        """A one-word state for lists and JSON: synced, waiting, excluded, held, error."""
        if self.code == Reason.SYNCED:
            return "synced"
        if self.code in (Reason.WAITING_NEXT_SESSION, Reason.DELETION_PENDING):
            return "waiting"
        if self.code == Reason.HELD_FOR_CONFIRMATION:
            return "held"
        if self.code == Reason.ERROR:
            return "error"
        return "excluded"


def explain(
    item_type: ItemType,
    *,
    rules: SyncRules,
    now: dt.datetime,
    link: LinkState | None = None,
    salesforce: SalesforceRecord | None = None,
    mailbox: MailboxRecord | None = None,
    error: ItemError | None = None,
    owner_names: Mapping[str, str] | None = None,
) -> Verdict:
    """The verdict for one item: its link (if any) and its records as the session sees
    them (``salesforce`` / ``mailbox``: None when not read; the link's snapshot and facts
    stand in, as they do for the planner)."""
    words = _Words(item_type, rules, owner_names or {})
    if link is not None:
        return _linked(item_type, rules, now, link, salesforce, mailbox, error, words)
    if error is not None:
        return words.error(error)
    if salesforce is None:
        if mailbox is None:
            raise ValueError("explain needs a link or at least one record")
        if mailbox.gone:
            return Verdict(Reason.NOT_MARKED_FOR_SALESFORCE, words.not_marked())
        return Verdict(
            Reason.WAITING_NEXT_SESSION,
            "New in the mailbox: the next session sends it to Salesforce (or links it to"
            " its match).",
        )
    if salesforce.deleted or salesforce.merged_into:
        return Verdict(
            Reason.DELETION_PENDING, "Deleted in Salesforce; nothing of it is in the mailbox."
        )
    if mailbox is not None and not mailbox.gone:
        return Verdict(
            Reason.WAITING_NEXT_SESSION, "Found on both sides: the next session links the two."
        )
    switch = down_switch_rule(item_type, rules)
    if switch is not None:
        return words.exclusion(switch)
    exclusion = scope_exclusion(salesforce, rules, now)
    if exclusion is not None:
        return words.exclusion(exclusion)
    return Verdict(
        Reason.WAITING_NEXT_SESSION, "In your filters: the next session brings it into the mailbox."
    )


# SyncLogEntry payload codes of Salesforce changes the executor did not write because the
# mailbox would email other people about them (the ledger turns them into this reason).
SPARED_CHANGE, SPARED_DELETE = "organized_meeting", "organized_meeting_deleted"


def explain_spared(people: int, *, deleted: bool) -> Verdict:
    """A Salesforce change (or deletion) of a meeting the user organizes that Relay did not
    write to the mailbox, because the mailbox would have emailed its attendees (SPEC §2b;
    the executor decides it, the ledger records it)."""
    them = f"its {people} attendee{'' if people == 1 else 's'}"
    if deleted:
        return Verdict(
            Reason.ORGANIZED_MEETING,
            "Deleted in Salesforce but kept in your calendar: you organize this meeting and"
            f" deleting it would email {them} a cancellation. It is no longer synced; cancel"
            " it in your calendar if it is off.",
        )
    return Verdict(
        Reason.ORGANIZED_MEETING,
        "Not changed in your calendar: you organize this meeting and the change would email"
        f" {them}; change it in your calendar (the next session sends that to Salesforce).",
    )


def _linked(
    item_type: ItemType,
    rules: SyncRules,
    now: dt.datetime,
    link: LinkState,
    salesforce: SalesforceRecord | None,
    mailbox: MailboxRecord | None,
    error: ItemError | None,
    words: _Words,
) -> Verdict:
    # The order of decide_link (syncengine.planner.linked) and plan's held-link skip.
    if link.state == LinkStatus.HELD_DELETION:
        return Verdict(
            Reason.HELD_FOR_CONFIRMATION,
            "Its deletion is held for confirmation (mass-deletion brake): Confirm or Discard"
            " it on History.",
        )
    if error is not None:
        return words.error(error)
    sf_state = sf_side_state(link, salesforce)
    mb_state = mailbox_side_state(link, mailbox)
    if sf_state == SideState.GONE or mb_state == SideState.GONE:
        where = "Salesforce" if sf_state == SideState.GONE else "the mailbox"
        if sf_state == mb_state:
            where = "both Salesforce and the mailbox"
        return Verdict(
            Reason.DELETION_PENDING,
            f"Deleted (or moved out of the Salesforce folder) in {where}: the next session"
            " applies your deletion settings to the other side.",
        )
    view = salesforce if salesforce is not None else link.last_known_salesforce(item_type)
    exclusion = scope_exclusion(view, rules, now) if view is not None else None
    if exclusion is not None and exclusion.code == Reason.VIEW_MISSING:
        exclusion = None  # undecidable scope: handled as the switch (down_switch_rule)
    switch = down_switch_rule(item_type, rules)
    mb_changed = mb_state == SideState.CHANGED
    sf_changed = sf_state == SideState.CHANGED or (salesforce is None and link.sf_pending)

    if item_type in (ItemType.TASK, ItemType.EVENT) and exclusion is not None:
        # Leaving a window (or the assignee) is never a deletion: the link freezes.
        if mb_changed:
            return words.waiting_up()
        return words.frozen(exclusion)
    if (
        item_type == ItemType.CONTACT
        and exclusion is not None
        and link.origin == Origin.SALESFORCE
        and switch is None
    ):
        # Brought down, now out of scope: the next session removes the mailbox copy.
        return words.exclusion(exclusion, removed=True)
    if sf_changed and not mb_changed and switch is not None:
        return words.exclusion(switch)
    if sf_changed or mb_changed:
        return Verdict(
            Reason.WAITING_NEXT_SESSION,
            "Changed since the last session: the next session syncs the change.",
        )
    return words.synced(link)


def explain_email(
    participants: Iterable[str], *, own_addresses: Iterable[str], blocklist: Blocklist
) -> Verdict | None:
    """Why an email is not logged when every participant is blocked or internal (the
    logging plan's rule, syncengine.emails.logging_plan); None when one may link."""
    own = {a for a in map(normalize_address, own_addresses) if a}
    reasons: list[str] = []
    for address in participants:
        key = normalize_address(address)
        if key in own:
            reasons.append(f"{address} (your own address)")
            continue
        layer = blocklist.reason(address)
        if layer is None:
            return None
        reasons.append(f"{address} ({_blocked_entry(blocklist, key)}, {layer})")
    if not reasons:
        return None
    return Verdict(
        Reason.BLOCKED_ADDRESS,
        "Not logged: every participant is blocked or internal: " + "; ".join(reasons) + ".",
    )


def _blocked_entry(blocklist: Blocklist, key: str | None) -> str:
    if key is None:
        return "unreadable address"
    if key in blocklist.addresses:
        return f"entry {key}"
    domain = key.rpartition("@")[2]
    labels = domain.split(".")
    for i in range(len(labels) - 1):
        suffix = ".".join(labels[i:])
        if suffix in blocklist.domains:
            return f"entry {suffix}"
    return "blocked"


class _Words:
    """The sentences, in the user's time zone."""

    def __init__(self, item_type: ItemType, rules: SyncRules, owners: Mapping[str, str]):
        self.item_type, self.rules, self.owners = item_type, rules, owners
        self.zone = ZoneInfo(rules.time_zone or "UTC")

    def owner(self, owner_id: str | None) -> str:
        if not owner_id:
            return "another user"
        name = self.owners.get(owner_id)
        return f"{name} ({owner_id})" if name else owner_id

    def when(self, instant: dt.datetime) -> str:
        local = instant.astimezone(self.zone)
        return f"{local:%Y-%m-%d %H:%M} ({self.rules.time_zone or 'UTC'})"

    def view(self) -> str:
        return f"“{self.rules.view_name}”" if self.rules.view_name else "you picked"

    def exclusion(self, ex: Exclusion, *, removed: bool = False) -> Verdict:
        tail = " Its mailbox copy is removed at the next session." if removed else ""
        code = ex.code
        if code == Reason.DOWN_SYNC_OFF:
            text = (
                f"Salesforce → mailbox sync of {_PLURAL[self.item_type]} is off"
                " (Sync settings → Filters)."
            )
        elif code == Reason.VIEW_MISSING:
            text = (
                f"Your contact view {self.view()} no longer exists in Salesforce: no contact"
                " is synced down until you pick another (Sync settings → Filters)."
            )
        elif code == Reason.NOT_IN_CONTACT_SCOPE:
            scope = _SCOPE_LABEL[self.rules.contact_scope]
            text = f"This contact is owned by {self.owner(ex.owner_id)}; your scope is {scope}."
        elif code == Reason.NOT_IN_VIEW:
            text = f"This contact is not in your contact view {self.view()}."
        elif code == Reason.NOT_ASSIGNEE:
            text = (
                f"This task is assigned to {self.owner(ex.owner_id)}; only tasks assigned to"
                " you sync."
            )
        elif code == Reason.NOT_OWNER_OR_INVITEE:
            text = (
                f"This event is owned by {self.owner(ex.owner_id)} and you are not invited;"
                " only events you own or are invited to sync."
            )
        else:  # outside_window
            text = self._window(ex)
        return Verdict(code, text + tail, ex.date)

    def _window(self, ex: Exclusion) -> str:
        if self.item_type == ItemType.TASK:
            rule = "completed tasks sync while due or changed within the last 14 days"
        else:
            rule = "events sync from 14 days back to 60 days ahead"
        if ex.date is None:
            return f"Outside the sync window ({rule})."
        verb = "enters it on" if ex.entering else "left it on"
        return f"Outside the sync window ({rule}): it {verb} {ex.date:%Y-%m-%d}."

    def frozen(self, ex: Exclusion) -> Verdict:
        window = ex.code == Reason.OUTSIDE_WINDOW
        why = self._window(ex) if window else self.exclusion(ex).sentence
        return Verdict(
            Reason.FROZEN,
            f"Frozen: kept in the mailbox and linked, but Salesforce changes wait. {why}"
            " Edits in the mailbox still go up.",
            ex.date,
        )

    def waiting_up(self) -> Verdict:
        return Verdict(
            Reason.WAITING_NEXT_SESSION,
            "Edited in the mailbox: the next session sends the edit to Salesforce.",
        )

    def not_marked(self) -> str:
        where = {
            ItemType.CONTACT: "the Salesforce contacts folder",
            ItemType.TASK: "the Salesforce task list",
            ItemType.EVENT: "the Salesforce category",
        }[self.item_type]
        return f"Not in {where} of your mailbox, so Relay does not send it to Salesforce."

    def error(self, error: ItemError) -> Verdict:
        side = "Salesforce" if error.side == "salesforce" else "The mailbox"
        return Verdict(
            Reason.ERROR,
            f"{side} refused the last write on {self.when(error.at)}: {error.message}"
            " The next session tries again.",
        )

    def synced(self, link: LinkState) -> Verdict:
        if link.last_synced_at is None:
            return Verdict(Reason.SYNCED, "Synced.")
        return Verdict(Reason.SYNCED, f"Synced; last synced {self.when(link.last_synced_at)}.")
