"""google-api-python-client plumbing for the Gmail adapter: services, errors, batches.

Quirks this module exists for:
- `build(..., client_options={"api_endpoint": …})` moves the API calls, but a batch built
  with `service.new_batch_http_request()` still posts to the discovery document's root
  (`https://www.googleapis.com/batch/calendar/v3`). Batches are therefore built as
  `BatchHttpRequest(batch_uri=…)` with the URIs kept in `GoogleServices.batch_uris`.
- `build()` takes `http=` or `credentials=`, never both: credentials are wrapped in
  `google_auth_httplib2.AuthorizedHttp` around an `httplib2.Http` that trusts the
  configured CA bundle, so token refreshes and API calls share one transport.
- httplib2 reads proxy variables from the environment; a loopback `api_base_url` (the
  sandbox) is reached without any proxy whatever NO_PROXY says.
"""

from __future__ import annotations

import functools
import json
import ssl
import threading
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import google.auth.credentials
import google.auth.exceptions
import google_auth_httplib2
import httplib2
from googleapiclient import discovery_cache
from googleapiclient.discovery import Resource, build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest

from accounts.providers.errors import (
    MAILBOX,
    ProviderError,
    ReconnectRequired,
    TemporaryProviderError,
)
from accounts.providers.google_client import shared_transport

REAL_BATCH_URIS: dict[str, str] = {
    "people": "https://people.googleapis.com/batch",
    "calendar": "https://www.googleapis.com/batch/calendar/v3",
    "tasks": "https://tasks.googleapis.com/batch",
    "gmail": "https://gmail.googleapis.com/batch",
}
# Where each API lives below a single test host (the sandbox serves them all on one).
_ENDPOINT_SUFFIX = {"people": "/", "calendar": "/calendar/v3/", "tasks": "/", "gmail": "/"}
_BATCH_SUFFIX = {
    "people": "/batch",
    "calendar": "/batch/calendar/v3",
    "tasks": "/batch",
    "gmail": "/batch",
}
_VERSIONS = {"people": "v1", "calendar": "v3", "tasks": "v1", "gmail": "v1"}
_RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class GoogleServices:
    """The four built services a Gmail mailbox needs, and where their batches go."""

    people: Resource
    calendar: Resource
    tasks: Resource
    gmail: Resource
    batch_uris: Mapping[str, str] = field(default_factory=lambda: dict(REAL_BATCH_URIS))


def build_google_services(
    credentials_or_http: Any,
    api_base_url: str | None = None,
    ca_bundle: str | None = None,
    *,
    timeout: float = 60.0,
) -> GoogleServices:
    """People v1, Calendar v3, Tasks v1 and Gmail v1 on one transport.

    `credentials_or_http`: google-auth credentials (wrapped in AuthorizedHttp over an
    httplib2.Http trusting `ca_bundle`; pass a refresh token, token_uri and client
    id/secret so a 401 refreshes) or a ready http object (used as is; `ca_bundle` and
    `timeout` are then the caller's business). `api_base_url=None` uses Google's real
    roots; otherwise every API is served under that one host (Calendar under
    `/calendar/v3/`), batches included.
    """
    if isinstance(credentials_or_http, google.auth.credentials.Credentials):
        loopback = bool(api_base_url) and urlparse(api_base_url).hostname in _LOOPBACK
        transport = shared_transport(ca_bundle or None, timeout, without_proxy=loopback)
        http: Any = google_auth_httplib2.AuthorizedHttp(credentials_or_http, http=transport)
    else:
        http = credentials_or_http
    base = api_base_url.rstrip("/") if api_base_url else None

    def service(name: str) -> Resource:
        return _bind(_root_template(name, base), http)

    uris = (
        {name: base + suffix for name, suffix in _BATCH_SUFFIX.items()}
        if base
        else dict(REAL_BATCH_URIS)
    )
    return GoogleServices(
        people=service("people"),
        calendar=service("calendar"),
        tasks=service("tasks"),
        gmail=service("gmail"),
        batch_uris=uris,
    )


# --- resources built once per process ------------------------------------------------------
#
# google-api-python-client generates every method of a resource (docstrings included) from
# the discovery document each time a Resource is made: `services.calendar.events()` builds
# the Events resource anew, ~5-10 ms of CPU each, about ten per session (most of an idle
# Gmail session's CPU, issue 15). A Resource's generated methods depend on the discovery
# document only; the session shows only in `_http` (read by each method when it builds
# its request). So each resource is generated once per process (a template, on a
# transport that refuses to be used) and a session gets a copy bound to its own http:
# the same method functions re-bound to the copy, and its sub-resources bound on first
# use, once per session. The generated attributes are the instance's bound methods (the
# library keeps their names in `_dynamic_attrs`, which its pickling support rebuilds).


class _Unbound:
    """The template's http: a template's methods are never called, only its copies'."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a shared Google API resource template was called directly")


class _Template:
    """One generated resource, and its sub-resources' templates as they are asked for."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self._children: dict[str, _Template] = {}
        self._lock = threading.Lock()

    def child(self, name: str) -> _Template:
        with self._lock:
            template = self._children.get(name)
            if template is None:
                template = self._children[name] = _Template(getattr(self.resource, name)())
            return template


@functools.cache
def _root_template(name: str, base: str | None) -> _Template:
    options = {"api_endpoint": base + _ENDPOINT_SUFFIX[name]} if base else None
    document = discovery_document(name)
    return _Template(build_from_document(document, http=_Unbound(), client_options=options))


