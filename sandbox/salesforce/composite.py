"""sObject Collections (`composite/sobjects`) and Composite (`composite`).

Both are one API call however many records or subrequests they carry: subrequests are
dispatched in-process through the same routes, never through WSGI, so they stay off the
call log and the budget. allOrNone rolls back with a store snapshot.
"""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from sandbox.common import HttpError, route

from .values import ValidationError, to_18

DATA = "/services/data/v<version>/composite"
MAX_COLLECTION = 200
MAX_SUBREQUESTS = 25
MAX_QUERY_OR_COLLECTION = 5
_REF = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])+)\}")
_HEAVY = re.compile(r"^/services/data/v[\d.]+/(query|queryAll|composite/sobjects)(/|\?|$)")
_ALLOWED = re.compile(
    r"^/services/data/v[\d.]+/(sobjects|query|queryAll|composite/sobjects)(/|\?|$)"
)
# sObject Blob Get (and Rich Text Image Get) return binary data: not allowed in Composite.
_BLOB = re.compile(r"^/services/data/v[\d.]+/sobjects/\w+/\w{15,18}/\w+/?$")
HALTED = "The transaction was rolled back since another operation in the same transaction failed."
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was "
    "using AllOrNone header",
    "fields": [],
}


def _record_error(err: HttpError) -> dict[str, Any]:
    return {"statusCode": err.code, "message": err.message, "fields": err.details.get("fields", [])}


