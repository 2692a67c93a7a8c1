"""The Exchange email feeds (SPEC §6): "Salesforce Emails", and with auto-save inbox + sent.

Each feed is SyncFolderItems on one mail folder with its SyncState (as the item feeds,
≤512 changes a call); the new or changed messages are read with one batched GetItem that
asks for the MIME content (the message as sent: headers, bodies, attachments), which is
parsed here with the standard library. Deletes and moves out are ignored (a logged email
stays logged); ReadFlagChange is not a change of the message. Inbox and sent items keep
to the last 30 days (AUTO_SAVE_WINDOW) by their received time. An invalid SyncState reads
that folder in full again. Direction: Sent Items is outgoing; elsewhere the sender is
compared with the mailbox's address.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any, Protocol

from exchangelib import errors as ews_errors
from exchangelib.folders.base import Folder

from syncengine.emails.feed import (
    AUTO_SAVE_WINDOW,
    INBOX_FEED,
    SALESFORCE_FEED,
    SENT_FEED,
    EmailFeed,
    derived_message_id,
    merge_records,
    wanted_cursors,
)
from syncengine.emails.records import Address, Attachment, EmailRecord

from ..base import EMAILS, CursorExpired
from .feeds import GET_CHUNK, sync_folder
from .folders import MailboxFolders


class MailTransport(Protocol):
    """What the email feeds use of ExchangeAdapter (which imports this module)."""

    account: Any  # exchangelib's Account
    folders: MailboxFolders
    clock: Callable[[], dt.datetime]

    def folder(self, role: str) -> Folder: ...


MESSAGE_FIELDS = ("mime_content", "is_draft", "datetime_received")


class ExchangeMail:
    def __init__(self, adapter: MailTransport, owner: str) -> None:
        self.adapter = adapter
        self.owner = (owner or "").strip().lower()

    def _folder(self, name: str) -> Folder:
        if name == SALESFORCE_FEED:
            return self.adapter.folder(EMAILS)
        folders = self.adapter.folders
        return folders.inbox() if name == INBOX_FEED else folders.sent()

    def read(self, cursors: Mapping[str, str | None], auto_save: bool) -> EmailFeed:
        since = self.adapter.clock().astimezone(dt.UTC) - AUTO_SAVE_WINDOW
        out = EmailFeed()
        records: list[EmailRecord] = []
        for name, cursor in wanted_cursors(cursors, auto_save).items():
            folder = self._folder(name)
            try:
                delta = sync_folder(folder, cursor)
            except CursorExpired:
                delta, cursor = sync_folder(folder, None), None
            if not cursor:
                out.full.append(name)
            out.cursors[name] = delta.state
            for message in self._messages(delta.changed).values():
                if message is None or message.is_draft:
                    continue
                received = message.datetime_received
                if name != SALESFORCE_FEED and received is not None and received < since:
                    continue
                records.append(self.record(message, name))
        out.records = merge_records(records)
        return out

    def _messages(self, ids: list[str]) -> dict[str, Any | None]:
        if not ids:
            return {}
        answers = self.adapter.account.fetch(
            ids=[(i, None) for i in ids],
            folder=self.adapter.folders.inbox(),  # no root read
            only_fields=["mime_content", "is_draft", "datetime_received"],
            chunk_size=GET_CHUNK,
        )
        out: dict[str, Any | None] = {}
        for item_id, answer in zip(ids, answers, strict=True):
            if isinstance(answer, ews_errors.ErrorItemNotFound):
                out[item_id] = None
            elif isinstance(answer, Exception):
                raise answer
            else:
                out[item_id] = answer
        return out

    def fetch(self, ids: list[str]) -> dict[str, EmailRecord | None]:
        """Messages by id with their attachments' contents, as records of the Salesforce
        folder; None for a message gone (one batched GetItem with MIME)."""
        return {
            i: (self.record(m, SALESFORCE_FEED) if m is not None else None)
            for i, m in self._messages(ids).items()
        }

    def record(self, message: Any, feed: str) -> EmailRecord:
        raw = message.mime_content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        return email_from_mime(
            raw,
            mailbox_id=str(message.id),
            owner=self.owner,
            in_salesforce_folder=feed == SALESFORCE_FEED,
            sent_folder=feed == SENT_FEED,
        )


def _addresses(values: list[str]) -> tuple[Address, ...]:
    return tuple(Address(addr, name) for name, addr in getaddresses(values) if addr)


def email_from_mime(
    raw: bytes, *, mailbox_id: str, owner: str, in_salesforce_folder: bool, sent_folder: bool
) -> EmailRecord:
    """An EmailRecord from a message's RFC 5322 MIME (bodies and attachments decoded)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    senders = _addresses(msg.get_all("From") or [])
    sender = senders[0] if senders else None
    try:
        sent_at = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
    except (TypeError, ValueError):
        sent_at = None
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    attachments = []
    for part in msg.iter_attachments():
        content = part.get_content()
        data = content if isinstance(content, bytes) else str(content).encode()
        attachments.append(
            Attachment(
                name=part.get_filename() or "attachment",
                content_type=part.get_content_type(),
                size=len(data),
                inline=part.get_content_disposition() == "inline",
                content=data,
            )
        )
    incoming = not sent_folder and not (sender is not None and sender.key == owner)
    return EmailRecord(
        mailbox_id=mailbox_id,
        message_id=str(msg["Message-ID"] or "").strip()
        or derived_message_id("exchange", mailbox_id),
        subject=str(msg["Subject"] or ""),
        sender=sender,
        to=_addresses(msg.get_all("To") or []),
        cc=_addresses(msg.get_all("Cc") or []),
        bcc=_addresses(msg.get_all("Bcc") or []),
        sent_at=sent_at,
        incoming=incoming,
        text_body=str(text.get_content()) if text is not None else "",
        html_body=str(html.get_content()) if html is not None else "",
        attachments=tuple(attachments),
        in_salesforce_folder=in_salesforce_folder,
    )
