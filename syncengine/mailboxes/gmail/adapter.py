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
- **Counting.** `api_calls` counts every HTTP call the adapter issues (a batch is one);
  `quota_units` counts what Google meters (each inner call of a batch). Token refreshes
  done by AuthorizedHttp on a 401 are not counted here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from googleapiclient.http import HttpRequest

from accounts.providers.errors import ProviderError, ReconnectRequired, TemporaryProviderError
from syncengine.emails.feed import EmailFeed
from syncengine.emails.records import EmailRecord
from syncengine.mappers.google import (
    PERSON_FIELDS,
    SF_ID_KEY,
    UPDATE_PERSON_FIELDS,
)

from ..base import (
    CONTACTS,
    CONTAINER_NAMES,
    EMAILS,
    EVENTS,
    TASKS,
    ContainerRef,
    CursorExpired,
    MailboxChanges,
    WriteResult,
)
from .client import (
    TRANSPORT_ERRORS,
    GoogleFailure,
    GoogleServices,
    PartResult,
    build_google_services,
    failure_of,
    provider_error,
    send_batch,
    translate,
)
from .mail import GmailMail

__all__ = ["GmailAdapter", "GoogleServices", "build_google_services", "in_salesforce_group"]

PEOPLE_PAGE = 1000
EVENTS_PAGE = 2500
TASKS_PAGE = 100
PEOPLE_WRITE_CHUNK = 200
PEOPLE_DELETE_CHUNK = 500
PEOPLE_GET_CHUNK = 200
BATCH_CHUNK = 1000
# Gmail takes at most 100 calls a batch and advises 50 (larger ones get rate-limited).
GMAIL_BATCH_CHUNK = 50
WINDOW_PAST = timedelta(days=14)
WINDOW_FUTURE = timedelta(days=60)
WINDOW_SLACK = timedelta(days=1)
TASKS_OVERLAP = timedelta(minutes=2)
FEEDS = (CONTACTS, EVENTS, TASKS)


def in_salesforce_group(person: Mapping[str, Any], group_resource_name: str) -> bool:
    """Whether a People person is a member of the contact group (by resource name)."""
    gid = group_resource_name.removeprefix("contactGroups/")
    for m in person.get("memberships") or ():
        ref = m.get("contactGroupMembership") or {}
        if ref.get("contactGroupResourceName") == group_resource_name:
            return True
        if ref.get("contactGroupId") == gid:
            return True
    return False


def _marked(person: Mapping[str, Any]) -> bool:
    return any(e.get("key") == SF_ID_KEY for e in person.get("clientData") or ())


