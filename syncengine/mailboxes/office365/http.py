"""Raw Microsoft Graph calls over an O365 `Account`: single requests, `$batch`, errors.

O365 2.1.10 has no delta and no `$batch`, so the Office 365 adapter talks to Graph through
`account.con` (which keeps O365's token refresh and its urllib3 retry of GETs) with URLs
built on `account.protocol.service_url`. Every HTTP round trip made here adds one to
`calls`; a `$batch` of up to 20 inner requests is one call.

Errors map onto `accounts.providers.errors`:
- 401 after a refresh (O365's own of an expired token; ours, once, of one Graph refused
  before its expiry), a refused refresh (`invalid_grant`), or no refresh token at all:
  `ReconnectRequired`;
- 429 (O365's retries of a GET exhausted: `RetryError`; a POST is not retried by O365),
  5xx, timeouts, connection errors: `TemporaryProviderError` with Retry-After when known;
- anything else on the whole call: `ProviderError` with Graph's own message.
Answers to inner batch requests are returned as they are (`GraphResponse`), except that a
per-item 429 is retried after its Retry-After, a bounded number of times.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

import requests
from O365 import Account
from O365.connection import TokenExpiredError

from accounts.providers.errors import (
    MAILBOX,
    ProviderError,
    ReconnectRequired,
    TemporaryProviderError,
)

from ..at_once import at_once
from ..base import CursorExpired

MAX_BATCH = 20  # Graph's JSON batching limit
RETRY_TRIES = 3  # attempts for a throttled inner request (the first one included)
MAX_RETRY_WAIT = 30.0  # a longer Retry-After is left to the next session
# Graph serves 4 concurrent requests per app and mailbox (more answer 429 MailboxConcurrency):
# https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits
MAILBOX_CONCURRENCY = 4
TOKEN_MARGIN = dt.timedelta(seconds=60)  # a token this close to expiry is refreshed first


@dataclass
class GraphRequest:
    method: str
    url: str  # relative to the service root ("/me/contacts/…") or absolute
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class GraphResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return str(error.get("code", "")) if isinstance(error, dict) else ""

    @property
    def message(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if not isinstance(error, dict):
            return f"HTTP {self.status}"
        code, text = error.get("code") or "", error.get("message") or ""
        return f"{code}: {text}" if code and text else str(code or text)

    @property
    def retry_after(self) -> float | None:
        return retry_after_of(self.headers)


def retry_after_of(headers: Any) -> float | None:
    for key, value in (headers or {}).items():
        if str(key).lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


_EXPIRED_CODES = {"syncstatenotfound", "syncstateinvalid", "resyncrequired"}


def is_expired_cursor(response: GraphResponse) -> bool:
    """410 (sync state evicted, or a tenant reset with a Location header) or its codes."""
    return response.status == 410 or response.code.lower() in _EXPIRED_CODES


def error_for(response: GraphResponse, what: str = "") -> ProviderError:
    """The error a caller raises for a failed Graph answer (whole call or one inner item)."""
    prefix = f"{what}: " if what else ""
    text = f"Microsoft Graph {response.status} {prefix}{response.message}"
    if response.status == 401:
        return ReconnectRequired(text, side=MAILBOX, status=response.status)
    if is_expired_cursor(response):
        return CursorExpired(text, side=MAILBOX, status=response.status)
    if response.status == 429 or response.status >= 500:
        return TemporaryProviderError(
            text, retry_after=response.retry_after, side=MAILBOX, status=response.status
        )
    return ProviderError(text, side=MAILBOX, status=response.status)


def chunks(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


class GraphHttp:
    """Graph round trips through an O365 connection, counted in `calls`."""

    def __init__(
        self,
        account: Account,
        *,
        sleep: Callable[[float], None] = time.sleep,
        tries: int = RETRY_TRIES,
        max_wait: float = MAX_RETRY_WAIT,
        concurrency: int = MAILBOX_CONCURRENCY,
    ) -> None:
        self.con = account.con
        self.root = account.protocol.service_url.rstrip("/")  # https://…/v1.0
        self.sleep = sleep
        self.tries = max(1, tries)
        self.max_wait = max_wait
        self.concurrency = max(1, concurrency)
        self.calls = 0
        self._count_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        # Whether a call has gone through with the current token: until then a batch of
        # concurrent sends starts with one alone (an expired token is refreshed once).
        self.proven = False

    # -- URLs ------------------------------------------------------------------------------

    def absolute(self, url: str) -> str:
        return url if urlsplit(url).scheme else self.root + "/" + url.lstrip("/")

    def relative(self, url: str) -> str:
        """A Graph link ("https://graph…/v1.0/me/…?$deltatoken=…") as a batch URL ("/me/…")."""
        parts = urlsplit(url)
        if not parts.scheme:
            return "/" + url.split("#", 1)[0].lstrip("/")
        path = parts.path
        root_path = urlsplit(self.root).path.rstrip("/")  # "/v1.0"
        version = "/" + root_path.rsplit("/", 1)[-1] if root_path else ""
        for prefix in (root_path, version):
            if prefix and path.lower().startswith(prefix.lower() + "/"):
                path = path[len(prefix) :]
                break
        query = f"?{parts.query}" if parts.query else ""
        return path + query

    # -- one request -----------------------------------------------------------------------

    def request(self, req: GraphRequest, *, refreshed: bool = False) -> GraphResponse:
        """One HTTP call. Graph's 4xx/5xx come back as a GraphResponse; auth failures,
        exhausted retries and transport errors raise (see the module docstring)."""
        kwargs: dict[str, Any] = {"headers": dict(req.headers)}
        if req.body is not None:
            kwargs["data"] = req.body
        method = getattr(self.con, req.method.lower())
        with self._count_lock:
            self.calls += 1
        sent_with = self._authorization()
        try:
            # Graph's links name Graph's own root; rebasing them onto the account's service
            # root keeps a single GET and a batched one (relative URL) on the same host.
            response = method(self.absolute(self.relative(req.url)), **kwargs)
        except requests.HTTPError as exc:
            answer = self._answer_of(exc)
            if answer.status == 401:
                if not refreshed:
                    self._refresh_refused(sent_with)
                    return self.request(req, refreshed=True)
                raise error_for(answer) from exc
            return answer
        except ProviderError:
            raise  # a token backend of ours already said what went wrong
        except requests.exceptions.RetryError as exc:
            raise TemporaryProviderError(
                f"Microsoft Graph kept refusing the request (throttled or unavailable): {exc}"
            ) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TemporaryProviderError(
                f"Microsoft Graph could not be reached: {exc}", side=MAILBOX
            ) from exc
        except requests.RequestException as exc:
            raise TemporaryProviderError(
                f"Microsoft Graph request failed: {exc}", side=MAILBOX
            ) from exc
        self.proven = True
        return GraphResponse(response.status_code, _json(response), dict(response.headers))

    def _authorization(self) -> str:
        session = self.con.session
        return str(session.headers.get("Authorization") or "") if session is not None else ""

    def _refresh_refused(self, sent_with: str) -> None:
        """Graph refused a token its expiry says is good (revoked early, a clock apart):
        O365 refreshes only a token past its expiry, so refresh it here, once for every
        call that met the refusal (a refused refresh raises ReconnectRequired)."""
        with self._refresh_lock:
            if self._authorization() == sent_with:  # not refreshed by another call meanwhile
                try:
                    self.con.token_backend.should_refresh_token(con=self.con)
                except requests.HTTPError as exc:
                    self._answer_of(exc)  # the token endpoint's refusal: ReconnectRequired
                    raise

    def _answer_of(self, exc: requests.HTTPError) -> GraphResponse:
        if isinstance(exc, TokenExpiredError) or exc.response is None:
            raise ReconnectRequired(
                "Microsoft refused the access token and it could not be refreshed.", side=MAILBOX
            ) from exc
        response = exc.response
        body = _json(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, str):  # the token endpoint's shape: {"error": "invalid_grant"}
            detail = body.get("error_description") or error
            if error in ("invalid_grant", "interaction_required", "invalid_client") or (
                response.status_code in (400, 401)
            ):
                raise ReconnectRequired(
                    f"Microsoft refused the refresh token: {detail}", side=MAILBOX
                ) from exc
            raise TemporaryProviderError(
                f"Microsoft token endpoint: {detail}", side=MAILBOX
            ) from exc
        return GraphResponse(response.status_code, body, dict(response.headers))

    def call(self, req: GraphRequest, what: str = "") -> Any:
        """One request whose failure fails the whole operation; returns the JSON body."""
        answer = self.request(req)
        if not answer.ok:
            raise error_for(answer, what)
        return answer.body

    # -- $batch ----------------------------------------------------------------------------

    def batch(self, reqs: Sequence[GraphRequest], *, chained: bool = False) -> list[GraphResponse]:
        """Answers in the order of `reqs`, sent in `$batch` calls of ≤20 and matched by id.

        Throttled items (429) are sent again after the largest Retry-After among them, up to
        `tries` attempts in all; items still throttled come back with status 429.

        `chained=True` (writes): each `$batch` runs its requests as one `dependsOn` chain, so
        it holds one of the mailbox's 4 concurrency slots instead of up to 4, and up to
        `concurrency` such batches are in flight at once (only when there is more than one
        batch to send). A request Graph did not run
        because one before it in its chain failed (424) is sent again: chained when the
        failure was a throttle, unchained (no cascade) when the one before it was refused.
        """
        results: list[GraphResponse | None] = [None] * len(reqs)
        todo, loose = list(range(len(reqs))), list[int]()
        attempt = 0
        while todo or loose:
            throttled: list[int] = []
            blocked: list[int] = []  # 424 behind a refused (not throttled) request
            wait = 0.0
            # One batch alone may hold all 4 slots; chains pay off from two batches on, and
            # unchained, a refused request costs no resend of the ones after it.
            chain = chained and self.concurrency > 1 and len(todo) > MAX_BATCH
            sends = [(c, chain) for c in chunks(todo, MAX_BATCH)]
            sends += [(c, False) for c in chunks(loose, MAX_BATCH)]
            for chunk, was_chained, answers in self._send_all(reqs, sends):
                cause = 0
                for index in chunk:
                    answer = answers[index]
                    results[index] = answer
                    if was_chained and answer.status == 424 and cause:
                        (throttled if cause == 429 else blocked).append(index)
                        continue
                    if answer.status == 429:
                        throttled.append(index)
                        wait = max(wait, answer.retry_after if answer.retry_after else 1.0)
                    if not answer.ok and not cause:
                        cause = answer.status
            todo, loose = sorted(throttled), sorted(blocked)
            if throttled:
                # Someone else holds some of the mailbox's slots: send fewer at once from
                # now on (for the rest of this session), else the storm goes on.
                self.concurrency = max(1, self.concurrency // 2)
                attempt += 1
                if attempt >= self.tries or wait > self.max_wait:
                    break  # left to the next session: the items come back 429 or 424
                self.sleep(wait)
        return [r if r is not None else GraphResponse(500) for r in results]

    def _send_all(
        self, reqs: Sequence[GraphRequest], sends: Sequence[tuple[Sequence[int], bool]]
    ) -> list[tuple[Sequence[int], bool, dict[int, GraphResponse]]]:
        """Send the batches, chained ones up to `concurrency` at a time (the first one alone
        while no call has gone through yet, so an expired token is refreshed once, before
        the others start)."""
        if self.concurrency <= 1 or sum(1 for _, c in sends if c) <= 1:
            return [(c, ch, self._send_batch(reqs, c, chained=ch)) for c, ch in sends]
        out = []
        rest = list(sends)
        if not self._token_fresh():
            first = rest.pop(0)
            out.append((first[0], first[1], self._send_batch(reqs, first[0], chained=first[1])))
        parallel = [s for s in rest if s[1]]
        jobs = [functools.partial(self._send_batch, reqs, s[0], chained=True) for s in parallel]
        answers = at_once(jobs, self.concurrency, "relay-graph")
        out += [(c, ch, a) for (c, ch), a in zip(parallel, answers, strict=True)]
        out += [(c, ch, self._send_batch(reqs, c, chained=ch)) for c, ch in rest if not ch]
        return out

    def _token_fresh(self) -> bool:
        """Whether a call went through with the access token and it has a minute left."""
        if not self.proven:
            return False
        backend = self.con.token_backend
        expires = backend.token_expiration_datetime(username=self.con.username)
        return expires is not None and dt.datetime.now() + TOKEN_MARGIN < expires

    def _send_batch(
        self, reqs: Sequence[GraphRequest], chunk: Sequence[int], chained: bool = False
    ) -> dict[int, GraphResponse]:
        inner = [self._inner(str(i), reqs[i]) for i in chunk]
        if chained:
            for before, item in pairwise(inner):
                item["dependsOn"] = [before["id"]]
        payload = {"requests": inner}
        body = self.call(GraphRequest("POST", "/$batch", payload), "$batch")
        by_id = {str(r.get("id")): r for r in (body or {}).get("responses", [])}
        out: dict[int, GraphResponse] = {}
        for index in chunk:
            raw = by_id.get(str(index))
            if raw is None:  # Graph answers every id; treat a missing one as a server fault
                out[index] = GraphResponse(500, {"error": {"message": "no answer in $batch"}})
            else:
                out[index] = GraphResponse(
                    int(raw.get("status", 500)), raw.get("body"), dict(raw.get("headers") or {})
                )
        return out

    def _inner(self, request_id: str, req: GraphRequest) -> dict[str, Any]:
        inner: dict[str, Any] = {
            "id": request_id,
            "method": req.method.upper(),
            "url": self.relative(req.url),
        }
        headers = dict(req.headers)
        if req.body is not None:
            headers.setdefault("Content-Type", "application/json")
            inner["body"] = req.body
        if headers:
            inner["headers"] = headers
        return inner


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
