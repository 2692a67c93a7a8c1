"""The Gmail mailbox adapter: People, Calendar and Tasks through google-api-python-client.

Returns and accepts the JSON `syncengine.mappers.google` reads and writes. Decisions:

- **Containers.** Contacts live in the contact group "Salesforce Contacts", tasks in the
  task list "Salesforce Tasks", emails get the label "Salesforce Emails"; events live in
  the primary calendar (`ContainerRef(external_id="primary")`). Each is found by name or
  created (a 409 from a concurrent create means "find it again"). Ids the engine already
  stores (`known`) are trusted without a call, so an idle session spends nothing here;
  if a container vanished, the next read or write fails with a 404 `ProviderError` and
  the engine calls `ensure_containers({})` to find or create it again.
- **Contacts feed.** `connections.list` sees every contact of the account. Items are the
  contacts in the Salesforce group plus the ones carrying Relay's clientData marker
  (`relaySalesforceId`) outside it: the JSON of a contact the user moved out of the group
  still arrives, with `memberships` lacking the group (`in_salesforce_group` says so), and
  the engine treats it as removed from the mailbox side (SPEC §4). In an incremental
  read, a changed contact that is neither in the group nor marked (the user's private
  contacts, or an unmarked contact moved out) is reported in `removed_ids`: unknown ids
  are no-ops for the engine, a linked one has left the feed. Deleted persons
  (`metadata.deleted`) are `removed_ids`. Any 400 about the sync token (expired after 7
  days, or parameters that changed since it was issued) or a 410 is `CursorExpired`.
- **Events feed.** `singleEvents=True`: a series arrives as its instances
  (`<series>_<stamp>` ids). The full read asks for the window [now - 14 d - 1 d,
  now + 60 d + 1 d] (one spare day each side so all-day events in a zone far from UTC
  are not cut; the planner filters exactly). Incremental rounds use only the sync token,
  which Google refuses to combine with timeMin/timeMax, so they also report changes
  outside the window: filtering is the planner's. A cancelled entry is a removed id; a
  cancelled series master means its instances (`<id>_…`) are gone too.
- **Tasks feed.** Google Tasks has no sync token. The cursor is an RFC 3339 instant taken
  *before* the read, minus `TASKS_OVERLAP`: a write committed while we read can carry an
  `updated` a little older than our read's start, and our clock may trail Google's. Tasks
  changed inside the overlap are reported again; the engine sees their etag and hash
  unchanged and does nothing.
- **Contact updates** need the person's current etag. The engine passes the last known
  one (`person["etag"]`, from the item it read): if the user edited the contact since,
  Google refuses that contact and it comes back `ok=False` (the next read brings the
  edit and the engine decides). Without an etag the adapter fetches the current ones
  first (`people:batchGet`, one call per 200): last writer wins.
- **Writes.** People uses its own batch methods (create/update ≤200, delete ≤500).
  A batch People call is all-or-nothing, so a refused chunk is split in halves until the
  offending contacts are isolated (log₂ extra calls per bad item, none when all is well).
  Events and tasks go through the multipart batch endpoint in chunks of at most
  `BATCH_CHUNK` (1,000, the documented batch limit). Google meters each inner call
  against the per-user rate limit whatever the chunk size, so smaller chunks would only
  cost more HTTP calls; throttled parts (per-part 429/403-rate-limit/5xx) are retried in a
  new batch after a backoff (`sleep` is injectable) at most `max_part_retries` times;
  what still fails comes back as `WriteResult(ok=False, status=…)`. A 404/410 on delete
  is ok (already gone). A call that fails outright raises when nothing was written yet in
  this call; otherwise the results so far are returned and the rest are `ok=False` with
  that status, so no completed write is ever lost to an exception.
- **Emails.** `read_email_changes` reads the "Salesforce Emails" label (and INBOX/SENT
  with auto-save) through Gmail history: see `gmail_mail`.
- **Reads at once.** The item feeds (People, Calendar, Tasks) and the email feed are
  separate APIs that a batch cannot mix, and none of them depends on another, so
  `read_all_with_emails` runs them on a few threads (one call per API at a time, within
  every documented limit): an idle session waits for about one call, not four in a row.
  httplib2 keeps its connections per thread (`PerThreadHttp`). A token refresh stores
  the token on the Connection, so it is never done on a helper thread: a stale token is
  refreshed before the reads go (`fresh_token`), and a feed that met a 401 anyway
  (`RefreshOffThread`) is read again on the session's thread.
- **Counting.** `api_calls` counts every HTTP call the adapter issues (a batch is one);
  `quota_units` counts what Google meters (each inner call of a batch). Token refreshes
  done by AuthorizedHttp on a 401 are not counted here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from googleapiclient.http import HttpRequest

from accounts.providers.errors import ProviderError
from accounts.providers.google_client import RefreshOffThread, refresh_elsewhere
from syncengine.emails.feed import EmailFeed
from syncengine.emails.records import EmailRecord

from ..at_once import at_once, shared_pool
from ..base import (
    CONTACTS,
    CONTAINER_NAMES,
    EMAILS,
    EVENTS,
    TASKS,
    ContainerRef,
    CursorExpired,
    FeedsAtOnce,
    MailboxChanges,
    WriteResult,
)
from .client import (
    TRANSPORT_ERRORS,
    GoogleFailure,
    GoogleServices,
    PartResult,
    build_google_services,
    send_batch,
    translate,
)
from .common import PEOPLE_WRITE_CHUNK, chunks, in_salesforce_group
from .items import CalendarEvents, GoogleTasks
from .mail import GmailMail
from .people import People

__all__ = ["GmailAdapter", "GoogleServices", "build_google_services", "in_salesforce_group"]

BATCH_CHUNK = 1000
# Gmail takes at most 100 calls a batch and advises 50 (larger ones get rate-limited).
GMAIL_BATCH_CHUNK = 50
FEEDS = (CONTACTS, EVENTS, TASKS)
READS_AT_ONCE = 4  # the three item feeds and the email feed: one call per API at a time


class GmailAdapter(FeedsAtOnce):
    def __init__(
        self,
        services: GoogleServices,
        time_zone: str = "UTC",
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_part_retries: int = 3,
        backoff: float = 1.0,
        containers: Mapping[str, ContainerRef] | None = None,
        fresh_token: Callable[[], None] | None = None,
    ) -> None:
        self.services = services
        # Refreshes a stale access token on the calling thread (before reads go at once).
        self.fresh_token = fresh_token
        self.time_zone = time_zone
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.max_part_retries = max_part_retries
        self.backoff = backoff
        self.containers: dict[str, ContainerRef] = dict(containers or {})
        self.api_calls = 0
        self.quota_units = 0
        self._counting = threading.Lock()  # the feeds' reads count from several threads
        # One small class per item type (people.py, items.py); the adapter keeps the
        # plumbing they share: execute, batch, containers.
        self.resources: dict[str, People | CalendarEvents | GoogleTasks] = {
            CONTACTS: People(self),
            EVENTS: CalendarEvents(self),
            TASKS: GoogleTasks(self),
        }

    # --- plumbing --------------------------------------------------------------------

    def _count(self, units: int) -> None:
        with self._counting:
            self.api_calls += 1
            self.quota_units += units

    def execute(self, request: HttpRequest, expired: Callable[[Any], bool] | None = None) -> Any:
        self._count(1)
        try:
            return request.execute()
        except TRANSPORT_ERRORS as exc:
            if expired is not None and expired(exc):
                raise CursorExpired(f"Google refused the cursor: {translate(exc)}") from exc
            raise translate(exc) from exc

    def batch(self, api: str, factories: Sequence[Callable[[], HttpRequest]]) -> list[PartResult]:
        """Run the calls in multipart batches of ≤ BATCH_CHUNK, retrying throttled parts.

        Raises only if the first batch fails outright; a later outright failure marks the
        calls not yet answered with that failure (see the module notes).
        """
        results: list[PartResult | None] = [None] * len(factories)
        pending = list(range(len(factories)))
        attempt = 0
        while pending:
            retry: list[int] = []
            answered: set[int] = set()
            delay = 0.0
            size = GMAIL_BATCH_CHUNK if api == "gmail" else BATCH_CHUNK
            for chunk in chunks(pending, size):
                try:
                    answers = self._send(api, [factories[i]() for i in chunk])
                except ProviderError as err:
                    if not any(r is not None and r.ok for r in results):
                        raise
                    failure = GoogleFailure((err.status or 0), str(err))
                    for i in pending:
                        if i not in answered:
                            results[i] = PartResult(failure=failure)
                    return [r or PartResult(failure=failure) for r in results]
                for pos, i in enumerate(chunk):
                    answer = answers.get(pos) or PartResult(
                        failure=GoogleFailure(0, "Google sent no answer for this call")
                    )
                    results[i] = answer
                    answered.add(i)
                    if answer.failure and answer.failure.temporary:
                        retry.append(i)
                        delay = max(delay, answer.failure.retry_after or 0.0)
            if not retry or attempt >= self.max_part_retries:
                break
            self.sleep(max(delay, self.backoff * 2**attempt))
            attempt += 1
            pending = retry
        return [r or PartResult(failure=GoogleFailure(0, "not sent")) for r in results]

    def _send(self, api: str, requests: list[HttpRequest]) -> dict[int, PartResult]:
        self._count(len(requests))
        try:
            return send_batch(self.services.batch_uris[api], requests)
        except TRANSPORT_ERRORS as exc:
            raise translate(exc) from exc

    def container_id(self, role: str, containers: Mapping[str, ContainerRef] | None) -> str:
        if containers and role in containers:
            self.containers[role] = containers[role]
        ref = self.containers.get(role)
        if ref is None:
            raise ProviderError(f"The Gmail {role} container is not known: ensure it first")
        return ref.external_id

    # --- containers ------------------------------------------------------------------

    def ensure_containers(self, known: Mapping[str, str]) -> dict[str, ContainerRef]:
        refs: dict[str, ContainerRef] = {
            EVENTS: ContainerRef(EVENTS, "primary", CONTAINER_NAMES[EVENTS]),
        }
        finders = {
            CONTACTS: (self._find_group, self._create_group),
            TASKS: (self._find_tasklist, self._create_tasklist),
            EMAILS: (self._find_label, self._create_label),
        }
        for role, (find, create) in finders.items():
            name = CONTAINER_NAMES[role]
            if known.get(role):
                refs[role] = ContainerRef(role, known[role], name)
                continue
            found = find(name)
            if found:
                refs[role] = ContainerRef(role, found, name)
                continue
            try:
                refs[role] = ContainerRef(role, create(name), name, created=True)
            except ProviderError as err:
                if (err.status or 0) != 409:
                    raise
                found = find(name)  # created meanwhile by a concurrent session
                if not found:
                    raise
                refs[role] = ContainerRef(role, found, name)
        self.containers.update(refs)
        return refs

    def _find_group(self, name: str) -> str | None:
        groups = self.services.people.contactGroups()
        token = None
        while True:
            page = self.execute(
                groups.list(pageSize=1000, groupFields="name,groupType", pageToken=token)
            )
            for g in page.get("contactGroups") or ():
                if g.get("groupType") == "USER_CONTACT_GROUP" and name in (
                    g.get("name"),
                    g.get("formattedName"),
                ):
                    return str(g["resourceName"])
            token = page.get("nextPageToken")
            if not token:
                return None

    def _create_group(self, name: str) -> str:
        body = {"contactGroup": {"name": name}}
        created = self.execute(self.services.people.contactGroups().create(body=body))
        return str(created["resourceName"])

    def _find_tasklist(self, name: str) -> str | None:
        lists = self.services.tasks.tasklists()
        token = None
        while True:
            page = self.execute(lists.list(maxResults=1000, pageToken=token))
            for tl in page.get("items") or ():
                if tl.get("title") == name:
                    return str(tl["id"])
            token = page.get("nextPageToken")
            if not token:
                return None

    def _create_tasklist(self, name: str) -> str:
        created = self.execute(self.services.tasks.tasklists().insert(body={"title": name}))
        return str(created["id"])

    def _find_label(self, name: str) -> str | None:
        page = self.execute(self.services.gmail.users().labels().list(userId="me"))
        return next(
            (str(lab["id"]) for lab in page.get("labels") or () if lab["name"] == name), None
        )

    def _create_label(self, name: str) -> str:
        body = {"name": name, "labelListVisibility": "labelShow", "messageListVisibility": "show"}
        created = self.execute(self.services.gmail.users().labels().create(userId="me", body=body))
        return str(created["id"])

    # --- reads -----------------------------------------------------------------------

    def read_changes(
        self, item_type: str, cursor: str | None, containers: Mapping[str, ContainerRef]
    ) -> MailboxChanges:
        return self._resource(item_type, "read").read(cursor, containers)

    def _resource(self, item_type: str, verb: str) -> People | CalendarEvents | GoogleTasks:
        try:
            return self.resources[item_type]
        except KeyError:
            raise NotImplementedError(f"Gmail adapter cannot {verb} {item_type!r}") from None

    def _email_reader(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        auto_save: bool,
        owner: str | None,  # not needed: Gmail's SENT label tells the direction
    ) -> Callable[[], EmailFeed]:
        mail = GmailMail(self, containers)
        return lambda: mail.read(cursors, auto_save)

    def _read_feeds(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        more: Sequence[Callable[[], Any]],
    ) -> tuple[dict[str, MailboxChanges], list[Any]]:
        """People, Calendar and Tasks (one HTTP call each when nothing changed: a batch
        cannot mix APIs) and `more`, on helper threads (see "Reads at once"); the results
        of `more` come second. A read that needed a token refresh is read again here."""

        def feed_reader(feed: str) -> Callable[[], Any]:
            return lambda: self._read_feed(feed, cursors.get(feed), containers)

        jobs = [*(feed_reader(feed) for feed in FEEDS), *more]
        if self.fresh_token is not None:
            try:
                self.fresh_token()  # here, so the helper threads find the token fresh
            except TRANSPORT_ERRORS as exc:
                raise translate(exc) from exc
        answers = at_once([_off_thread(job) for job in jobs], READS_AT_ONCE, pool=_readers())
        answers = [job() if a is _REFRESH else a for job, a in zip(jobs, answers, strict=True)]
        return dict(zip(FEEDS, answers[: len(FEEDS)], strict=True)), answers[len(FEEDS) :]

    def _read_feed(
        self, feed: str, cursor: str | None, containers: Mapping[str, ContainerRef]
    ) -> MailboxChanges:
        try:
            return self.read_changes(feed, cursor, containers)
        except CursorExpired:
            return self.read_changes(feed, None, containers)

    def read_email_changes(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        *,
        auto_save: bool,
        owner: str | None = None,  # not needed: Gmail's SENT label tells the direction
    ) -> EmailFeed:
        """The "Salesforce Emails" label (and INBOX + SENT with auto-save): see gmail_mail."""
        return GmailMail(self, containers).read(cursors, auto_save)

    def fetch_emails(
        self, ids: Sequence[str], containers: Mapping[str, ContainerRef], *, owner: str = ""
    ) -> dict[str, EmailRecord | None]:
        """Messages by id with their attachments' bytes (see `mail.GmailMail.fetch_emails`)."""
        return GmailMail(self, containers).fetch_emails(list(ids))

    # --- fetch and writes: by item type ----------------------------------------------

    def fetch(self, item_type: str, ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        return self._resource(item_type, "fetch").fetch(ids)

    def create(
        self,
        item_type: str,
        payloads: Sequence[dict[str, Any]],
        containers: Mapping[str, ContainerRef],
    ) -> list[WriteResult]:
        if not payloads:
            return []
        return self._resource(item_type, "create").create(payloads, containers)

    def write_window(self, item_type: str) -> int:
        """One batch call: People creates 200 contacts a call; Calendar and Tasks batches
        take 1,000 (one user's calls go one after another, so one batch is in flight)."""
        return PEOPLE_WRITE_CHUNK if item_type == CONTACTS else BATCH_CHUNK

    def write_lane(self, item_type: str) -> str:
        """Each type has an API of its own (People, Tasks, Calendar), taking one user's
        calls one after another but not waiting for the other APIs."""
        return item_type

    def update(
        self, item_type: str, changes: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[WriteResult]:
        if not changes:
            return []
        return self._resource(item_type, "update").update(changes)

    def delete(self, item_type: str, ids: Sequence[str]) -> list[WriteResult]:
        if not ids:
            return []
        return self._resource(item_type, "delete").delete(ids)


def _readers() -> ThreadPoolExecutor:
    """The worker process's feed-reading threads. Long-lived, because httplib2 keeps its
    open connections per thread (`PerThreadHttp`): each reuses its TLS connections from
    one session to the next. Sized for every session thread of a worker reading at once
    (CELERY_WORKER_CONCURRENCY times the four APIs); more only queue, never deadlock (a read
    waits for nothing on this pool)."""
    sessions = max(1, int(settings.CELERY_WORKER_CONCURRENCY))
    return shared_pool("relay-google", sessions * READS_AT_ONCE)


_REFRESH = object()  # a read's answer when it needed a token refresh on a helper thread


def _off_thread(job: Callable[[], Any]) -> Callable[[], Any]:
    """`job` for a helper thread: a token refresh it needed answers `_REFRESH` (the job
    runs again on the session's thread, which may refresh)."""

    def run() -> Any:
        try:
            with refresh_elsewhere():
                return job()
        except RefreshOffThread:
            return _REFRESH

    return run
