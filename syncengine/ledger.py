"""The per-item ledger (SPEC §9): what a session did with each item, or which rule kept it
out, written once per session and type right after the executor ran.

    record_plan(session, item_type, result, links=..., sf_records=..., mailbox_records=...,
                rules=rules, now=now)

Rows: one per item an action of the plan touched (bookkeeping re-stamps left out), one
per Salesforce record or mailbox item the session read and the planner left alone for a
rule (the verdict of syncengine.explain, so the reason is the planner's own), and writes
the side refused become `error` rows with what it said. Kept LEDGER_KEEP_DAYS and pruned
daily by relay.prune_item_ledger.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .explain import SPARED_CHANGE, SPARED_DELETE, ItemError, explain, explain_spared
from .models import ItemLedgerEntry, SyncLogEntry, SyncSession
from .planner import (
    Conflict,
    CreateMailbox,
    CreateSalesforce,
    DeleteMailbox,
    DeleteSalesforce,
    Forget,
    Freeze,
    HoldDeletions,
    ItemType,
    LinkPair,
    LinkState,
    MailboxRecord,
    Plan,
    Relink,
    RestoreMailbox,
    SalesforceRecord,
    Side,
    Skip,
    SyncRules,
    Unfreeze,
    UpdateMailbox,
    UpdateSalesforce,
)
from .planner.rules import Reason

logger = logging.getLogger(__name__)
LEDGER_KEEP_DAYS: int = max(90, int(getattr(settings, "RELAY_LEDGER_KEEP_DAYS", 90)))
Action = ItemLedgerEntry.Action
DOWN, UP = "down", "up"

# action class → (ledger action, direction, what the sentence says)
_WRITES: dict[type, tuple[str, str, str]] = {
    CreateMailbox: (Action.CREATED, DOWN, "Created in the mailbox from Salesforce."),
    UpdateMailbox: (Action.UPDATED, DOWN, "Salesforce's change written to the mailbox."),
    RestoreMailbox: (Action.RESTORED, DOWN, "Restored in the mailbox from Salesforce."),
    DeleteMailbox: (Action.DELETED, DOWN, "Mailbox copy deleted"),
    CreateSalesforce: (Action.CREATED, UP, "Created in Salesforce from the mailbox."),
    UpdateSalesforce: (Action.UPDATED, UP, "The mailbox edit written to Salesforce."),
    DeleteSalesforce: (Action.DELETED, UP, "Salesforce record deleted"),
    LinkPair: (Action.LINKED, "", "Linked to its match on the other side."),
    Relink: (Action.RELINKED, "", "Relinked to the surviving Salesforce record."),
    Forget: (Action.FORGOTTEN, "", "Link forgotten"),
    Freeze: (Action.FROZEN, "", ""),
    Unfreeze: (Action.UNFROZEN, DOWN, "Back in the sync window."),
    Conflict: (Action.CONFLICT, "", "Changed on both sides: the later edit won."),
}


def display_name(item_type: ItemType | str, fields: Mapping[str, Any] | None) -> str:
    """What a person recognises the item by: a contact's name and address, a subject."""
    fields = fields or {}
    if str(item_type) == ItemType.CONTACT:
        name = " ".join(str(p) for p in (fields.get("first_name"), fields.get("last_name")) if p)
        email = fields.get("email")
        text = f"{name} <{email}>" if name and email else (name or email or "")
    else:
        text = fields.get("subject") or ""
    return str(text)[:200]


class _Rows:
    def __init__(self, session: SyncSession, item_type: ItemType, now: dt.datetime) -> None:
        self.session, self.item_type, self.now = session, item_type, now
        self.rows: dict[tuple[str, str], ItemLedgerEntry] = {}
        self.names: dict[str, str] = {}  # any id → display name

    def add(self, sf_id: str | None, mailbox_id: str | None, action: str, direction: str,
            code: str, reason: str) -> None:  # fmt: skip
        sf_id, mailbox_id = sf_id or "", mailbox_id or ""
        key = (sf_id, mailbox_id)
        if key in self.rows and self.rows[key].action != Action.CONFLICT:
            return  # the first (most telling) action of an item stands; a conflict yields
        name = self.names.get(sf_id) or self.names.get(mailbox_id) or ""
        self.rows[key] = ItemLedgerEntry(
            user_id=self.session.user_id,
            session=self.session,
            item_type=str(self.item_type),
            sf_id=sf_id[:18],
            mailbox_id=mailbox_id[:512],
            name=name,
            action=action,
            direction=direction,
            reason_code=str(code),
            reason=reason[:500],
            created_at=self.now,
        )


