"""The base of every emulator: routing, bearer auth, call log, fault injection, control API.

An emulator subclasses `Emulator`, declares its endpoints with `@route(...)`, and says how
its API shapes an error (`error_body`). Everything else — counting calls per account,
failing the next N calls, throttling, delaying, expiring tokens, the `/_sandbox/` control
API — is here, so the three emulators behave alike under test.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .limits import Grant, InFlight, Latency
from .tokens import TokenStore

Handler = Callable[..., Any]

# APIs documented never to answer 429, by emulator name (so the rule holds even for an
# emulator class that does not set `answers_429 = False` itself). Salesforce: "Salesforce
# never sends 429"; its API-limit refusal is 403 REQUEST_LIMIT_EXCEEDED (API-NOTES §A8, §K).
NEVER_429 = frozenset({"salesforce"})


class HttpError(Exception):
    """Raised by a handler; rendered in the emulated API's own error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details


def route(
    rule: str, methods: tuple[str, ...] = ("GET",), *, auth: bool = True, counted: bool = True
) -> Callable[[Handler], Handler]:
    """Declare an endpoint. `auth=False` for OAuth pages; `counted=False` keeps it off the log."""

    def mark(fn: Handler) -> Handler:
        routes = getattr(fn, "_sandbox_routes", [])
        routes.append((rule, methods, auth, counted))
        fn._sandbox_routes = routes  # type: ignore[attr-defined]
        return fn

    return mark


@dataclass
class CallRecord:
    seq: int
    at: float
    method: str
    path: str
    principal: str | None
    status: int
    units: int = 1  # inner requests a $batch/composite call carried (throttle/quota units)
    # Seconds the emulator itself worked on the call (its handler and answer, not the
    # latency model's sleep, not a wait for its lock): part of the call's time at the
    # server, which a benchmark's lower bound counts (bench/sync_bench.py).
    server_s: float = 0.0


@dataclass
class Fault:
    """One injected fault. `remaining` calls are affected; `match` limits it to paths."""

    kind: str  # "error" | "throttle" | "delay" | "lose"
    remaining: int
    status: int = 503
    retry_after: float = 1
    seconds: float = 0.0
    match: str = ""
    method: str = ""  # only requests with this method ("": any)
    body_match: str = ""  # only requests whose body holds this text ("": any)


@dataclass
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)

    def take(
        self,
        path: str,
        method: str = "",
        outer: bool = True,
        body: Callable[[], str] = lambda: "",
    ) -> Fault | None:
        """The next fault for a request; a lost response is only ever an outer call's (a
        batch's inner requests share its one connection)."""
        for fault in self.faults:
            if fault.kind == "lose" and not outer:
                continue
            if fault.method and fault.method != method:
                continue
            if fault.body_match and fault.body_match not in body():
                continue
            if fault.remaining > 0 and fault.match in path:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        return None