class CompositeRoutes:
    """Mixin for SalesforceEmulator."""

    # -- sObject Collections -------------------------------------------------------------

    def _collection(self, request: Request) -> tuple[list[dict[str, Any]], bool]:
        data = self.body(request)  # type: ignore[attr-defined]
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            raise ValidationError("JSON_PARSER_ERROR", "records is required and must be an array")
        records = data["records"]
        if len(records) > MAX_COLLECTION:
            raise ValidationError(
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than "
                f"{MAX_COLLECTION} records into this call",
            )
        # The latency model's per-sub-request part applies per record (base FIDELITY.md).
        request.environ["sandbox.units"] = len(records)
        return records, bool(data.get("allOrNone", False))

    def _apply(
        self, request: Request, items: list[Any], all_or_none: bool, op: Any
    ) -> list[dict[str, Any]]:
        """Run op(item) -> id for each item; per-record results, rolled back if allOrNone.
        A record whose row (or a parent's) another transaction held is not written: it
        fails UNABLE_TO_LOCK_ROW, and with allOrNone the whole call rolls back (locks.py)."""
        store = self.store  # type: ignore[attr-defined]
        snap = store.snapshot() if all_or_none else None
        results: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            try:
                refused = self.lock_refused(request, index)  # type: ignore[attr-defined]
                if refused is not None:
                    raise refused
                rid = op(item)
                results.append({"id": rid, "success": True, "errors": []})
            except HttpError as err:
                results.append({"success": False, "errors": [_record_error(err)]})
        if snap is not None and any(not r["success"] for r in results):
            store.restore(snap)
            results = [
                r
                if not r["success"]
                else {"id": r["id"], "success": False, "errors": [ROLLED_BACK]}
                for r in results
            ]
        return results

    def _typed(self, rec: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(rec, dict):
            raise ValidationError("JSON_PARSER_ERROR", "each record must be an object")
        type_name = (rec.get("attributes") or {}).get("type")
        obj = self.store.sobject(type_name or "")  # type: ignore[attr-defined]
        if obj is None:
            raise ValidationError("INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
        return obj.name, rec

    @route(f"{DATA}/sobjects", methods=("POST",))
    def collection_create(self, request: Request, principal: str | None, version: str) -> Any:
        self._version(version)  # type: ignore[attr-defined]
        records, all_or_none = self._collection(request)
        store = self.store  # type: ignore[attr-defined]

        def op(rec: Any) -> str:
            sobject, values = self._typed(rec)
            if "id" in values or "Id" in values:
                raise ValidationError(
                    "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]
                )
            return store.create(sobject, values, principal)

        return self._apply(request, records, all_or_none, op)

    @route(f"{DATA}/sobjects", methods=("PATCH",))
    def collection_update(self, request: Request, principal: str | None, version: str) -> Any:
        self._version(version)  # type: ignore[attr-defined]
        records, all_or_none = self._collection(request)
        store = self.store  # type: ignore[attr-defined]

        def op(rec: Any) -> str:
            sobject, values = self._typed(rec)
            values = dict(values)
            raw = values.pop("id", None) or values.pop("Id", None)
            if not raw:
                raise ValidationError("MISSING_ARGUMENT", "Id not specified in an update call")
            rid = to_18(raw)
            if rid is None or store.type_of(rid) != sobject:
                raise ValidationError("MALFORMED_ID", f"malformed id {raw}")
            store.update(sobject, rid, values, principal)
            return rid

        return self._apply(request, records, all_or_none, op)

    @route(f"{DATA}/sobjects", methods=("DELETE",))
    def collection_delete(self, request: Request, principal: str | None, version: str) -> Any:
        self._version(version)  # type: ignore[attr-defined]
        ids = [i for i in request.args.get("ids", "").split(",") if i]
        if not ids:
            raise ValidationError("MISSING_ARGUMENT", "ids parameter is required")
        if len(ids) > MAX_COLLECTION:
            raise ValidationError(
                "EXCEEDED_ID_LIMIT", f"cannot delete more than {MAX_COLLECTION} records in one call"
            )
        all_or_none = request.args.get("allOrNone", "false").lower() == "true"
        request.environ["sandbox.units"] = len(ids)
        store = self.store  # type: ignore[attr-defined]

        def op(raw: str) -> str:
            rid = to_18(raw)
            sobject = store.type_of(rid) if rid else None
            if rid is None or sobject is None:
                raise ValidationError("MALFORMED_ID", f"malformed id {raw}")
            if rid not in store.records[sobject]:
                raise ValidationError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            store.delete(sobject, rid, principal)
            return rid

        results = self._apply(request, ids, all_or_none, op)
        # Salesforce echoes the id of a failed delete too.
        for raw, res in zip(ids, results, strict=True):
            res.setdefault("id", to_18(raw) or raw)
        return results

    @route(f"{DATA}/sobjects/<name>")
    def collection_get(
        self, request: Request, principal: str | None, version: str, name: str
    ) -> Any:
        self._version(version)  # type: ignore[attr-defined]
        obj = self._sobject(name)  # type: ignore[attr-defined]
        ids = [i for i in request.args.get("ids", "").split(",") if i]
        fields = [f.strip() for f in request.args.get("fields", "").split(",") if f.strip()]
        if not ids or not fields:
            raise ValidationError("MISSING_ARGUMENT", "ids and fields are required")
        if len(ids) > 2000:
            raise ValidationError("EXCEEDED_ID_LIMIT", "cannot retrieve more than 2000 records")
        store = self.store  # type: ignore[attr-defined]
        out = []
        for raw in ids:
            rid = to_18(raw)
            rec = store.records[obj.name].get(rid) if rid else None
            out.append(
                store.to_json(obj.name, rec, fields) if rec and not rec["IsDeleted"] else None
            )
        return out

    # -- Composite -------------------------------------------------------------------------

    @route(DATA, methods=("POST",))
    def composite(self, request: Request, principal: str | None, version: str) -> Any:
        self._version(version)  # type: ignore[attr-defined]
        data = self.body(request)  # type: ignore[attr-defined]
        subs = data.get("compositeRequest") if isinstance(data, dict) else None
        if not isinstance(subs, list) or not subs:
            raise ValidationError("JSON_PARSER_ERROR", "compositeRequest is required")
        if len(subs) > MAX_SUBREQUESTS:
            raise HttpError(
                400,
                "LIMIT_EXCEEDED",
                f"Composite API supports at most {MAX_SUBREQUESTS} subrequests",
            )
        request.environ["sandbox.units"] = len(subs)
        heavy = sum(1 for s in subs if _HEAVY.match(str(s.get("url", "")).split("?")[0] + "/"))
        if heavy > MAX_QUERY_OR_COLLECTION:
            raise HttpError(
                400,
                "LIMIT_EXCEEDED",
                f"Composite API supports at most {MAX_QUERY_OR_COLLECTION} query or "
                "sObject Collections subrequests",
            )
        refs = [s.get("referenceId") for s in subs]
        if len(set(refs)) != len(refs) or not all(isinstance(r, str) and r for r in refs):
            raise HttpError(400, "INVALID_INPUT", "Duplicate or missing referenceId")
        all_or_none = bool(data.get("allOrNone", False))
        store = self.store  # type: ignore[attr-defined]
        snap = store.snapshot() if all_or_none else None
        results: dict[str, Any] = {}
        responses = []
        failed = False
        for sub in subs:
            ref_id = sub["referenceId"]
            if failed and all_or_none:
                status, body = (
                    400,
                    [
                        {
                            "errorCode": "PROCESSING_HALTED",
                            "message": HALTED,
                        }
                    ],
                )
            else:
                status, body = self._run_sub(sub, results, principal)
            if 200 <= status < 300:
                results[ref_id] = body
            else:
                failed = True
            responses.append(
                {"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": ref_id}
            )
        if failed and snap is not None:
            store.restore(snap)
            halted = [
                {
                    "errorCode": "PROCESSING_HALTED",
                    "message": HALTED,
                }
            ]
            for resp in responses:
                if 200 <= resp["httpStatusCode"] < 300:
                    resp.update(body=halted, httpStatusCode=400)
        return {"compositeResponse": responses}

    def _run_sub(
        self, sub: dict[str, Any], results: dict[str, Any], principal: str | None
    ) -> tuple[int, Any]:
        try:
            url = self._substitute(str(sub.get("url", "")), results)
            body = self._substitute(sub.get("body"), results)
        except KeyError as missing:
            return 400, [
                {
                    "errorCode": "PROCESSING_HALTED",
                    "message": f"Invalid reference specified. No value for {missing.args[0]}",
                }
            ]
        if not _ALLOWED.match(url.split("?")[0] + "/"):
            return 400, [
                {
                    "errorCode": "NOT_FOUND",
                    "message": f"The requested resource is not supported in composite: {url}",
                }
            ]
        method = str(sub.get("method", "GET")).upper()
        path = url.split("?")[0]
        if method == "GET" and _BLOB.match(path):
            return 400, [
                {
                    "errorCode": "INVALID_API_INPUT",
                    "message": "sObject Blob Get is not supported in a Composite request",
                }
            ]
        return self.subcall(method, url, body, principal, sub.get("httpHeaders") or {})

    def _substitute(self, value: Any, results: dict[str, Any]) -> Any:
        if isinstance(value, dict):
            return {k: self._substitute(v, results) for k, v in value.items()}
        if isinstance(value, list):
            return [self._substitute(v, results) for v in value]
        if not isinstance(value, str) or "@{" not in value:
            return value

        def resolve(m: re.Match[str]) -> Any:
            ref, path = m[1], m[2]
            if ref not in results:
                raise KeyError(f"{ref}{path}")
            node = results[ref]
            for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
                try:
                    node = node[step[0]] if step[0] else node[int(step[1])]
                except (KeyError, IndexError, TypeError):
                    raise KeyError(f"{ref}{path}") from None
            return node

        whole = _REF.fullmatch(value)
        if whole:
            return resolve(whole)
        return _REF.sub(lambda m: str(resolve(m)), value)

    def subcall(
        self, method: str, url: str, body: Any, principal: str | None, headers: dict[str, str]
    ) -> tuple[int, Any]:
        """Run one REST request in-process; (status, parsed body)."""
        path, _, query = url.partition("?")
        builder = EnvironBuilder(
            method=method,
            path=path,
            query_string=query,
            headers=headers,
            data=json.dumps(body) if body is not None else None,
            content_type="application/json",
        )
        request = builder.get_request()
        adapter = self.url_map.bind_to_environ(request.environ)  # type: ignore[attr-defined]
        try:
            endpoint, args = adapter.match()
            handler, _, _ = self._handlers[endpoint]  # type: ignore[attr-defined]
            result = handler(request, principal, **args)
        except NotFound:
            return 404, [
                {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
            ]
        except MethodNotAllowed:
            return 405, [{"errorCode": "METHOD_NOT_ALLOWED", "message": f"{method} not allowed"}]
        except HttpError as err:
            return err.status, self.error_body(err)  # type: ignore[attr-defined]
        if isinstance(result, Response):
            raw = result.get_data(as_text=True)
            return result.status_code, json.loads(raw) if raw else None
        return 200, result
