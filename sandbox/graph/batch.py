"""JSON batching (`POST /v1.0/$batch`).

Each inner request is routed like a top-level one (same handlers, same fault plan, so an
injected throttle answers one inner request with 429 + Retry-After) but is not a separate
entry in the call log: the batch is one HTTP call whose record carries `units` = the number
of inner requests. Responses come back in a shuffled (seeded) order, as Graph documents
that order is not guaranteed: clients must match them by id.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any
from urllib.parse import urlsplit

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from sandbox.common import HttpError, route

from .core import GraphCore

MAX_BATCH = 20


def _bad(message: str) -> HttpError:
    return HttpError(400, "BadRequest", message)


class BatchMixin(GraphCore):
    batch_seed = 20240501
    _batches = 0

    @route("/v1.0/$batch", methods=("POST",))
    def http_batch(self, request: Request, principal: str) -> Any:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("requests"), list):
            raise _bad("Invalid batch payload format.")
        items: list[dict[str, Any]] = payload["requests"]
        if not items:
            raise _bad("The batch request must contain at least one request.")
        if len(items) > MAX_BATCH:
            raise _bad(f"Number of requests ({len(items)}) exceeds the limit of {MAX_BATCH}.")
        ids: dict[str, dict[str, Any]] = {}
        for item in items:
            if not isinstance(item, dict) or not all(item.get(k) for k in ("id", "method", "url")):
                raise _bad("Every request needs an id, a method and a url.")
            key = str(item["id"]).lower()
            if key in ids:
                raise _bad(f"Batch request ids must be unique: '{item['id']}' repeats.")
            if item.get("body") is not None and not _content_type(item):
                raise _bad(f"Request '{item['id']}' has a body but no Content-Type header.")
            ids[key] = item
        for item in items:
            for dep in item.get("dependsOn") or []:
                if str(dep).lower() not in ids:
                    raise _bad(f"Request '{item['id']}' depends on unknown request '{dep}'.")
        request.environ["sandbox.units"] = len(items)
        short = int(request.environ.get("sandbox.concurrency_short", 0))
        if short and not request.environ.get("sandbox.concurrency_granted"):
            short = len(items)  # no slot at all: every independent request is refused
        results = self._run_in_order(items, principal, short)
        self._batches += 1
        order = list(results.values())
        random.Random(self.batch_seed + self._batches).shuffle(order)
        if len(order) > 1 and [r["id"] for r in order] == [str(i["id"]) for i in items]:
            order.reverse()
        return {"responses": order}

    def _run_in_order(
        self, items: list[dict[str, Any]], principal: str, short: int = 0
    ) -> dict[str, Any]:
        """Run the batch; `short` = mailbox-concurrency slots it did not get: that many of
        its independent requests (the last ones) answer 429 MailboxConcurrency."""
        results: dict[str, dict[str, Any]] = {}
        roots = [i for i in items if not i.get("dependsOn")]
        for item in roots[len(roots) - short :] if short > 0 else []:
            err = self.concurrency_refusal(principal)
            results[str(item["id"]).lower()] = self._answer(
                item, err.status, dict(err.headers), self.error_body(err)
            )
        pending = [i for i in items if str(i["id"]).lower() not in results]
        while pending:
            ready = [
                i
                for i in pending
                if all(str(d).lower() in results for d in i.get("dependsOn") or [])
            ]
            if not ready:
                raise _bad("The dependsOn chain of the batch has a cycle.")
            for item in ready:
                pending.remove(item)
                deps = [results[str(d).lower()] for d in item.get("dependsOn") or []]
                if any(d["status"] >= 400 for d in deps):
                    err = HttpError(
                        424, "FailedDependency", "The dependency failed, the request was not run."
                    )
                    results[str(item["id"]).lower()] = self._answer(
                        item, err.status, {}, self.error_body(err)
                    )
                else:
                    results[str(item["id"]).lower()] = self._run_one(item, principal)
        return results

    def _answer(
        self, item: dict[str, Any], status: int, headers: dict[str, str], body: Any
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"id": str(item["id"]), "status": status, "headers": headers}
        if body is not None:
            out["body"] = body
            out["headers"].setdefault("Content-Type", "application/json")
        return out

    def _run_one(self, item: dict[str, Any], principal: str) -> dict[str, Any]:
        url = str(item["url"])
        if urlsplit(url).scheme:
            err = _bad("Batch request urls must be relative, e.g. '/me/contacts'.")
            return self._answer(item, 400, {}, self.error_body(err))
        parts = urlsplit("/" + url.lstrip("/"))
        path = self.canonical_path("/v1.0" + parts.path)
        headers = {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
        body = item.get("body")
        data = json.dumps(body) if body is not None and not isinstance(body, str) else body
        environ = EnvironBuilder(
            path=path,
            base_url=self.base_url,
            query_string=parts.query,
            method=str(item["method"]).upper(),
            headers=headers,
            data=data,
        ).get_environ()
        inner = Request(environ)
        try:
            try:
                endpoint, args = self.url_map.bind_to_environ(environ).match()
            except NotFound as exc:
                raise HttpError(
                    400, "BadRequest", f"Resource not found for the segment '{parts.path}'."
                ) from exc
            except MethodNotAllowed as exc:
                raise HttpError(405, "BadRequest", f"{inner.method} is not allowed here.") from exc
            handler, _needs_auth, _counted = self._handlers[endpoint]
            if endpoint.startswith("http_batch"):
                raise _bad("A batch cannot contain another batch.")
            self._inner_fault(path)
            result = handler(inner, principal, **args)
        except HttpError as err:
            return self._answer(item, err.status, dict(err.headers), self.error_body(err))
        if not isinstance(result, Response):
            return self._answer(item, 200, {}, result)
        return self._answer(item, result.status_code, _headers(result), _body(result))

    def _inner_fault(self, path: str) -> None:
        """The base class's fault plan, applied to one inner request."""
        fault = self.faults.take(path)
        if fault is None or fault.kind == "delay":
            return
        if fault.kind == "throttle":
            raise HttpError(
                429,
                "TooManyRequests",
                "Too many requests; retry later.",
                headers={"Retry-After": str(int(fault.retry_after))},
            )
        raise HttpError(fault.status, "ServiceUnavailable", "Injected fault")


def _content_type(item: dict[str, Any]) -> bool:
    return any(k.lower() == "content-type" for k in (item.get("headers") or {}))


def _headers(response: Response) -> dict[str, str]:
    keep = ("content-type", "location", "retry-after", "etag")
    return {k: v for k, v in response.headers.items() if k.lower() in keep}


def _body(response: Response) -> Any:
    raw = response.get_data()
    if not raw:
        return None
    if (response.mimetype or "").endswith("json"):
        return json.loads(raw)
    # Non-JSON inner bodies (MIME, files) come back base64-encoded, as Graph does.
    return base64.b64encode(raw).decode()
