"""Contact folders, contacts and the per-folder contacts delta."""

from __future__ import annotations

import copy
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import HttpError, route

from .core import GraphCore
from .delta import initial_params, run_delta
from .odata import listing, set_ext, single
from .store import Item, Mailbox, get_or_404, invalid, merge, pop_ci, render

CONTACT_FIELDS = {
    "givenName",
    "surname",
    "middleName",
    "displayName",
    "nickName",
    "title",
    "initials",
    "fileAs",
    "generation",
    "emailAddresses",
    "imAddresses",
    "businessPhones",
    "homePhones",
    "mobilePhone",
    "companyName",
    "jobTitle",
    "department",
    "officeLocation",
    "profession",
    "manager",
    "assistantName",
    "spouseName",
    "children",
    "birthday",
    "businessHomePage",
    "businessAddress",
    "homeAddress",
    "otherAddress",
    "personalNotes",
    "categories",
}
_DEFAULTS: dict[str, Any] = {
    "givenName": None,
    "surname": None,
    "displayName": "",
    "emailAddresses": [],
    "businessPhones": [],
    "homePhones": [],
    "mobilePhone": None,
    "companyName": None,
    "jobTitle": None,
    "department": None,
    "businessAddress": {},
    "personalNotes": "",
    "categories": [],
}


