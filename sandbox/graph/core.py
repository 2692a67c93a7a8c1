"""`GraphCore`: the Graph flavour of the shared emulator base, and the mailbox registry.

Feature modules (contacts, calendar, To Do, mail, batch, OAuth) are mixins over this class;
`app.GraphEmulator` puts them together.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request

from sandbox.common import Emulator, HttpError

from .store import Clock, IdMaker, Item, Mailbox, touch
from .timezones import fmt_instant, resolve

# Graph matches path segments case-insensitively (its own nextLinks say "contactfolders");
# werkzeug does not, so known segments are folded to one spelling before routing.
_SEGMENTS = [
    "contactFolders",
    "childFolders",
    "calendarView",
    "mailFolders",
    "masterCategories",
    "linkedResources",
    "mailboxSettings",
    "attachments",
    "contacts",
    "calendars",
    "calendar",
    "events",
    "instances",
    "messages",
    "outlook",
    "todo",
    "lists",
    "tasks",
    "delta",
    "move",
    "$batch",
    "$value",
]
_CANON = {s.lower(): s for s in _SEGMENTS}
_CANON["microsoft.graph.delta"] = "delta"
_CANON["microsoft.graph.delta()"] = "delta"
_CANON["delta()"] = "delta"


# Outlook's per-app, per-mailbox concurrency limit: "up to four concurrent requests"
# (https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits); and
# "Microsoft Graph sends the Outlook service up to four individual requests from the batch
# at a time" (https://learn.microsoft.com/en-us/graph/throttling-limits, JSON batching).
MAILBOX_CONCURRENCY = 4


class GraphCore(Emulator):
    name = "graph"
    max_in_flight: int | None = MAILBOX_CONCURRENCY
    #: Retry-After (seconds) on a MailboxConcurrency 429.
    concurrency_retry_after = 1

    def __init__(self, tenant: str = "common") -> None:
        super().__init__()
        self.tenant = tenant
        self.mailboxes: dict[str, Mailbox] = {}
        self.clock = Clock()
        self.ids = IdMaker()
        self._local = threading.local()

    # -- Graph's error shape and routing -------------------------------------------------

    def error_body(self, err: HttpError) -> Any:
        request: Request | None = getattr(self._local, "request", None)
        client_id = request.headers.get("client-request-id") if request else None
        request_id = str(uuid.uuid4())
        code = {"NOT_FOUND": "BadRequest", "METHOD_NOT_ALLOWED": "BadRequest"}.get(
            err.code, err.code
        )
        return {
            "error": {
                "code": code,
                "message": err.message,
                "innerError": {
                    "date": self.now().strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": request_id,
                    "client-request-id": client_id or request_id,
                },
            }
        }

    # -- per-mailbox concurrency (the shared base counts; Graph says what a slot is) --------

    @staticmethod
    def normalize_key(key: str) -> str:
        return key.lower()

    def concurrency_cost(self, request: Request) -> int:
        """A $batch holds as many slots as Graph runs of it at once: its independent
        requests (those without dependsOn; a chain runs one at a time), at most four."""
        if not request.path.endswith("/$batch"):
            return 1
        payload = request.get_json(silent=True)
        items = payload.get("requests") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            return 1
        roots = sum(1 for i in items if isinstance(i, dict) and not i.get("dependsOn"))
        return max(1, min(MAILBOX_CONCURRENCY, roots))

    def concurrency_partial_ok(self, request: Request) -> bool:
        # Inner requests over the limit answer 429 inside a 200 batch response.
        return request.path.endswith("/$batch")

    def concurrency_refusal(self, key: str) -> HttpError:
        return HttpError(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
            headers={"Retry-After": str(self.concurrency_retry_after)},
        )

    def unauthorized(self) -> HttpError:
        return HttpError(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
            headers={"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ["PATH_INFO"] = self.canonical_path(environ.get("PATH_INFO", ""))
        self._local.request = Request(environ)
        return super().__call__(environ, start_response)

    @staticmethod
    def canonical_path(path: str) -> str:
        if not path.lower().startswith("/v1.0/"):
            return path
        parts = path.split("/")
        return "/".join(_CANON.get(p.lower(), p) for p in parts)

    # -- mailboxes and time --------------------------------------------------------------

    def now(self) -> Any:
        return self.clock.now()

    def mailbox(self, principal: str | None) -> Mailbox:
        box = self.mailboxes.get((principal or "").lower())
        if box is None:
            raise HttpError(
                404, "ErrorInvalidUser", f"The requested user '{principal}' is invalid."
            )
        return box

    def touch(self, box: Mailbox, item: Item) -> Item:
        return touch(box, item, self.now(), self.ids)

    def add_mailbox(self, upn: str, display_name: str, time_zone: str = "UTC") -> Mailbox:
        """Create an empty mailbox with its default contact folder, calendar, lists, folders."""
        resolve(time_zone)  # refuse names Graph would refuse
        with self.lock:
            box = Mailbox(upn=upn, display_name=display_name, time_zone=time_zone)
            box.user_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"graph-user:{upn.lower()}"))
            self.mailboxes[upn.lower()] = box
            self._init_mailbox(box)
            return box

    def _init_mailbox(self, box: Mailbox) -> None:
        """Hook the feature mixins extend to create their well-known containers."""

    def issue_token(self, upn: str) -> tuple[str, str]:
        """An (access, refresh) pair for a mailbox, as if the user had consented."""
        self.mailbox(upn)
        access, refresh = self.tokens.issue(upn.lower())
        assert refresh is not None
        return access, refresh

    def revoke_refresh_tokens(self, upn: str | None = None) -> int:
        return self.tokens.revoke_refresh_tokens(upn.lower() if upn else None)

    def set_clock(self, now: Any) -> None:
        """Pin "now" (an aware datetime), steer it with a callable, or None for real time."""
        self.clock.set(now)

    def expire_delta_tokens(self, mailbox: str | None = None) -> int:
        """Forget delta/skip token state; their next use answers 410 syncStateNotFound."""
        with self.lock:
            boxes = [self.mailbox(mailbox)] if mailbox else list(self.mailboxes.values())
            count = 0
            for box in boxes:
                count += len(box.tokens)
                box.tokens.clear()
            return count

    def reset(self) -> None:
        super().reset()
        self.mailboxes.clear()
        self.ids = IdMaker()

    def stamp(self) -> str:
        return fmt_instant(self.now())

    @staticmethod
    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
