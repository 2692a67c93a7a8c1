"""GetFolder, FindFolder, CreateFolder (and ConvertId, which exchangelib uses to learn the
server version).
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getfolder-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/findfolder-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createfolder-operation
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .core import Context, EwsCore
from .render import Shape, render_folder
from .soap import EwsError, local, m, response, response_message, sub, t
from .store import Folder, Mailbox

FOLDER_NOT_FOUND = EwsError(
    "ErrorFolderNotFound", "The specified folder could not be found in the store."
)


def resolve_folder(box: Mailbox, ref: ET.Element) -> Folder:
    """A FolderId or DistinguishedFolderId element -> the folder (or ErrorFolderNotFound)."""
    tag = local(ref.tag)
    if tag == "DistinguishedFolderId":
        mailbox = ref.find(t("Mailbox"))
        if mailbox is not None:
            addr = mailbox.findtext(t("EmailAddress")) or ""
            if addr and addr.lower() != box.smtp.lower():
                raise EwsError(
                    "ErrorNonExistentMailbox",
                    "The SMTP address has no mailbox associated with it.",
                )
        folder = box.distinguished(ref.get("Id", ""))
    elif tag == "FolderId":
        folder = box.folders.get(ref.get("Id", ""))
        if folder is None and ref.get("Id"):
            raise (
                FOLDER_NOT_FOUND
                if _looks_like_id(ref.get("Id", ""))
                else EwsError("ErrorInvalidIdMalformed", "Id is malformed.")
            )
    else:
        folder = None
    if folder is None:
        raise FOLDER_NOT_FOUND
    return folder


def _looks_like_id(value: str) -> bool:
    return value.startswith("AAMkA")


class FoldersMixin(EwsCore):
    def op_ConvertId(self, ctx: Context, op: ET.Element) -> ET.Element:
        ids = op.find(m("SourceIds"))
        msgs = []
        for _ in ids if ids is not None else []:
            msgs.append(
                response_message(
                    "ConvertId", EwsError("ErrorInvalidIdMalformed", "Id is malformed.")
                )
            )
        return response("ConvertId", msgs)

    def op_GetFolder(self, ctx: Context, op: ET.Element) -> ET.Element:
        shape = Shape.parse(op.find(m("FolderShape")))
        msgs = []
        for ref in op.find(m("FolderIds")) or []:
            try:
                folder = resolve_folder(ctx.box, ref)
            except EwsError as err:
                msgs.append(response_message("GetFolder", err))
                continue
            msg = response_message("GetFolder")
            sub(msg, m("Folders")).append(render_folder(ctx.box, folder, shape))
            msgs.append(msg)
        return response("GetFolder", msgs)

    def op_FindFolder(self, ctx: Context, op: ET.Element) -> ET.Element:
        shape = Shape.parse(op.find(m("FolderShape")))
        deep = op.get("Traversal", "Shallow") == "Deep"
        paging = op.find(m("IndexedPageFolderView"))
        offset = int(paging.get("Offset", "0")) if paging is not None else 0
        limit = int(paging.get("MaxEntriesReturned", "1000")) if paging is not None else 1000
        msgs = []
        for ref in op.find(m("ParentFolderIds")) or []:
            try:
                parent = resolve_folder(ctx.box, ref)
            except EwsError as err:
                msgs.append(response_message("FindFolder", err))
                continue
            found = list(_descendants(ctx.box, parent, deep))
            found = [f for f in found if _matches(f, op.find(m("Restriction")))]
            page = found[offset : offset + limit]
            msg = response_message("FindFolder")
            root = sub(
                msg,
                m("RootFolder"),
                IndexedPagingOffset=str(offset + len(page)),
                TotalItemsInView=str(len(found)),
                IncludesLastItemInRange="true" if offset + len(page) >= len(found) else "false",
            )
            folders = sub(root, t("Folders"))
            for folder in page:
                folders.append(render_folder(ctx.box, folder, shape))
            msgs.append(msg)
        return response("FindFolder", msgs)

    def op_CreateFolder(self, ctx: Context, op: ET.Element) -> ET.Element:
        parent_ref = op.find(m("ParentFolderId"))
        msgs = []
        try:
            parent = resolve_folder(ctx.box, parent_ref[0]) if parent_ref is not None else None
        except EwsError as err:
            parent, parent_err = None, err
        else:
            parent_err = None
        for spec in op.find(m("Folders")) or []:
            if parent is None:
                msgs.append(response_message("CreateFolder", parent_err or FOLDER_NOT_FOUND))
                continue
            name = spec.findtext(t("DisplayName")) or ""
            cls = spec.findtext(t("FolderClass")) or _class_for_tag(local(spec.tag))
            if not name.strip():
                msgs.append(
                    response_message(
                        "CreateFolder",
                        EwsError("ErrorInvalidFolderName", "The folder name is invalid."),
                    )
                )
                continue
            siblings = [f for f in ctx.box.folders.values() if f.parent_id == parent.id]
            if any(f.name.lower() == name.lower() for f in siblings):
                msgs.append(
                    response_message(
                        "CreateFolder",
                        EwsError(
                            "ErrorFolderExists",
                            "A folder with the specified name already exists.",
                        ),
                    )
                )
                continue
            folder = Folder(self.ids("folder"), self.ids.change_key(), parent.id, name, cls)
            ctx.box.folders[folder.id] = folder
            self.bump(ctx.box)
            msg = response_message("CreateFolder")
            created = sub(sub(msg, m("Folders")), t(folder.kind))
            sub(created, t("FolderId"), Id=folder.id, ChangeKey=folder.change_key)
            msgs.append(msg)
        return response("CreateFolder", msgs)

    def create_folder(
        self, smtp: str, name: str, folder_class: str, parent: str = "msgfolderroot"
    ) -> Folder:
        """Python API: a folder as the user would make it in Outlook."""
        with self.lock:
            box = self.mailbox(smtp)
            parent_folder = box.distinguished(parent) or box.folders[parent]
            folder = Folder(
                self.ids("folder"), self.ids.change_key(), parent_folder.id, name, folder_class
            )
            box.folders[folder.id] = folder
            self.bump(box)
            return folder

    def find_folder(self, smtp: str, name: str) -> Folder | None:
        box = self.mailbox(smtp)
        return next((f for f in box.folders.values() if f.name.lower() == name.lower()), None)


def _class_for_tag(tag: str) -> str:
    return {
        "CalendarFolder": "IPF.Appointment",
        "ContactsFolder": "IPF.Contact",
        "TasksFolder": "IPF.Task",
    }.get(tag, "IPF.Note")


def _descendants(box: Mailbox, parent: Folder, deep: bool):
    for folder in list(box.folders.values()):
        if folder.parent_id == parent.id:
            yield folder
            if deep:
                yield from _descendants(box, folder, deep)


def _matches(folder: Folder, restriction: ET.Element | None) -> bool:
    """Folder restrictions: IsEqualTo on folder:DisplayName / folder:FolderClass, else all."""
    if restriction is None or not len(restriction):
        return True
    cond = restriction[0]
    if local(cond.tag) == "IsEqualTo":
        uri = cond.find(t("FieldURI"))
        const = cond.find(f"{t('FieldURIOrConstant')}/{t('Constant')}")
        if uri is not None and const is not None:
            value = const.get("Value", "")
            if uri.get("FieldURI") == "folder:DisplayName":
                return folder.name.lower() == value.lower()
            if uri.get("FieldURI") == "folder:FolderClass":
                return folder.folder_class == value
    return True