def record_plan(session: SyncSession, item_type: ItemType, result: Plan, **inputs: Any) -> int:
    """Write the session's ledger rows for one item type; returns how many. The ledger
    explains, it never decides: a failure here is logged and the session goes on. A plan
    with no action over no records read (the idle path) has nothing to record."""
    if not result.actions and not inputs.get("sf_records") and not inputs.get("mailbox_records"):
        return 0
    try:
        return _record_plan(session, item_type, result, **inputs)
    except Exception:
        logger.exception("ledger: recording session %s (%s) failed", session.pk, item_type)
        return 0


def _record_plan(
    session: SyncSession,
    item_type: ItemType,
    result: Plan,
    *,
    links: Mapping[str, LinkState],
    sf_records: Mapping[str, SalesforceRecord],
    mailbox_records: Mapping[str, MailboxRecord],
    rules: SyncRules,
    now: dt.datetime,
) -> int:
    rules = _with_view_name(session, rules)
    rows = _Rows(session, item_type, timezone.now())
    by_mailbox = {link.mailbox_id: link for link in links.values()}
    for link in links.values():
        rows.names[link.sf_id] = rows.names[link.mailbox_id] = display_name(
            item_type, link.snapshot
        )
    for item in mailbox_records.values():
        rows.names.setdefault(item.mailbox_id, display_name(item_type, item.fields))
    for record in sf_records.values():
        rows.names[record.sf_id] = display_name(item_type, record.fields)

    def verdict(sf_id: str | None, mailbox_id: str | None) -> Any:
        link = links.get(sf_id or "") or by_mailbox.get(mailbox_id or "")
        record = sf_records.get(sf_id or "") or (
            sf_records.get(link.sf_id) if link is not None else None
        )
        item = mailbox_records.get(mailbox_id or "") or (
            mailbox_records.get(link.mailbox_id) if link is not None else None
        )
        return explain(item_type, rules=rules, now=now, link=link, salesforce=record, mailbox=item)

    touched: set[str] = set()
    for action in result.actions:
        sf_id = getattr(action, "sf_id", None) or getattr(action, "old_sf_id", None)
        mailbox_id = getattr(action, "mailbox_id", None) or getattr(action, "old_mailbox_id", None)
        touched.update(i for i in (sf_id, mailbox_id) if i)
        if isinstance(action, HoldDeletions):
            for deletion in action.deletions:
                touched.update(i for i in (deletion.sf_id, deletion.mailbox_id) if i)
                side = DOWN if action.side == Side.MAILBOX else UP
                rows.add(deletion.sf_id, deletion.mailbox_id, Action.HELD, side,
                         Reason.HELD_FOR_CONFIRMATION, action.reason)  # fmt: skip
            continue
        if isinstance(action, Skip):
            found = verdict(sf_id, mailbox_id)
            reason = found.sentence if not found.acted_on else action.reason
            rows.add(sf_id, mailbox_id, Action.SKIPPED, "", found.code, reason)
            continue
        kind = _WRITES.get(type(action))
        if kind is None:
            continue  # RefreshLink: bookkeeping only
        ledger_action, direction, text = kind
        if isinstance(action, CreateSalesforce) and action.replaces_sf_id:
            ledger_action, sf_id = Action.RESTORED, action.replaces_sf_id
        code: str = Reason.SYNCED
        if isinstance(action, (Freeze, DeleteMailbox, Forget)):
            found = verdict(sf_id, mailbox_id)
            if isinstance(action, Freeze) or not found.acted_on:
                code, text = found.code, found.sentence
            else:
                text = f"{text}: {action.reason}."
        if isinstance(action, (DeleteSalesforce,)):
            text = f"{text}: {action.reason}."
        rows.add(sf_id, mailbox_id, ledger_action, direction, code, text)

    # Read this session and left alone: the rule that kept it out.
    for record in sorted(sf_records.values(), key=lambda r: r.sf_id):
        if record.sf_id not in touched and record.sf_id not in links:
            found = explain(item_type, rules=rules, now=now, salesforce=record)
            if not found.acted_on:
                rows.add(record.sf_id, None, Action.SKIPPED, DOWN, found.code, found.sentence)
    for item in sorted(mailbox_records.values(), key=lambda r: r.mailbox_id):
        if item.mailbox_id not in touched and item.mailbox_id not in by_mailbox:
            found = explain(item_type, rules=rules, now=now, mailbox=item)
            if not found.acted_on:
                rows.add(None, item.mailbox_id, Action.SKIPPED, UP, found.code, found.sentence)

    _mark_spared(session, item_type, rows)
    _mark_errors(session, item_type, rows, rules, now)
    with transaction.atomic():  # a savepoint: a failed write cannot spoil the caller's
        ItemLedgerEntry.objects.bulk_create(rows.rows.values(), batch_size=500)
    return len(rows.rows)


