"""Email logging inside the sync session (SPEC §6): mailbox → Salesforce only.

`EmailStep` is made by `session.SessionRun` before the reads and run after the three item types:

    emails = EmailStep(user, session, now, stack, cursors, counters)
    reader = Reader(stack.sf, emails.reading(stack.mailbox), ...)   # feeds ride the read
    ... contacts, tasks, events ...
    emails.run()

Reads. The email feeds (the "Salesforce Emails" folder / label; inbox and sent with
auto-save) ride the item read: `reading()` wraps the mailbox adapter so the Reader's
`read_all_changes` becomes `read_all_with_emails`. On Office 365 that is the same `$batch`
(an idle session: still one Graph call); on Gmail one `history.list` more. Cursors
(`<kind>:mail:<feed>`) are stored only after the messages were handled, so a crash re-reads
them and the Salesforce check makes the rerun log only what is missing.

Plan. Records whose LoggedEmail row says "logged" are dropped before any Salesforce call
(a message moved out and back in costs nothing). With records left: the org's Enhanced
Email setting (one describe, cached a day in the SyncCursor `salesforce:enhanced_email`),
`find_people` for the participants that are neither the user nor blocked (one composite
call), then `logging_plan.plan`. `already_logged` is not asked up front: `log()` checks the
Message-IDs it is about to write (one composite call), which is where a duplicate would
happen, and a plan of retries only costs nothing more.

Pending messages (no match yet, in the folder) keep their record in the LoggedEmail row
(bodies and attachment names, not attachment bytes) and are re-planned every session for
30 days without reading the mailbox. One that becomes loggable and has attachments is
fetched again by id (a message gone since then is logged without its files, with a note).

Idle cost: no new message and nothing pending → zero Salesforce calls; Office 365 zero
extra Graph calls, Gmail one.

Outcome per message, in LoggedEmail and the session counters (`email` / `up`):
logged → created; already in Salesforce, blocked/internal only, given up → skipped;
Salesforce refused the write → errors (an item_error log entry; the message stays pending
and is tried again next session). Notes (truncated bodies, files left out) are `problem`
log entries. No per-message failure fails the session; call-level failures (outage, auth)
end it as for the other types, with the email cursors left where they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from django.db import transaction

from accounts.models import Connection, User
from syncsettings.models import SyncSettings
from syncsettings.services import blocklist_for, own_addresses

from .emails.blocklist import Blocklist, normalize_address
from .emails.feed import EmailFeed, feeds_for, wanted_cursors
from .emails.logging_plan import (
    RETRY_FOR,
    Action,
    CreateLead,
    GiveUp,
    LogEmail,
    Retry,
    Skip,
    message_key,
    plan,
)
from .emails.records import Address, Attachment, EmailRecord
from .mailboxes.base import ContainerRef, MailboxAdapter, MailboxChanges, MailboxKind
from .models import LoggedEmail, SyncCursor, SyncLogEntry, SyncSession
from .salesforce.adapter import SalesforceAdapter
from .salesforce.email import LogResult, SalesforceEmailAdapter

EMAIL = "email"
UP = "up"
ENHANCED_CURSOR = "salesforce:enhanced_email"
ALL_FEEDS = feeds_for(True)


class SessionStack(Protocol):
    """What the email step uses of session.Stack (session.py imports this module)."""

    @property
    def sf(self) -> SalesforceAdapter: ...
    @property
    def mailbox(self) -> MailboxAdapter: ...
    @property
    def kind(self) -> MailboxKind: ...
    @property
    def containers(self) -> Mapping[str, ContainerRef]: ...
    @property
    def settings(self) -> SyncSettings: ...
    @property
    def mailbox_connection(self) -> Connection: ...
    @property
    def me(self) -> str: ...


def mail_cursor(kind: str, feed: str) -> str:
    """The SyncCursor name of one email feed of one mailbox kind."""
    return f"{kind}:mail:{feed}"


class EmailStep:
    def __init__(
        self,
        user: User,
        session: SyncSession,
        now: dt.datetime,
        stack: SessionStack,
        cursors: Mapping[str, str],
        counters: Any,
    ) -> None:
        self.user, self.session, self.now, self.stack = user, session, now, stack
        self.counters = counters
        self.kind: str = stack.kind.name  # names the email cursors
        self.auto_save = bool(stack.settings.email_auto_save)
        self.create_leads = bool(getattr(stack.settings, "create_leads_for_unknown", False))
        self.owner = stack.mailbox_connection.external_address or ""
        self.cursors = dict(cursors)
        stored = {f: self.cursors.get(mail_cursor(self.kind, f)) for f in ALL_FEEDS}
        self.email_cursors = wanted_cursors(stored, self.auto_save)
        self.feed: EmailFeed | None = None
        self.changed = False
        self.item_errors = 0
        self._rows: dict[str, dict[str, Any]] = {}  # message key -> LoggedEmail values
        # Set by a caller that stores the changed cursors itself, in its own statement.
        self.deferred_cursors: dict[str, str] | None = None

    def read_with_items(
        self, cursors: Mapping[str, str | None], containers: Mapping[str, ContainerRef]
    ) -> dict[str, MailboxChanges]:
        """The item feeds (for the Reader) and the email feeds, in one read."""
        changes, self.feed = self.stack.mailbox.read_all_with_emails(
            cursors, self.email_cursors, containers, auto_save=self.auto_save, owner=self.owner
        )
        return changes

    # -- the step ------------------------------------------------------------------------

    def run(self) -> None:
        self.counters.add(EMAIL, UP, "created", 0)
        feed = self.feed
        if feed is None:  # the Reader did not read through us
            feed = self.stack.mailbox.read_email_changes(
                self.email_cursors,
                self.stack.containers,
                auto_save=self.auto_save,
                owner=self.owner,
            )
        self._handle(feed.records)
        write_rows(self.user, self._rows)
        self._store_cursors(feed)

    def _handle(self, feed_records: list[EmailRecord]) -> None:
        keys = {message_key(r.message_id) for r in feed_records} - {""}
        known = {
            row.message_key: row
            for row in LoggedEmail.objects.filter(user=self.user).filter(message_key__in=keys)
        }
        pending = {
            row.message_key: row
            for row in LoggedEmail.objects.filter(
                user=self.user, status=LoggedEmail.Status.PENDING
            ).exclude(message_key__in=keys)
        }
        known.update(pending)
        logged = LoggedEmail.Status.LOGGED
        records = [
            r
            for r in feed_records
            if getattr(known.get(message_key(r.message_id)), "status", None) != logged
        ]
        stored = {key: record_from_json(row.record) for key, row in pending.items() if row.record}
        records += stored.values()
        if not records:
            return

        stack = self.stack
        sfe = SalesforceEmailAdapter(
            stack.sf.call,
            stack.me,
            stack.sf.api_version,
            clock=stack.sf.clock,
            base=stack.sf,
            enhanced_email=self._cached_enhanced(),
        )
        enhanced = sfe.enhanced_email_enabled()
        self._remember_enhanced(enhanced)
        blocklist = blocklist_for(self.user)
        if blocklist.invalid:
            self._note(
                SyncLogEntry.Kind.PROBLEM,
                "Blocklist entries ignored, they are neither an address nor a domain: "
                + ", ".join(blocklist.invalid),
            )
        own = [*own_addresses(self.user), self.owner]
        addresses = linkable_addresses(records, own, blocklist)
        matches = sfe.find_people(addresses) if addresses else {}
        actions = plan(
            records,
            user_addresses=own,
            blocklist=blocklist,
            logged=(),
            matches=matches,
            now=self.now,
            first_seen={key: row.first_seen for key, row in known.items()},
            create_leads_for_unknown=self.create_leads,
            enhanced_email=enhanced,
        )
        actions = self._refetch(actions, set(stored))
        results = sfe.log(actions)
        self._record(actions, results, known)

    # -- pending messages with attachments -------------------------------------------------

    def _refetch(self, actions: list[Action], stored_keys: set[str]) -> list[Action]:
        """A stored record has no attachment bytes: fetch the message again to log it."""
        wanted = {
            a.record.mailbox_id: a
            for a in actions
            if isinstance(a, LogEmail)
            and a.key in stored_keys
            and any(not att.inline for att in a.record.attachments)
        }
        if not wanted:
            return actions
        ids = sorted(wanted)
        fresh = self.stack.mailbox.fetch_emails(ids, self.stack.containers, owner=self.owner)
        out: list[Action] = []
        for action in actions:
            if isinstance(action, LogEmail) and action.record.mailbox_id in wanted:
                found = fresh.get(action.record.mailbox_id)
                if found is not None:
                    action = replace(
                        action, record=replace(action.record, attachments=found.attachments)
                    )
            out.append(action)
        return out

    # -- outcomes ----------------------------------------------------------------------------

    def _record(
        self, actions: list[Action], results: list[LogResult], known: Mapping[str, LoggedEmail]
    ) -> None:
        by_key = {r.key: r for r in results if r.kind != "lead"}
        if any(r.kind == "lead" and r.ok for r in results):
            self.changed = True
        for action in actions:
            if isinstance(action, CreateLead):
                continue
            record = action.record
            key = message_key(record.message_id)
            row = known.get(key)
            first_seen = row.first_seen if row else self.now
            if isinstance(action, LogEmail):
                self._logged(action, by_key.get(key), first_seen)
            elif isinstance(action, Retry):
                self._row(record, LoggedEmail.Status.PENDING, first_seen, error=action.reason)
            elif isinstance(action, GiveUp):
                self._row(record, LoggedEmail.Status.GIVEN_UP, first_seen, error=action.reason)
                self._count("skipped")
                self._note(
                    SyncLogEntry.Kind.PROBLEM,
                    f"Email {record.subject!r} not logged: {action.reason}.",
                    mailbox_id=record.mailbox_id,
                )
            elif isinstance(action, Skip) and record.in_salesforce_folder:
                if action.reason.startswith("another copy"):
                    continue
                self._row(record, LoggedEmail.Status.SKIPPED, first_seen, error=action.reason)
                self._count("skipped")
                # ledger: which blocklist entry kept it out (syncengine.ledger)
                from .ledger import record_email_skip

                record_email_skip(self.session, record, action.reason, self.owner)

    def _logged(self, action: LogEmail, result: LogResult | None, first_seen: dt.datetime) -> None:
        record = action.record
        if result is not None and result.ok:
            self._row(
                record,
                LoggedEmail.Status.LOGGED,
                first_seen,
                salesforce_id=result.id or "",
                form=action.form,
            )
            if result.skipped:
                self._count("skipped")
                return
            self.changed = True
            self._count("created")
            if result.notes:
                self._note(
                    SyncLogEntry.Kind.PROBLEM,
                    f"Email {record.subject!r} logged, with notes: " + "; ".join(result.notes),
                    sf_id=result.id or "",
                    mailbox_id=record.mailbox_id,
                    payload={"notes": result.notes},
                )
            return
        error = (result.error if result else None) or "not logged"
        self.item_errors += 1
        self._count("errors")
        self._note(
            SyncLogEntry.Kind.ITEM_ERROR,
            f"Salesforce refused to log the email {record.subject!r}: {error}",
            mailbox_id=record.mailbox_id,
            payload={"message": error, "message_id": record.message_id},
        )
        expired = self.now - first_seen >= RETRY_FOR
        status = LoggedEmail.Status.GIVEN_UP if expired else LoggedEmail.Status.PENDING
        self._row(record, status, first_seen, error=error, form=action.form)

    def _row(
        self, record: EmailRecord, status: str, first_seen: dt.datetime, **values: Any
    ) -> None:
        self._rows[message_key(record.message_id)] = {
            "status": status,
            "mailbox_id": record.mailbox_id[:512],
            "subject": (record.subject or "")[:255],
            "first_seen": first_seen,
            "last_tried": self.now,
            "error": values.pop("error", ""),
            "record": record_to_json(record) if status == LoggedEmail.Status.PENDING else {},
            **values,
        }

    def _count(self, key: str) -> None:
        self.counters.add(EMAIL, UP, key)

    def _note(self, kind: str, message: str, **values: Any) -> None:
        SyncLogEntry.objects.create(
            session=self.session,
            user=self.user,
            item_type=EMAIL,
            kind=kind,
            side="salesforce",
            message=message[:2000],
            **values,
        )

    # -- cursors -------------------------------------------------------------------------------

    def _cached_enhanced(self) -> bool | None:
        stored = json.loads(self.cursors.get(ENHANCED_CURSOR) or "{}")
        if stored.get("day") == self._today():
            return bool(stored.get("on"))
        return None

    def _remember_enhanced(self, on: bool) -> None:
        if self._cached_enhanced() is None:
            value = json.dumps({"day": self._today(), "on": on})
            SyncCursor.objects.update_or_create(
                user=self.user, feed=ENHANCED_CURSOR, defaults={"value": value}
            )
            self.cursors[ENHANCED_CURSOR] = value

    def _today(self) -> str:
        return self.now.astimezone(dt.UTC).date().isoformat()

    def _store_cursors(self, feed: EmailFeed) -> None:
        """Upsert the feeds' cursors that changed, drop those of feeds now off: an idle
        session costs one query here (or none), not one per feed."""
        changed = {
            mail_cursor(self.kind, name): feed.cursors[name]
            for name in ALL_FEEDS
            if feed.cursors.get(name)
            and feed.cursors[name] != self.cursors.get(mail_cursor(self.kind, name))
        }
        dropped = [  # auto-save off: start afresh when back on
            mail_cursor(self.kind, name)
            for name in ALL_FEEDS
            if name not in feed.cursors and mail_cursor(self.kind, name) in self.cursors
        ]
        if self.deferred_cursors is not None:  # the caller stores them with its own
            self.deferred_cursors.update(changed)
            self.cursors.update(changed)
            changed = {}
        # One statement needs no transaction of its own (an idle session: no savepoints).
        with transaction.atomic() if changed and dropped else contextlib.nullcontext():
            if changed:
                SyncCursor.objects.bulk_create(
                    [SyncCursor(user=self.user, feed=k, value=v) for k, v in changed.items()],
                    update_conflicts=True,
                    unique_fields=["user", "feed"],
                    update_fields=["value", "updated_at"],
                )
            if dropped:
                SyncCursor.objects.filter(user=self.user, feed__in=dropped).delete()
        self.cursors.update(changed)
        for name in dropped:
            self.cursors.pop(name, None)


def write_rows(user: User, rows: Mapping[str, Mapping[str, Any]]) -> None:
    """The LoggedEmail rows of one session, in one transaction."""
    if not rows:
        return
    with transaction.atomic():
        for key, values in rows.items():
            existing = LoggedEmail.objects.filter(user=user, message_key=key).first()
            if existing is None:
                LoggedEmail.objects.create(user=user, message_key=key, attempts=1, **values)
                continue
            values = dict(values)
            values.pop("first_seen", None)  # the first sighting stays
            for name, value in values.items():
                setattr(existing, name, value)
            existing.attempts += 1
            existing.save()


def linkable_addresses(
    records: Iterable[EmailRecord], own: Iterable[str], blocklist: Blocklist
) -> list[str]:
    """Participants that may cause a link: neither the user's nor blocked."""
    mine = {a for a in map(normalize_address, own) if a}
    out: dict[str, None] = {}
    for record in records:
        for person in record.participants:
            key = normalize_address(person.address)
            if key and key not in mine and not blocklist.is_blocked(person.address):
                out[person.key] = None
    return list(out)


