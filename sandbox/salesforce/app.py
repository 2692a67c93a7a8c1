"""The Salesforce REST emulator: `/services/data/vXX.X/…`, OAuth, limits, and the test API.

One org per instance; the principal of a call is the Salesforce User Id its token was
issued for. Routes for OAuth, list views and composite live in mixins beside this file.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import Emulator, HttpError, route

from .composite import CompositeRoutes
from .listviews import ListViewRoutes
from .locks import RecordLocking
from .oauth import OAuthRoutes
from .schema import QUERY_LOCATOR_PREFIX
from .soql import run as run_soql
from .store import Store
from .values import ValidationError, fmt_datetime

DATA = "/services/data/v<version>"
_VERSION_RE = re.compile(r"^\d{2,3}\.0$")
DEFAULT_BUDGET = 15000
# Long-running (>= 20 s) requests an org may have in flight: 25 in production, 5 in a
# Developer Edition or trial org (API request limits cheatsheet).
DEFAULT_LONG_RUNNING_MAX = 25
MAX_OPEN_CURSORS = 10
CURSOR_IDLE = timedelta(minutes=15)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SalesforceEmulator(OAuthRoutes, ListViewRoutes, CompositeRoutes, RecordLocking, Emulator):
    name = "salesforce"

    def __init__(self) -> None:
        self.clock: Callable[[], datetime] = _utcnow
        super().__init__()
        self._fresh_state()

    def _fresh_state(self) -> None:
        self.store = Store(lambda: self.clock())
        # locator -> [records, batch size, owner, last use, use order]: a user keeps at most 10 open
        # and one dies after 15 minutes unused (query() / queryMore() reference).
        self.cursors: dict[str, list[Any]] = {}
        self._cursor_seq = 0  # orders uses that share one frozen instant
        self.budget_max = DEFAULT_BUDGET
        self.budget_used = 0
        self.long_running = 0  # long-running requests the test says are in flight
        self.long_running_max = DEFAULT_LONG_RUNNING_MAX
        self.reset_list_views()
        self._fresh_locks()

    # -- base hooks ----------------------------------------------------------------------

    def error_body(self, err: HttpError) -> Any:
        return [
            {"message": err.message, "errorCode": err.code, "fields": err.details.get("fields", [])}
        ]

    def unauthorized(self) -> HttpError:
        return HttpError(401, "INVALID_SESSION_ID", "Session expired or invalid")

    def before_call(self, request: Request, principal: str | None) -> None:
        # Salesforce refuses over-limit calls with 403 REQUEST_LIMIT_EXCEEDED, never 429, and
        # sends no Retry-After: the rolling 24-hour budget, or the concurrent long-running cap.
        if self.budget_used >= self.budget_max:
            raise HttpError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if self.long_running >= self.long_running_max:
            raise HttpError(
                403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."
            )
        self.budget_used += 1
        self.store.purge_expired()

    def decorate(self, response: Response, principal: str | None) -> None:
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.budget_used}/{self.budget_max}"

    def reset(self) -> None:
        super().reset()
        self._fresh_state()

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        from .seeding import seed

        return seed(self, data)

    def _control(self, request: Request) -> Response:
        from .seeding import control

        handled = self.locks_control(request) or control(self, request)
        return handled if handled is not None else super()._control(request)

    # -- Python API for tests ------------------------------------------------------------

    @property
    def org_id(self) -> str:
        return self.store.org_id

    @property
    def enhanced_email(self) -> bool:
        return self.store.enhanced_email

    @enhanced_email.setter
    def enhanced_email(self, on: bool) -> None:
        self.store.enhanced_email = on

    def add_user(
        self,
        username: str,
        last_name: str,
        first_name: str = "",
        email: str | None = None,
        **fields: Any,
    ) -> str:
        with self.lock:
            values = {
                "Username": username,
                "LastName": last_name,
                "FirstName": first_name or None,
                "Email": email or username,
                **fields,
            }
            return self.store.create("User", values, actor="", system=True)

    def issue_token(self, user_id: str) -> tuple[str, str]:
        access, refresh = self.tokens.issue(user_id)
        assert refresh is not None
        return access, refresh

    def create(self, sobject: str, fields: dict[str, Any], user_id: str | None = None) -> str:
        with self.lock:
            return self.store.create(sobject, fields, user_id, system=True)

    def update(self, record_id: str, fields: dict[str, Any], user_id: str | None = None) -> None:
        with self.lock:
            self.store.update(self._type(record_id), record_id, fields, user_id, system=True)

    def delete(self, record_id: str, user_id: str | None = None) -> None:
        with self.lock:
            self.store.delete(self._type(record_id), record_id, user_id)

    def get(self, record_id: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.store.find(record_id)
            return self.store.to_json(*found) if found else None

    def query(self, soql: str, user_id: str | None = None, include_deleted: bool = False) -> list:
        with self.lock:
            self.store.purge_expired()
            return run_soql(self.store, soql, user_id, include_deleted=include_deleted)[1]

    def merge_contacts(
        self, master_id: str, loser_ids: list[str], user_id: str | None = None
    ) -> None:
        with self.lock:
            self.store.merge_contacts(master_id, loser_ids, user_id)

    def purge_deleted(self, older_than_days: float | None = None) -> int:
        """Empty the Recycle Bin now (all of it, or what was deleted that many days ago)."""
        with self.lock:
            age = timedelta(days=older_than_days) if older_than_days is not None else None
            return self.store.purge_deleted(age)

    @property
    def shared_activities(self) -> bool:
        return self.store.shared_activities

    @shared_activities.setter
    def shared_activities(self, on: bool) -> None:
        with self.lock:
            self.store.set_shared_activities(on)

    @property
    def event_relation_in_bin(self) -> bool:
        """Whether a directly deleted EventRelation stays in queryAll (IsDeleted) until
        purged, as other records do; False (the default) treats it like TaskRelation."""
        return "EventRelation" not in self.store.bin_skipping_relations

    @event_relation_in_bin.setter
    def event_relation_in_bin(self, on: bool) -> None:
        with self.lock:
            if on:
                self.store.bin_skipping_relations.discard("EventRelation")
            else:
                self.store.bin_skipping_relations.add("EventRelation")

    def hold_long_running(self, n: int, max_concurrent: int | None = None) -> None:
        """Pretend n long-running requests are in flight (0 releases them)."""
        self.long_running = n
        if max_concurrent is not None:
            self.long_running_max = max_concurrent

    def set_clock(self, now: datetime | None) -> None:
        """Freeze "now" (None: back to the wall clock)."""
        if now is None:
            self.clock = _utcnow
            return
        frozen = now if now.tzinfo else now.replace(tzinfo=UTC)
        self.clock = lambda: frozen
        # An org frozen in the past was not created in the future (earliestDateAvailable).
        self.store.created_at = min(self.store.created_at, frozen)

    def advance(self, **delta: float) -> datetime:
        """Move a frozen (or the real) clock forward by timedelta(**delta)."""
        target = self.clock() + timedelta(**delta)
        self.set_clock(target)
        return target

    def set_budget(self, max_calls: int | None = None, used: int | None = None) -> None:
        if max_calls is not None:
            self.budget_max = max_calls
        if used is not None:
            self.budget_used = used

    def exhaust_budget(self) -> None:
        self.budget_used = self.budget_max

    def _type(self, rid: str) -> str:
        sobject = self.store.type_of(rid)
        if sobject is None:
            raise KeyError(rid)
        return sobject

    # -- request helpers -----------------------------------------------------------------

    def _version(self, version: str) -> None:
        if not _VERSION_RE.match(version):
            raise HttpError(404, "NOT_FOUND", "The requested resource does not exist")
        self.store.api_version = version

    def _sobject(self, name: str) -> Any:
        obj = self.store.sobject(name)
        if obj is None:
            raise HttpError(404, "NOT_FOUND", "The requested resource does not exist")
        return obj

    def _raise_if_lock_refused(self, request: Request) -> None:
        # A single-record write is one record: a row it could not lock fails the call.
        refused = self.lock_refused(request)
        if refused is not None:
            raise refused

    @staticmethod
    def body(request: Request) -> Any:
        try:
            return json.loads(request.get_data(as_text=True) or "null")
        except ValueError as err:
            raise ValidationError("JSON_PARSER_ERROR", f"Unexpected character: {err}") from None

    def _record_body(self, request: Request) -> dict[str, Any]:
        data = self.body(request)
        if not isinstance(data, dict):
            raise ValidationError(
                "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from the request body"
            )
        return data

    def _id_in_path(self, obj: Any, raw: str) -> str:
        rid = self.store.resolve_id(raw)
        # A derived view (EventWhoRelation) shares the id of the row it mirrors.
        if rid is None or (
            self.store.type_of(rid) != obj.name and rid not in self.store.records[obj.name]
        ):
            raise HttpError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {raw}",
            )
        return rid

    # -- versions, limits ----------------------------------------------------------------

    @route("/services/data", auth=False, counted=False)
    def versions(self, request: Request, principal: str | None) -> Any:
        return [
            {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"},
            {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"},
        ]

    @route(DATA)
    def resources(self, request: Request, principal: str | None, version: str) -> Any:
        self._version(version)
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "limits", "composite")
        return {n: f"{base}/{n}" for n in names}

    @route(f"{DATA}/limits")
    def limits(self, request: Request, principal: str | None, version: str) -> Any:
        self._version(version)
        return {
            "DailyApiRequests": {
                "Max": self.budget_max,
                "Remaining": max(0, self.budget_max - self.budget_used),
            },
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
            "FileStorageMB": {"Max": 20, "Remaining": 20},
        }

    # -- query -----------------------------------------------------------------------------

    @route(f"{DATA}/query")
    def query_route(self, request: Request, principal: str | None, version: str) -> Any:
        return self._query(request, principal, version, include_deleted=False)

    @route(f"{DATA}/queryAll")
    def query_all_route(self, request: Request, principal: str | None, version: str) -> Any:
        return self._query(request, principal, version, include_deleted=True)

    def _query(
        self, request: Request, principal: str | None, version: str, *, include_deleted: bool
    ) -> Any:
        self._version(version)
        soql = request.args.get("q")
        if not soql:
            raise HttpError(400, "MALFORMED_QUERY", "A query string has to be specified")
        total, records = run_soql(self.store, soql, principal, include_deleted=include_deleted)
        batch = 2000
        options = request.headers.get("Sforce-Query-Options", "")
        m = re.search(r"batchSize\s*=\s*(\d+)", options)
        if m:
            batch = min(2000, max(200, int(m[1])))
        locator = QUERY_LOCATOR_PREFIX + secrets.token_hex(8)[:15]
        mine = sorted((c[3], c[4], key) for key, c in self.cursors.items() if c[2] == principal)
        for _, _, oldest in mine[: max(0, len(mine) - MAX_OPEN_CURSORS + 1)]:
            del self.cursors[oldest]
        self._cursor_seq += 1
        self.cursors[locator] = [records, batch, principal, self.clock(), self._cursor_seq]
        return self._page(locator, 0, total, version, "queryAll" if include_deleted else "query")

    def _page(self, locator: str, offset: int, total: int, version: str, kind: str) -> Any:
        records, batch = self.cursors[locator][:2]
        self._cursor_seq += 1
        self.cursors[locator][3:] = [self.clock(), self._cursor_seq]
        page = records[offset : offset + batch]
        done = offset + batch >= len(records)
        body: dict[str, Any] = {"totalSize": total, "done": done}
        if done:
            self.cursors.pop(locator, None)
        else:
            body["nextRecordsUrl"] = f"/services/data/v{version}/{kind}/{locator}-{offset + batch}"
        body["records"] = page
        return body

    @route(f"{DATA}/query/<cursor>")
    def query_more(self, request: Request, principal: str | None, version: str, cursor: str) -> Any:
        return self._more(version, cursor, "query")

    @route(f"{DATA}/queryAll/<cursor>")
    def query_all_more(
        self, request: Request, principal: str | None, version: str, cursor: str
    ) -> Any:
        return self._more(version, cursor, "queryAll")

    def _more(self, version: str, cursor: str, kind: str) -> Any:
        self._version(version)
        locator, _, offset = cursor.rpartition("-")
        cursor = self.cursors.get(locator)
        if cursor is not None and self.clock() - cursor[3] > CURSOR_IDLE:
            del self.cursors[locator]
            cursor = None
        if cursor is None or not offset.isdigit():
            raise HttpError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        records = cursor[0]
        return self._page(locator, int(offset), len(records), version, kind)

    # -- sObjects ------------------------------------------------------------------------

    @route(f"{DATA}/sobjects")
    def sobjects(self, request: Request, principal: str | None, version: str) -> Any:
        self._version(version)
        objs = [o for o in self.store.schema.values() if self.store.sobject(o.name)]
        return {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [self._summary(o, version) for o in objs],
        }

    def _summary(self, obj: Any, version: str) -> dict[str, Any]:
        base = f"/services/data/v{version}/sobjects/{obj.name}"
        return {
            "name": obj.name,
            "label": obj.label,
            "keyPrefix": obj.prefix,
            "createable": obj.createable,
            "updateable": obj.updateable,
            "deletable": obj.deletable,
            "queryable": True,
            "custom": False,
            "urls": {
                "sobject": base,
                "describe": f"{base}/describe",
                "rowTemplate": f"{base}/{{ID}}",
            },
        }

    @route(f"{DATA}/sobjects/<name>")
    def sobject_info(self, request: Request, principal: str | None, version: str, name: str) -> Any:
        self._version(version)
        return {"objectDescribe": self._summary(self._sobject(name), version), "recentItems": []}

    @route(f"{DATA}/sobjects/<name>/describe")
    def describe(self, request: Request, principal: str | None, version: str, name: str) -> Any:
        self._version(version)
        obj = self._sobject(name)
        fields = [
            {
                "name": f.name,
                "label": f.name,
                "type": f.type,
                "length": f.length,
                "nillable": f.nillable,
                "createable": f.createable,
                "updateable": f.updateable,
                "defaultedOnCreate": f.defaulted,
                "referenceTo": list(f.reference_to),
                "relationshipName": f.relationship,
                "filterable": f.queryable,
                "sortable": f.queryable,
                "custom": f.name.endswith("__c"),
            }
            for f in obj.fields.values()
        ]
        return {**self._summary(obj, version), "fields": fields}

    @route(f"{DATA}/sobjects/<name>", methods=("POST",))
    def create_route(self, request: Request, principal: str | None, version: str, name: str) -> Any:
        self._version(version)
        obj = self._sobject(name)
        self._raise_if_lock_refused(request)
        rid = self.store.create(obj.name, self._record_body(request), principal)
        return self.json_response({"id": rid, "success": True, "errors": []}, 201)

    @route(f"{DATA}/sobjects/<name>/<rid>")
    def read_route(
        self, request: Request, principal: str | None, version: str, name: str, rid: str
    ) -> Any:
        self._version(version)
        obj = self._sobject(name)
        rid = self._id_in_path(obj, rid)
        rec = self.store.live(obj.name, rid)
        fields = [f for f in request.args.get("fields", "").split(",") if f.strip()]
        return self.store.to_json(obj.name, rec, [f.strip() for f in fields] or None)

    @route(f"{DATA}/sobjects/<name>/<rid>", methods=("PATCH",))
    def update_route(
        self, request: Request, principal: str | None, version: str, name: str, rid: str
    ) -> Any:
        self._version(version)
        obj = self._sobject(name)
        self._raise_if_lock_refused(request)
        self.store.update(
            obj.name, self._id_in_path(obj, rid), self._record_body(request), principal
        )
        return Response(status=204)

    @route(f"{DATA}/sobjects/<name>/<rid>", methods=("DELETE",))
    def delete_route(
        self, request: Request, principal: str | None, version: str, name: str, rid: str
    ) -> Any:
        self._version(version)
        obj = self._sobject(name)
        self._raise_if_lock_refused(request)
        self.store.delete(obj.name, self._id_in_path(obj, rid), principal)
        return Response(status=204)

    @route(f"{DATA}/sobjects/<name>/<rid>/<blob>")
    def blob_route(
        self, request: Request, principal: str | None, version: str, name: str, rid: str, blob: str
    ) -> Any:
        self._version(version)
        obj = self._sobject(name)
        rec = self.store.live(obj.name, self._id_in_path(obj, rid))
        f = obj.lookup(blob)
        if f is None or f.type != "base64" or rec.get(f.name) is None:
            raise HttpError(404, "NOT_FOUND", "The requested resource does not exist")
        return Response(rec[f.name], content_type="application/octet-stream")

    # -- replication -----------------------------------------------------------------------

    @route(f"{DATA}/sobjects/<name>/updated")
    def updated(self, request: Request, principal: str | None, version: str, name: str) -> Any:
        self._version(version)
        obj = self._sobject(name)
        start, latest = self.store.window(
            request.args.get("start", ""), request.args.get("end", "")
        )
        return {
            "ids": self.store.updated_ids(obj.name, start, latest),
            "latestDateCovered": fmt_datetime(latest),
        }

    @route(f"{DATA}/sobjects/<name>/deleted")
    def deleted(self, request: Request, principal: str | None, version: str, name: str) -> Any:
        self._version(version)
        obj = self._sobject(name)
        start, latest = self.store.window(
            request.args.get("start", ""), request.args.get("end", "")
        )
        rows = self.store.deleted_records(obj.name, start, latest)
        return {
            "deletedRecords": [{"id": i, "deletedDate": fmt_datetime(d)} for i, d in rows],
            "earliestDateAvailable": fmt_datetime(
                self.store.earliest_date_available(obj.name).replace(second=0, microsecond=0)
            ),
            "latestDateCovered": fmt_datetime(latest),
        }