def _rfc3339(instant: datetime) -> str:
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class GmailAdapter:
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
    ) -> None:
        self.services = services
        self.time_zone = time_zone
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.max_part_retries = max_part_retries
        self.backoff = backoff
        self.containers: dict[str, ContainerRef] = dict(containers or {})
        self.api_calls = 0
        self.quota_units = 0

    # --- plumbing --------------------------------------------------------------------

    def execute(self, request: HttpRequest, expired: Callable[[Any], bool] | None = None) -> Any:
        self.api_calls += 1
        self.quota_units += 1
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
            for chunk in _chunks(pending, size):
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
        self.api_calls += 1
        self.quota_units += len(requests)
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
                    return g["resourceName"]
            token = page.get("nextPageToken")
            if not token:
                return None

    def _create_group(self, name: str) -> str:
        body = {"contactGroup": {"name": name}}
        return self.execute(self.services.people.contactGroups().create(body=body))["resourceName"]

    def _find_tasklist(self, name: str) -> str | None:
        lists = self.services.tasks.tasklists()
        token = None
        while True:
            page = self.execute(lists.list(maxResults=1000, pageToken=token))
            for tl in page.get("items") or ():
                if tl.get("title") == name:
                    return tl["id"]
            token = page.get("nextPageToken")
            if not token:
                return None

    def _create_tasklist(self, name: str) -> str:
        return self.execute(self.services.tasks.tasklists().insert(body={"title": name}))["id"]

    def _find_label(self, name: str) -> str | None:
        page = self.execute(self.services.gmail.users().labels().list(userId="me"))
        return next((lab["id"] for lab in page.get("labels") or () if lab["name"] == name), None)

    def _create_label(self, name: str) -> str:
        body = {"name": name, "labelListVisibility": "labelShow", "messageListVisibility": "show"}
        return self.execute(self.services.gmail.users().labels().create(userId="me", body=body))[
            "id"
        ]

    # --- reads -----------------------------------------------------------------------

    def read_changes(
        self, item_type: str, cursor: str | None, containers: Mapping[str, ContainerRef]
    ) -> MailboxChanges:
        if item_type == CONTACTS:
            return self._read_people(cursor, self.container_id(CONTACTS, containers))
        if item_type == EVENTS:
            return self._read_events(cursor)
        if item_type == TASKS:
            return self._read_tasks(cursor, self.container_id(TASKS, containers))
        raise NotImplementedError(f"Gmail adapter cannot read {item_type!r} yet")

    def read_all_changes(
        self, cursors: Mapping[str, str | None], containers: Mapping[str, ContainerRef]
    ) -> dict[str, MailboxChanges]:
        """People, Calendar and Tasks: one HTTP call each when nothing changed (a batch
        cannot mix APIs, so three is the floor)."""
        out: dict[str, MailboxChanges] = {}
        for feed in FEEDS:
            try:
                out[feed] = self.read_changes(feed, cursors.get(feed), containers)
            except CursorExpired:
                out[feed] = self.read_changes(feed, None, containers)
        return out

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

    def read_all_with_emails(
        self,
        cursors: Mapping[str, str | None],
        email_cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        *,
        auto_save: bool,
        owner: str | None = None,
    ) -> tuple[dict[str, MailboxChanges], EmailFeed]:
        """As on Office 365; Gmail cannot batch across APIs, so this is one call more."""
        changes = self.read_all_changes(cursors, containers)
        return changes, self.read_email_changes(email_cursors, containers, auto_save=auto_save)

    def fetch_emails(
        self, ids: Sequence[str], containers: Mapping[str, ContainerRef], *, owner: str = ""
    ) -> dict[str, EmailRecord | None]:
        """Messages by id with their attachments' bytes (see `mail.GmailMail.fetch_emails`)."""
        return GmailMail(self, containers).fetch_emails(list(ids))

    def _read_people(self, cursor: str | None, group: str) -> MailboxChanges:
        connections = self.services.people.people().connections()
        params: dict[str, Any] = {
            "resourceName": "people/me",
            "personFields": PERSON_FIELDS,
            "pageSize": PEOPLE_PAGE,
            "requestSyncToken": True,
        }
        if cursor:
            params["syncToken"] = cursor
        changes = MailboxChanges(full=not cursor)
        token = None
        while True:
            page = self.execute(
                connections.list(**params, pageToken=token), expired=_people_token_refused
            )
            for person in page.get("connections") or ():
                name = person["resourceName"]
                if (person.get("metadata") or {}).get("deleted"):
                    if cursor:
                        changes.removed_ids.append(name)
                elif in_salesforce_group(person, group) or _marked(person):
                    changes.items.append(person)
                elif cursor:
                    changes.removed_ids.append(name)
            token = page.get("nextPageToken")
            if not token:
                changes.cursor = page.get("nextSyncToken") or ""
                return changes

    def _read_events(self, cursor: str | None) -> MailboxChanges:
        events = self.services.calendar.events()
        params: dict[str, Any] = {
            "calendarId": "primary",
            "singleEvents": True,
            "maxResults": EVENTS_PAGE,
        }
        if cursor:
            params["syncToken"] = cursor
        else:
            now = self.clock()
            params["timeMin"] = _rfc3339(now - WINDOW_PAST - WINDOW_SLACK)
            params["timeMax"] = _rfc3339(now + WINDOW_FUTURE + WINDOW_SLACK)
        changes = MailboxChanges(full=not cursor)
        token = None
        while True:
            page = self.execute(events.list(**params, pageToken=token), expired=_gone)
            for event in page.get("items") or ():
                if event.get("status") == "cancelled":
                    if cursor:
                        changes.removed_ids.append(event["id"])
                else:
                    changes.items.append(event)
            token = page.get("nextPageToken")
            if not token:
                changes.cursor = page.get("nextSyncToken") or ""
                return changes

    def _read_tasks(self, cursor: str | None, tasklist: str) -> MailboxChanges:
        started = self.clock()
        tasks = self.services.tasks.tasks()
        params: dict[str, Any] = {
            "tasklist": tasklist,
            "showHidden": True,  # completed in the Tasks UI = hidden
            "maxResults": TASKS_PAGE,
        }
        if cursor:
            params.update(updatedMin=cursor, showDeleted=True)
        changes = MailboxChanges(full=not cursor)
        token = None
        while True:
            page = self.execute(tasks.list(**params, pageToken=token))
            for task in page.get("items") or ():
                if task.get("deleted"):
                    changes.removed_ids.append(task["id"])
                else:
                    changes.items.append(task)
            token = page.get("nextPageToken")
            if not token:
                changes.cursor = _rfc3339(started - TASKS_OVERLAP)
                return changes

    # --- fetch -----------------------------------------------------------------------

    def fetch(self, item_type: str, ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        if item_type == CONTACTS:
            return self._fetch_people(ids)
        if item_type == EVENTS:
            events = self.services.calendar.events()
            factories = [_bind(events.get, calendarId="primary", eventId=i) for i in ids]
            gone = ("cancelled",)
        elif item_type == TASKS:
            tasks, tasklist = self.services.tasks.tasks(), self.container_id(TASKS, None)
            factories = [_bind(tasks.get, tasklist=tasklist, task=i) for i in ids]
            gone = ()
        else:
            raise NotImplementedError(f"Gmail adapter cannot fetch {item_type!r} yet")
        out: dict[str, dict[str, Any] | None] = {}
        for item_id, part in zip(ids, self.batch(_api(item_type), factories), strict=True):
            if part.failure is None:
                body = part.body or {}
                dead = body.get("status") in gone or body.get("deleted")
                out[item_id] = None if dead else body
            elif part.failure.status in (404, 410):
                out[item_id] = None
            else:
                raise provider_error(part.failure)
        return out

    def _fetch_people(self, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        out: dict[str, dict[str, Any] | None] = {}
        for chunk in _chunks(ids, PEOPLE_GET_CHUNK):
            reply = self.execute(
                self.services.people.people().getBatchGet(
                    resourceNames=list(chunk), personFields=PERSON_FIELDS
                )
            )
            for response in reply.get("responses") or ():
                person = response.get("person")
                alive = person and not (person.get("metadata") or {}).get("deleted")
                out[response.get("requestedResourceName", "")] = person if alive else None
        return {i: out.get(i) for i in ids}

    # --- writes ----------------------------------------------------------------------

    def create(
        self,
        item_type: str,
        payloads: Sequence[dict[str, Any]],
        containers: Mapping[str, ContainerRef],
    ) -> list[WriteResult]:
        if not payloads:
            return []
        if item_type == CONTACTS:
            group = self.container_id(CONTACTS, containers)
            people = [_with_membership(p, group) for p in payloads]
            return self._people_write(people, PEOPLE_WRITE_CHUNK, self._create_people)
        if item_type == EVENTS:
            events = self.services.calendar.events()
            factories = [_bind(events.insert, calendarId="primary", body=p) for p in payloads]
        elif item_type == TASKS:
            tasks, tasklist = self.services.tasks.tasks(), self.container_id(TASKS, containers)
            factories = [_bind(tasks.insert, tasklist=tasklist, body=p) for p in payloads]
        else:
            raise NotImplementedError(f"Gmail adapter cannot create {item_type!r}")
        return [_write_result(part) for part in self.batch(_api(item_type), factories)]

    def update(
        self, item_type: str, changes: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[WriteResult]:
        if not changes:
            return []
        if item_type == CONTACTS:
            return self._update_people(changes)
        if item_type == EVENTS:
            events = self.services.calendar.events()
            factories = [
                _bind(events.patch, calendarId="primary", eventId=i, body=p) for i, p in changes
            ]
        elif item_type == TASKS:
            tasks, tasklist = self.services.tasks.tasks(), self.container_id(TASKS, None)
            factories = [_bind(tasks.patch, tasklist=tasklist, task=i, body=p) for i, p in changes]
        else:
            raise NotImplementedError(f"Gmail adapter cannot update {item_type!r}")
        results = self.batch(_api(item_type), factories)
        return [_write_result(part, i) for (i, _), part in zip(changes, results, strict=True)]

    def delete(self, item_type: str, ids: Sequence[str]) -> list[WriteResult]:
        if not ids:
            return []
        if item_type == CONTACTS:
            return self._people_write(list(ids), PEOPLE_DELETE_CHUNK, self._delete_people)
        if item_type == EVENTS:
            events = self.services.calendar.events()
            factories = [_bind(events.delete, calendarId="primary", eventId=i) for i in ids]
        elif item_type == TASKS:
            tasks, tasklist = self.services.tasks.tasks(), self.container_id(TASKS, None)
            factories = [_bind(tasks.delete, tasklist=tasklist, task=i) for i in ids]
        else:
            raise NotImplementedError(f"Gmail adapter cannot delete {item_type!r}")
        out = []
        for item_id, part in zip(ids, self.batch(_api(item_type), factories), strict=True):
            gone = part.failure is not None and part.failure.status in (404, 410)
            if part.failure is None or gone:
                status = part.failure.status if part.failure else 204
                out.append(WriteResult(ok=True, id=item_id, status=status))
            else:
                out.append(_write_result(part, item_id))
        return out

    # --- People batch writes ---------------------------------------------------------

    def _people_write(
        self,
        items: list[Any],
        size: int,
        send: Callable[[list[Any]], list[WriteResult]],
    ) -> list[WriteResult]:
        """Chunks of `size`; a refused chunk is halved until the refused items stand
        alone (People batch calls are all-or-nothing)."""
        results: list[WriteResult] = []

        def run(chunk: list[Any]) -> None:
            try:
                results.extend(send(chunk))
            except ProviderError as err:
                refused = not isinstance(err, (TemporaryProviderError, ReconnectRequired))
                if not refused or err.status is None:
                    raise
                if len(chunk) == 1:
                    results.append(WriteResult(ok=False, status=(err.status or 0), error=str(err)))
                    return
                half = len(chunk) // 2
                run(chunk[:half])
                run(chunk[half:])

        for n, chunk in enumerate(_chunks(items, size)):
            try:
                run(list(chunk))
            except ProviderError as err:
                if n == 0 and not results:
                    raise
                status = err.status or 0
                done = len(results)
                results.extend(
                    WriteResult(ok=False, status=status, error=str(err))
                    for _ in range(len(items) - done)
                )
                break
        return results

    def _create_people(self, people: list[dict[str, Any]]) -> list[WriteResult]:
        body = {"contacts": [{"contactPerson": p} for p in people], "readMask": PERSON_FIELDS}
        reply = self.execute(self.services.people.people().batchCreateContacts(body=body))
        return [_person_result(r) for r in reply.get("createdPeople") or ()]

    def _update_people(self, changes: Sequence[tuple[str, dict[str, Any]]]) -> list[WriteResult]:
        missing = [name for name, person in changes if not _etag_of(person)]
        current = self._fetch_people(missing) if missing else {}
        pairs: list[tuple[str, dict[str, Any]]] = []
        early: dict[int, WriteResult] = {}
        for n, (name, person) in enumerate(changes):
            person = {k: v for k, v in person.items() if k != "resourceName"}
            if not _etag_of(person):
                found = current.get(name)
                if found is None:
                    early[n] = WriteResult(ok=False, id=name, status=404, error="Contact not found")
                    continue
                person["etag"] = found["etag"]
            pairs.append((name, person))
        done = iter(self._people_write(pairs, PEOPLE_WRITE_CHUNK, self._send_people_update))
        results = []
        for n, (name, _) in enumerate(changes):
            result = early.get(n) or next(done)
            if not result.id:
                result = WriteResult(False, name, status=result.status, error=result.error)
            results.append(result)
        return results

    def _send_people_update(self, pairs: list[tuple[str, dict[str, Any]]]) -> list[WriteResult]:
        body = {
            "contacts": dict(pairs),
            "updateMask": UPDATE_PERSON_FIELDS,
            "readMask": PERSON_FIELDS,
        }
        reply = self.execute(self.services.people.people().batchUpdateContacts(body=body))
        updated = reply.get("updateResult") or {}
        out = []
        for name, _ in pairs:
            response = updated.get(name)
            if response is None:
                out.append(WriteResult(False, name, status=0, error="Google returned no result"))
            else:
                out.append(_person_result(response, name))
        return out

    def _delete_people(self, names: list[str]) -> list[WriteResult]:
        try:
            self.execute(
                self.services.people.people().batchDeleteContacts(body={"resourceNames": names})
            )
        except ProviderError as err:
            if (err.status or 0) == 404 and len(names) == 1:
                return [WriteResult(ok=True, id=names[0], status=404)]  # already gone
            raise
        return [WriteResult(ok=True, id=n, status=200) for n in names]


# --- helpers -----------------------------------------------------------------------------


def _api(item_type: str) -> str:
    return {EVENTS: "calendar", TASKS: "tasks"}[item_type]


def _bind(method: Callable[..., HttpRequest], **kwargs: Any) -> Callable[[], HttpRequest]:
    return lambda: method(**kwargs)


def _gone(exc: Any) -> bool:
    return hasattr(exc, "resp") and exc.resp.status == 410


def _people_token_refused(exc: Any) -> bool:
    """Expired (400 FAILED_PRECONDITION / EXPIRED_SYNC_TOKEN), refused because the request
    changed since the token was issued (400), or the older 410."""
    if not hasattr(exc, "resp"):
        return False
    failure = failure_of(exc)
    if failure.status == 410:
        return True
    return failure.status == 400 and (
        "EXPIRED_SYNC_TOKEN" in failure.reasons or "sync token" in failure.message.lower()
    )


def _etag_of(person: Mapping[str, Any]) -> str | None:
    if person.get("etag"):
        return person["etag"]
    for source in (person.get("metadata") or {}).get("sources") or ():
        if source.get("type", "CONTACT") == "CONTACT" and source.get("etag"):
            return source["etag"]
    return None


def _with_membership(person: dict[str, Any], group: str) -> dict[str, Any]:
    if in_salesforce_group(person, group):
        return person
    membership = {"contactGroupMembership": {"contactGroupResourceName": group}}
    return {**person, "memberships": [*(person.get("memberships") or []), membership]}


def _person_result(response: Mapping[str, Any], name: str = "") -> WriteResult:
    status = int(response.get("httpStatusCode") or 200)
    person = response.get("person")
    if status >= 300 or not person:
        message = (response.get("status") or {}).get("message") or f"HTTP {status}"
        return WriteResult(ok=False, id=name, status=status, error=message)
    return WriteResult(
        ok=True,
        id=person["resourceName"],
        version=person.get("etag", ""),
        item=person,
        status=status,
    )


def _write_result(part: PartResult, item_id: str = "") -> WriteResult:
    if part.failure is not None:
        f = part.failure
        return WriteResult(ok=False, id=item_id, status=f.status, error=f.message)
    body = part.body or {}
    return WriteResult(
        ok=True,
        id=body.get("id", item_id),
        version=body.get("etag", ""),
        item=body,
        status=200,
    )
