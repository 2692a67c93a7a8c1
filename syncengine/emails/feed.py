"""What a mailbox adapter's email feed returns: the messages to consider for logging.

Feeds, by cursor key (the engine stores `EmailFeed.cursors` as a whole and passes it back):
- `emails`: the "Salesforce Emails" folder (Office 365) / label (Gmail). Always read.
- `inbox`, `sent`: read only with auto-save (SPEC §6); a first read is bounded to the last
  `AUTO_SAVE_DAYS` days. Without auto-save their cursors are dropped, so turning auto-save
  on later starts again from that bound.

A record appears once per read even when the message sits in several feeds (moved from
the inbox to the folder, a copy in two folders): records are merged by Message-ID,
`in_salesforce_folder` if any copy is in the folder. Records are "new or changed": the
logger is idempotent by Message-ID, so a message reported again (a flag changed, a full
re-read after an expired cursor) costs nothing more than the read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta

from .records import EmailRecord

SALESFORCE_FEED, INBOX_FEED, SENT_FEED = "emails", "inbox", "sent"
AUTO_SAVE_DAYS = 30
AUTO_SAVE_WINDOW = timedelta(days=AUTO_SAVE_DAYS)


def feeds_for(auto_save: bool) -> tuple[str, ...]:
    return (SALESFORCE_FEED, INBOX_FEED, SENT_FEED) if auto_save else (SALESFORCE_FEED,)


def wanted_cursors(cursors: Mapping[str, str | None], auto_save: bool) -> dict[str, str | None]:
    """The feeds to read and their stored cursors (None: first read)."""
    return {feed: (cursors.get(feed) or None) for feed in feeds_for(auto_save)}


@dataclass
class EmailFeed:
    records: list[EmailRecord] = field(default_factory=list)  # new or changed messages
    cursors: dict[str, str] = field(default_factory=dict)  # feed -> what to pass next time
    api_calls: int = 0  # HTTP calls this read made (see the adapters for what is shared)
    full: list[str] = field(default_factory=list)  # feeds read in full (first or expired)


def derived_message_id(source: str, mailbox_id: str) -> str:
    """A stable stand-in for a missing Message-ID header, from the mailbox's own message id
    (Graph's immutable id, Gmail's message id): the same message keeps the same key across
    sessions and moves, so it is still logged once. Two mailboxes holding the same
    header-less message give two keys (nothing else identifies it)."""
    digest = hashlib.sha256(f"{source}:{mailbox_id}".encode()).hexdigest()[:32]
    return f"<{digest}.{source}@relay.invalid>"


def merge_records(records: Iterable[EmailRecord]) -> list[EmailRecord]:
    """One record per Message-ID, in first-seen order; a copy in the Salesforce folder
    wins (it says `in_salesforce_folder`), and an outgoing copy says the mail is outgoing."""
    out: dict[str, EmailRecord] = {}
    for record in records:
        seen = out.get(record.message_id)
        if seen is None:
            out[record.message_id] = record
            continue
        keep = record if record.in_salesforce_folder and not seen.in_salesforce_folder else seen
        other = seen if keep is record else record
        out[record.message_id] = replace(
            keep,
            in_salesforce_folder=keep.in_salesforce_folder or other.in_salesforce_folder,
            incoming=keep.incoming and other.incoming,
            attachments=keep.attachments or other.attachments,
        )
    return list(out.values())