def _mark_spared(session: SyncSession, item_type: ItemType, rows: _Rows) -> None:
    """Salesforce changes the executor did not write because the mailbox would have
    emailed a meeting's attendees (its log entries say so): skipped, with the reason."""
    entries = SyncLogEntry.objects.filter(
        session=session,
        item_type=str(item_type),
        kind=SyncLogEntry.Kind.PROBLEM,
        payload__code__in=[SPARED_CHANGE, SPARED_DELETE],
    ).values_list("sf_id", "mailbox_id", "payload")
    for sf_id, mailbox_id, payload in entries:
        deleted = payload.get("code") == SPARED_DELETE
        verdict = explain_spared(int(payload.get("people") or 0), deleted=deleted)
        key = (sf_id, mailbox_id)
        rows.rows.pop(key, None)  # the planned write did not happen
        rows.add(sf_id, mailbox_id, Action.SKIPPED, DOWN, verdict.code, verdict.sentence)


def _mark_errors(
    session: SyncSession, item_type: ItemType, rows: _Rows, rules: SyncRules, now: dt.datetime
) -> None:
    """Writes the side refused (the executor logged them) become error rows, in the
    explainer's words: which side, when (the user's zone), what it said."""
    errors = SyncLogEntry.objects.filter(
        session=session, item_type=str(item_type), kind=SyncLogEntry.Kind.ITEM_ERROR
    ).values_list("sf_id", "mailbox_id", "side", "payload", "message", "created_at")
    for sf_id, mailbox_id, side, payload, message, at in errors:
        said = (payload or {}).get("message") or message
        code = (payload or {}).get("code")
        error = ItemError(side, f"{code}: {said}" if code else said, at)
        text = explain(item_type, rules=rules, now=now, error=error).sentence
        hits = [
            row
            for (s, m), row in rows.rows.items()
            if (sf_id and s == sf_id) or (mailbox_id and m == mailbox_id)
        ]
        if not hits:
            rows.add(sf_id, mailbox_id, Action.ERROR, "", Reason.ERROR, text)
            continue
        for row in hits:
            row.action, row.reason_code = Action.ERROR, Reason.ERROR
            row.reason = text[:500]
            row.direction = DOWN if side == Side.MAILBOX else UP


def _with_view_name(session: SyncSession, rules: SyncRules) -> SyncRules:
    if rules.view_name or rules.contact_scope != "view":
        return rules
    from syncsettings.models import SyncSettings

    name = (
        SyncSettings.objects.filter(user_id=session.user_id)
        .values_list("contact_view_name", flat=True)
        .first()
    )
    return replace(rules, view_name=name or "")


def prune(now: dt.datetime | None = None, keep_days: int = LEDGER_KEEP_DAYS) -> int:
    """Delete ledger rows older than `keep_days` (never fewer than 90); returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=max(90, keep_days))
    deleted, _ = ItemLedgerEntry.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def sessions_items(session_ids: Iterable[int]) -> dict[int, int]:
    """How many ledger rows each session has (History shows it)."""
    from django.db.models import Count

    counts = (
        ItemLedgerEntry.objects.filter(session_id__in=list(session_ids))
        .values("session_id")
        .annotate(n=Count("id"))
    )
    return {row["session_id"]: row["n"] for row in counts}


def record_email_skip(session: SyncSession, record: Any, reason: str, owner: str = "") -> None:
    """An email in the Salesforce folder the logging plan skipped: a ledger row with the
    blocklist entries that kept it out (blocked_address) or the plan's own reason."""
    try:
        with transaction.atomic():
            _record_email_skip(session, record, reason, owner)
    except Exception:
        logger.exception("ledger: recording a skipped email of session %s failed", session.pk)


