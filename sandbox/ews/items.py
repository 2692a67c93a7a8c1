"""Items: CreateItem, GetItem, UpdateItem, DeleteItem, MoveItem, and attachments.

https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getitem-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteitem-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/moveitem-operation
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from .builders import attendee_lists
from .calendar import OccurrenceRef
from .core import Context
from .folders import FOLDER_NOT_FOUND, resolve_folder
from .mail import MailMixin
from .render import Shape, element_for_uri, extended_key, render_item
from .soap import EwsError, el, local, m, response, response_message, sub, t
from .store import (
    ITEM_KIND_FOR_FOLDER,
    Folder,
    Item,
    Mailbox,
    Tombstone,
    recipients_of,
    subject_of,
)

NOT_FOUND = EwsError("ErrorItemNotFound", "The specified object was not found in the store.")
MALFORMED = EwsError("ErrorInvalidIdMalformed", "Id is malformed.")
STALE = EwsError(
    "ErrorIrresolvableConflict",
    "The send or update operation could not be performed because the change key passed in "
    "the request does not match the current change key for the item.",
)
ITEM_TAGS = {"Message", "CalendarItem", "Contact", "Task"}
DATETIME_FIELDS = {"Start", "End", "DueDate", "StartDate", "CompleteDate", "ReminderDueBy"}
INDEXED = {"EmailAddresses", "PhoneNumbers", "ImAddresses", "PhysicalAddresses"}
DEFAULT_FOLDER = {
    "Message": "drafts",
    "CalendarItem": "calendar",
    "Contact": "contacts",
    "Task": "tasks",
}


def utc_text(text: str | None) -> str:
    """An xs:dateTime as EWS stores it: UTC with Z."""
    value = dt.datetime.fromisoformat((text or "").replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def attendees_of(item: Item) -> list[str]:
    out = []
    for name in ("RequiredAttendees", "OptionalAttendees", "Resources"):
        for attendee in item.fields.get(name, ET.Element("x")):
            addr = attendee.findtext(f"{t('Mailbox')}/{t('EmailAddress')}")
            if addr:
                out.append(addr)
    return out


class ItemsMixin(MailMixin):
    # -- Python API (changes as the user would make them in Outlook) ---------------------

    def create_item(
        self,
        smtp: str,
        element: ET.Element,
        folder: str | None = None,
        *,
        mime: bytes | None = None,
    ) -> Item:
        """Store an item element (`<t:Contact>…`); bypasses the call log and invitations."""
        with self.lock:
            box = self.mailbox(smtp)
            kind = local(element.tag)
            target = box.distinguished(folder or DEFAULT_FOLDER[kind]) or box.folders[folder or ""]
            if mime is not None:
                sub(element, t("MimeContent"), base64.b64encode(mime).decode())
            return self._store_new(box, element, target)

    def item(self, smtp: str, item_id: str) -> Item:
        return self.mailbox(smtp).items[item_id]

    def items_in(self, smtp: str, folder: Folder) -> list[Item]:
        return [i for i in self.mailbox(smtp).items.values() if i.folder_id == folder.id]

    def touch_item(self, smtp: str, item_id: str, **fields: str | ET.Element) -> Item:
        """Set fields as an edit in Outlook would: text (`Subject="…"`, datetimes in UTC
        `…Z`) or a whole element (`EmailAddresses=<t:EmailAddresses>…`)."""
        with self.lock:
            box = self.mailbox(smtp)
            item = box.items[item_id]
            for name, value in fields.items():
                item.fields[name] = value if isinstance(value, ET.Element) else el(t(name), value)
            self._written(box, item, set(fields))
            return item

    def set_attendees_as_user(
        self,
        smtp: str,
        item_id: str,
        required: Iterable[tuple[str, str]] = (),
        optional: Iterable[tuple[str, str]] = (),
    ) -> Item:
        """The organizer changes the guest list in Outlook ((address, ResponseType) pairs;
        the message Outlook sends for it is the user's, not recorded)."""
        with self.lock:
            box = self.mailbox(smtp)
            item = box.items[item_id]
            holder = el(t("CalendarItem"))
            attendee_lists(holder, required, optional)
            for name in ("RequiredAttendees", "OptionalAttendees"):
                item.fields.pop(name, None)
            for child in holder:
                item.fields[local(child.tag)] = child
            self._written(box, item, {"RequiredAttendees", "OptionalAttendees"})
            return item

    def respond_as_attendee(
        self, smtp: str, item_id: str, address: str, response_type: str
    ) -> Item:
        """An attendee's reply reaching the organizer: Exchange records it on the
        organizer's calendar item (the attendee's ResponseType and LastResponseTime), which
        is a change of that item. `response_type`: Accept, Decline or Tentative."""
        with self.lock:
            box = self.mailbox(smtp)
            item = box.items[item_id]
            found = False
            for name in ("RequiredAttendees", "OptionalAttendees"):
                for person in item.fields.get(name, ET.Element("x")):
                    email = person.findtext(f"{t('Mailbox')}/{t('EmailAddress')}") or ""
                    if email.lower() != address.lower():
                        continue
                    for tag in ("ResponseType", "LastResponseTime"):
                        old = person.find(t(tag))
                        if old is not None:
                            person.remove(old)
                    sub(person, t("ResponseType"), response_type)
                    sub(person, t("LastResponseTime"), self.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
                    found = True
            if not found:
                raise KeyError(address)
            self._written(box, item, {"RequiredAttendees", "OptionalAttendees"})
            return item

    def sent_invitations(self, smtp: str) -> list[dict[str, object]]:
        """The invitation record of one mailbox as dicts (the name the Graph and Google
        emulators use), oldest first."""
        return [vars(i) for i in self.invitations_sent(smtp)]

    def delete_item_as_user(self, smtp: str, item_id: str) -> None:
        with self.lock:
            box = self.mailbox(smtp)
            self._remove(box, box.items[item_id])

    # -- storage ------------------------------------------------------------------------

    def _store_new(self, box: Mailbox, element: ET.Element, folder: Folder) -> Item:
        kind = local(element.tag)
        if kind not in ITEM_TAGS:
            raise EwsError("ErrorInvalidRequest", f"Items of type {kind} are not emulated.")
        now = self.now()
        seq = self.bump(box)
        item = Item(
            id=self.ids("item"),
            change_key=self.ids.change_key(),
            folder_id=folder.id,
            kind=kind,
            fields={},
            extended={},
            created=now,
            modified=now,
            seq=seq,
            created_seq=seq,
        )
        for child in element:
            self._set_field(item, child)
        if kind == "CalendarItem":
            uid = item.fields.pop("UID", None)
            item.uid = (uid.text if uid is not None else "") or self.ids.meeting_uid(item.id)
            if "Recurrence" in item.fields:
                self.validate_series(box, item)
        if kind == "Message" and item.mime is not None:
            self._fields_from_mime(item)
        item.history.append((item.change_key, set()))
        box.items[item.id] = item
        return item

    def _set_field(self, item: Item, child: ET.Element) -> None:
        name = local(child.tag)
        if name == "ExtendedProperty":
            uri = child.find(t("ExtendedFieldURI"))
            if uri is None:
                raise EwsError("ErrorInvalidExtendedProperty", "ExtendedFieldURI is missing.")
            item.extended[extended_key(uri)] = copy.deepcopy(child)
        elif name == "MimeContent":
            try:
                item.mime = base64.b64decode(child.text or "")
            except binascii.Error as exc:
                raise EwsError("ErrorMimeContentInvalid", "The MIME content is invalid.") from exc
        elif name in ("ItemId", "ParentFolderId", "Attachments"):
            return
        elif name in INDEXED and name in item.fields:
            self._merge_indexed(item.fields[name], child)
        else:
            value = copy.deepcopy(child)
            if name in DATETIME_FIELDS and value.text:
                try:
                    value.text = utc_text(value.text)
                except ValueError as exc:
                    raise EwsError(
                        "ErrorInvalidValueForProperty", f"'{value.text}' is not a date-time."
                    ) from exc
            if value.text in ("0", "1") and _is_boolean(name):
                value.text = "true" if value.text == "1" else "false"  # EWS answers xs:boolean so
            item.fields[name] = value

    @staticmethod
    def _merge_indexed(stored: ET.Element, incoming: ET.Element) -> None:
        for entry in incoming:
            key = entry.get("Key")
            old = next((e for e in stored if e.get("Key") == key), None)
            if old is None:
                stored.append(copy.deepcopy(entry))
            elif len(entry):  # a physical address: merge its parts
                for part in entry:
                    prev = old.find(part.tag)
                    if prev is not None:
                        old.remove(prev)
                    old.append(copy.deepcopy(part))
            else:
                old.text = entry.text

    def _written(self, box: Mailbox, item: Item, fields: set[str]) -> None:
        item.change_key = self.ids.change_key()
        item.modified = self.now()
        item.seq = self.bump(box)
        item.read_flag_only = fields == {"IsRead"}
        item.history.append((item.change_key, fields))
        del item.history[:-50]

    def _remove(self, box: Mailbox, item: Item) -> None:
        del box.items[item.id]
        box.tombstones.append(Tombstone(item.id, item.folder_id, item.created_seq, self.bump(box)))

    def _move(self, box: Mailbox, item: Item, folder: Folder) -> Item:
        """A move gives the item a new id in its new folder, as Exchange does."""
        self._remove(box, item)
        item.id = self.ids("item")
        item.folder_id = folder.id
        item.change_key = self.ids.change_key()
        item.seq = item.created_seq = self.bump(box)
        item.history = [(item.change_key, set())]
        box.items[item.id] = item
        return item

    def find_item_ref(self, box: Mailbox, ref: ET.Element) -> Item | OccurrenceRef:
        tag = local(ref.tag)
        if tag == "ItemId":
            item_id = ref.get("Id", "")
            if not item_id:
                raise MALFORMED
            found = box.items.get(item_id)
            if found is not None:
                return found
            occ = self.occurrence_by_id(box, item_id)
            if occ is not None:
                return occ
            raise NOT_FOUND if item_id.startswith("AAMkA") else MALFORMED
        if tag == "OccurrenceItemId":
            master = box.items.get(ref.get("RecurringMasterId", ""))
            if master is None:
                raise NOT_FOUND
            return self.occurrence_by_index(box, master, int(ref.get("InstanceIndex", "0")))
        if tag == "RecurringMasterItemId":
            occ = self.occurrence_by_id(box, ref.get("OccurrenceId", ""))
            if occ is None:
                raise NOT_FOUND
            return occ.master
        raise MALFORMED

    # -- operations ---------------------------------------------------------------------

    def op_CreateItem(self, ctx: Context, op: ET.Element) -> ET.Element:
        disposition = op.get("MessageDisposition", "")
        invitations = op.get("SendMeetingInvitations", "")
        saved = op.find(m("SavedItemFolderId"))
        msgs = []
        for spec in op.find(m("Items")) or []:
            try:
                kind = local(spec.tag)
                if saved is not None:
                    folder = resolve_folder(ctx.box, saved[0])
                elif kind == "Message" and disposition == "SendAndSaveCopy":
                    folder = ctx.box.distinguished("sentitems")  # type: ignore[assignment]
                else:
                    folder = ctx.box.distinguished(DEFAULT_FOLDER.get(kind, "drafts"))  # type: ignore[assignment]
                if kind == "Message" and not disposition:
                    raise EwsError(
                        "ErrorMessageDispositionRequired",
                        "MessageDisposition is required for messages.",
                    )
                if kind == "CalendarItem" and not invitations:
                    raise EwsError(
                        "ErrorSendMeetingInvitationsRequired",
                        "SendMeetingInvitations is required for calendar items.",
                    )
                item = self._store_new(ctx.box, spec, folder)
            except EwsError as err:
                msgs.append(response_message("CreateItem", err))
                continue
            if kind == "CalendarItem" and invitations != "SendToNone" and attendees_of(item):
                self.record_invitation(
                    ctx, "request", item.id, subject_of(item), attendees_of(item), invitations
                )
            if kind == "Message" and disposition in ("SendOnly", "SendAndSaveCopy"):
                self.record_invitation(
                    ctx, "message", item.id, subject_of(item), recipients_of(item), disposition
                )
                if disposition == "SendOnly":
                    self._remove(ctx.box, item)
            msg = response_message("CreateItem")
            items = sub(msg, m("Items"))
            if disposition != "SendOnly":
                sub(sub(items, t(kind)), t("ItemId"), Id=item.id, ChangeKey=item.change_key)
            msgs.append(msg)
        return response("CreateItem", msgs)

    def op_GetItem(self, ctx: Context, op: ET.Element) -> ET.Element:
        shape = Shape.parse(op.find(m("ItemShape")))
        msgs = []
        for ref in op.find(m("ItemIds")) or []:
            try:
                found = self.find_item_ref(ctx.box, ref)
            except EwsError as err:
                msgs.append(response_message("GetItem", err))
                continue
            msg = response_message("GetItem")
            sub(msg, m("Items")).append(self.render_any(ctx.box, found, shape))
            msgs.append(msg)
        return response("GetItem", msgs)

    def op_UpdateItem(self, ctx: Context, op: ET.Element) -> ET.Element:
        resolution = op.get("ConflictResolution", "AutoResolve")
        invitations = op.get("SendMeetingInvitationsOrCancellations", "")
        msgs = []
        for change in op.find(m("ItemChanges")) or []:
            try:
                ref = next(c for c in change if local(c.tag) != "Updates")
                target = self.find_item_ref(ctx.box, ref)
                if isinstance(target, OccurrenceRef):
                    # A new exception has no history: the occurrence's ChangeKey (from
                    # its GetItem) cannot be stale against it.
                    target = self.make_exception(ctx.box, target)
                else:
                    self._check_change_key(target, ref.get("ChangeKey"), change, resolution)
                touched = self._apply_updates(target, change.find(t("Updates")))
                owner = self.series_of(ctx.box, target)
                self._written(ctx.box, target, touched)
                if owner is not target:
                    self._written(ctx.box, owner, {"ModifiedOccurrences"})
                if target.kind == "CalendarItem" and "Recurrence" in target.fields:
                    self.validate_series(ctx.box, target)
            except EwsError as err:
                msgs.append(response_message("UpdateItem", err))
                continue
            except StopIteration:
                msgs.append(response_message("UpdateItem", MALFORMED))
                continue
            if (
                target.kind == "CalendarItem"
                and invitations not in ("", "SendToNone")
                and attendees_of(target)
            ):
                self.record_invitation(
                    ctx, "update", target.id, subject_of(target), attendees_of(target), invitations
                )
            msg = response_message("UpdateItem")
            items = sub(msg, m("Items"))
            sub(sub(items, t(target.kind)), t("ItemId"), Id=target.id, ChangeKey=target.change_key)
            sub(sub(msg, m("ConflictResults")), t("Count"), "0")
            msgs.append(msg)
        return response("UpdateItem", msgs)

    def _check_change_key(
        self, item: Item, change_key: str | None, change: ET.Element, resolution: str
    ) -> None:
        """Stale ChangeKey: NeverOverwrite fails; AutoResolve fails only when a property
        this update sets was changed since that version; AlwaysOverwrite applies."""
        if not change_key or change_key == item.change_key or resolution == "AlwaysOverwrite":
            return
        if resolution == "NeverOverwrite":
            raise STALE
        keys = [ck for ck, _ in item.history]
        if change_key not in keys:
            raise STALE
        changed: set[str] = set()
        for _, fields in item.history[keys.index(change_key) + 1 :]:
            changed |= fields
        if changed & _update_targets(change.find(t("Updates"))):
            raise STALE

    def _apply_updates(self, item: Item, updates: ET.Element | None) -> set[str]:
        touched: set[str] = set()
        for update in updates if updates is not None else []:
            kind = local(update.tag)
            path = next((c for c in update if local(c.tag).endswith("FieldURI")), None)
            if path is None:
                raise EwsError("ErrorInvalidPropertyRequest", "The update has no property path.")
            name = _path_name(path)
            touched.add(name)
            if kind == "DeleteItemField":
                self._delete_field(item, path, name)
                continue
            holder = next((c for c in update if not local(c.tag).endswith("FieldURI")), None)
            if holder is None or not len(holder):
                raise EwsError("ErrorInvalidPropertySet", f"No value was given for {name}.")
            for child in holder:
                if kind == "AppendToItemField" and local(child.tag) in item.fields:
                    item.fields[local(child.tag)].extend(copy.deepcopy(list(child)))
                else:
                    self._set_field(item, child)
        return touched

    @staticmethod
    def _delete_field(item: Item, path: ET.Element, name: str) -> None:
        tag = local(path.tag)
        if tag == "ExtendedFieldURI":
            item.extended.pop(extended_key(path), None)
        elif tag == "IndexedFieldURI" and name in item.fields:
            container = item.fields[name]
            part = path.get("FieldURI", "").split(":")
            for entry in [e for e in container if e.get("Key") == path.get("FieldIndex")]:
                if len(part) > 2:  # one part of a physical address
                    for sub_el in [s for s in entry if local(s.tag) == part[2]]:
                        entry.remove(sub_el)
                else:
                    container.remove(entry)
        else:
            item.fields.pop(name, None)

    def op_DeleteItem(self, ctx: Context, op: ET.Element) -> ET.Element:
        delete_type = op.get("DeleteType", "")
        cancellations = op.get("SendMeetingCancellations", "")
        msgs = []
        for ref in op.find(m("ItemIds")) or []:
            try:
                if delete_type not in ("HardDelete", "SoftDelete", "MoveToDeletedItems"):
                    raise EwsError("ErrorInvalidRequest", "DeleteType is required.")
                target = self.find_item_ref(ctx.box, ref)
                kind = "CalendarItem" if isinstance(target, OccurrenceRef) else target.kind
                if kind == "CalendarItem" and not cancellations:
                    raise EwsError(
                        "ErrorSendMeetingCancellationsRequired",
                        "SendMeetingCancellations is required for calendar items.",
                    )
                owner = target.master if isinstance(target, OccurrenceRef) else target
                to = attendees_of(owner)
                if kind == "CalendarItem" and cancellations != "SendToNone" and to:
                    self.record_invitation(
                        ctx,
                        "cancellation",
                        owner.id,
                        subject_of(owner),
                        to,
                        cancellations,
                    )
                if isinstance(target, OccurrenceRef):
                    self.delete_occurrence(ctx.box, target)
                elif (
                    delete_type == "MoveToDeletedItems"
                    and ctx.box.folders[target.folder_id].distinguished != "deleteditems"
                ):
                    self._move(ctx.box, target, ctx.box.distinguished("deleteditems"))  # type: ignore[arg-type]
                else:
                    self._remove(ctx.box, target)
            except EwsError as err:
                msgs.append(response_message("DeleteItem", err))
                continue
            msgs.append(response_message("DeleteItem"))
        return response("DeleteItem", msgs)

    def op_MoveItem(self, ctx: Context, op: ET.Element) -> ET.Element:
        to = op.find(m("ToFolderId"))
        msgs = []
        for ref in op.find(m("ItemIds")) or []:
            try:
                if to is None or not len(to):
                    raise FOLDER_NOT_FOUND
                folder = resolve_folder(ctx.box, to[0])
                target = self.find_item_ref(ctx.box, ref)
                if isinstance(target, OccurrenceRef):
                    raise EwsError(
                        "ErrorCalendarCannotMoveOrCopyOccurrence",
                        "You cannot move or copy an occurrence of a recurring calendar item.",
                    )
                expected = ITEM_KIND_FOR_FOLDER.get(folder.folder_class, "Message")
                if target.kind == "Message" and expected != "Message":
                    raise EwsError(
                        "ErrorCannotMoveOrCopyItemToFolder",
                        "The item cannot be moved to a folder of this type.",
                    )
                moved = self._move(ctx.box, target, folder)
            except EwsError as err:
                msgs.append(response_message("MoveItem", err))
                continue
            msg = response_message("MoveItem")
            items = sub(msg, m("Items"))
            sub(sub(items, t(moved.kind)), t("ItemId"), Id=moved.id, ChangeKey=moved.change_key)
            msgs.append(msg)
        return response("MoveItem", msgs)

    def render_any(self, box: Mailbox, found: Item | OccurrenceRef, shape: Shape) -> ET.Element:
        if isinstance(found, OccurrenceRef):
            return self.render_occurrence(box, found, shape)
        if found.kind == "CalendarItem":
            return self.render_calendar_item(box, found, shape)
        if found.kind == "Message" and found.mime is None and shape.wants("MimeContent"):
            found.mime = self.mime_for(box, found)
        return render_item(box, found, shape)


def _is_boolean(name: str) -> bool:
    return (name.startswith("Is") and name[2:3].isupper()) or name in (
        "ReminderIsSet",
        "AllowNewTimeProposal",
        "HasAttachments",
    )


def _path_name(path: ET.Element) -> str:
    if local(path.tag) == "ExtendedFieldURI":
        return "ExtendedProperty:" + extended_key(path)
    return element_for_uri(path.get("FieldURI", ""))


def _update_targets(updates: ET.Element | None) -> set[str]:
    out = set()
    for update in updates if updates is not None else []:
        path = next((c for c in update if local(c.tag).endswith("FieldURI")), None)
        if path is not None:
            out.add(_path_name(path))
    return out