class ContactsMixin(GraphCore):
    def _init_mailbox(self, box: Mailbox) -> None:
        super()._init_mailbox(box)
        # The default "Contacts" folder is not listed by /me/contactFolders (which lists its
        # children), but its id is every default contact's parentFolderId.
        box.default_contact_folder = self.ids("contactfolder")

    # -- shared operations (HTTP handlers and the Python API) ----------------------------

    def _folder_id(self, box: Mailbox, folder_id: str | None) -> str:
        if folder_id in (None, "", "contacts", box.default_contact_folder):
            return box.default_contact_folder
        get_or_404(box.contact_folders, folder_id)
        return folder_id

    def _new_folder(self, box: Mailbox, body: dict[str, Any]) -> Item:
        name = (body.get("displayName") or "").strip()
        if not name:
            raise invalid("The folder needs a displayName.", "ErrorInvalidRequest")
        if any(f["displayName"].lower() == name.lower() for f in box.contact_folders.values()):
            raise HttpError(
                409, "ErrorFolderExists", "A folder with the specified name already exists."
            )
        folder = {
            "id": self.ids("contactfolder"),
            "displayName": name,
            "parentFolderId": box.default_contact_folder,
        }
        box.contact_folders[folder["id"]] = folder
        return folder

    def _new_contact(self, box: Mailbox, folder_id: str | None, body: dict[str, Any]) -> Item:
        body = dict(body)
        ext = pop_ci(body, "singleValueExtendedProperties")
        contact: Item = copy.deepcopy(_DEFAULTS)
        merge(contact, body, CONTACT_FIELDS)
        if not contact.get("displayName"):
            parts = [contact.get("givenName"), contact.get("surname")]
            contact["displayName"] = " ".join(p for p in parts if p)
        contact["id"] = self.ids("contact")
        contact["parentFolderId"] = self._folder_id(box, folder_id)
        if ext is not None:
            set_ext(contact, ext)
        box.contacts[contact["id"]] = self.touch(box, contact)
        return contact

    def _update_contact(self, box: Mailbox, contact_id: str, body: dict[str, Any]) -> Item:
        contact = get_or_404(box.contacts, contact_id)
        body = dict(body)
        ext = pop_ci(body, "singleValueExtendedProperties")
        if any(k.lower() == "parentfolderid" for k in body):
            # Graph has no way to move a contact by PATCH; parentFolderId is read-only.
            raise invalid(
                "The property 'parentFolderId' is read-only and cannot be set.",
                "ErrorInvalidPropertyUpdateSentAttempt",
            )
        merge(contact, body, CONTACT_FIELDS)
        if ext is not None:
            set_ext(contact, ext)
        return self.touch(box, contact)

    def _contact_in(self, box: Mailbox, folder_id: str | None, contact_id: str) -> Item:
        contact = get_or_404(box.contacts, contact_id)
        if folder_id is not None and contact["parentFolderId"] != self._folder_id(box, folder_id):
            raise HttpError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return contact

    # -- Python API (as if the user did it in Outlook; not in the call log) --------------

    def create_contact_folder(self, upn: str, display_name: str) -> Item:
        with self.lock:
            return render(self._new_folder(self.mailbox(upn), {"displayName": display_name}))

    def create_contact(
        self, upn: str, fields: dict[str, Any], folder_id: str | None = None
    ) -> Item:
        with self.lock:
            return render(self._new_contact(self.mailbox(upn), folder_id, fields))

    def update_contact(self, upn: str, contact_id: str, fields: dict[str, Any]) -> Item:
        with self.lock:
            return render(self._update_contact(self.mailbox(upn), contact_id, fields))

    def delete_contact(self, upn: str, contact_id: str) -> None:
        with self.lock:
            box = self.mailbox(upn)
            get_or_404(box.contacts, contact_id)
            del box.contacts[contact_id]
            box.seq += 1

    def move_contact(self, upn: str, contact_id: str, folder_id: str | None) -> Item:
        """Drag a contact to another folder. Like Exchange, the item gets a new id."""
        with self.lock:
            box = self.mailbox(upn)
            contact = box.contacts.pop(get_or_404(box.contacts, contact_id)["id"])
            box.moved_ids.add(contact_id)
            contact["id"] = self.ids("contact")
            contact["parentFolderId"] = self._folder_id(box, folder_id)
            box.contacts[contact["id"]] = self.touch(box, contact)
            return render(contact)

    def contacts_in(self, upn: str, folder_id: str | None = None) -> list[Item]:
        with self.lock:
            box = self.mailbox(upn)
            fid = self._folder_id(box, folder_id)
            return [render(c) for c in box.contacts.values() if c["parentFolderId"] == fid]

    # -- HTTP ------------------------------------------------------------------------------

    @route("/v1.0/me/contactFolders", methods=("GET", "POST"))
    def http_contact_folders(self, request: Request, principal: str) -> Any:
        box = self.mailbox(principal)
        if request.method == "POST":
            folder = self._new_folder(box, request.get_json(force=True) or {})
            return self.json_response(render(folder), 201)
        return listing(request, self.base_url, list(box.contact_folders.values()))

    @route("/v1.0/me/contactFolders/<folder_id>", methods=("GET", "DELETE"))
    def http_contact_folder(self, request: Request, principal: str, folder_id: str) -> Any:
        box = self.mailbox(principal)
        if folder_id == box.default_contact_folder:
            return {"id": folder_id, "displayName": "Contacts", "parentFolderId": None}
        folder = get_or_404(box.contact_folders, folder_id)
        if request.method == "DELETE":
            del box.contact_folders[folder_id]
            for cid in [c for c, v in box.contacts.items() if v["parentFolderId"] == folder_id]:
                del box.contacts[cid]
            box.seq += 1
            return Response(status=204)
        return render(folder)

    @route("/v1.0/me/contacts", methods=("GET", "POST"))
    @route("/v1.0/me/contactFolders/<folder_id>/contacts", methods=("GET", "POST"))
    def http_contacts(self, request: Request, principal: str, folder_id: str | None = None) -> Any:
        box = self.mailbox(principal)
        fid = self._folder_id(box, folder_id)
        if request.method == "POST":
            contact = self._new_contact(box, fid, request.get_json(force=True) or {})
            return self.json_response(single(request, contact), 201)
        rows = [c for c in box.contacts.values() if c["parentFolderId"] == fid]
        return listing(request, self.base_url, rows)

    @route("/v1.0/me/contacts/<contact_id>", methods=("GET", "PATCH", "DELETE"))
    @route(
        "/v1.0/me/contactFolders/<folder_id>/contacts/<contact_id>",
        methods=("GET", "PATCH", "DELETE"),
    )
    def http_contact(
        self, request: Request, principal: str, contact_id: str, folder_id: str | None = None
    ) -> Any:
        box = self.mailbox(principal)
        contact = self._contact_in(box, folder_id, contact_id)
        if request.method == "DELETE":
            del box.contacts[contact["id"]]
            box.seq += 1
            return Response(status=204)
        if request.method == "PATCH":
            contact = self._update_contact(box, contact_id, request.get_json(force=True) or {})
        return single(request, contact)

    @route("/v1.0/me/contacts/delta")
    @route("/v1.0/me/contactFolders/<folder_id>/contacts/delta")
    def http_contacts_delta(
        self, request: Request, principal: str, folder_id: str | None = None
    ) -> Any:
        box = self.mailbox(principal)
        fid = self._folder_id(box, folder_id)

        def compute(
            params: dict[str, Any], since: int
        ) -> tuple[dict[str, tuple[str, Item]], list[str]]:
            rows = {
                c["id"]: (c["changeKey"], render(c))
                for c in box.contacts.values()
                if c["parentFolderId"] == fid
            }
            return rows, []

        return run_delta(
            base_url=self.base_url,
            request=request,
            mailbox=box,
            kind="contacts",
            scope=fid,
            params=initial_params(request),
            compute=compute,
            reason=lambda i: "changed" if i in box.moved_ids else "deleted",
        )