def _record_email_skip(session: SyncSession, record: Any, reason: str, owner: str) -> None:
    from syncsettings.services import blocklist_for, own_addresses

    from .explain import explain_email

    participants = [a.address for a in record.participants]
    own = [*own_addresses(session.user), owner]
    verdict = explain_email(participants, own_addresses=own, blocklist=blocklist_for(session.user))
    code, text = (verdict.code, verdict.sentence) if verdict else (Reason.SYNCED, reason)
    ItemLedgerEntry.objects.create(
        user_id=session.user_id,
        session=session,
        item_type="email",
        mailbox_id=(record.mailbox_id or "")[:512],
        name=(record.subject or "")[:200],
        action=Action.SKIPPED,
        direction=UP,
        reason_code=str(code),
        reason=text[:500],
        created_at=timezone.now(),
    )


def planned_writes(result: Plan) -> int:
    """How many of a plan's actions write something (what first-sync progress counts)."""
    return sum(1 for a in result.actions if type(a) in _WRITES or isinstance(a, HoldDeletions))


def progress(session: SyncSession, item_type: ItemType, *, done: int, total: int) -> None:
    """While a session runs, per type: items done / total (the dashboard shows it). A type
    with nothing to write shows nothing and costs no query (the idle path)."""
    if total == 0:
        return
    current = (
        SyncSession.objects.filter(pk=session.pk).values_list("progress", flat=True).first()
    ) or {}
    current[str(item_type)] = {"done": done, "total": total}
    SyncSession.objects.filter(pk=session.pk, status=SyncSession.Status.RUNNING).update(
        progress=current
    )


def record_org_usage(session: SyncSession, usage: Any) -> None:
    """Keep the org's API usage / allocation the session saw (Sforce-Limit-Info) on the
    session; `usage` is the adapter's OrgUsage or None (no response carried it)."""
    if usage is None or (session.sf_org_api_used, session.sf_org_api_limit) == (
        usage.used,
        usage.limit,
    ):
        return
    session.sf_org_api_used, session.sf_org_api_limit = usage.used, usage.limit
    SyncSession.objects.filter(pk=session.pk).update(
        sf_org_api_used=usage.used, sf_org_api_limit=usage.limit
    )


def record_resolution(
    session: SyncSession, item_type: ItemType, result: Plan, rows: Iterable[Any], confirm: bool
) -> int:
    """Confirm / Discard of held deletions: one row per item with what was done (the
    executor's refusals become error rows, as in a session)."""
    try:
        with transaction.atomic():
            return _record_resolution(session, item_type, result, rows, confirm)
    except Exception:
        logger.exception("ledger: recording held deletions of session %s failed", session.pk)
        return 0


def _record_resolution(
    session: SyncSession, item_type: ItemType, result: Plan, rows: Iterable[Any], confirm: bool
) -> int:
    out = _Rows(session, item_type, timezone.now())
    for row in rows:
        out.names[row.sf_id] = out.names[row.mailbox_id] = display_name(item_type, row.snapshot)
    text = "Held deletion confirmed." if confirm else "Held deletion discarded: both kept."
    for action in result.actions:
        sf_id = getattr(action, "sf_id", None) or getattr(action, "replaces_sf_id", None)
        mailbox_id = getattr(action, "mailbox_id", None) or getattr(action, "old_mailbox_id", None)
        kind = _WRITES.get(type(action))
        if kind is None:
            continue
        ledger_action, direction, _ = kind
        if isinstance(action, CreateSalesforce) and action.replaces_sf_id:
            ledger_action = Action.RESTORED
        out.add(sf_id, mailbox_id, ledger_action, direction, Reason.SYNCED, text)
    from syncsettings.models import SyncSettings

    zone = (
        SyncSettings.objects.filter(user_id=session.user_id)
        .values_list("time_zone", flat=True)
        .first()
    )
    rules = SyncRules(user_sf_id="", time_zone=zone or "UTC")
    _mark_errors(session, item_type, out, rules, timezone.now())
    ItemLedgerEntry.objects.bulk_create(out.rows.values(), batch_size=500)
    return len(out.rows)