def _bind(template: _Template, http: Any) -> Resource:
    """A copy of the template's resource making its requests through `http`."""
    source = template.resource
    bound = Resource.__new__(Resource)
    state = dict(vars(source))
    state["_http"] = http
    state["_credentials_validated"] = False
    for attr, value in vars(source).items():
        # The generated methods and sub-resources are the methods bound to the template
        # (new_batch_http_request is a plain function, the same for every copy).
        if not isinstance(value, types.MethodType) or value.__self__ is not source:
            continue
        if getattr(value.__func__, "__is_resource__", False):
            state[attr] = _sub_resource(template, attr, http)
        else:
            state[attr] = types.MethodType(value.__func__, bound)
    vars(bound).update(state)
    return bound


def _sub_resource(parent: _Template, name: str, http: Any) -> Callable[[], Resource]:
    bound: list[Resource] = []

    def sub_resource() -> Resource:
        if not bound:  # built once per session (two threads may both: same result)
            bound.append(_bind(parent.child(name), http))
        return bound[0]

    sub_resource.__doc__ = "A collection resource."
    return sub_resource


@functools.cache
def discovery_document(name: str) -> dict[str, Any]:
    """The library's static discovery document of one API, parsed once per process (every
    session builds its services; `build(static_discovery=True)` re-reads and re-parses the
    file each time). `build_from_document` does not modify it (checked with a deep copy)."""
    raw = discovery_cache.get_static_doc(name, _VERSIONS[name])
    if raw is None:
        raise ProviderError(f"google-api-python-client ships no discovery document for {name}")
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


# --- errors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoogleFailure:
    """What Google said about one failed call (direct or inside a batch)."""

    status: int
    message: str
    reasons: tuple[str, ...] = ()
    retry_after: float | None = None

    @property
    def temporary(self) -> bool:
        return (
            self.status == 429
            or self.status >= 500
            or (self.status == 403 and bool(_RATE_LIMIT_REASONS & set(self.reasons)))
        )


def failure_of(exc: HttpError) -> GoogleFailure:
    """Status, message, every `errors[].reason` and ErrorInfo reason, and Retry-After."""
    message, reasons = exc.reason or "", []
    try:
        body = json.loads(exc.content.decode("utf-8"))
        error = body.get("error") if isinstance(body, dict) else None
    except (ValueError, UnicodeDecodeError):
        error = None
    if isinstance(error, dict):
        message = str(error.get("message") or message)
        for item in [*(error.get("errors") or []), *(error.get("details") or [])]:
            if isinstance(item, dict) and item.get("reason"):
                reasons.append(str(item["reason"]))
        if error.get("status"):
            reasons.append(str(error["status"]))
    headers = {str(k).lower(): v for k, v in (exc.resp or {}).items()}
    try:
        retry_after = float(headers["retry-after"]) if headers.get("retry-after") else None
    except ValueError:
        retry_after = None
    return GoogleFailure(int(exc.resp.status), message, tuple(reasons), retry_after)


def provider_error(failure: GoogleFailure, what: str = "Google") -> ProviderError:
    text = f"{what} answered {failure.status}: {failure.message}".rstrip(": ")
    if failure.temporary:
        return TemporaryProviderError(
            text, retry_after=failure.retry_after, side=MAILBOX, status=failure.status
        )
    if failure.status == 401:  # AuthorizedHttp already refreshed and retried
        return ReconnectRequired(
            f"{text}. Google no longer accepts Relay's access: reconnect Gmail.",
            side=MAILBOX,
            status=failure.status,
        )
    return ProviderError(text, side=MAILBOX, status=failure.status)


def translate(exc: BaseException, what: str = "Google") -> ProviderError:
    """Any failure of a google-api-python-client call, as one of our error classes."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, HttpError):
        return provider_error(failure_of(exc), what)
    if isinstance(exc, google.auth.exceptions.RefreshError):
        if getattr(exc, "retryable", False):
            return TemporaryProviderError(
                f"{what}: refreshing the access token failed: {exc}", side=MAILBOX
            )
        return ReconnectRequired(
            "Google no longer accepts Relay's access (the authorization was revoked or has "
            "expired). Reconnect Gmail on the dashboard.",
            side=MAILBOX,
        )
    if isinstance(exc, ssl.SSLCertVerificationError):  # configuration, not weather
        return ProviderError(f"{what}: TLS certificate not trusted: {exc}", side=MAILBOX)
    if isinstance(exc, (google.auth.exceptions.TransportError, httplib2.HttpLib2Error, OSError)):
        return TemporaryProviderError(f"{what} could not be reached: {exc}", side=MAILBOX)
    return ProviderError(f"{what}: {exc}", side=MAILBOX)


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    HttpError,
    google.auth.exceptions.GoogleAuthError,
    httplib2.HttpLib2Error,
    OSError,
)


# --- batches -----------------------------------------------------------------------------


@dataclass
class PartResult:
    """One inner call of a batch: the parsed body, or what went wrong."""

    body: Any = None
    failure: GoogleFailure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def send_batch(batch_uri: str, requests: Sequence[HttpRequest]) -> dict[int, PartResult]:
    """One multipart POST; results keyed by the position of each request.

    The library matches the response parts to the requests by Content-ID (Google does
    not promise to answer in order); outer failures raise (the caller translates).
    """
    results: dict[int, PartResult] = {}

    def collect(request_id: str, response: Any, exception: Exception | None) -> None:
        index = int(request_id)
        if isinstance(exception, HttpError):
            results[index] = PartResult(failure=failure_of(exception))
        elif exception is not None:
            results[index] = PartResult(failure=GoogleFailure(0, str(exception)))
        else:
            results[index] = PartResult(body=response)

    batch = BatchHttpRequest(callback=collect, batch_uri=batch_uri)
    for index, request in enumerate(requests):
        batch.add(request, request_id=str(index))
    batch.execute()
    return results


RequestFactory = Callable[[], HttpRequest]
