"""The engine's Salesforce adapter: every Salesforce call of a sync session, nothing else.

It takes `call`, which runs `fn(sf)` with a simple-salesforce client (in production
`SalesforceClient(connection).call`, which refreshes an expired session once), and hands
back raw records (plain dicts, `attributes` stripped). No planning, no ORM, no mapping.

Reads. One `POST composite` carries a `queryAll` per object, so a session with no change
costs one API call (API-NOTES G1):
- Contact: every contact the user can read (`SystemModstamp > cursor`). Scope (mine, a
  view) is the planner's: filtering here would hide an owner change that takes a contact
  out of scope.
- Task: `OwnerId = me`, not `TaskSubtype = 'Email'` (logged emails are not to-dos).
- Event: `OwnerId = me`. That returns the user's own events and the IsChild copies
  Salesforce keeps on an invitee's calendar. The copies are not reported (sync only the
  parent) and carry no parent id; they only say "an event you are invited to changed".
- EventRelation: `RelationId = me`: invitations made, answered or withdrawn. A row deleted
  directly may skip the Recycle Bin (queryAll never shows it), so a changed child copy
  also lists the live invitations (`ChangeBatch.invited_event_ids`).
SOQL here has no semi-join (`Id IN (SELECT EventId …)`), so parents of invitations are a
follow-up read, made only when the composite saw invitation rows or changed child copies:
`queryAll … FROM Event WHERE Id IN (…)` in chunks. Idle sessions never pay for it.

Cursor rule (see SalesforceCursor): the highest SystemModstamp Salesforce returned for the
object (Salesforce's clock, so our clock's skew cannot lose changes), unchanged when no
row came. The next read overlaps it by `overlap` so a transaction that committed after
our read with an older stamp is still caught; the rows already delivered inside the
overlap are remembered and not delivered twice. Once a read has run `overlap` after the
stamp was set (a difference of our own clock's readings), the overlap is settled and
reads ask only for later rows, so an idle session reads nothing and costs one call.
Nylas's "timestamp taken before the poll" would need Salesforce's clock, which a query
response does not carry.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceResourceNotFound

from accounts.providers.errors import ProviderError
from syncengine.mappers.salesforce import CONTACT_FIELDS, EVENT_FIELDS, TASK_FIELDS

from .types import (
    ChangeBatch,
    Changes,
    CursorStep,
    OrgUsage,
    Record,
    SalesforceCursor,
    WriteResult,
    check_id,
    error_for,
    parse_sf_datetime,
    select_list,
    soql_datetime,
    strip_attributes,
    translate,
)
from .writes import Send, write_at_once

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Call(Protocol):
    """Runs `fn(sf)` on the user's Salesforce session (SalesforceClient.call)."""

    def __call__(self, fn: Callable[[Salesforce], T], /) -> T: ...


CHUNK = 200  # sObject Collections and composite/sobjects retrieve take at most 200 records
IN_CHUNK = 200  # ids per `Id IN (…)`: ~4 KB of URL, far below the 16 KB limit
DEFAULT_OVERLAP = timedelta(minutes=2)
PURGE_PROBE_LAG = timedelta(hours=1)
RECONCILE_URL_BYTES = 16_000  # a subrequest URL stays under the 16,384-byte URI limit
COMPOSITE_QUERIES = 5  # queries one Composite may carry
EVENT_WINDOW_SLACK = timedelta(days=1)  # all-day events compare by local date: planner decides

# What the engine reads of each object: the mappers' field lists (one definition).
DEFAULT_FIELDS: dict[str, list[str]] = {
    "Contact": CONTACT_FIELDS,
    "Task": TASK_FIELDS,
    "Event": EVENT_FIELDS,
    "EventRelation": [
        "Id",
        "EventId",
        "RelationId",
        "IsInvitee",
        "Status",
        "CreatedDate",
        "LastModifiedDate",
        "SystemModstamp",
        "IsDeleted",
    ],
}
_REQUIRED: dict[str, list[str]] = {
    "Contact": ["Id", "SystemModstamp", "IsDeleted", "MasterRecordId"],
    "Task": ["Id", "OwnerId", "SystemModstamp", "IsDeleted"],
    "Event": ["Id", "OwnerId", "IsChild", "SystemModstamp", "IsDeleted"],
    "EventRelation": ["Id", "EventId", "RelationId", "SystemModstamp", "IsDeleted"],
}
OBJECTS = ("Contact", "Task", "Event", "EventRelation")
_SELECT_LIST = re.compile(r"^\s*SELECT\s.*?\sFROM\s", re.IGNORECASE | re.DOTALL)


