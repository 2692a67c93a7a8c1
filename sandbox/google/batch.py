"""Google's multipart/mixed batch endpoint (`/batch`, `/batch/<api>/<version>`).

Each `application/http` part is replayed through the emulator's own dispatcher, so inner
calls see the same handlers, bearer auth and fault plan as direct calls (an injected 429
lands on one part). The batch is one HTTP call in the call log; `quota_units()` counts
each inner call too (`CallRecord.units`), as Google meters them.
"""

from __future__ import annotations

import email.parser
import uuid
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from sandbox.common import route

from .errors import bad_request
from .service import Service

MAX_PARTS = 1000
MAX_GMAIL_PARTS = 100
PREFIXES = (
    ("/calendar/v3/", "calendar"),
    ("/tasks/v1/", "tasks"),
    ("/gmail/v1/", "gmail"),
    ("/v1/people", "people"),
    ("/v1/contactGroups", "people"),
    ("/v1/otherContacts", "people"),
)
BATCH_PATHS = {
    "calendar/v3": "calendar",
    "people/v1": "people",
    "tasks/v1": "tasks",
    "gmail/v1": "gmail",
}


def _api_of(path: str) -> str | None:
    return next((api for prefix, api in PREFIXES if path.startswith(prefix)), None)


def api_of_request(path: str) -> str | None:
    """The API a top-level request is for; a batch URL names it (`/batch/gmail/v1`)."""
    if path.startswith("/batch/"):
        return BATCH_PATHS.get(path[len("/batch/") :].strip("/"))
    return _api_of(path)


def _parse_part(text: str) -> tuple[str, str, dict[str, str], bytes]:
    """`GET /path?q HTTP/1.1` + headers + body, as googleapiclient serialises a request."""
    text = text.replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise bad_request("Failed to parse batch request, error: malformed request line.") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip():
            headers[name.strip()] = value.strip()
    return method.upper(), target, headers, body.encode()


class BatchApi(Service):
    base_url: str
    # Reverse the response parts: proves a client matches them by Content-ID, not order.
    reverse_batch_responses: bool = False

    @route("/batch", ("POST",))
    @route("/batch/<path:api>", ("POST",))
    def batch(self, request: Request, principal: str, api: str = "") -> Response:
        ctype = request.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/mixed"):
            raise bad_request("Batch requests must be multipart/mixed.")
        wanted = BATCH_PATHS.get(api.strip("/")) if api else None
        mime = email.parser.BytesParser().parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + request.get_data()
        )
        parts = mime.get_payload() if mime.is_multipart() else []
        if not parts:
            raise bad_request("Batch request contains no parts.")
        calls = []
        for part in parts:  # type: ignore[union-attr]
            payload = part.get_payload(decode=False)
            if not isinstance(payload, str):
                raise bad_request("Batch parts must be application/http.")
            method, target, headers, body = _parse_part(payload)
            path = target.split("?", 1)[0]
            api_name = _api_of(path)
            if api_name is None or wanted not in (None, api_name):
                raise bad_request(f"Batch part targets a different API: {path}")
            calls.append((part.get("Content-ID", ""), method, target, headers, body, api_name))
        if len({c[5] for c in calls}) > 1:
            raise bad_request("All calls in a batch must target the same API.")
        limit = MAX_GMAIL_PARTS if calls[0][5] == "gmail" else MAX_PARTS
        if len(calls) > limit:
            raise bad_request(f"Too many requests in batch; the limit is {limit}.")
        request.environ["sandbox.units"] = len(calls)  # CallRecord.units: Google meters each
        outer_auth = request.headers.get("Authorization")
        answers = [self._inner(c, outer_auth) for c in calls]
        if self.reverse_batch_responses:
            answers.reverse()
        boundary = "batch_" + uuid.uuid4().hex
        body = "".join(f"--{boundary}\r\n{a}\r\n" for a in answers) + f"--{boundary}--\r\n"
        return Response(body, content_type=f"multipart/mixed; boundary={boundary}")

    def _inner(self, call: tuple[Any, ...], outer_auth: str | None) -> str:
        content_id, method, target, headers, body, _api = call
        if outer_auth and not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = outer_auth  # parts inherit the outer credentials
        path, _, query = target.partition("?")
        headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        env = EnvironBuilder(
            path=path,
            query_string=query,
            method=method,
            headers=headers,
            data=body,
            base_url=self.base_url,
        ).get_environ()
        response: Response = self._dispatch(Request(env), record=False)  # type: ignore[attr-defined]
        lines = [f"HTTP/1.1 {response.status}"]
        for name, value in response.headers.items():
            if name.lower() != "content-length":
                lines.append(f"{name}: {value}")
        data = response.get_data(as_text=True)
        lines.append(f"Content-Length: {len(data.encode())}")
        cid = content_id.strip()
        reply_id = f"<response-{cid[1:]}" if cid.startswith("<") else f"response-{cid}"
        part_head = f"Content-Type: application/http\r\nContent-ID: {reply_id}\r\n\r\n"
        return part_head + "\r\n".join(lines) + "\r\n\r\n" + data

    def quota_units(self, principal: str | None = None) -> int:
        """Google's metering: each direct call is 1 unit, each call inside a batch is 1."""
        with self.lock:
            calls = self.calls  # type: ignore[attr-defined]
            return sum(c.units for c in calls if principal in (None, c.principal))
