"""Folders and items as EWS renders them, honouring the requested shape.

A shape is BaseShape (IdOnly | Default | AllProperties) plus AdditionalProperties
(FieldURI / IndexedFieldURI / ExtendedFieldURI). exchangelib always asks IdOnly plus the
fields it wants; Default and AllProperties give every stored and computed property.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/itemshape
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .soap import local, sub, t
from .store import ITEM_CLASS, Folder, Item, Mailbox

# FieldURIs whose element is not the part after the colon.
_URI_ELEMENT = {
    "contacts:EmailAddress": "EmailAddresses",
    "contacts:PhoneNumber": "PhoneNumbers",
    "contacts:ImAddress": "ImAddresses",
    "contacts:PhysicalAddress": "PhysicalAddresses",
}
# Stored fields render in the order the client wrote them: exchangelib finds children by
# tag, so the schema's sequence order does not matter to it.


def element_for_uri(uri: str) -> str:
    """`item:Subject` -> `Subject`; `contacts:PhysicalAddress:City` -> `PhysicalAddresses`."""
    parts = uri.split(":")
    base = ":".join(parts[:2])
    return _URI_ELEMENT.get(base, parts[1] if len(parts) > 1 else uri)


def extended_key(uri: ET.Element) -> str:
    """One key per extended property, however the client names it."""
    attrs = {k: uri.get(k, "") for k in ("DistinguishedPropertySetId", "PropertySetId")}
    name = uri.get("PropertyName") or uri.get("PropertyId") or uri.get("PropertyTag") or ""
    return "|".join(
        [attrs["DistinguishedPropertySetId"], attrs["PropertySetId"].lower(), name.lower()]
    )


@dataclass
class Shape:
    base: str = "AllProperties"
    fields: set[str] = field(default_factory=set)  # element names
    indexed: dict[str, set[str]] = field(default_factory=dict)  # element -> FieldIndex values
    extended: set[str] = field(default_factory=set)  # extended_key()s

    @classmethod
    def parse(cls, shape: ET.Element | None) -> Shape:
        if shape is None:
            return cls()
        base_el = shape.find(t("BaseShape"))
        out = cls(base=(base_el.text or "IdOnly") if base_el is not None else "IdOnly")
        extra = shape.find(t("AdditionalProperties"))
        for uri in extra if extra is not None else []:
            tag = local(uri.tag)
            if tag == "FieldURI":
                out.fields.add(element_for_uri(uri.get("FieldURI", "")))
            elif tag == "IndexedFieldURI":
                name = element_for_uri(uri.get("FieldURI", ""))
                out.indexed.setdefault(name, set()).add(uri.get("FieldIndex", ""))
            elif tag == "ExtendedFieldURI":
                out.extended.add(extended_key(uri))
        return out

    @property
    def everything(self) -> bool:
        return self.base in ("Default", "AllProperties")

    def wants(self, name: str) -> bool:
        return self.everything or name in self.fields or name in self.indexed


def folder_id(parent: ET.Element, tag: str, folder: Folder) -> None:
    sub(parent, t(tag), Id=folder.id, ChangeKey=folder.change_key)


def render_folder(box: Mailbox, folder: Folder, shape: Shape | None = None) -> ET.Element:
    out = ET.Element(t(folder.kind))
    folder_id(out, "FolderId", folder)
    parent = box.folders.get(folder.parent_id)
    if parent is not None:
        folder_id(out, "ParentFolderId", parent)
    if folder.folder_class:
        sub(out, t("FolderClass"), folder.folder_class)
    sub(out, t("DisplayName"), folder.name)
    count = sum(1 for i in box.items.values() if i.folder_id == folder.id)
    sub(out, t("TotalCount"), count)
    children = sum(1 for f in box.folders.values() if f.parent_id == folder.id)
    sub(out, t("ChildFolderCount"), children)
    if folder.kind == "Folder" and folder.distinguished != "root":
        unread = sum(
            1
            for i in box.items.values()
            if i.folder_id == folder.id and _text(i, "IsRead") != "true"
        )
        sub(out, t("UnreadCount"), unread)
    return out


def _text(item: Item, name: str) -> str:
    found = item.fields.get(name)
    return (found.text or "") if found is not None else ""


def render_item(box: Mailbox, item: Item, shape: Shape, extra: dict[str, str] | None = None):
    """The `<t:Contact>`/`<t:CalendarItem>`/… element of an item in this shape."""
    out = ET.Element(t(item.kind))
    if item.mime is not None and shape.wants("MimeContent") and shape.base != "Default":
        sub(out, t("MimeContent"), _b64(item.mime), CharacterSet="UTF-8")
    sub(out, t("ItemId"), Id=item.id, ChangeKey=item.change_key)
    computed = computed_fields(box, item, extra or {})
    for name, value in computed.items():
        if shape.wants(name) and name not in item.fields:
            sub(out, t(name), value)
    if item.kind == "CalendarItem" and shape.wants("Organizer") and "Organizer" not in item.fields:
        out.append(organizer_element(box.display_name, box.smtp))
    for name, elem in item.fields.items():
        if name in shape.indexed and not shape.everything:
            keys = shape.indexed[name]
            kept = copy.deepcopy(elem)
            for entry in list(kept):
                if entry.get("Key") not in keys:
                    kept.remove(entry)
            out.append(kept)
        elif shape.wants(name):
            out.append(copy.deepcopy(elem))
    if item.attachments and shape.wants("Attachments"):
        atts = sub(out, t("Attachments"))
        for att in item.attachments:
            file_att = sub(atts, t("FileAttachment"))
            sub(file_att, t("AttachmentId"), Id=att.id)
            sub(file_att, t("Name"), att.name)
            sub(file_att, t("ContentType"), att.content_type)
            sub(file_att, t("Size"), len(att.content))
            sub(file_att, t("IsInline"), att.is_inline)
            if att.content_id:
                sub(file_att, t("ContentId"), att.content_id)
    if shape.wants("ParentFolderId"):
        parent = box.folders[item.folder_id]
        sub(out, t("ParentFolderId"), Id=parent.id, ChangeKey=parent.change_key)
    for key, prop in item.extended.items():
        if shape.base == "AllProperties" or key in shape.extended:
            out.append(copy.deepcopy(prop))
    return out


def organizer_element(name: str, address: str) -> ET.Element:
    """`<t:Organizer><t:Mailbox>…`: a calendar item the mailbox made is organized by its
    owner (EWS sets Organizer itself; it is read-only in CreateItem)."""
    out = ET.Element(t("Organizer"))
    mailbox = sub(out, t("Mailbox"))
    sub(mailbox, t("Name"), name)
    sub(mailbox, t("EmailAddress"), address)
    sub(mailbox, t("RoutingType"), "SMTP")
    return out


def computed_fields(box: Mailbox, item: Item, extra: dict[str, str]) -> dict[str, str]:
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    values = {
        "ItemClass": ITEM_CLASS[item.kind],
        "DateTimeCreated": item.created.strftime(stamp),
        "LastModifiedTime": item.modified.strftime(stamp),
        "DateTimeReceived": item.created.strftime(stamp),
        "Size": str(len(item.mime or b"") + sum(len(a.content) for a in item.attachments) + 512),
        "HasAttachments": "true" if item.attachments else "false",
        "IsAssociated": "false",
    }
    if item.kind == "Message":
        values["IsRead"] = "false"
        values["DateTimeSent"] = item.created.strftime(stamp)
    if item.kind == "CalendarItem":
        values["UID"] = item.uid
        values["IsRecurring"] = "false"
        values["CalendarItemType"] = "RecurringMaster" if "Recurrence" in item.fields else "Single"
        values["MyResponseType"] = "Organizer"
        values["IsMeeting"] = "true" if _has_attendees(item) else "false"
        values["IsCancelled"] = "false"
        values["AppointmentState"] = "1" if _has_attendees(item) else "0"
    if item.kind == "Contact":
        given, surname = _text(item, "GivenName"), _text(item, "Surname")
        display = _text(item, "DisplayName") or " ".join(p for p in (given, surname) if p)
        values["DisplayName"] = display
        values["FileAs"] = ", ".join(p for p in (surname, given) if p) or display
    if item.kind == "Task":
        values["Status"] = "NotStarted"
        values["PercentComplete"] = "0"
        values["IsComplete"] = "true" if _text(item, "Status") == "Completed" else "false"
    values.update(extra)
    return values


def _has_attendees(item: Item) -> bool:
    return any(
        len(item.fields[n]) for n in ("RequiredAttendees", "OptionalAttendees") if n in item.fields
    )


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()