NOT_EMAIL_TASK = "TaskSubtype != 'Email'"


def soql(select: Sequence[str], sobject: str, where: Sequence[str] = ()) -> str:
    """SOQL text. Every value in it is an id passed through `check_id` or a datetime."""
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT {', '.join(select)} FROM {sobject}{clause}"  # noqa: S608 - SOQL, checked ids


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SalesforceAdapter:
    def __init__(
        self,
        call: Call,
        user_id: str,
        api_version: str = "59.0",
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        write_concurrency: int = 1,
    ) -> None:
        self._call = call
        self.user_id = check_id(user_id)
        self.api_version = api_version.lstrip("v")
        self.overlap = overlap
        self.clock = clock  # only differences of its readings are used (see the cursor)
        self.api_calls = 0  # HTTP calls this adapter made (each one is one Salesforce API call)
        self._sf: Salesforce | None = None
        self.write_concurrency = max(1, write_concurrency)  # Collections calls at once
        self._count_lock = threading.Lock()  # writes' calls are counted from their threads
        self._proven = False  # a call went through with the session's token

    # -- plumbing ------------------------------------------------------------------------

    @property
    def call(self) -> Call:
        """How this adapter runs work on the user's Salesforce session (to share it)."""
        return self._call

    def run(self, fn: Callable[[Salesforce], T]) -> T:
        """One HTTP call through `call`, counted, its failure mapped to the engine's errors."""

        def counted(sf: Salesforce) -> T:
            self._sf = sf
            with self._count_lock:
                self.api_calls += 1
            return fn(sf)

        try:
            answer = self._call(counted)
            self._proven = True
            return answer
        except ProviderError:
            raise
        except (SalesforceError, requests.RequestException) as exc:
            raise translate(exc) from exc

    @property
    def org_usage(self) -> OrgUsage | None:
        """The org's API usage as of the last successful response (free: a header)."""
        usage = (self._sf.api_usage if self._sf is not None else {}).get("api-usage")
        return OrgUsage(usage.used, usage.total) if usage else None

    def _data_path(self, url: str) -> str:
        """A `/services/data/vXX.X/…` path as simple-salesforce's `restful` wants it."""
        return re.sub(r"^/services/data/v[\d.]+/", "", url)

    def rest(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        """One counted REST call, `path` below /services/data/vXX.X/ (the JSON answer)."""
        return self.run(lambda sf: sf.restful(path, method=method, **kwargs))

    def drain(self, page: Mapping[str, Any]) -> list[Record]:
        """All rows of a query result, following nextRecordsUrl (one call per page)."""
        rows = [strip_attributes(r) for r in page.get("records") or []]
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            url = page["nextRecordsUrl"]

            def more(sf: Salesforce, url: str = url) -> Any:
                return sf.query_more(url, identifier_is_url=True)

            page = self.run(more)
            rows.extend(strip_attributes(r) for r in page.get("records") or [])
        return rows

    def _query(self, soql: str, *, include_deleted: bool = False) -> list[Record]:
        return self.drain(self.run(lambda sf: sf.query(soql, include_deleted=include_deleted)))

    def _composite(self, subrequests: Mapping[str, str]) -> dict[str, tuple[int, Any]]:
        """GET subrequests (reference id -> data path) in one `POST composite`: one API
        call. Answers (status, body) by reference id; the caller judges failures."""
        base = f"/services/data/v{self.api_version}"
        body = {
            "allOrNone": False,
            "compositeRequest": [
                {"method": "GET", "url": f"{base}/{path}", "referenceId": ref}
                for ref, path in subrequests.items()
            ],
        }
        answer = self.rest("composite", method="POST", json=body)
        return {
            sub["referenceId"]: (int(sub.get("httpStatusCode", 500)), sub.get("body"))
            for sub in answer["compositeResponse"]
        }

    def _composite_queries(
        self, queries: Mapping[str, str], extra: Mapping[str, str] | None = None
    ) -> tuple[dict[str, list[Record]], dict[str, tuple[int, Any]]]:
        """Up to five queryAll in one API call; pages beyond the first cost one call each.
        `extra` GET subrequests (describe, getDeleted) ride along; their answers are
        returned as they came."""
        paths = {ref: f"queryAll?{urlencode({'q': q})}" for ref, q in queries.items()}
        answers = self._composite({**paths, **(extra or {})})
        out: dict[str, list[Record]] = {}
        for ref in queries:
            status, body = answers[ref]
            if status >= 300:
                raise error_for(status, body)
            out[ref] = self.drain(body)
        return out, {ref: answers[ref] for ref in extra or {}}

    # -- incremental reads ---------------------------------------------------------------

    def read_changes(
        self,
        since: Mapping[str, SalesforceCursor | datetime | None],
        *,
        fields: Mapping[str, Sequence[str]] | None = None,
        user_id: str | None = None,
        event_window: tuple[datetime, datetime] | None = None,
        view_id: str | None = None,
        probe_purges: Sequence[str] = (),
    ) -> ChangeBatch:
        """Contacts, tasks, events and invitations changed since the cursors (None: all).

        `since` and `fields` are keyed by "Contact", "Task", "Event", "EventRelation"; a
        missing cursor reads everything, missing fields take DEFAULT_FIELDS. With
        `event_window` (lo, hi) events outside [lo - 1 day, hi + 1 day] are not read.

        Riding in the same Composite (still one API call): with `view_id`, the contact
        view's describe (`view_query` / `view_missing`); for each object of
        `probe_purges`, a getDeleted over a one-minute window an hour back, only for its
        `earliestDateAvailable` (a tiny window keeps the answer small; an hour back keeps
        `start` in Salesforce's past whatever our clock's skew). A refused probe is
        left out: the caller's own clock rule still notices a long absence.
        """
        me = check_id(user_id or self.user_id)
        calls_before = self.api_calls
        cursors = {o: SalesforceCursor.coerce(since.get(o)) for o in OBJECTS}
        selects = {
            o: select_list((fields or {}).get(o) or DEFAULT_FIELDS[o], _REQUIRED[o])
            for o in OBJECTS
        }
        window = ""
        if event_window is not None:
            lo, hi = event_window
            window = (
                f"EndDateTime >= {soql_datetime(lo - EVENT_WINDOW_SLACK)} AND "
                f"StartDateTime <= {soql_datetime(hi + EVENT_WINDOW_SLACK)}"
            )
        conditions = {
            "Contact": [],
            # Logged emails are Tasks of subtype Email (SPEC §6): history, not to-dos.
            "Task": [f"OwnerId = '{me}'", NOT_EMAIL_TASK],
            "Event": [f"OwnerId = '{me}'", *([window] if window else [])],
            "EventRelation": [f"RelationId = '{me}'"],
        }
        queries = {}
        for obj in OBJECTS:
            where = list(conditions[obj])
            since_condition = cursors[obj].condition(self.overlap)
            if since_condition:
                where.append(since_condition)
            queries[obj] = soql(selects[obj], obj, where)
        extra: dict[str, str] = {}
        if view_id:
            extra["view"] = f"sobjects/Contact/listviews/{check_id(view_id)}/describe"
        probe_start = (self.clock() - PURGE_PROBE_LAG).replace(second=0, microsecond=0)
        window_params = urlencode(
            {
                "start": soql_datetime(probe_start),
                "end": soql_datetime(probe_start + timedelta(minutes=1)),
            }
        )
        for obj in probe_purges:
            extra[f"deleted:{obj}"] = f"sobjects/{obj}/deleted/?{window_params}"
        started = self.clock()
        rows, answers = self._composite_queries(queries, extra)
        ended = self.clock()
        view_query, view_missing = self._described_view(answers.get("view"))
        earliest = _earliest_available(answers)

        steps = {o: CursorStep(cursors[o], self.overlap, started, ended) for o in OBJECTS}
        contacts, tasks, events, invitations = Changes(), Changes(), Changes(), Changes()
        merged: dict[str, str] = {}
        for row in rows["Contact"]:
            if steps["Contact"].is_new(row):
                contacts.add(row)
                if row.get("IsDeleted") and row.get("MasterRecordId"):
                    merged[row["Id"]] = row["MasterRecordId"]
        for row in rows["Task"]:
            if steps["Task"].is_new(row):
                tasks.add(row)
        invited_changed = False
        for row in rows["Event"]:
            if steps["Event"].is_new(row):
                if row.get("IsChild"):
                    invited_changed = True
                else:
                    events.add(row)
        for row in rows["EventRelation"]:
            if steps["EventRelation"].is_new(row):
                invitations.add(row)

        invited_now = self._read_invited_events(
            me,
            events,
            invitations,
            step=steps["Event"],
            since_condition=cursors["Event"].condition(self.overlap),
            # A full invitation read already names every invitation: no need to list them.
            list_all=invited_changed and cursors["EventRelation"].modstamp is not None,
            select=selects["Event"],
            window=window,
        )
        return ChangeBatch(
            contacts=contacts,
            tasks=tasks,
            events=events,
            invitations=invitations,
            merged=merged,
            cursors={o: steps[o].cursor() for o in OBJECTS},
            full=frozenset(o for o in OBJECTS if cursors[o].modstamp is None),
            api_calls=self.api_calls - calls_before,
            view_query=view_query,
            view_missing=view_missing,
            earliest_available=earliest,
            invited_event_ids=invited_now,
        )

    @staticmethod
    def _described_view(answer: tuple[int, Any] | None) -> tuple[str | None, bool]:
        """(query, missing) of a list view describe subresponse."""
        if answer is None:
            return None, False
        status, body = answer
        if status == 404:
            return None, True  # deleted in Salesforce: reported, nothing is deleted
        if status >= 300:
            raise error_for(status, body)
        return str(body["query"]), False

    def _read_invited_events(
        self,
        me: str,
        events: Changes,
        invitations: Changes,
        *,
        step: CursorStep,
        since_condition: str | None,
        list_all: bool,
        select: Sequence[str],
        window: str,
    ) -> frozenset[str] | None:
        """Parents of the user's invitations: those whose invitation changed (whatever the
        parent's stamp) and, when a child copy changed, every invited parent changed since
        the Event cursor. Their stamps do not move the Event cursor (the child copies already did;
        rows of the user's own events committed meanwhile must not be skipped).

        Returns the events the user is invited to now when this read listed them (a child
        copy changed), else None."""
        known = set(events.records) | set(events.deleted)
        touched = {
            r["EventId"] for r in (*invitations.records.values(), *invitations.deleted.values())
        }
        touched -= known
        others: set[str] = set()
        invited_now: frozenset[str] | None = None
        if list_all:
            mine = [f"RelationId = '{me}'", "IsInvitee = true"]
            live = self._query(soql(["EventId"], "EventRelation", mine))
            invited_now = frozenset(r["EventId"] for r in live)
            others = set(invited_now) - touched - known
        extra = [window] if window else []
        since = [since_condition] if since_condition else []
        for ids, conds in ((sorted(touched), extra), (sorted(others), [*since, *extra])):
            for chunk in chunks(ids, IN_CHUNK):
                id_list = ", ".join(f"'{check_id(i)}'" for i in chunk)
                query = soql(select, "Event", [f"Id IN ({id_list})", *conds])
                for row in self._query(query, include_deleted=True):
                    if not row.get("IsChild") and step.is_new(row, advances=False):
                        events.add(row)
        return invited_now

    # -- reconciliation ------------------------------------------------------------------

    def existing_ids(self, ids_by_sobject: Mapping[str, Sequence[str]]) -> frozenset[str]:
        """Which of the ids still exist in Salesforce (not deleted, not purged). queryAll,
        so archived activities count as existing; a tombstone (IsDeleted) or no row at all
        does not. Packed as `Id IN (…)` queries of as many ids as a URL holds, five to a
        Composite: about 2,800 ids per API call."""
        queries = [q for obj, ids in ids_by_sobject.items() if ids for q in id_queries(obj, ids)]
        alive: set[str] = set()
        for batch in chunks(queries, COMPOSITE_QUERIES):
            rows, _ = self._composite_queries({f"ids{n}": q for n, q in enumerate(batch)})
            for found in rows.values():
                alive |= {r["Id"] for r in found if not r.get("IsDeleted")}
        return frozenset(alive)

    # -- contact list views --------------------------------------------------------------

    def list_contact_views(self) -> list[tuple[str, str]]:
        """(id, label) of the Contact list views Salesforce offers this user."""
        page = self.rest("sobjects/Contact/listviews")
        views = list(page.get("listviews") or [])
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            page = self.rest(self._data_path(page["nextRecordsUrl"]))
            views.extend(page.get("listviews") or [])
        return [(v["id"], v["label"]) for v in views]

    def contact_view_member_ids(self, view_id: str) -> frozenset[str] | None:
        """Ids of the contacts in the view, as Salesforce evaluates its filter for this
        user; None when the view no longer exists (the planner reports it, deletes nothing).
        Costs 1 describe + ⌈members / 2000⌉ query calls."""
        check_id(view_id)

        def describe(sf: Salesforce) -> Any:
            try:
                return sf.restful(f"sobjects/Contact/listviews/{view_id}/describe")
            except SalesforceResourceNotFound:
                return None

        described = self.run(describe)
        if described is None:
            return None
        return self.view_query_member_ids(described["query"])

    def view_query_member_ids(self, view_query: str) -> frozenset[str]:
        """Ids of the contacts a described view query returns (⌈members / 2000⌉ calls)."""
        query, n = _SELECT_LIST.subn("SELECT Id FROM ", view_query, count=1)
        if n != 1:
            raise ProviderError(
                f"Salesforce described a list view query Relay cannot read: {query}"
            )
        return frozenset(r["Id"] for r in self._query(query))

    # -- reads by id ---------------------------------------------------------------------

    def fetch_by_ids(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, Record | None]:
        """The live records for `ids`; None for a deleted or unknown id. ≤200 ids a call.
        The engine confirms deletions with it: absence from a read is never a deletion.
        This resource takes the object's own fields only: relationship paths
        ("Account.Name") are left out."""
        wanted = fields or DEFAULT_FIELDS.get(sobject) or ["Id"]
        select = select_list([f for f in wanted if "." not in f], ["Id"])
        unique = list(dict.fromkeys(check_id(i) for i in ids))
        out: dict[str, Record | None] = {}
        for chunk in chunks(unique, CHUNK):
            params = {"ids": ",".join(chunk), "fields": ",".join(select)}
            rows = self.rest(f"composite/sobjects/{sobject}", params=params) or []
            for requested, row in zip(chunk, rows, strict=True):
                out[requested] = strip_attributes(row) if row else None
        return out

    def read_by_ids(
        self, sobject: str, ids: Sequence[str], *, include_deleted: bool = True
    ) -> dict[str, Record]:
        """Records by id through `queryAll … WHERE Id IN (…)` (≤200 ids a call): unlike
        `fetch_by_ids` it keeps relationship fields (Account.Name) and returns tombstones
        (IsDeleted, MasterRecordId), so the rows compare with the change feed's."""
        select = select_list(DEFAULT_FIELDS[sobject], _REQUIRED[sobject])
        out: dict[str, Record] = {}
        for chunk in chunks(list(dict.fromkeys(check_id(i) for i in ids)), IN_CHUNK):
            id_list = ", ".join(f"'{i}'" for i in chunk)
            query = soql(select, sobject, [f"Id IN ({id_list})"])
            for row in self._query(query, include_deleted=include_deleted):
                out[row["Id"]] = row
        return out

    def read_where(
        self, sobject: str, where: Sequence[str], *, include_deleted: bool = False
    ) -> list[Record]:
        """Rows of `sobject` with DEFAULT_FIELDS under the given SOQL conditions. The
        caller builds the conditions from checked ids, dates and `soql_string` values."""
        select = select_list(DEFAULT_FIELDS[sobject], _REQUIRED[sobject])
        return self._query(soql(select, sobject, where), include_deleted=include_deleted)

    # -- hooks for syncengine.salesforce.relations (issue 9) -----------------------------

    def query(self, soql_text: str, *, include_deleted: bool = False) -> list[Record]:
        """All rows of one SOQL query (one call per page); the caller builds it safely."""
        return self._query(soql_text, include_deleted=include_deleted)

    def has_sobject(self, sobject: str) -> bool:
        """Whether the org describes `sobject` (404 means the feature is off). One call."""

        def describe(sf: Salesforce) -> bool:
            try:
                sf.restful(f"sobjects/{sobject}/describe")
            except SalesforceResourceNotFound:
                return False
            return True

        return self.run(describe)

    def created_ids_since(self, sobject: str, since: datetime) -> list[str]:
        """Ids of `sobject` records this user created at or after `since`, oldest first:
        where a create whose answer was lost is looked for when its content changed."""
        me = check_id(self.user_id)
        where = [f"CreatedById = '{me}'", f"CreatedDate >= {soql_datetime(since)}"]
        rows = self._query(
            soql(["Id", "CreatedDate"], sobject, where) + " ORDER BY CreatedDate, Id"
        )
        return [r["Id"] for r in rows]

    # -- writes --------------------------------------------------------------------------

    def create(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """Insert records; one WriteResult per record, in order. ⌈n/200⌉ calls."""
        return self._collection("POST", [{"attributes": {"type": sobject}, **r} for r in records])

    def update(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """Update records, each with its "Id"; a deleted one fails alone (`result.gone`)."""
        for r in records:
            if not r.get("Id"):
                raise ValueError("update needs an Id on every record")
        return self._collection("PATCH", [{"attributes": {"type": sobject}, **r} for r in records])

    def delete(self, ids: Sequence[str]) -> list[WriteResult]:
        """Delete records (any types); an already deleted one fails alone (`result.gone`)."""

        def send(chunk: Sequence[Any]) -> list[WriteResult]:
            params = {"ids": ",".join(chunk), "allOrNone": "false"}
            answer = self.rest("composite/sobjects", method="DELETE", params=params)
            return self.write_results(answer, len(chunk))

        return self._at_once(send, [check_id(i) for i in ids])

    def _collection(self, method: str, records: list[dict[str, Any]]) -> list[WriteResult]:
        def send(chunk: Sequence[Any]) -> list[WriteResult]:
            body = {"allOrNone": False, "records": list(chunk)}
            answer = self.rest("composite/sobjects", method=method, json=body)
            return self.write_results(answer, len(chunk))

        return self._at_once(send, records)

    def _at_once(self, send: Send, records: Sequence[Any]) -> list[WriteResult]:
        """Calls of 200 records, several at once (syncengine.salesforce.writes)."""
        limit = self.write_concurrency
        return write_at_once(send, records, chunk=CHUNK, limit=limit, proven=self._proven)

    @staticmethod
    def write_results(answer: Any, expected: int) -> list[WriteResult]:
        """One WriteResult per record of an sObject Collections answer, or ProviderError."""
        if not isinstance(answer, list) or len(answer) != expected:
            raise ProviderError(f"Salesforce answered {expected} records with {answer!r}")
        return [WriteResult.from_json(r) for r in answer]


def _earliest_available(answers: Mapping[str, tuple[int, Any]]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for ref, (status, body) in answers.items():
        if not ref.startswith("deleted:"):
            continue
        if status < 300 and isinstance(body, dict) and body.get("earliestDateAvailable"):
            out[ref.removeprefix("deleted:")] = parse_sf_datetime(body["earliestDateAvailable"])
        else:
            logger.info("getDeleted probe for %s refused: %s %s", ref, status, body)
    return out


def id_queries(
    sobject: str, ids: Sequence[str], max_url_bytes: int = RECONCILE_URL_BYTES
) -> list[str]:
    """`SELECT Id, IsDeleted FROM X WHERE Id IN (…)` texts over `ids`, each as many ids as
    fit in a queryAll URL of `max_url_bytes` (about 570 ids of 18 characters)."""
    empty = soql(["Id", "IsDeleted"], sobject, ["Id IN ()"])
    base = len(f"/services/data/v99.0/queryAll?{urlencode({'q': empty})}")
    per_id = len(urlencode({"q": "'000000000000000000', "})) - 2  # minus "q="
    room = max(1, (max_url_bytes - base) // per_id)
    out = []
    for chunk in chunks([check_id(i) for i in ids], room):
        id_list = ", ".join(f"'{i}'" for i in chunk)
        out.append(soql(["Id", "IsDeleted"], sobject, [f"Id IN ({id_list})"]))
    return out
