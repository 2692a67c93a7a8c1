"""In-memory Exchange mailboxes: folders, items, tombstones and the change sequence.

An item keeps the XML elements a client wrote (`fields`, keyed by local tag name) so
whatever exchangelib sends comes back unchanged; the server-owned properties (ItemId,
ChangeKey, ParentFolderId, times, ItemClass, UID, CalendarItemType, …) are computed when
rendered. Every write bumps the mailbox-wide `seq`; SyncFolderItems compares item and
tombstone sequence numbers with the watermark inside a SyncState.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import itertools
import json
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .soap import EwsError, t

FOLDER_KINDS = {
    "IPF.Note": "Folder",
    "IPF.Appointment": "CalendarFolder",
    "IPF.Contact": "ContactsFolder",
    "IPF.Task": "TasksFolder",
}
ITEM_KIND_FOR_FOLDER = {
    "IPF.Note": "Message",
    "IPF.Appointment": "CalendarItem",
    "IPF.Contact": "Contact",
    "IPF.Task": "Task",
}
ITEM_CLASS = {
    "Message": "IPM.Note",
    "CalendarItem": "IPM.Appointment",
    "Contact": "IPM.Contact",
    "Task": "IPM.Task",
}
# (distinguished id, display name, folder class, parent distinguished id)
WELL_KNOWN = (
    ("msgfolderroot", "Top of Information Store", "IPF.Note", "root"),
    ("inbox", "Inbox", "IPF.Note", "msgfolderroot"),
    ("sentitems", "Sent Items", "IPF.Note", "msgfolderroot"),
    ("deleteditems", "Deleted Items", "IPF.Note", "msgfolderroot"),
    ("drafts", "Drafts", "IPF.Note", "msgfolderroot"),
    ("outbox", "Outbox", "IPF.Note", "msgfolderroot"),
    ("junkemail", "Junk Email", "IPF.Note", "msgfolderroot"),
    ("calendar", "Calendar", "IPF.Appointment", "msgfolderroot"),
    ("contacts", "Contacts", "IPF.Contact", "msgfolderroot"),
    ("tasks", "Tasks", "IPF.Task", "msgfolderroot"),
)


@dataclass
class Folder:
    id: str
    change_key: str
    parent_id: str
    name: str
    folder_class: str
    distinguished: str | None = None

    @property
    def kind(self) -> str:
        return FOLDER_KINDS.get(self.folder_class, "Folder")


@dataclass
class Attachment:
    id: str
    name: str
    content_type: str
    content: bytes
    is_inline: bool = False
    content_id: str | None = None


@dataclass
class Item:
    id: str
    change_key: str
    folder_id: str
    kind: str  # Message | CalendarItem | Contact | Task
    fields: dict[str, ET.Element]
    extended: dict[str, ET.Element]
    created: dt.datetime
    modified: dt.datetime
    seq: int  # last write
    created_seq: int  # arrival in its current folder (create or move)
    uid: str = ""
    mime: bytes | None = None
    attachments: list[Attachment] = field(default_factory=list)
    # series masters: modified and deleted occurrences, keyed by instance index (1-based)
    exceptions: dict[int, Item] = field(default_factory=dict)
    deleted_occurrences: set[int] = field(default_factory=set)
    read_flag_only: bool = False  # the last change only flipped IsRead (ReadFlagChange)
    # (change key, fields changed by that version): AutoResolve conflict detection
    history: list[tuple[str, set[str]]] = field(default_factory=list)
    master_id: str = ""  # an exception: its series master
    instance_index: int = 0  # an exception: its InstanceIndex

    def copy_fields(self) -> dict[str, ET.Element]:
        return {k: copy.deepcopy(v) for k, v in self.fields.items()}


@dataclass
class Tombstone:
    item_id: str
    folder_id: str
    created_seq: int
    deleted_seq: int


@dataclass
class Mailbox:
    smtp: str
    display_name: str
    time_zone: str = "UTC"
    folders: dict[str, Folder] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    tombstones: list[Tombstone] = field(default_factory=list)
    seq: int = 0
    sync_generation: int = 0  # bumped to invalidate every SyncState issued so far
    occurrence_ids: dict[str, tuple[str, int]] = field(default_factory=dict)  # -> (master, index)

    def distinguished(self, name: str) -> Folder | None:
        return next((f for f in self.folders.values() if f.distinguished == name), None)


class Ids:
    """Opaque, EWS-looking ids, change keys and meeting UIDs, all made from a counter and a
    salt: the same writes after a reset give the same values, so a property test replays a
    failing run exactly (as the Google emulator's `seed_ids`, the Graph one's counters)."""

    def __init__(self, salt: str = "relay-ews") -> None:
        self.salt = salt
        self._n = itertools.count(1)
        self._versions = itertools.count(1)

    def __call__(self, kind: str) -> str:
        digest = hashlib.sha256(f"{self.salt}:{kind}:{next(self._n)}".encode()).digest()
        return "AAMkA" + base64.b64encode(digest[:42]).decode()

    def change_key(self) -> str:
        digest = hashlib.sha256(f"{self.salt}:ck:{next(self._versions)}".encode()).digest()
        return "CQAAABYAAAA" + base64.b64encode(digest[:12]).decode()

    @staticmethod
    def meeting_uid(item_id: str) -> str:
        """An Outlook-looking iCalendar UID (the GlobalObjectId prefix, then a hash of the
        item's id), as the Graph emulator makes its iCalUId."""
        digest = hashlib.sha1(item_id.encode(), usedforsecurity=False).hexdigest().upper()
        return "040000008200E00074C5B7101A82E00800000000" + digest


class SyncStates:
    """SyncState blobs: opaque to clients, signed so a tampered or foreign one is refused."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)

    def issue(self, box: Mailbox, folder_id: str, watermark: int) -> str:
        body = json.dumps([box.smtp.lower(), folder_id, watermark, box.sync_generation]).encode()
        sig = hmac.new(self._key, body, "sha256").digest()[:12]
        return base64.b64encode(b"\x01" + sig + body).decode()

    def read(self, box: Mailbox, folder_id: str, state: str) -> int:
        """The watermark in a SyncState, or ErrorInvalidSyncStateData."""
        try:
            raw = base64.b64decode(state, validate=True)
            sig, body = raw[1:13], raw[13:]
            ok = raw[:1] == b"\x01" and hmac.compare_digest(
                sig, hmac.new(self._key, body, "sha256").digest()[:12]
            )
            smtp, folder, watermark, generation = json.loads(body) if ok else ("", "", 0, -1)
        except (ValueError, TypeError):
            ok, smtp, folder, watermark, generation = False, "", "", 0, -1
        if not ok or smtp != box.smtp.lower() or folder != folder_id:
            raise EwsError(
                "ErrorInvalidSyncStateData",
                "Synchronization state data is corrupt or otherwise invalid.",
            )
        if generation != box.sync_generation:
            raise EwsError(
                "ErrorInvalidSyncStateData",
                "Synchronization state data is corrupt or otherwise invalid.",
            )
        return int(watermark)


def subject_of(item: Item) -> str:
    found = item.fields.get("Subject")
    return (found.text or "") if found is not None else ""


def recipients_of(item: Item) -> list[str]:
    out = []
    for name in ("ToRecipients", "CcRecipients", "BccRecipients"):
        for mailbox in item.fields.get(name, ET.Element("none")):
            addr = mailbox.findtext(t("EmailAddress"))
            if addr:
                out.append(addr)
    return out
