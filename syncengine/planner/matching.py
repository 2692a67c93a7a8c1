"""Matching unlinked items before anything is created (SPEC §5), so no duplicate appears."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from .records import ItemType, MailboxRecord, SalesforceRecord

MatchKey = Hashable


def _text(value: Any) -> str:
    return " ".join(str(value).split()).casefold() if value else ""


def _instant(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return None


def match_key(item_type: ItemType, fields: Mapping[str, Any]) -> MatchKey | None:
    """The identity two copies of one item share; None when the item cannot be matched.

    Contacts: the email address, trimmed and case-folded. Events: the start (UTC instant,
    or the start date of an all-day event) and the subject. Tasks: the subject and the due
    date (no due date is a value: two undated tasks with one subject match).
    """
    if item_type == ItemType.CONTACT:
        email = str(fields.get("email") or "").strip().casefold()
        return ("contact", email) if email else None
    subject = _text(fields.get("subject"))
    if item_type == ItemType.EVENT:
        start = _instant(fields.get("start_date") if fields.get("all_day") else fields.get("start"))
        if start is None or not subject:
            return None
        return ("event", start, subject)
    if not subject:
        return None
    return ("task", subject, _instant(fields.get("due_date")))


def match_pairs(
    item_type: ItemType,
    sf_records: Iterable[SalesforceRecord],
    mailbox_records: Iterable[MailboxRecord],
) -> list[tuple[SalesforceRecord, MailboxRecord]]:
    """Pair unlinked records one-to-one by key. Within a key, pairs are made in id order
    so the result is deterministic; the rest stay unmatched."""
    by_key: dict[MatchKey, list[SalesforceRecord]] = defaultdict(list)
    for record in sorted(sf_records, key=lambda r: r.sf_id):
        key = match_key(item_type, record.fields)
        if key is not None:
            by_key[key].append(record)
    pairs: list[tuple[SalesforceRecord, MailboxRecord]] = []
    for item in sorted(mailbox_records, key=lambda r: r.mailbox_id):
        key = match_key(item_type, item.fields)
        candidates: Sequence[SalesforceRecord] = by_key.get(key, []) if key is not None else []
        if candidates:
            pairs.append((by_key[key].pop(0), item))
    return pairs
