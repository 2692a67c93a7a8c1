"""Microsoft Graph message JSON → EmailRecord (pure: no I/O).

- Key: `internetMessageId`; Exchange sets one on every message, but a missing one gets
  `derived_message_id("graph", id)` (ask Graph for immutable ids so it survives moves).
- Sender: `from` (the author), falling back to `sender` (who sent on their behalf).
- Direction: outgoing when read from Sent Items, or when the author is the mailbox owner
  (a sent mail the user moved to the Salesforce folder); compared case-blind on the
  primary address only (aliases of the owner are not known here).
- Body: Graph gives HTML by default; it is kept as is and the text body derived from it
  (`html_to_text`). A text body is kept as text with no HTML. Nothing is truncated: the
  logger handles Salesforce's size limits.
- Attachments: the `messages/{id}/attachments` list. File attachments keep their bytes,
  except inline ones (images in the body), which Salesforce never gets: those are kept
  as metadata, `inline=True`, without content. Item and reference attachments (an
  attached mail, a OneDrive link) have no bytes and come as metadata only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from syncengine.mappers.canonical import html_to_text

from .feed import derived_message_id
from .records import Address, Attachment, EmailRecord

FILE_ATTACHMENT = "#microsoft.graph.fileAttachment"

# What the feeds ask Graph for (`$select` on messages/delta).
MESSAGE_FIELDS = (
    "internetMessageId",
    "subject",
    "from",
    "sender",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "sentDateTime",
    "receivedDateTime",
    "body",
    "hasAttachments",
    "isDraft",
)


def address_of(recipient: Mapping[str, Any] | None) -> Address | None:
    """`{"emailAddress": {"name", "address"}}` → Address (None without an address)."""
    inner = (recipient or {}).get("emailAddress") or {}
    address = str(inner.get("address") or "").strip()
    if not address:
        return None
    name = str(inner.get("name") or "").strip()
    return Address(address, "" if name.lower() == address.lower() else name)


def addresses_of(recipients: Sequence[Mapping[str, Any]] | None) -> tuple[Address, ...]:
    return tuple(a for a in (address_of(r) for r in recipients or ()) if a is not None)


def parse_datetime(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def attachment_from_graph(raw: Mapping[str, Any]) -> Attachment:
    inline = bool(raw.get("isInline"))
    content = None
    if raw.get("@odata.type", FILE_ATTACHMENT) == FILE_ATTACHMENT and not inline:
        try:
            content = base64.b64decode(raw.get("contentBytes") or "", validate=False)
        except (binascii.Error, ValueError):
            content = None
    size = int(raw.get("size") or (len(content) if content is not None else 0))
    return Attachment(
        name=str(raw.get("name") or "attachment"),
        content_type=str(raw.get("contentType") or "application/octet-stream"),
        size=len(content) if content is not None else size,
        inline=inline,
        content=content,
        attachment_id=str(raw.get("id") or ""),
    )


def email_from_graph(
    message: Mapping[str, Any],
    *,
    owner: str = "",
    in_salesforce_folder: bool = False,
    sent_folder: bool = False,
    attachments: Sequence[Mapping[str, Any]] = (),
) -> EmailRecord:
    """One Graph message; `attachments` is its `attachments` list when it has any."""
    mailbox_id = str(message.get("id") or "")
    sender = address_of(message.get("from")) or address_of(message.get("sender"))
    outgoing = sent_folder or bool(
        sender is not None and owner and sender.key == owner.strip().lower()
    )
    body = message.get("body") or {}
    content = str(body.get("content") or "")
    if str(body.get("contentType") or "text").lower() == "html":
        html_body, text_body = content, html_to_text(content) or ""
    else:
        html_body, text_body = "", content
    return EmailRecord(
        mailbox_id=mailbox_id,
        message_id=str(message.get("internetMessageId") or "").strip()
        or derived_message_id("graph", mailbox_id),
        subject=str(message.get("subject") or ""),
        sender=sender,
        to=addresses_of(message.get("toRecipients")),
        cc=addresses_of(message.get("ccRecipients")),
        bcc=addresses_of(message.get("bccRecipients")),
        sent_at=parse_datetime(message.get("sentDateTime") or message.get("receivedDateTime")),
        incoming=not outgoing,
        text_body=text_body,
        html_body=html_body,
        attachments=tuple(attachment_from_graph(a) for a in attachments),
        in_salesforce_folder=in_salesforce_folder,
    )
