"""Gmail API v1: labels, messages (full/metadata/minimal/raw), attachments, history."""

from __future__ import annotations

import base64
import email
import email.policy
import re
from datetime import datetime, timedelta
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import route

from .errors import HttpError, bad_request, conflict, int_param, not_found, required
from .service import Service
from .store import Account, new_id, paginate

SYSTEM_LABELS = (
    "INBOX",
    "SENT",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "TRASH",
    "SPAM",
    "DRAFT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
)
# "History records are typically available for at least one week and often longer"
# (https://developers.google.com/gmail/api/guides/sync): the emulator keeps exactly the
# guaranteed week, so a client must survive the 404 after a longer absence.
HISTORY_RETENTION = timedelta(days=7)
HISTORY_TYPES = ("messageAdded", "messageDeleted", "labelAdded", "labelRemoved")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class GmailApi(Service):
    # -- model ---------------------------------------------------------------------------

    def _labels(self, acct: Account) -> dict[str, dict[str, Any]]:
        if not acct.labels:
            for name in SYSTEM_LABELS:
                acct.labels[name] = {"id": name, "name": name, "type": "system"}
        return acct.labels

    def label_create(self, acct: Account, name: str) -> dict[str, Any]:
        labels = self._labels(acct)
        if not name.strip():
            raise bad_request("Invalid label name", "invalidArgument")
        if name.lower() in {lab["name"].lower() for lab in labels.values()}:
            raise conflict("Label name exists or conflicts", "duplicate", grpc="ALREADY_EXISTS")
        lid = f"Label_{sum(1 for lab in labels.values() if lab['type'] == 'user') + 1}"
        labels[lid] = {
            "id": lid,
            "name": name,
            "type": "user",
            "messageListVisibility": "show",
            "labelListVisibility": "labelShow",
        }
        return labels[lid]

    def _record(self, acct: Account, kind: str, msg: dict[str, Any], labels: list[str]) -> None:
        acct.history_id += 1
        msg["historyId"] = acct.history_id
        ref = {"id": msg["id"], "threadId": msg["threadId"], "labelIds": list(msg["labelIds"])}
        entry: dict[str, Any] = {"id": acct.history_id, "type": kind, "message": ref}
        entry["labels"] = labels
        entry["_at"] = self.now()
        acct.history.append(entry)

    def _purge_history(self, acct: Account) -> None:
        """Drop history records older than `HISTORY_RETENTION`; a startHistoryId before a
        dropped record can no longer be answered (404), as in Gmail."""
        cutoff = self.now() - HISTORY_RETENTION
        while acct.history and acct.history[0].get("_at", cutoff) < cutoff:
            gone = acct.history.pop(0)
            acct.history_floor = max(acct.history_floor, int(gone["id"]))

    def message_add(
        self,
        acct: Account,
        *,
        sender: str,
        to: list[str],
        subject: str,
        text: str,
        html: str | None = None,
        cc: list[str] | tuple[str, ...] = (),
        attachments: list[tuple[str, str, bytes]] | tuple = (),
        label_ids: list[str] | tuple[str, ...] = ("INBOX", "UNREAD"),
        date: datetime | None = None,
        message_id: str | None = None,
        thread_id: str | None = None,
    ) -> dict[str, Any]:
        labels = self._labels(acct)
        for lid in label_ids:
            if lid not in labels:
                raise bad_request(f"Invalid label: {lid}")
        mime = EmailMessage()
        when = date or self.now()
        mime["Message-ID"] = message_id or make_msgid(domain="mail.sandbox.test")
        mime["Date"] = format_datetime(when)
        mime["From"] = sender
        mime["To"] = ", ".join(to)
        if cc:
            mime["Cc"] = ", ".join(cc)
        mime["Subject"] = subject
        mime.set_content(text)
        if html is not None:
            mime.add_alternative(html, subtype="html")
        for filename, ctype, data in attachments:
            maintype, _, subtype = ctype.partition("/")
            mime.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        mid = new_id(8)
        msg = {
            "id": mid,
            "threadId": thread_id or mid,
            "labelIds": list(label_ids),
            "raw": mime.as_bytes(policy=email.policy.SMTP),
            "internalDate": str(int(when.timestamp() * 1000)),
            "snippet": " ".join(text.split())[:100],
        }
        acct.messages[mid] = msg
        self._record(acct, "messageAdded", msg, [])
        return msg

    def message_modify(
        self, acct: Account, mid: str, add: list[str], remove: list[str]
    ) -> dict[str, Any]:
        msg = self._message(acct, mid)
        labels = self._labels(acct)
        for lid in [*add, *remove]:
            if lid not in labels:
                raise bad_request(f"Invalid label: {lid}", "invalidArgument")
        added = [lid for lid in dict.fromkeys(add) if lid not in msg["labelIds"]]
        removed = [
            lid for lid in dict.fromkeys(remove) if lid in msg["labelIds"] and lid not in add
        ]
        if added:
            msg["labelIds"].extend(added)
            self._record(acct, "labelAdded", msg, added)
        if removed:
            msg["labelIds"] = [lid for lid in msg["labelIds"] if lid not in removed]
            self._record(acct, "labelRemoved", msg, removed)
        return msg

    def message_delete(self, acct: Account, mid: str) -> None:
        msg = self._message(acct, mid)
        del acct.messages[mid]
        self._record(acct, "messageDeleted", msg, [])

    def _message(self, acct: Account, mid: str) -> dict[str, Any]:
        msg = acct.messages.get(mid)
        if msg is None:
            raise not_found("Requested entity was not found.")
        return msg

    def render_message(
        self, msg: dict[str, Any], fmt: str = "full", headers: list[str] | None = None
    ) -> dict[str, Any]:
        out = {k: msg[k] for k in ("id", "threadId", "labelIds", "snippet", "internalDate")}
        out["historyId"] = str(msg["historyId"])
        out["sizeEstimate"] = len(msg["raw"])
        if fmt == "raw":
            out["raw"] = b64url(msg["raw"])
        elif fmt in ("full", "metadata"):
            parsed = email.message_from_bytes(msg["raw"])
            out["payload"] = _part(parsed, "", msg["id"], fmt == "metadata", headers)
        elif fmt != "minimal":
            raise bad_request(f"Invalid format: {fmt}", "invalidArgument")
        return out

    def _matches_query(self, acct: Account, msg: dict[str, Any], q: str) -> bool:
        parsed = email.message_from_bytes(msg["raw"])
        names = {
            lab["name"].lower().replace(" ", "-"): lid for lid, lab in self._labels(acct).items()
        }
        for token in q.split():
            key, sep, value = token.partition(":")
            value = value.strip('"').lower()
            if not sep:
                hay = f"{parsed['Subject']} {msg['snippet']} {parsed['From']}".lower()
                if token.lower() not in hay:
                    return False
            elif key in ("label", "in", "is"):
                lid = names.get(value.replace(" ", "-")) or value.upper()
                if lid not in msg["labelIds"]:
                    return False
            elif key in ("from", "to", "cc", "subject"):
                if value not in str(parsed.get(key.capitalize(), "")).lower():
                    return False
            elif key == "newer_than":
                m = re.fullmatch(r"(\d+)([dmy])", value)
                days = int(m.group(1)) * {"d": 1, "m": 31, "y": 366}[m.group(2)] if m else 0
                if (
                    int(msg["internalDate"])
                    < (self.now() - timedelta(days=days)).timestamp() * 1000
                ):
                    return False
            elif key == "has" and value == "attachment":
                if not any(p.get_filename() for p in parsed.walk()):
                    return False
            elif (
                key == "rfc822msgid"
                and value.strip("<>") != str(parsed.get("Message-ID", "")).strip("<>").lower()
            ):
                return False
        return True

    # -- routes --------------------------------------------------------------------------

    @route("/gmail/v1/users/<uid>/profile")
    def gmail_profile(self, request: Request, principal: str, uid: str) -> dict[str, Any]:
        self.user(uid, principal)
        acct = self.account(principal)
        return {
            "emailAddress": acct.email,
            "messagesTotal": len(acct.messages),
            "threadsTotal": len({m["threadId"] for m in acct.messages.values()}),
            "historyId": str(acct.history_id),
        }

    @route("/gmail/v1/users/<uid>/labels")
    def labels_list(self, request: Request, principal: str, uid: str) -> dict[str, Any]:
        self.user(uid, principal)
        return {"labels": list(self._labels(self.account(principal)).values())}

    @route("/gmail/v1/users/<uid>/labels", ("POST",))
    def labels_create(self, request: Request, principal: str, uid: str) -> dict[str, Any]:
        self.user(uid, principal)
        return self.label_create(self.account(principal), self.body(request).get("name") or "")

    @route("/gmail/v1/users/<uid>/labels/<lid>")
    def labels_get(self, request: Request, principal: str, uid: str, lid: str) -> dict[str, Any]:
        self.user(uid, principal)
        acct = self.account(principal)
        label = self._labels(acct).get(lid)
        if label is None:
            raise not_found("Requested entity was not found.")
        tagged = [m for m in acct.messages.values() if lid in m["labelIds"]]
        unread = [m for m in tagged if "UNREAD" in m["labelIds"]]
        return {
            **label,
            "messagesTotal": len(tagged),
            "messagesUnread": len(unread),
            "threadsTotal": len({m["threadId"] for m in tagged}),
            "threadsUnread": len({m["threadId"] for m in unread}),
        }

    @route("/gmail/v1/users/<uid>/messages")
    def messages_list(self, request: Request, principal: str, uid: str) -> dict[str, Any]:
        self.user(uid, principal)
        acct = self.account(principal)
        args = request.args
        size = min(int_param(args.get("maxResults"), "maxResults", 100), 500) or 100
        fingerprint = tuple((k, tuple(args.getlist(k))) for k in sorted(args) if k != "pageToken")
        items: list[dict[str, str]] = []
        if not args.get("pageToken"):
            wanted = args.getlist("labelIds")
            spam_trash = args.get("includeSpamTrash", "").lower() == "true"
            for msg in sorted(acct.messages.values(), key=lambda m: -int(m["internalDate"])):
                if not spam_trash and {"SPAM", "TRASH"} & set(msg["labelIds"]):
                    continue
                if any(lid not in msg["labelIds"] for lid in wanted):
                    continue
                if args.get("q") and not self._matches_query(acct, msg, args["q"]):
                    continue
                items.append({"id": msg["id"], "threadId": msg["threadId"]})
        page, nxt, extra = paginate(
            self.cursors,
            items,
            size,
            args.get("pageToken"),
            email=acct.email,
            kind="messages",
            fingerprint=fingerprint,
            extra={"total": len(items)},
        )
        out: dict[str, Any] = {"resultSizeEstimate": extra["total"]}
        if page:
            out["messages"] = page
        if nxt:
            out["nextPageToken"] = nxt
        return out

    @route("/gmail/v1/users/<uid>/messages/<mid>")
    def messages_get(self, request: Request, principal: str, uid: str, mid: str) -> dict:
        self.user(uid, principal)
        msg = self._message(self.account(principal), mid)
        fmt = request.args.get("format", "full")
        return self.render_message(msg, fmt, request.args.getlist("metadataHeaders") or None)

    @route("/gmail/v1/users/<uid>/messages/<mid>", ("DELETE",))
    def messages_delete(self, request: Request, principal: str, uid: str, mid: str) -> Response:
        self.user(uid, principal)
        self.message_delete(self.account(principal), mid)
        return Response(status=204)

    @route("/gmail/v1/users/<uid>/messages/<mid>/attachments/<aid>")
    def attachments_get(
        self, request: Request, principal: str, uid: str, mid: str, aid: str
    ) -> dict[str, Any]:
        self.user(uid, principal)
        msg = self._message(self.account(principal), mid)
        parsed = email.message_from_bytes(msg["raw"])
        for part_id, part in _walk(parsed, ""):
            if _attachment_id(mid, part_id) == aid:
                data = part.get_payload(decode=True) or b""
                return {"attachmentId": aid, "size": len(data), "data": b64url(data)}
        raise not_found("Requested entity was not found.")

    @route("/gmail/v1/users/<uid>/messages/<mid>/modify", ("POST",))
    def messages_modify(self, request: Request, principal: str, uid: str, mid: str) -> dict:
        self.user(uid, principal)
        body = self.body(request)
        msg = self.message_modify(
            self.account(principal),
            mid,
            body.get("addLabelIds") or [],
            body.get("removeLabelIds") or [],
        )
        return self.render_message(msg, "minimal")

    @route("/gmail/v1/users/<uid>/messages/batchModify", ("POST",))
    def messages_batch_modify(self, request: Request, principal: str, uid: str) -> Response:
        self.user(uid, principal)
        acct = self.account(principal)
        body = self.body(request)
        ids = body.get("ids") or []
        if len(ids) > 1000:
            raise bad_request("Too many ids; the limit is 1000.", "invalidArgument")
        for mid in ids:
            self._message(acct, mid)
        for mid in ids:
            self.message_modify(
                acct, mid, body.get("addLabelIds") or [], body.get("removeLabelIds") or []
            )
        return Response(status=204)

    @route("/gmail/v1/users/<uid>/history")
    def history_list(self, request: Request, principal: str, uid: str) -> dict[str, Any]:
        self.user(uid, principal)
        acct = self.account(principal)
        args = request.args
        if not args.get("startHistoryId"):
            raise required("startHistoryId")
        start = int_param(args["startHistoryId"], "startHistoryId", 0)
        self._purge_history(acct)
        if start < acct.history_floor:
            raise HttpError(404, "notFound", "Requested entity was not found.")
        size = min(int_param(args.get("maxResults"), "maxResults", 100), 500) or 100
        types = args.getlist("historyTypes") or list(HISTORY_TYPES)
        label = args.get("labelId")
        fingerprint = tuple((k, tuple(args.getlist(k))) for k in sorted(args) if k != "pageToken")
        records = []
        if not args.get("pageToken"):
            for h in acct.history:
                if h["id"] <= start or h["type"] not in types:
                    continue
                if label and label not in h["message"]["labelIds"] and label not in h["labels"]:
                    continue
                records.append(_history_record(h))
        page, nxt, _ = paginate(
            self.cursors,
            records,
            size,
            args.get("pageToken"),
            email=acct.email,
            kind="history",
            fingerprint=fingerprint,
        )
        out: dict[str, Any] = {"historyId": str(acct.history_id)}
        if page:
            out["history"] = page
        if nxt:
            out["nextPageToken"] = nxt
        return out


