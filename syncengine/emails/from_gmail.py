"""Gmail `messages.get(format=full)` JSON → EmailRecord (pure: no I/O).

- Key: the `Message-ID` header; a message without one gets
  `derived_message_id("gmail", id)` (Gmail's message id does not change with labels).
- Headers are decoded here: Gmail may hand RFC 2047 encoded words (`=?utf-8?q?…?=`) back as
  they are in the message, so subjects and display names go through `email.header`.
  Address lists are split before the names are decoded (an encoded name may hide a comma).
- Date: the `Date` header, else `internalDate` (ms since the epoch, when Gmail got it).
- Direction: outgoing when the message has the SENT label.
- Bodies: the first text/plain and text/html parts that are not attachments, decoded with
  their charset (bad bytes replaced, never an error). With HTML only, the text is derived
  from it. Nothing is truncated.
- Attachments: leaf parts with a filename, an `attachmentId`, an attachment disposition, a
  Content-ID, or a type other than text/plain and text/html. Inline = a `Content-ID` and an
  inline disposition (images in the body); those stay metadata only. The bytes of the
  others come from `attachment_data` (fetched with `attachments.get` by the adapter, see
  `attachments_to_fetch`) or from the part's own `body.data` when Gmail sent them inline
  in the JSON.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from email.header import decode_header, make_header
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from syncengine.mappers.canonical import html_to_text

from .feed import derived_message_id
from .records import Address, Attachment, EmailRecord

SENT, DRAFT = "SENT", "DRAFT"
_BODY_TYPES = ("text/plain", "text/html")
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def b64url_decode(data: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return b""


def decode_words(value: str | None) -> str:
    """RFC 2047 encoded words → text; plain (or already decoded) text is left alone."""
    if not value:
        return ""
    value = _FOLD.sub("", value)
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeDecodeError, ValueError, binascii.Error):
        return value


def parse_addresses(value: str | None) -> tuple[Address, ...]:
    out = []
    for name, address in getaddresses([value or ""]):
        address = address.strip()
        if "@" not in address:
            continue
        name = " ".join(decode_words(name).split())
        out.append(Address(address, "" if name.lower() == address.lower() else name))
    return tuple(out)


def headers_of(part: Mapping[str, Any]) -> dict[str, str]:
    """Header name (lower case) → first value."""
    out: dict[str, str] = {}
    for header in part.get("headers") or ():
        out.setdefault(str(header.get("name", "")).lower(), str(header.get("value", "")))
    return out


def walk(part: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield part
    for sub in part.get("parts") or ():
        yield from walk(sub)


def _is_attachment(part: Mapping[str, Any]) -> bool:
    if part.get("parts"):
        return False
    headers = headers_of(part)
    disposition = headers.get("content-disposition", "").lower()
    return bool(
        part.get("filename")
        or (part.get("body") or {}).get("attachmentId")
        or disposition.startswith("attachment")
        or headers.get("content-id")  # an unnamed inline image
        or part.get("mimeType") not in _BODY_TYPES
    )


def is_inline(part: Mapping[str, Any]) -> bool:
    headers = headers_of(part)
    return bool(headers.get("content-id")) and headers.get(
        "content-disposition", "inline"
    ).lower().startswith("inline")


def attachments_to_fetch(message: Mapping[str, Any]) -> list[str]:
    """The `attachmentId`s whose bytes the record needs (inline ones are left out)."""
    return [
        str(part["body"]["attachmentId"])
        for part in walk(message.get("payload") or {})
        if _is_attachment(part)
        and (part.get("body") or {}).get("attachmentId")
        and not (part.get("body") or {}).get("data")
        and not is_inline(part)
    ]


def _charset(part: Mapping[str, Any]) -> str:
    content_type = headers_of(part).get("content-type", "")
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or "utf-8"
    return "utf-8"


def _text_of(part: Mapping[str, Any]) -> str:
    data = b64url_decode(str((part.get("body") or {}).get("data") or ""))
    try:
        return data.decode(_charset(part), errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _sent_at(headers: Mapping[str, str], message: Mapping[str, Any]) -> dt.datetime | None:
    if headers.get("date"):
        try:
            when = parsedate_to_datetime(headers["date"])
            return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        except (TypeError, ValueError, IndexError):
            pass
    if message.get("internalDate"):
        try:
            return dt.datetime.fromtimestamp(int(message["internalDate"]) / 1000, dt.UTC)
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def _attachment(part: Mapping[str, Any], data: Mapping[str, bytes]) -> Attachment:
    body = part.get("body") or {}
    attachment_id = str(body.get("attachmentId") or "")
    inline = is_inline(part)
    content = None
    if not inline:
        content = b64url_decode(body["data"]) if body.get("data") else data.get(attachment_id)
    headers = headers_of(part)
    name = decode_words(part.get("filename")) or decode_words(
        headers.get("content-id", "").strip("<>")
    )
    return Attachment(
        name=name or "attachment",
        content_type=str(part.get("mimeType") or "application/octet-stream"),
        size=len(content) if content is not None else int(body.get("size") or 0),
        inline=inline,
        content=content,
        attachment_id=attachment_id,
    )


def email_from_gmail(
    message: Mapping[str, Any],
    *,
    salesforce_label: str = "",
    attachment_data: Mapping[str, bytes] | None = None,
) -> EmailRecord:
    """One Gmail message (format=full); `attachment_data`: attachmentId → bytes."""
    payload = message.get("payload") or {}
    headers = headers_of(payload)
    mailbox_id = str(message.get("id") or "")
    labels = set(message.get("labelIds") or ())
    text_body = html_body = ""
    attachments = []
    for part in walk(payload):
        if part.get("parts"):
            continue
        if _is_attachment(part):
            attachments.append(_attachment(part, attachment_data or {}))
        elif part.get("mimeType") == "text/plain" and not text_body:
            text_body = _text_of(part)
        elif part.get("mimeType") == "text/html" and not html_body:
            html_body = _text_of(part)
    if html_body and not text_body:
        text_body = html_to_text(html_body) or ""
    sender = parse_addresses(headers.get("from"))
    return EmailRecord(
        mailbox_id=mailbox_id,
        message_id=headers.get("message-id", "").strip() or derived_message_id("gmail", mailbox_id),
        subject=decode_words(headers.get("subject")).strip(),
        sender=sender[0] if sender else None,
        to=parse_addresses(headers.get("to")),
        cc=parse_addresses(headers.get("cc")),
        bcc=parse_addresses(headers.get("bcc")),
        sent_at=_sent_at(headers, message),
        incoming=SENT not in labels,
        text_body=text_body,
        html_body=html_body,
        attachments=tuple(attachments),
        in_salesforce_folder=bool(salesforce_label) and salesforce_label in labels,
    )
