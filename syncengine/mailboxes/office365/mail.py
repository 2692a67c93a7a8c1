"""The Office 365 email feeds (SPEC §6): "Salesforce Emails", and with auto-save inbox + sent.

Each feed is a Graph message delta round on one mail folder, run by the adapter's own delta
loop (`Office365Adapter._read`), so the mail feeds share its `$batch` with the contact,
task and event feeds: `Office365Adapter.read_all_with_emails` puts every first page in
one `$batch` (≤20 inner GETs: 3 item feeds + 3 mail feeds), and an idle session stays at
one HTTP call, mail included. `read_email_changes` alone costs 1 call idle (a lone GET;
with auto-save, one `$batch` of 3).

- Salesforce folder: `mailFolders/{id}/messages/delta`. The folder id is the EMAILS
  container; a 404 finds or recreates the folder once, as the other feeds do.
- Inbox / Sent Items (auto-save): `mailFolders/inbox|sentitems/messages/delta` with
  `$filter=receivedDateTime ge <now - 30 d>` on the first request of a round (the only
  filter Graph takes on message delta; it sticks to the round's tokens). Messages older
  than that are also dropped here, whatever the server did with the filter.
- `$select` keeps pages small (the fields `from_graph` reads, the body included), and
  `Prefer: IdType="ImmutableId"` gives ids that survive moves between folders, so a
  message's mailbox id (and the key derived from it when Message-ID is missing) is stable.
- Attachments: one `messages/{id}/attachments` GET per message with `hasAttachments`, all in
  `$batch`es of 20 (⌈A/20⌉ calls for A such messages). Graph sets hasAttachments only for
  non-inline attachments, so a message whose only attachments are inline images costs
  nothing (and its images would be left out anyway).
- Direction: Sent Items is outgoing; elsewhere the author is compared with the mailbox
  owner's address. The owner comes from the caller (`owner=`, e.g. the connection's
  address), else from the cursor (it rides in a `#owner=` fragment, never sent to Graph),
  else from one `GET /me` the first time a message needs it: once per mailbox, not per
  session.
- Removed rows (`@removed`: moved out, deleted) are ignored: a logged email stays logged.
  Drafts are skipped. An expired cursor (410) re-reads that folder in full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import quote, unquote

from syncengine.emails.feed import (
    AUTO_SAVE_WINDOW,
    INBOX_FEED,
    SALESFORCE_FEED,
    SENT_FEED,
    EmailFeed,
    merge_records,
    wanted_cursors,
)
from syncengine.emails.from_graph import MESSAGE_FIELDS, email_from_graph, parse_datetime
from syncengine.emails.records import EmailRecord

from ..base import EMAILS
from .feeds import EMAIL, DeltaFeed, graph_stamp, quote_id
from .http import GraphHttp, GraphRequest, error_for


class MailTransport(Protocol):
    """What the email feeds use of Office365Adapter (which imports this module)."""

    http: GraphHttp
    clock: Callable[[], dt.datetime]

    def container_id(self, role: str) -> str: ...


IMMUTABLE_IDS = 'IdType="ImmutableId"'
MAIL_PAGE = 50  # messages carry bodies: smaller pages than the other feeds
WELL_KNOWN = {INBOX_FEED: "inbox", SENT_FEED: "sentitems"}


def _split(cursor: str | None) -> tuple[str, str]:
    """(delta link, owner address) from a stored cursor."""
    link, _, fragment = (cursor or "").partition("#")
    key, _, value = fragment.partition("=")
    return link, unquote(value) if key == "owner" else ""


class OutlookMail:
    """The mail feeds of one read; `open` builds them, the adapter runs them, `finish`
    turns their rows into records."""

    def __init__(self, adapter: MailTransport, owner: str | None = None) -> None:
        self.adapter = adapter
        self.owner = (owner or "").strip()

    def open(self, cursors: Mapping[str, str | None], auto_save: bool) -> dict[str, DeltaFeed]:
        feeds: dict[str, DeltaFeed] = {}
        for name, cursor in wanted_cursors(cursors, auto_save).items():
            link, owner = _split(cursor)
            self.owner = self.owner or owner
            feed = DeltaFeed(EMAIL, link, full=False) if link else self._initial(name)
            feed.prefer = f"odata.maxpagesize={MAIL_PAGE}, {IMMUTABLE_IDS}"
            feed.reopen = lambda name=name: self._initial(name)
            feed.refound = name != SALESFORCE_FEED  # well-known folders are never re-found
            feeds[name] = feed
        return feeds

    def _initial(self, name: str) -> DeltaFeed:
        select = "$select=" + ",".join(MESSAGE_FIELDS)
        if name == SALESFORCE_FEED:
            folder = quote_id(self.adapter.container_id(EMAILS))
            return DeltaFeed(EMAIL, f"/me/mailFolders/{folder}/messages/delta?{select}", full=True)
        since = quote(f"receivedDateTime ge {graph_stamp(self._since())}", safe="")
        url = f"/me/mailFolders/{WELL_KNOWN[name]}/messages/delta?{select}&$filter={since}"
        return DeltaFeed(EMAIL, url, full=True)

    def _since(self) -> dt.datetime:
        return self.adapter.clock().astimezone(dt.UTC).replace(microsecond=0) - AUTO_SAVE_WINDOW

    # -- rows → records --------------------------------------------------------------------

    def finish(self, feeds: Mapping[str, DeltaFeed]) -> EmailFeed:
        since = self._since()
        rows: list[tuple[str, dict[str, Any]]] = []
        for name, feed in feeds.items():
            for row in feed.changes().items:
                if row.get("isDraft"):
                    continue
                if name != SALESFORCE_FEED:
                    received = parse_datetime(row.get("receivedDateTime"))
                    if received is not None and received < since:
                        continue
                rows.append((name, row))
        if not self.owner and any(name != SENT_FEED for name, _ in rows):
            self.owner = self._learn_owner()
        attachments = self.attachments([row for _, row in rows if row.get("hasAttachments")])
        records = [
            email_from_graph(
                row,
                owner=self.owner,
                in_salesforce_folder=name == SALESFORCE_FEED,
                sent_folder=name == SENT_FEED,
                attachments=attachments.get(str(row.get("id")), ()),
            )
            for name, row in rows
        ]
        fragment = f"#owner={quote(self.owner, safe='@')}" if self.owner else ""
        return EmailFeed(
            records=merge_records(records),
            cursors={name: feed.cursor + fragment for name, feed in feeds.items()},
            full=[name for name, feed in feeds.items() if feed.full],
        )

    def _learn_owner(self) -> str:
        me = self.adapter.http.call(
            GraphRequest("GET", "/me?$select=mail,userPrincipalName"), "reading the mailbox owner"
        )
        return str((me or {}).get("mail") or (me or {}).get("userPrincipalName") or "")

    def attachments(self, messages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        ids = list(dict.fromkeys(str(m.get("id")) for m in messages))
        if not ids:
            return {}
        headers = {"Prefer": IMMUTABLE_IDS}
        answers = self.adapter.http.batch(
            [
                GraphRequest("GET", f"/me/messages/{quote_id(i)}/attachments", None, headers)
                for i in ids
            ]
        )
        out: dict[str, list[dict[str, Any]]] = {}
        for message_id, answer in zip(ids, answers, strict=True):
            if answer.status == 404:
                continue  # deleted since the delta page: it will not be logged from here
            if not answer.ok:
                raise error_for(answer, f"reading the attachments of message {message_id}")
            found = list((answer.body or {}).get("value") or [])
            link = (answer.body or {}).get("@odata.nextLink")
            while link:
                page = self.adapter.http.call(GraphRequest("GET", link, None, headers))
                found += page.get("value") or []
                link = page.get("@odata.nextLink")
            out[message_id] = found
        return out

    def fetch_emails(self, ids: list[str]) -> dict[str, EmailRecord | None]:
        """Messages by (immutable) id, with their attachments' contents, as records of the
        Salesforce folder; None for a message gone. One `$batch` of GETs (≤20 a call), then
        the attachments batch for those that have some. Used to log a message that waited
        for a match (the stored record has no attachment contents)."""
        if not ids:
            return {}
        select = "$select=" + ",".join(MESSAGE_FIELDS)
        headers = {"Prefer": IMMUTABLE_IDS}
        answers = self.adapter.http.batch(
            [
                GraphRequest("GET", f"/me/messages/{quote_id(i)}?{select}", None, headers)
                for i in ids
            ]
        )
        out: dict[str, EmailRecord | None] = {}
        rows: dict[str, dict[str, Any]] = {}
        for message_id, answer in zip(ids, answers, strict=True):
            if answer.status == 404:
                out[message_id] = None
            elif not answer.ok:
                raise error_for(answer, f"reading message {message_id}")
            else:
                rows[message_id] = dict(answer.body or {})
        attachments = self.attachments([row for row in rows.values() if row.get("hasAttachments")])
        for message_id, row in rows.items():
            out[message_id] = email_from_graph(
                row,
                owner=self.owner,
                in_salesforce_folder=True,
                attachments=attachments.get(str(row.get("id")), ()),
            )
        return out
