"""The Gmail email feeds (SPEC §6): the "Salesforce Emails" label, and with auto-save INBOX + SENT.

A feed's cursor is a Gmail historyId. Per read:

- Incremental feeds: `history.list(startHistoryId, labelId, historyTypes=labelAdded,
  messageAdded)`. With auto-save the three first pages go in one Gmail batch, so an idle
  read is **one HTTP call** either way (1 quota unit per label). Kept from the records: a
  message added with the feed's label, or a message that was given the label. A 404 (the
  historyId is too old) makes that feed a full read, never an error.
- Full feeds (no cursor, or a stale one): `users.getProfile` first (its historyId becomes
  the cursor: anything that happens during the listing is seen again next time, nothing
  is missed), then `messages.list(labelIds=[label])`, pages of 500; INBOX and SENT are
  bounded with `q=newer_than:30d`.
- Details: `messages.get(format=full)` for the union of the ids, in Gmail batches of ≤50
  (⌈K/50⌉ calls), then `attachments.get` for the non-inline attachments that Gmail did not
  inline in the JSON, also batched (⌈A/50⌉). Messages gone meanwhile (404), drafts, spam,
  trash, and messages that no longer carry any label read this time are skipped; an
  INBOX/SENT message older than 30 days (an old mail moved back to the inbox) too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest

from syncengine.emails.feed import (
    AUTO_SAVE_WINDOW,
    INBOX_FEED,
    SALESFORCE_FEED,
    SENT_FEED,
    EmailFeed,
    merge_records,
    wanted_cursors,
)
from syncengine.emails.from_gmail import (
    attachments_to_fetch,
    b64url_decode,
    email_from_gmail,
)
from syncengine.emails.records import EmailRecord

from ..base import EMAILS, ContainerRef
from .client import (
    TRANSPORT_ERRORS,
    PartResult,
    failure_of,
    provider_error,
    translate,
)
from .common import GoogleTransport

HISTORY_TYPES = ["labelAdded", "messageAdded"]
HISTORY_PAGE = 500
LIST_PAGE = 500
SKIPPED_LABELS = {"DRAFT", "SPAM", "TRASH"}
SYSTEM_LABEL = {INBOX_FEED: "INBOX", SENT_FEED: "SENT"}

Factory = Callable[[], HttpRequest]


class GmailMail:
    def __init__(self, adapter: GoogleTransport, containers: Mapping[str, ContainerRef]) -> None:
        self.adapter = adapter
        self.gmail = adapter.services.gmail.users()
        self.label = adapter.container_id(EMAILS, containers)
        self._profile_history: str | None = None

    def label_of(self, feed: str) -> str:
        return self.label if feed == SALESFORCE_FEED else SYSTEM_LABEL[feed]

    def read(self, cursors: Mapping[str, str | None], auto_save: bool) -> EmailFeed:
        before = self.adapter.api_calls
        wanted = wanted_cursors(cursors, auto_save)
        ids: dict[str, None] = {}
        new_cursors: dict[str, str] = {}
        incremental = {feed: c for feed, c in wanted.items() if c}
        stale = self._history(incremental, ids, new_cursors)
        full = [feed for feed, c in wanted.items() if not c] + stale
        for feed in full:
            new_cursors[feed] = self._profile()
            for message_id in self._list(feed):
                ids[message_id] = None
        messages = self._messages(list(ids), set(map(self.label_of, wanted)))
        data = self._attachments(messages)
        records = [
            email_from_gmail(m, salesforce_label=self.label, attachment_data=data.get(m["id"], {}))
            for m in messages
        ]
        return EmailFeed(
            records=merge_records(records),
            cursors={feed: new_cursors[feed] for feed in wanted},
            api_calls=self.adapter.api_calls - before,
            full=[feed for feed in wanted if feed in full],
        )

    # -- history ---------------------------------------------------------------------------

    def _history(
        self, cursors: Mapping[str, str], ids: dict[str, None], out: dict[str, str]
    ) -> list[str]:
        """Follow each feed's history pages; returns the feeds whose historyId is stale."""
        history = self.gmail.history()
        tokens: dict[str, str | None] = dict.fromkeys(cursors)
        stale: list[str] = []
        while tokens:
            feeds = list(tokens)
            factories = [
                _bind(
                    history.list,
                    userId="me",
                    startHistoryId=cursors[feed],
                    labelId=self.label_of(feed),
                    historyTypes=HISTORY_TYPES,
                    maxResults=HISTORY_PAGE,
                    pageToken=tokens[feed],
                )
                for feed in feeds
            ]
            answers = self._run(factories)
            tokens = {}
            for feed, answer in zip(feeds, answers, strict=True):
                if answer.failure is not None:
                    if answer.failure.status == 404:
                        stale.append(feed)  # too old: list the label again
                        continue
                    raise provider_error(answer.failure, "Gmail history")
                page = answer.body or {}
                for message_id in _added(page, self.label_of(feed)):
                    ids[message_id] = None
                if page.get("nextPageToken"):
                    tokens[feed] = page["nextPageToken"]
                else:
                    out[feed] = str(page.get("historyId") or cursors[feed])
        return stale

    def _run(self, factories: list[Factory]) -> list[PartResult]:
        """One call alone, several in one Gmail batch; failures come back per call."""
        if len(factories) > 1:
            return self.adapter.batch("gmail", factories)
        self.adapter.api_calls += 1
        self.adapter.quota_units += 1
        try:
            return [PartResult(body=factories[0]().execute())]
        except HttpError as exc:
            return [PartResult(failure=failure_of(exc))]
        except TRANSPORT_ERRORS as exc:
            raise translate(exc, "Gmail") from exc

    # -- full reads ------------------------------------------------------------------------

    def _profile(self) -> str:
        if self._profile_history is None:
            profile = self.adapter.execute(self.gmail.getProfile(userId="me"))
            self._profile_history = str(profile["historyId"])
        return self._profile_history

    def _list(self, feed: str) -> list[str]:
        params: dict[str, Any] = {
            "userId": "me",
            "labelIds": [self.label_of(feed)],
            "maxResults": LIST_PAGE,
        }
        if feed != SALESFORCE_FEED:
            params["q"] = f"newer_than:{AUTO_SAVE_WINDOW.days}d"
        out, token = [], None
        while True:
            page = self.adapter.execute(self.gmail.messages().list(**params, pageToken=token))
            out += [m["id"] for m in page.get("messages") or ()]
            token = page.get("nextPageToken")
            if not token:
                return out

    # -- details ---------------------------------------------------------------------------

    def _messages(self, ids: list[str], labels: set[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        messages = self.gmail.messages()
        factories = [_bind(messages.get, userId="me", id=i, format="full") for i in ids]
        since = self.adapter.clock() - AUTO_SAVE_WINDOW
        out = []
        for message_id, part in zip(ids, self.adapter.batch("gmail", factories), strict=True):
            if part.failure is not None:
                if part.failure.status == 404:
                    continue  # deleted since the history record
                raise provider_error(part.failure, f"Gmail message {message_id}")
            message = part.body or {}
            have = set(message.get("labelIds") or ())
            if have & SKIPPED_LABELS or not have & labels:
                continue
            if self.label not in have and _received(message) < since:
                continue
            out.append(message)
        return out

    def _attachments(self, messages: list[dict[str, Any]]) -> dict[str, dict[str, bytes]]:
        wanted = [(m["id"], a) for m in messages for a in attachments_to_fetch(m)]
        if not wanted:
            return {}
        attachments = self.gmail.messages().attachments()
        factories = [_bind(attachments.get, userId="me", messageId=m, id=a) for m, a in wanted]
        out: dict[str, dict[str, bytes]] = {}
        for (message_id, attachment_id), part in zip(
            wanted, self.adapter.batch("gmail", factories), strict=True
        ):
            if part.failure is not None:
                if part.failure.status == 404:
                    continue  # the message went away meanwhile: the record lacks the bytes
                raise provider_error(part.failure, f"Gmail attachment of {message_id}")
            data = b64url_decode(str((part.body or {}).get("data") or ""))
            out.setdefault(message_id, {})[attachment_id] = data
        return out

    def fetch_emails(self, ids: list[str]) -> dict[str, EmailRecord | None]:
        """Messages by id with their attachments' bytes (a Gmail batch of gets, then one of
        attachments); None for a message gone, in spam or trash, or no longer labelled
        "Salesforce Emails", INBOX or SENT. Used to log a message that waited for a match."""
        labels = {self.label, *SYSTEM_LABEL.values()}
        messages = self._messages(list(ids), labels) if ids else []
        data = self._attachments(messages)
        out: dict[str, EmailRecord | None] = dict.fromkeys(ids)
        for m in messages:
            out[m["id"]] = email_from_gmail(
                m, salesforce_label=self.label, attachment_data=data.get(m["id"], {})
            )
        return out


def _added(page: Mapping[str, Any], label: str) -> list[str]:
    """Ids of messages added with `label`, or given it, in one history page."""
    out = []
    for record in page.get("history") or ():
        for item in record.get("messagesAdded") or ():
            message = item.get("message") or {}
            if label in (message.get("labelIds") or ()):
                out.append(str(message["id"]))
        for item in record.get("labelsAdded") or ():
            if label in (item.get("labelIds") or ()):
                out.append(str((item.get("message") or {})["id"]))
    return out


def _received(message: Mapping[str, Any]) -> datetime:
    try:
        return datetime.fromtimestamp(int(message.get("internalDate") or 0) / 1000, UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.fromtimestamp(0, UTC)


def _bind(method: Callable[..., HttpRequest], **kwargs: Any) -> Factory:
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return lambda: method(**kwargs)
