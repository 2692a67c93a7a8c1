"""Mail folders, messages (with attachments and MIME), move, and per-folder message delta.

Exchange REST ids change when a message moves to another folder; with
`Prefer: IdType="ImmutableId"` Graph hands out ids that survive moves instead. Each stored
message keeps both, and every response renders the one the request asked for.
"""

from __future__ import annotations

import base64
import re
from email.message import EmailMessage
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import route

from .core import GraphCore
from .delta import initial_params, run_delta
from .odata import listing, prefer, select
from .store import Item, Mailbox, get_or_404, invalid, not_found, render

WELL_KNOWN = {
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
    "archive": "Archive",
}
MESSAGE_DEFAULTS: dict[str, Any] = {
    "subject": "",
    "body": {"contentType": "text", "content": ""},
    "toRecipients": [],
    "ccRecipients": [],
    "bccRecipients": [],
    "isDraft": False,
    "isRead": True,
    "importance": "normal",
    "categories": [],
}


class MailMixin(GraphCore):
    def _init_mailbox(self, box: Mailbox) -> None:
        super()._init_mailbox(box)
        root = self.ids("mailfolder")
        for name, display in WELL_KNOWN.items():
            folder = self._new_mail_folder(box, root, display)
            folder["_wellKnown"] = name
        box.mail_folders[root] = {
            "id": root,
            "displayName": "Top of Information Store",
            "_root": True,
        }

    def _new_mail_folder(self, box: Mailbox, parent: str, name: str) -> Item:
        if not name.strip():
            raise invalid("displayName is required.", "ErrorInvalidRequest")
        siblings = [f for f in box.mail_folders.values() if f.get("parentFolderId") == parent]
        if any(f["displayName"].lower() == name.lower() for f in siblings):
            raise invalid("A folder with the specified name already exists.", "ErrorFolderExists")
        folder = {
            "id": self.ids("mailfolder"),
            "displayName": name,
            "parentFolderId": parent,
            "isHidden": False,
        }
        box.mail_folders[folder["id"]] = folder
        return folder

    def _mail_folder(self, box: Mailbox, folder_id: str) -> Item:
        for folder in box.mail_folders.values():
            if folder.get("_wellKnown") == folder_id.lower():
                return folder
        return get_or_404(box.mail_folders, folder_id)

    def _root(self, box: Mailbox) -> str:
        return next(f["id"] for f in box.mail_folders.values() if f.get("_root"))

    def _render_folder(self, box: Mailbox, folder: Item) -> Item:
        out = render(folder)
        inside = [m for m in box.messages.values() if m["_folder"] == folder["id"]]
        out["childFolderCount"] = sum(
            1 for f in box.mail_folders.values() if f.get("parentFolderId") == folder["id"]
        )
        out["totalItemCount"] = len(inside)
        out["unreadItemCount"] = sum(1 for m in inside if not m["isRead"])
        return out

    def _new_message(self, box: Mailbox, folder_id: str, fields: dict[str, Any]) -> Item:
        folder = self._mail_folder(box, folder_id)
        message: Item = {
            **MESSAGE_DEFAULTS,
            **{k: v for k, v in fields.items() if k != "attachments"},
        }
        message["id"] = self.ids("message")
        message["_immutable"] = self.ids("immutable")
        message["_folder"] = folder["id"]
        now = self.stamp()
        message.setdefault("receivedDateTime", now)
        message.setdefault("sentDateTime", message["receivedDateTime"])
        message.setdefault("from", {"emailAddress": {"name": box.display_name, "address": box.upn}})
        message.setdefault("sender", message["from"])
        message.setdefault(
            "internetMessageId", f"<{message['_immutable'][5:25]}@{box.upn.split('@')[-1]}>"
        )
        message.setdefault("conversationId", self.ids("conversation"))
        text = re.sub(r"<[^>]+>", " ", message["body"].get("content") or "")
        message["bodyPreview"] = " ".join(text.split())[:255]
        message["_attachments"] = {}
        for att in fields.get("attachments") or []:
            content = att.get("content")
            data = (
                content
                if isinstance(content, bytes)
                else base64.b64decode(att.get("contentBytes") or "")
            )
            aid = self.ids("attachment")
            message["_attachments"][aid] = {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "id": aid,
                "name": att.get("name") or "attachment",
                "contentType": att.get("contentType") or "application/octet-stream",
                "size": len(data),
                "isInline": bool(att.get("isInline", False)),
                "contentId": att.get("contentId"),
                "contentBytes": base64.b64encode(data).decode(),
            }
        message["hasAttachments"] = any(not a["isInline"] for a in message["_attachments"].values())
        box.messages[message["id"]] = self.touch(box, message)
        return message

    def _message(self, box: Mailbox, message_id: str) -> Item:
        if message_id in box.messages:
            return box.messages[message_id]
        for message in box.messages.values():
            if message["_immutable"] == message_id:
                return message
        raise not_found()

    def _move_message(self, box: Mailbox, message_id: str, destination: str) -> Item:
        message = self._message(box, message_id)
        folder = self._mail_folder(box, destination)
        del box.messages[message["id"]]
        box.moved_ids.add(message["id"])
        message["id"] = self.ids("message")  # a new REST id; the immutable id stays
        message["_folder"] = folder["id"]
        box.messages[message["id"]] = self.touch(box, message)
        return message

    def _render_message(self, request: Request | None, box: Mailbox, message: Item) -> Item:
        out = render(message)
        out.pop("internetMessageHeaders", None)
        if request is not None and "immutableid" in prefer(request).get("idtype", "").lower():
            out["id"] = message["_immutable"]
        out["parentFolderId"] = message["_folder"]
        chosen = select(request) if request is not None else None
        if chosen:
            keep = {s.lower() for s in chosen} | {"id"}
            if "internetmessageheaders" in keep:
                out["internetMessageHeaders"] = message.get("internetMessageHeaders", [])
            out = {k: v for k, v in out.items() if k.lower() in keep}
        return out

    # -- Python API ----------------------------------------------------------------------

    def create_mail_folder(self, upn: str, display_name: str, parent: str | None = None) -> Item:
        with self.lock:
            box = self.mailbox(upn)
            parent_id = self._mail_folder(box, parent)["id"] if parent else self._root(box)
            return render(self._new_mail_folder(box, parent_id, display_name))

    def create_message(self, upn: str, folder: str, fields: dict[str, Any]) -> Item:
        """Deliver/file a message. `attachments`: [{name, contentType, content|contentBytes}]."""
        with self.lock:
            box = self.mailbox(upn)
            return self._render_message(None, box, self._new_message(box, folder, fields))

    def move_message(self, upn: str, message_id: str, folder: str) -> Item:
        with self.lock:
            box = self.mailbox(upn)
            return self._render_message(None, box, self._move_message(box, message_id, folder))

    def delete_message(self, upn: str, message_id: str) -> None:
        with self.lock:
            box = self.mailbox(upn)
            del box.messages[self._message(box, message_id)["id"]]
            box.seq += 1

    # -- HTTP ------------------------------------------------------------------------------

    @route("/v1.0/me/mailFolders", methods=("GET", "POST"))
    @route("/v1.0/me/mailFolders/<folder_id>/childFolders", methods=("GET", "POST"))
    def http_mail_folders(
        self, request: Request, principal: str, folder_id: str | None = None
    ) -> Any:
        box = self.mailbox(principal)
        parent = self._mail_folder(box, folder_id)["id"] if folder_id else self._root(box)
        if request.method == "POST":
            name = (request.get_json(force=True) or {}).get("displayName") or ""
            return self.json_response(
                self._render_folder(box, self._new_mail_folder(box, parent, name)), 201
            )
        rows = [
            self._render_folder(box, f)
            for f in box.mail_folders.values()
            if f.get("parentFolderId") == parent
        ]
        return listing(request, self.base_url, rows)

    @route("/v1.0/me/mailFolders/<folder_id>")
    def http_mail_folder(self, request: Request, principal: str, folder_id: str) -> Any:
        box = self.mailbox(principal)
        return self._render_folder(box, self._mail_folder(box, folder_id))

    @route("/v1.0/me/messages")
    @route("/v1.0/me/mailFolders/<folder_id>/messages")
    def http_messages(self, request: Request, principal: str, folder_id: str | None = None) -> Any:
        box = self.mailbox(principal)
        fid = self._mail_folder(box, folder_id)["id"] if folder_id else None
        rows = sorted(
            (m for m in box.messages.values() if fid in (None, m["_folder"])),
            key=lambda m: m["receivedDateTime"],
            reverse=True,
        )
        page = listing(request, self.base_url, rows)
        by_id = {m["id"]: m for m in rows} | {m["_immutable"]: m for m in rows}
        page["value"] = [self._render_message(request, box, by_id[v["id"]]) for v in page["value"]]
        return page

    @route("/v1.0/me/messages/<message_id>", methods=("GET", "PATCH", "DELETE"))
    def http_message(self, request: Request, principal: str, message_id: str) -> Any:
        box = self.mailbox(principal)
        message = self._message(box, message_id)
        if request.method == "DELETE":
            del box.messages[message["id"]]
            box.seq += 1
            return Response(status=204)
        if request.method == "PATCH":
            body = request.get_json(force=True) or {}
            for key in body:
                if key not in ("isRead", "categories", "importance", "flag"):
                    raise invalid(
                        f"The property '{key}' cannot be updated.",
                        "ErrorInvalidPropertyUpdateSentAttempt",
                    )
            message.update(body)
            self.touch(box, message)
        return self._render_message(request, box, message)

    @route("/v1.0/me/messages/<message_id>/$value")
    def http_message_mime(self, request: Request, principal: str, message_id: str) -> Any:
        message = self._message(self.mailbox(principal), message_id)
        mime = EmailMessage()
        mime["Subject"] = message["subject"]
        mime["From"] = message["from"]["emailAddress"]["address"]
        mime["To"] = ", ".join(r["emailAddress"]["address"] for r in message["toRecipients"])
        if message["ccRecipients"]:
            mime["Cc"] = ", ".join(r["emailAddress"]["address"] for r in message["ccRecipients"])
        mime["Message-ID"] = message["internetMessageId"]
        subtype = "html" if message["body"].get("contentType") == "html" else "plain"
        mime.set_content(message["body"].get("content") or "", subtype=subtype)
        for att in message["_attachments"].values():
            maintype, _, sub = att["contentType"].partition("/")
            mime.add_attachment(
                base64.b64decode(att["contentBytes"]),
                maintype=maintype,
                subtype=sub or "octet-stream",
                filename=att["name"],
            )
        return Response(mime.as_bytes(), content_type="message/rfc822")

    @route("/v1.0/me/messages/<message_id>/attachments")
    def http_attachments(self, request: Request, principal: str, message_id: str) -> Any:
        message = self._message(self.mailbox(principal), message_id)
        return {"value": [dict(a) for a in message["_attachments"].values()]}

    @route("/v1.0/me/messages/<message_id>/attachments/<attachment_id>")
    def http_attachment(
        self, request: Request, principal: str, message_id: str, attachment_id: str
    ) -> Any:
        message = self._message(self.mailbox(principal), message_id)
        return dict(get_or_404(message["_attachments"], attachment_id))

    @route("/v1.0/me/messages/<message_id>/move", methods=("POST",))
    def http_move(self, request: Request, principal: str, message_id: str) -> Any:
        box = self.mailbox(principal)
        destination = (request.get_json(force=True) or {}).get("destinationId")
        if not destination:
            raise invalid("destinationId is required.", "ErrorInvalidRequest")
        moved = self._move_message(box, message_id, destination)
        return self.json_response(self._render_message(request, box, moved), 201)

    @route("/v1.0/me/mailFolders/<folder_id>/messages/delta")
    def http_messages_delta(self, request: Request, principal: str, folder_id: str) -> Any:
        box = self.mailbox(principal)
        fid = self._mail_folder(box, folder_id)["id"]

        def compute(
            params: dict[str, Any], since: int
        ) -> tuple[dict[str, tuple[str, Item]], list[str]]:
            rows = {}
            for m in box.messages.values():
                if m["_folder"] == fid:
                    out = self._render_message(request, box, m)
                    rows[out["id"]] = (m["changeKey"], out)
            return rows, []

        return run_delta(
            base_url=self.base_url,
            request=request,
            mailbox=box,
            kind="messages",
            scope=fid,
            params=initial_params(request),
            compute=compute,
            reason=lambda i: "changed" if i in box.moved_ids else "deleted",
            default_page=10,
        )
