"""The engine's Office 365 adapter: every Microsoft Graph call of a sync session.

It runs over an O365 `Account` (built by accounts' connection code, or by
`sandbox.graph.o365_client.make_account` in tests) and speaks raw Graph through
`office365_http.GraphHttp`, since O365 2.1.10 has neither delta nor `$batch`. It hands back
Graph's own JSON; `syncengine.mappers.graph` reads and writes it.

Containers (SPEC §2): the contact folder "Salesforce Contacts", the To Do list "Salesforce
Tasks", the master category "Salesforce" and the mail folder "Salesforce Emails". Ids the
engine stored are trusted without a call (an idle session must stay at one call); a 404 when
one is used (the user deleted the folder) makes the adapter find or create it again once,
and `containers` then holds the new ref for the engine to store. Missing ones cost one
`$batch` of lookups plus, when something must be created, one `$batch` of creates.

Reads are Graph delta rounds, one feed per item type:
- contact: `contactFolders/{id}/contacts/delta`. Graph documents only `$select` on it, so
  the Salesforce-id marker is not expanded there: `fetch` expands it, and the engine
  fetches the unlinked items it must identify (a crash between a write and its link).
- task: `todo/lists/{id}/tasks/delta?$expand=linkedResources` (the marker comes inline).
- event: `calendarView/delta` over [now - 14 d, now + 60 d], in the user's zone. Graph
  fixes the window with the first request of a round, so the cursor carries the window
  start in a URL fragment (`…$deltatoken=…#window=…`, never sent to Graph); once the
  window has slid by `rebase_after` the feed starts a new round (`full=True`).
  Occurrences and exceptions of series come as instances; events changed outside the
  window arrive as `@removed` and are reported as removed ids: confirm with `fetch`.
- email: `mailFolders/{id}/messages/delta` (raw JSON). The logger's feeds (the folder, and
  inbox + sent with auto-save, as EmailRecords) are `read_email_changes`, or
  `read_all_with_emails` to ride the same `$batch`: see `office365_mail`.
Each page is followed through `@odata.nextLink`; the cursor is the final deltaLink.
`read_all_changes` puts the GETs of all feeds in one `$batch` (an idle session is one HTTP
call), batches the follow-up pages of the feeds that have more, and re-reads a feed whose
cursor expired (410 syncStateNotFound) in full. `read_changes` raises `CursorExpired`.

Writes go in `$batch` calls of ≤20, per-item results matched by id (Graph answers in any
order); a throttled item is retried after its Retry-After (bounded), and comes back as
`WriteResult(ok=False, status=429)` if it still fails, for the next session to retry.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from O365 import Account

from accounts.providers.errors import ProviderError
from syncengine.emails.feed import EmailFeed
from syncengine.emails.records import EmailRecord
from syncengine.mappers.timezones import iana_to_windows

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
from .feeds import (
    ROLE_OF,
    DeltaFeed,
    graph_stamp,
    item_type_of,
)
from .http import (
    MAX_BATCH,
    RETRY_TRIES,
    GraphHttp,
    GraphRequest,
    GraphResponse,
    error_for,
    is_expired_cursor,
)
from .mail import OutlookMail
from .resources import CalendarEvents, Contacts, GraphItems, Messages, TodoTasks

CATEGORY_COLOR = "preset7"  # blue, as the Salesforce brand
WINDOW_BACK = dt.timedelta(days=14)
WINDOW_AHEAD = dt.timedelta(days=60)
REBASE_AFTER = dt.timedelta(days=1)
PAGE_SIZE = 200  # Outlook caps delta pages at about 200 whatever is asked
MAX_RESTARTS = 2  # full re-reads of one feed within one call before giving up


def _odata_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Office365Adapter:
    """MailboxAdapter over Microsoft Graph (see the module docstring)."""

    def __init__(
        self,
        account: Account,
        time_zone: str = "UTC",
        *,
        clock: Callable[[], dt.datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry_tries: int = RETRY_TRIES,
        page_size: int = PAGE_SIZE,
        rebase_after: dt.timedelta = REBASE_AFTER,
    ) -> None:
        self.account = account
        self.time_zone = time_zone
        self.http = GraphHttp(account, sleep=sleep, tries=retry_tries)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.page_size = page_size
        self.rebase_after = rebase_after
        self.containers: dict[str, ContainerRef] = {}
        # One small class per item type builds its requests (resources.py).
        self.resources: dict[str, GraphItems] = {
            r.item_type: r
            for r in (
                Contacts(self.container_id),
                TodoTasks(self.container_id),
                CalendarEvents(self.container_id),
                Messages(self.container_id),
            )
        }
        self._replaced: dict[str, ContainerRef] = {}  # stale container id -> found again

    @property
    def api_calls(self) -> int:
        return self.http.calls

    @api_calls.setter
    def api_calls(self, value: int) -> None:
        self.http.calls = value

    # -- containers ------------------------------------------------------------------------

    def ensure_containers(self, known: Mapping[str, str]) -> dict[str, ContainerRef]:
        out = {
            role: ContainerRef(role, known[role], CONTAINER_NAMES[role])
            for role in CONTAINER_NAMES
            if known.get(role)
        }
        missing = [role for role in CONTAINER_NAMES if role not in out]
        if missing:
            out.update(self._find_or_create(missing))
        self.containers.update(out)
        return {role: out[role] for role in CONTAINER_NAMES}

    def _find_or_create(self, roles: Sequence[str]) -> dict[str, ContainerRef]:
        found = self._find(roles)
        to_create = [role for role in roles if role not in found]
        if to_create:
            answers = self.http.batch([self._create_request(role) for role in to_create])
            conflicts = []
            for role, answer in zip(to_create, answers, strict=True):
                if answer.ok:
                    found[role] = ContainerRef(role, answer.body["id"], CONTAINER_NAMES[role], True)
                elif answer.status == 409 or "exist" in answer.code.lower():
                    conflicts.append(role)  # created meanwhile (another session): find it
                else:
                    raise error_for(answer, f"creating {CONTAINER_NAMES[role]!r}")
            if conflicts:
                found.update(self._find(conflicts))
                for role in conflicts:
                    if role not in found:
                        raise ProviderError(f"{CONTAINER_NAMES[role]!r} exists but was not found")
        return found

    def _find(self, roles: Sequence[str]) -> dict[str, ContainerRef]:
        answers = self.http.batch([self._lookup_request(role) for role in roles])
        out: dict[str, ContainerRef] = {}
        for role, answer in zip(roles, answers, strict=True):
            if not answer.ok:
                raise error_for(answer, f"looking up {CONTAINER_NAMES[role]!r}")
            rows = list(answer.body.get("value") or [])
            link = answer.body.get("@odata.nextLink")
            while link and not _named(rows, CONTAINER_NAMES[role]):
                page = self.http.call(GraphRequest("GET", link), "listing containers")
                rows += page.get("value") or []
                link = page.get("@odata.nextLink")
            match = _named(rows, CONTAINER_NAMES[role])
            if match is not None:
                out[role] = ContainerRef(role, str(match["id"]), CONTAINER_NAMES[role])
        return out

    @staticmethod
    def _lookup_request(role: str) -> GraphRequest:
        name = quote(_odata_string(CONTAINER_NAMES[role]), safe="'")
        by_name = f"?$filter=displayName%20eq%20{name}"
        return {
            CONTACTS: GraphRequest("GET", f"/me/contactFolders{by_name}"),
            # To Do lists and master categories are few; match the name here.
            TASKS: GraphRequest("GET", "/me/todo/lists?$top=100"),
            EVENTS: GraphRequest("GET", "/me/outlook/masterCategories"),
            EMAILS: GraphRequest("GET", f"/me/mailFolders{by_name}"),
        }[role]

    @staticmethod
    def _create_request(role: str) -> GraphRequest:
        name = CONTAINER_NAMES[role]
        return {
            CONTACTS: GraphRequest("POST", "/me/contactFolders", {"displayName": name}),
            TASKS: GraphRequest("POST", "/me/todo/lists", {"displayName": name}),
            EVENTS: GraphRequest(
                "POST",
                "/me/outlook/masterCategories",
                {"displayName": name, "color": CATEGORY_COLOR},
            ),
            EMAILS: GraphRequest("POST", "/me/mailFolders", {"displayName": name}),
        }[role]

    def container_id(self, role: str) -> str:
        ref = self.containers.get(role)
        if ref is None:
            raise ProviderError(f"no {CONTAINER_NAMES[role]!r} container: ensure_containers first")
        return ref.external_id

    def _refind(self, role: str) -> None:
        """The stored container is gone (404 on use): find it by name again, or create it."""
        stale = self.containers.get(role)
        self.containers[role] = self._find_or_create([role])[role]
        if stale is not None:
            self._replaced[stale.external_id] = self.containers[role]

    def _adopt(self, containers: Mapping[str, ContainerRef]) -> None:
        """Take the caller's refs, except those this adapter already found gone."""
        for role, ref in containers.items():
            self.containers[role] = self._replaced.get(ref.external_id, ref)

    # -- reads -----------------------------------------------------------------------------

    def read_changes(
        self, item_type: str, cursor: str | None, containers: Mapping[str, ContainerRef]
    ) -> MailboxChanges:
        return self._read({item_type_of(item_type): cursor}, containers, restart=False)[
            item_type_of(item_type)
        ]

    def read_all_changes(
        self, cursors: Mapping[str, str | None], containers: Mapping[str, ContainerRef]
    ) -> dict[str, MailboxChanges]:
        """The feeds named in `cursors` (item type → cursor, None for a first read)."""
        wanted = {item_type_of(t): c for t, c in cursors.items()}
        read = self._read(wanted, containers, restart=True)
        return {t: read[item_type_of(t)] for t in cursors}

    def _read(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        *,
        restart: bool,
        extra: Mapping[str, DeltaFeed] | None = None,
    ) -> dict[str, MailboxChanges]:
        """Run the feeds' rounds; `extra` feeds (the mail feeds) ride the same batches."""
        self._adopt(containers)
        feeds = {t: self._open(t, cursor) for t, cursor in cursors.items()}
        every = [*feeds.values(), *(extra or {}).values()]
        while pending := [f for f in every if not f.done]:
            requests = [GraphRequest("GET", f.url, headers=self._headers(f)) for f in pending]
            if len(requests) == 1:
                answers = [self.http.request(requests[0])]  # O365 retries a lone GET itself
            else:
                answers = self.http.batch(requests)
            for feed, answer in zip(pending, answers, strict=True):
                self._advance(feed, answer, restart=restart)
        return {t: f.changes() for t, f in feeds.items()}

    def _open(self, item_type: str, cursor: str | None) -> DeltaFeed:
        if cursor:
            link, _, fragment = cursor.partition("#")
            start = _window_start(fragment)
            if not self.resources[item_type].windowed or start is None:
                return DeltaFeed(item_type, link, full=False)
            if self._window()[0] - start < self.rebase_after:
                return DeltaFeed(item_type, link, full=False, window_start=start)
            # The window slid: a new round over the current window (nothing is deleted for
            # it; events that left the window are the planner's to freeze).
        return self._initial(item_type)

    def _initial(self, item_type: str) -> DeltaFeed:
        return self.resources[item_type].initial(self._window())

    def _window(self) -> tuple[dt.datetime, dt.datetime]:
        now = self.clock().astimezone(dt.UTC).replace(microsecond=0)
        return now - WINDOW_BACK, now + WINDOW_AHEAD

    def _headers(self, feed: DeltaFeed) -> dict[str, str]:
        prefer = f"odata.maxpagesize={self.page_size}"
        if self.resources[feed.item_type].timezone_header:
            prefer += f', outlook.timezone="{iana_to_windows(self.time_zone)}"'
        if feed.prefer:
            prefer = feed.prefer
        return {"Prefer": prefer}

    def _advance(self, feed: DeltaFeed, answer: GraphResponse, *, restart: bool) -> None:
        if answer.ok:
            feed.take(answer.body or {})
            if next_link := answer.body.get("@odata.nextLink"):
                feed.url = next_link
            elif delta_link := answer.body.get("@odata.deltaLink"):
                window = feed.window_start
                feed.cursor = delta_link + (f"#window={graph_stamp(window)}" if window else "")
            else:
                raise ProviderError(f"{feed.item_type} delta page carried no link")
            return
        role = ROLE_OF[feed.item_type]
        if is_expired_cursor(answer):
            if not restart or feed.restarts >= MAX_RESTARTS:
                raise CursorExpired(error_for(answer, f"{feed.item_type} delta").args[0])
            self._restart(feed)
        elif (
            answer.status == 404
            and self.resources[feed.item_type].in_recreatable_container
            and not feed.refound
        ):
            self._refind(role)  # the folder or list was deleted: find or recreate it
            self._restart(feed)
            feed.refound = True
        else:
            raise error_for(answer, f"{feed.item_type} delta")

    def _restart(self, feed: DeltaFeed) -> None:
        fresh = feed.reopen() if feed.reopen else self._initial(feed.item_type)
        feed.url, feed.full, feed.window_start = fresh.url, True, fresh.window_start
        feed.rows.clear()
        feed.removed.clear()
        feed.restarts += 1

    def read_email_changes(
        self,
        cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        *,
        auto_save: bool,
        owner: str | None = None,
    ) -> EmailFeed:
        """The email feeds alone (see `office365_mail`)."""
        _, feed = self.read_all_with_emails(
            {}, cursors, containers, auto_save=auto_save, owner=owner
        )
        return feed

    def read_all_with_emails(
        self,
        cursors: Mapping[str, str | None],
        email_cursors: Mapping[str, str | None],
        containers: Mapping[str, ContainerRef],
        *,
        auto_save: bool,
        owner: str | None = None,
    ) -> tuple[dict[str, MailboxChanges], EmailFeed]:
        """`read_all_changes` and `read_email_changes` in the same `$batch`es."""
        before = self.api_calls
        self._adopt(containers)
        mail = OutlookMail(self, owner)
        feeds = mail.open(email_cursors, auto_save)
        wanted = {item_type_of(t): c for t, c in cursors.items()}
        changes = self._read(wanted, containers, restart=True, extra=feeds)
        out = mail.finish(feeds)
        out.api_calls = self.api_calls - before
        return {t: changes[item_type_of(t)] for t in cursors}, out

    def fetch_emails(
        self, ids: Sequence[str], containers: Mapping[str, ContainerRef], *, owner: str = ""
    ) -> dict[str, EmailRecord | None]:
        """Messages by id with their attachments' contents (see `mail.fetch_emails`)."""
        return OutlookMail(self, owner).fetch_emails(list(ids))

    def fetch(self, item_type: str, ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Current items by id, the Salesforce-id marker expanded; None for those gone."""
        item_type = item_type_of(item_type)
        # Chained like the writes: each $batch then holds one of the mailbox's 4 slots, so
        # 4 go at once (unchained, one $batch of 20 holds all 4). A 404 (gone) fails the
        # rest of its chain with 424; those are sent again unchained (GraphHttp.batch).
        requests = [self._get_request(item_type, i) for i in ids]
        answers = self.http.batch(requests, chained=True)
        out: dict[str, dict[str, Any] | None] = {}
        for item_id, answer in zip(ids, answers, strict=True):
            if answer.ok:
                out[item_id] = answer.body
            elif answer.status == 404:
                out[item_id] = None
            else:
                raise error_for(answer, f"reading {item_type} {item_id}")
        return out

    def _get_request(self, item_type: str, item_id: str) -> GraphRequest:
        prefer = f'outlook.timezone="{iana_to_windows(self.time_zone)}"'
        return self.resources[item_type].get_request(item_id, prefer)

    def _item_url(self, item_type: str, item_id: str) -> str:
        return self.resources[item_type].item_url(item_id)

    # -- writes ----------------------------------------------------------------------------

    def create(
        self,
        item_type: str,
        payloads: Sequence[dict[str, Any]],
        containers: Mapping[str, ContainerRef],
    ) -> list[WriteResult]:
        """Contacts into the Salesforce folder and events into the default calendar, both
        with the "Salesforce" category; tasks into the Salesforce list. The payloads carry
        their markers (`contact_to_graph(sf_id=…)` etc.), so nothing more is written."""
        resource = self.resources[item_type_of(item_type)]
        if not resource.creatable:
            raise ProviderError(f"{resource.item_type}s are never created in the mailbox")
        self._adopt(containers)
        bodies = [resource.create_body(p) for p in payloads]
        answers = self.http.batch([resource.create_request(b) for b in bodies], chained=True)
        recreatable = resource.in_recreatable_container
        lost = [i for i, a in enumerate(answers) if a.status == 404 and recreatable]
        if lost:  # the folder or list was deleted since it was stored: recreate, resend
            self._refind(resource.role)
            again = self.http.batch(
                [resource.create_request(bodies[i]) for i in lost], chained=True
            )
            for index, answer in zip(lost, again, strict=True):
                answers[index] = answer
        return [_write_result(a) for a in answers]

    def write_window(self, item_type: str) -> int:
        """Two rounds of the mailbox's concurrent $batches of 20 (160 items): the slots
        stay busy while one window's links are written."""
        return 2 * self.http.concurrency * MAX_BATCH

    def write_lane(self, item_type: str) -> str:
        return "mailbox"  # Graph's 4 requests in flight are the mailbox's, whatever the type

    def update(
        self, item_type: str, changes: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[WriteResult]:
        """PATCH each item; a 404 (deleted meanwhile) is reported on its own result."""
        item_type = item_type_of(item_type)
        answers = self.http.batch(
            [GraphRequest("PATCH", self._item_url(item_type, i), dict(b)) for i, b in changes],
            chained=True,
        )
        return [_write_result(a, item_id) for (item_id, _), a in zip(changes, answers, strict=True)]

    def delete(self, item_type: str, ids: Sequence[str]) -> list[WriteResult]:
        """DELETE each item; one that is already gone (404) counts as deleted."""
        item_type = item_type_of(item_type)
        answers = self.http.batch(
            [GraphRequest("DELETE", self._item_url(item_type, i)) for i in ids], chained=True
        )
        out = []
        for item_id, answer in zip(ids, answers, strict=True):
            if answer.status == 404:
                out.append(WriteResult(ok=True, id=item_id, status=404))
            else:
                out.append(_write_result(answer, item_id))
        return out


def _named(rows: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    wanted = name.casefold()
    return next((r for r in rows if str(r.get("displayName", "")).casefold() == wanted), None)


def _window_start(fragment: str) -> dt.datetime | None:
    key, _, value = fragment.partition("=")
    if key != "window" or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _write_result(answer: GraphResponse, item_id: str = "") -> WriteResult:
    if answer.ok:
        body = answer.body if isinstance(answer.body, dict) else None
        version = ""
        if body:
            version = str(body.get("changeKey") or body.get("@odata.etag") or "")
        return WriteResult(
            ok=True,
            id=str((body or {}).get("id") or item_id),
            version=version,
            item=body,
            status=answer.status,
        )
    return WriteResult(ok=False, id=item_id, status=answer.status, error=answer.message)
