"""A mailbox message as the email logger sees it, whichever mailbox it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Address:
    address: str  # as written; compare with .key
    name: str = ""

    @property
    def key(self) -> str:
        return self.address.strip().lower()

    @property
    def domain(self) -> str:
        return self.key.rpartition("@")[2]


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    size: int
    inline: bool = False  # inline images are left out of Salesforce (SPEC/issue 6)
    content: bytes | None = None  # fetched only for attachments that will be logged
    attachment_id: str = ""  # the mailbox's id, to fetch the content later


@dataclass(frozen=True)
class EmailRecord:
    """One message. `message_id` (RFC 5322 Message-ID, with angle brackets) is the key
    that makes logging idempotent across moves, copies, crashes and sessions."""

    mailbox_id: str
    message_id: str
    subject: str
    sender: Address | None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    sent_at: datetime | None = None
    incoming: bool = True  # False for messages the user sent
    text_body: str = ""
    html_body: str = ""
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    in_salesforce_folder: bool = False  # moved to "Salesforce Emails" / has that label

    @property
    def participants(self) -> tuple[Address, ...]:
        people = ((self.sender,) if self.sender else ()) + self.to + self.cc + self.bcc
        return people