class Emulator:
    """A WSGI application emulating one provider's API."""

    name = "emulator"
    #: Whether the real API ever answers 429. Salesforce never does (its refusal is 403
    #: REQUEST_LIMIT_EXCEEDED), so the fault injector refuses to fake one for it.
    answers_429: bool = True
    #: Requests one concurrency key may have in flight (None: unlimited, only counted).
    max_in_flight: int | None = None
    #: Count only requests running at least this long against `max_in_flight` (0: all).
    long_running_after: float = 0.0

    def __init__(self) -> None:
        self.base_url = "http://127.0.0.1"  # set by EmulatorServer to where it listens
        self.tokens = TokenStore()
        # Handlers run one at a time: state is plain dicts, and real APIs are not
        # required to be fast here, only right.
        self.lock = threading.RLock()
        self.calls: list[CallRecord] = []
        self.faults = FaultPlan()
        self.latency = Latency()
        self.in_flight = InFlight()
        self._seq = 0
        rules = []
        self._handlers: dict[str, tuple[Handler, bool, bool]] = {}
        for attr in dir(type(self)):
            fn = getattr(type(self), attr, None)
            for i, (rule, methods, auth, counted) in enumerate(getattr(fn, "_sandbox_routes", [])):
                endpoint = f"{attr}#{i}"
                rules.append(Rule(rule, endpoint=endpoint, methods=list(methods)))
                self._handlers[endpoint] = (getattr(self, attr), auth, counted)
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)

    # -- to override ---------------------------------------------------------------------

    def error_body(self, err: HttpError) -> Any:
        """The JSON body the real API sends for this error."""
        return {"error": {"code": err.code, "message": err.message}}

    def unauthorized(self) -> HttpError:
        return HttpError(401, "InvalidAuthenticationToken", "Access token has expired.")

    def before_call(self, request: Request, principal: str | None) -> None:
        """Hook for per-call rules (API budgets); raise HttpError to refuse."""

    def decorate(self, response: Response, principal: str | None) -> None:
        """Hook to add headers every response carries (e.g. Sforce-Limit-Info)."""

    def concurrency_key(self, request: Request, principal: str | None) -> str | None:
        """What in-flight requests are counted per (a mailbox, a user); None: not counted."""
        return principal

    def overall_key(self, request: Request, principal: str | None) -> str | None:
        """A second key in-flight requests are counted per, never limited (Google: the
        user across all its APIs, whose limits are per API); None: none."""
        return None

    def concurrency_limit(self, key: str) -> int | None:
        """In-flight requests `key` may have (default: `max_in_flight` for every key)."""
        return self.max_in_flight

    def concurrency_cost(self, request: Request) -> int:
        """Slots this request holds while in flight (a batch may hold several)."""
        return 1

    def concurrency_partial_ok(self, request: Request) -> bool:
        """Whether the handler can run with fewer slots than it asked for (it then finds
        the shortfall in `request.environ["sandbox.concurrency_short"]`, e.g. to answer some
        inner requests of a batch with 429); otherwise a short grant refuses the call."""
        return False

    def holds(self, request: Request, principal: str | None) -> AbstractContextManager[None]:
        """What a call holds from before the emulator's lock until its response is made,
        across the latency model's sleep (Salesforce: the row locks of a write). Entered
        outside the lock, so a wait for it never stalls other calls; that wait counts as
        idle, like the lock's. It may raise HttpError to refuse the call. Default: nothing."""
        return nullcontext()

    def concurrency_refusal(self, key: str) -> HttpError:
        """The error for a request over `max_in_flight` (each API words it its own way)."""
        return HttpError(
            429,
            "TooManyRequests",
            "Too many concurrent requests.",
            headers={"Retry-After": "1"},
        )

    def reset(self) -> None:
        """Forget all state (subclasses clear their data and call super)."""
        self.tokens = TokenStore(access_lifetime=self.tokens.access_lifetime)
        self.calls.clear()
        self.faults = FaultPlan()

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        raise HttpError(400, "NotImplemented", f"{self.name} has no seed format")

    # -- Python control API (tests) ------------------------------------------------------

    def _refuse_fake_429(self, status: int) -> None:
        if status == 429 and (not self.answers_429 or self.name in NEVER_429):
            raise ValueError(
                f"the real {self.name} API never answers 429, so the sandbox will not fake one; "
                "use its own refusal instead (Salesforce: set_budget/exhaust_budget → 403 "
                "REQUEST_LIMIT_EXCEEDED)"
            )

    def fail_next(self, n: int = 1, status: int = 503, match: str = "") -> None:
        self._refuse_fake_429(status)
        with self.lock:
            self.faults.faults.append(Fault("error", n, status=status, match=match))

    def throttle_next(self, n: int = 1, retry_after: float = 1, match: str = "") -> None:
        self._refuse_fake_429(429)
        with self.lock:
            self.faults.faults.append(Fault("throttle", n, 429, retry_after, match=match))

    def delay_next(self, n: int, seconds: float, match: str = "") -> None:
        with self.lock:
            self.faults.faults.append(Fault("delay", n, seconds=seconds, match=match))

    def lose_response_next(
        self,
        n: int = 1,
        match: str = "",
        method: str = "POST",
        status: int = 504,
        body_match: str = "",
    ) -> None:
        """Apply the next `n` matching requests, then answer `status` (a gateway timeout)
        instead of their response: the write happened, the client cannot know it did.
        `body_match` singles out one kind of batch (Graph's `$batch` carries reads and
        writes alike: '"POST"' picks a batch of creates)."""
        fault = Fault("lose", n, status=status, match=match, method=method, body_match=body_match)
        with self.lock:
            self.faults.faults.append(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults = FaultPlan()

    def expire_tokens(self, principal: str | None = None) -> int:
        return self.tokens.expire_access_tokens(principal)

    def call_count(self, principal: str | None = None) -> int:
        with self.lock:
            return sum(1 for c in self.calls if principal is None or c.principal == principal)

    def call_counts(self) -> dict[str, int]:
        with self.lock:
            return dict(Counter(c.principal or "" for c in self.calls))

    def clear_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    def set_latency(self, base: float = 0.0, per_sub_request: float = 0.0) -> None:
        """Make every call take `base` s (+ `per_sub_request` s per inner request of a
        batch); `set_latency()` switches the model off again."""
        self.latency = Latency(float(base), float(per_sub_request))

    def peak_in_flight(self, key: str) -> int:
        """The most requests `key` (a mailbox, a user) ever had in flight at once."""
        return self.in_flight.peak(self.normalize_key(key))

    def reset_peak_in_flight(self) -> None:
        self.in_flight.reset_peaks()

    @staticmethod
    def normalize_key(key: str) -> str:
        return key

    # -- WSGI ----------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path.startswith("/_sandbox/"):
            response = self._control(request)
        else:
            response = self._dispatch(request)
        return response(environ, start_response)

    def json_response(
        self, body: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return Response(
            json.dumps(body), status=status, headers=headers, content_type="application/json"
        )

    def _error_response(self, err: HttpError) -> Response:
        return self.json_response(self.error_body(err), err.status, err.headers)

    def _dispatch(self, request: Request, record: bool = True) -> Response:
        """Route, authenticate, apply faults, call the handler; log it unless `record=False`
        (calls replayed inside a batch request, which is logged once as itself)."""
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return self._error_response(
                HttpError(
                    404, "NOT_FOUND", f"The requested resource does not exist: {request.path}"
                )
            )
        except MethodNotAllowed:
            return self._error_response(
                HttpError(405, "METHOD_NOT_ALLOWED", f"{request.method} not allowed")
            )
        handler, needs_auth, counted = self._handlers[endpoint]
        principal = None
        response: Response
        started, idle = time.perf_counter(), 0.0  # idle: the model's sleep, the lock's wait
        try:
            if needs_auth:
                header = request.headers.get("Authorization", "")
                token = header[7:] if header.lower().startswith("bearer ") else ""
                principal = self.tokens.principal_for(token) if token else None
                if principal is None:
                    raise self.unauthorized()
            body = lambda: request.get_data(cache=True, as_text=True)  # noqa: E731
            fault = (
                self.faults.take(request.path, request.method, record, body) if counted else None
            )
            lost = fault if fault and fault.kind == "lose" else None
            if lost:
                fault = None
            if fault and fault.kind == "delay":
                time.sleep(fault.seconds)
                fault = None
            if fault and fault.kind == "throttle":
                raise HttpError(
                    429,
                    "TooManyRequests",
                    "Too many requests; retry later.",
                    headers={"Retry-After": str(int(fault.retry_after))},
                )
            if fault:
                raise HttpError(fault.status, "ServiceUnavailable", "Injected fault")
            # An inner call replayed by a batch handler (record=False) runs inside its outer
            # call: that one holds the slots and takes the time.
            outer = counted and record
            grant = self._enter_flight(request, principal) if outer else None
            overall = self._enter_overall(request, principal) if outer else None
            held = ExitStack()
            try:
                if outer:
                    waiting = time.perf_counter()
                    held.enter_context(self.holds(request, principal))
                    idle += time.perf_counter() - waiting
                asked = time.perf_counter()
                with self.lock:
                    idle += time.perf_counter() - asked
                    if counted:
                        self.before_call(request, principal)
                    result = handler(request, principal, **args)
                # The wait happens outside the lock, so concurrent calls overlap in time
                # as they do against the real service, and count as in flight meanwhile.
                # The model is the call's time at the server, the emulator's own work
                # included: that work runs in the client's process here, and adding it on
                # top would bill the client for the emulator (sandbox/FIDELITY.md).
                if outer and not self.latency.off:
                    subs = int(request.environ.get("sandbox.units", 0))
                    asleep = time.perf_counter()
                    worked = asleep - started - idle
                    time.sleep(max(0.0, self.latency.seconds(subs) - worked))
                    idle += time.perf_counter() - asleep
            finally:
                held.close()  # e.g. row locks: released once the response is made
                if grant is not None:
                    self.in_flight.leave(grant)
                if overall is not None:
                    self.in_flight.leave(overall)
            response = result if isinstance(result, Response) else self.json_response(result)
            if lost:  # applied above; the answer never reaches the client
                raise HttpError(lost.status, "GatewayTimeout", "The response was lost")
        except HttpError as err:
            response = self._error_response(err)
        served = time.perf_counter() - started - idle
        if counted and record:
            with self.lock:
                self._seq += 1
                self.calls.append(
                    CallRecord(
                        self._seq,
                        time.time(),
                        request.method,
                        request.full_path.rstrip("?"),
                        principal,
                        response.status_code,
                        # A batching handler sets this so call logs can report quota units.
                        int(request.environ.get("sandbox.units", 1)),
                        served,
                    )
                )
                self.decorate(response, principal)
        return response

    def _enter_overall(self, request: Request, principal: str | None) -> Grant | None:
        key = self.overall_key(request, principal)
        return None if key is None else self.in_flight.enter(self.normalize_key(key))

    def _enter_flight(self, request: Request, principal: str | None) -> Grant | None:
        key = self.concurrency_key(request, principal)
        if key is None:
            return None
        key = self.normalize_key(key)
        wanted = max(1, self.concurrency_cost(request))
        limit = self.concurrency_limit(key)
        grant = self.in_flight.enter(key, wanted, limit, self.long_running_after)
        if grant.short and not self.concurrency_partial_ok(request):
            self.in_flight.leave(grant)
            raise self.concurrency_refusal(key)
        request.environ["sandbox.concurrency_short"] = grant.short
        request.environ["sandbox.concurrency_granted"] = grant.granted
        return grant

    def _control(self, request: Request) -> Response:
        """`/_sandbox/…`: the same controls as the Python API, for the demo and shell use."""
        action = request.path[len("/_sandbox/") :].strip("/")
        body = request.get_json(silent=True) or {}
        try:
            if action == "reset" and request.method == "POST":
                with self.lock:
                    self.reset()
                return self.json_response({"ok": True})
            if action == "seed" and request.method == "POST":
                with self.lock:
                    return self.json_response(self.seed(body))
            if action == "calls" and request.method == "GET":
                with self.lock:
                    return self.json_response(
                        {"calls": [asdict(c) for c in self.calls], "counts": self.call_counts()}
                    )
            if action == "calls" and request.method == "DELETE":
                self.clear_calls()
                return self.json_response({"ok": True})
            if action == "faults" and request.method == "POST":
                return self.json_response(self._apply_fault_request(body))
            if action == "faults" and request.method == "DELETE":
                self.clear_faults()
                return self.json_response({"ok": True})
            if action == "in_flight" and request.method == "GET":
                return self.json_response({"peaks": self.in_flight.peaks()})
        except HttpError as err:
            return self.json_response({"error": err.message}, err.status)
        except (TypeError, ValueError) as err:
            return self.json_response({"error": str(err)}, 400)
        return self.json_response({"error": f"unknown control {request.method} {action}"}, 404)

    def _apply_fault_request(self, body: dict[str, Any]) -> dict[str, Any]:
        match = str(body.get("match", ""))
        if "fail_next" in body:
            self.fail_next(int(body["fail_next"]), int(body.get("status", 503)), match)
        if "throttle_next" in body:
            self.throttle_next(int(body["throttle_next"]), float(body.get("retry_after", 1)), match)
        if "lose_response_next" in body:
            method = str(body.get("method", "POST"))
            self.lose_response_next(
                int(body["lose_response_next"]), match, method, 504, str(body.get("body", ""))
            )
        if "delay_next" in body:
            self.delay_next(int(body["delay_next"]), float(body.get("seconds", 1)), match)
        if "latency" in body:
            latency = body["latency"] or {}
            self.set_latency(
                float(latency.get("base", 0)), float(latency.get("per_sub_request", 0))
            )
        expired = 0
        if body.get("expire_tokens"):
            expired = self.expire_tokens(body.get("principal"))
        return {"ok": True, "expired_tokens": expired}