# -- a pending message, kept in its row -------------------------------------------------------


def _address(a: Address | None) -> list[str] | None:
    return None if a is None else [a.address, a.name]


def record_to_json(r: EmailRecord) -> dict[str, Any]:
    return {
        "mailbox_id": r.mailbox_id,
        "message_id": r.message_id,
        "subject": r.subject,
        "sender": _address(r.sender),
        "to": [_address(a) for a in r.to],
        "cc": [_address(a) for a in r.cc],
        "bcc": [_address(a) for a in r.bcc],
        "sent_at": r.sent_at.isoformat() if r.sent_at else None,
        "incoming": r.incoming,
        "text_body": r.text_body,
        "html_body": r.html_body,
        "attachments": [
            {
                "name": a.name,
                "content_type": a.content_type,
                "size": a.size,
                "inline": a.inline,
                "attachment_id": a.attachment_id,
            }
            for a in r.attachments
        ],
        "in_salesforce_folder": r.in_salesforce_folder,
    }


def record_from_json(data: Mapping[str, Any]) -> EmailRecord:
    def people(key: str) -> tuple[Address, ...]:
        return tuple(Address(*p) for p in data.get(key) or ())

    sender = data.get("sender")
    sent_at = data.get("sent_at")
    return EmailRecord(
        mailbox_id=data.get("mailbox_id") or "",
        message_id=data.get("message_id") or "",
        subject=data.get("subject") or "",
        sender=Address(*sender) if sender else None,
        to=people("to"),
        cc=people("cc"),
        bcc=people("bcc"),
        sent_at=dt.datetime.fromisoformat(sent_at) if sent_at else None,
        incoming=bool(data.get("incoming", True)),
        text_body=data.get("text_body") or "",
        html_body=data.get("html_body") or "",
        attachments=tuple(Attachment(**a) for a in data.get("attachments") or ()),
        in_salesforce_folder=bool(data.get("in_salesforce_folder")),
    )
