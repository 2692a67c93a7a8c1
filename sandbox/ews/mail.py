"""Messages: MIME in and out, and file attachments (CreateAttachment, GetAttachment).

A message created from MimeContent gets Subject, Body, From/Sender, recipients, Internet
message id and attachments from its MIME; one created from fields gets RFC 5322 MIME
generated on read, as Exchange converts.
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/mimecontent
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createattachment-operation
https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getattachment-operation
"""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import email.utils
import xml.etree.ElementTree as ET

from .calendar import CalendarMixin
from .core import Context
from .soap import EwsError, el, local, m, response, response_message, sub, t
from .store import Attachment, Item, Mailbox, recipients_of, subject_of

NOT_FOUND = EwsError("ErrorItemNotFound", "The specified object was not found in the store.")


class MailMixin(CalendarMixin):
    def _fields_from_mime(self, item: Item) -> None:
        msg = email.message_from_bytes(item.mime or b"", policy=email.policy.default)
        if "Subject" not in item.fields and msg["subject"]:
            item.fields["Subject"] = el(t("Subject"), str(msg["subject"]))
        if "Body" not in item.fields:
            part = msg.get_body(preferencelist=("html", "plain"))  # type: ignore[attr-defined]
            if part is not None:
                body_type = "HTML" if part.get_content_subtype() == "html" else "Text"
                item.fields["Body"] = el(t("Body"), part.get_content(), BodyType=body_type)
        headers = (
            ("from", "From"),
            ("sender", "Sender"),
            ("from", "Sender"),  # no Sender header: Exchange shows From as the sender
            ("to", "ToRecipients"),
            ("cc", "CcRecipients"),
        )
        for header, field in headers:
            if field in item.fields or not msg[header]:
                continue
            holder = el(t(field))
            for address in getattr(msg[header], "addresses", ()):
                box_el = sub(holder, t("Mailbox"))
                sub(box_el, t("Name"), address.display_name or address.addr_spec)
                sub(box_el, t("EmailAddress"), address.addr_spec)
                sub(box_el, t("RoutingType"), "SMTP")
            item.fields[field] = holder
        if "InternetMessageId" not in item.fields and msg["message-id"]:
            item.fields["InternetMessageId"] = el(t("InternetMessageId"), str(msg["message-id"]))
        for part in msg.iter_attachments():  # type: ignore[attr-defined]
            content = part.get_content()
            data = content if isinstance(content, bytes) else str(content).encode()
            item.attachments.append(
                Attachment(
                    self.ids("attachment"),
                    part.get_filename() or "attachment",
                    part.get_content_type(),
                    data,
                    is_inline=part.get_content_disposition() == "inline",
                    content_id=(part["content-id"] or "").strip("<>") or None,
                )
            )

    # -- attachments --------------------------------------------------------------------

    def op_CreateAttachment(self, ctx: Context, op: ET.Element) -> ET.Element:
        parent = op.find(m("ParentItemId"))
        msgs = []
        try:
            item = ctx.box.items.get(parent.get("Id", "") if parent is not None else "")
            if item is None:
                raise NOT_FOUND
        except EwsError as err:
            return response("CreateAttachment", [response_message("CreateAttachment", err)])
        for spec in op.find(m("Attachments")) or []:
            if local(spec.tag) != "FileAttachment":
                msgs.append(
                    response_message(
                        "CreateAttachment",
                        EwsError("ErrorInvalidRequest", "Only file attachments are emulated."),
                    )
                )
                continue
            att = Attachment(
                self.ids("attachment"),
                spec.findtext(t("Name")) or "attachment",
                spec.findtext(t("ContentType")) or "application/octet-stream",
                base64.b64decode(spec.findtext(t("Content")) or ""),
                is_inline=(spec.findtext(t("IsInline")) or "false") == "true",
                content_id=spec.findtext(t("ContentId")),
            )
            item.attachments.append(att)
            self._written(ctx.box, item, {"Attachments"})
            msg = response_message("CreateAttachment")
            file_att = sub(sub(msg, m("Attachments")), t("FileAttachment"))
            sub(
                file_att,
                t("AttachmentId"),
                Id=att.id,
                RootItemId=item.id,
                RootItemChangeKey=item.change_key,
            )
            msgs.append(msg)
        return response("CreateAttachment", msgs)

    def op_GetAttachment(self, ctx: Context, op: ET.Element) -> ET.Element:
        msgs = []
        for ref in op.find(m("AttachmentIds")) or []:
            found = next(
                (
                    (item, att)
                    for item in ctx.box.items.values()
                    for att in item.attachments
                    if att.id == ref.get("Id")
                ),
                None,
            )
            if found is None:
                msgs.append(
                    response_message(
                        "GetAttachment",
                        EwsError("ErrorItemNotFound", "The attachment was not found."),
                    )
                )
                continue
            _, att = found
            msg = response_message("GetAttachment")
            file_att = sub(sub(msg, m("Attachments")), t("FileAttachment"))
            sub(file_att, t("AttachmentId"), Id=att.id)
            sub(file_att, t("Name"), att.name)
            sub(file_att, t("ContentType"), att.content_type)
            if att.content_id:
                sub(file_att, t("ContentId"), att.content_id)
            sub(file_att, t("Size"), len(att.content))
            sub(file_att, t("IsInline"), att.is_inline)
            sub(file_att, t("Content"), base64.b64encode(att.content).decode())
            msgs.append(msg)
        return response("GetAttachment", msgs)

    def mime_for(self, box: Mailbox, item: Item) -> bytes:
        """RFC 5322 text for a message created without MIME (Exchange converts on read)."""
        msg = email.message.EmailMessage()
        msg["Subject"] = subject_of(item)
        sender = item.fields.get("From")
        addr = sender.findtext(f"{t('Mailbox')}/{t('EmailAddress')}") if sender is not None else ""
        msg["From"] = addr or box.smtp
        to = recipients_of(item)
        if to:
            msg["To"] = ", ".join(to)
        msg["Date"] = email.utils.format_datetime(item.created)
        msg["Message-ID"] = f"<{item.id[5:17]}@{box.smtp.split('@')[-1]}>"
        body = item.fields.get("Body")
        subtype = "html" if body is not None and body.get("BodyType") == "HTML" else "plain"
        msg.set_content((body.text or "") if body is not None else "", subtype=subtype)
        for att in item.attachments:
            maintype, _, subtype = att.content_type.partition("/")
            msg.add_attachment(
                att.content, maintype=maintype, subtype=subtype or "octet-stream", filename=att.name
            )
        return msg.as_bytes()