def _history_record(h: dict[str, Any]) -> dict[str, Any]:
    ref = h["message"]
    short = {"id": ref["id"], "threadId": ref["threadId"]}
    rec: dict[str, Any] = {"id": str(h["id"]), "messages": [short]}
    key = {
        "messageAdded": "messagesAdded",
        "messageDeleted": "messagesDeleted",
        "labelAdded": "labelsAdded",
        "labelRemoved": "labelsRemoved",
    }[h["type"]]
    item: dict[str, Any] = {"message": dict(ref)}
    if h["labels"]:
        item["labelIds"] = h["labels"]
    rec[key] = [item]
    return rec


def _attachment_id(mid: str, part_id: str) -> str:
    return "ANGjdJ" + b64url(f"{mid}:{part_id}".encode())


def _walk(msg: Message, part_id: str) -> list[tuple[str, Message]]:
    out = [(part_id, msg)]
    if msg.is_multipart():
        for i, sub in enumerate(msg.get_payload()):  # type: ignore[arg-type]
            out.extend(_walk(sub, f"{part_id}.{i}" if part_id else str(i)))
    return out


def _part(
    msg: Message, part_id: str, mid: str, metadata: bool, wanted: list[str] | None
) -> dict[str, Any]:
    headers = [{"name": k, "value": str(v)} for k, v in msg.items()]
    if wanted:
        lower = {w.lower() for w in wanted}
        headers = [h for h in headers if h["name"].lower() in lower]
    out: dict[str, Any] = {
        "partId": part_id,
        "mimeType": msg.get_content_type(),
        "filename": msg.get_filename() or "",
        "headers": headers,
    }
    if metadata:
        return out
    if msg.is_multipart():
        out["body"] = {"size": 0}
        out["parts"] = [
            _part(sub, f"{part_id}.{i}" if part_id else str(i), mid, False, None)
            for i, sub in enumerate(msg.get_payload())  # type: ignore[arg-type]
        ]
    else:
        data = msg.get_payload(decode=True) or b""
        if out["filename"]:
            out["body"] = {"attachmentId": _attachment_id(mid, part_id), "size": len(data)}
        else:
            out["body"] = {"size": len(data), "data": b64url(data)}
    return out
