"""`EwsCore`: the EWS flavour of the shared emulator base — one SOAP endpoint, its own auth.

The shared base (sandbox.common.Emulator) gives the call log, the `/_sandbox/` control API
and routing; EWS authenticates with Basic or NTLM instead of bearer tokens, so its single
route is declared `auth=False` and this class logs on the caller, resolves the
ExchangeImpersonation header to a mailbox, applies injected faults (ErrorServerBusy with
BackOffMilliseconds) and hands the operation element to a handler `op_<Name>`.

The throttling policy's EWSMaxConcurrency is enforced per impersonated mailbox (the mailbox
an impersonating caller's concurrency is charged to): `max_concurrency` requests (10 by
default, as on Exchange 2010 and later on-premises) may be in flight for one mailbox; one
more is refused with the SOAP fault ErrorExceededConnectionCount before it touches the
store. The shared base counts (sandbox/common/limits.py), the latency model's sleep
included; the refusal is given here, after logon, as IIS authenticates a request before
EWS charges its budget.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import Emulator, HttpError, route

from .auth import Authenticator, ServiceAccount
from .soap import (
    ACCEPTED_VERSIONS,
    EwsError,
    envelope,
    fault,
    local,
    parse_envelope,
    t,
    text_of,
)
from .store import WELL_KNOWN, Folder, Ids, Mailbox, SyncStates

UTC = dt.UTC
# The mailbox an ExchangeImpersonation header names (read before the envelope is parsed).
_IMPERSONATED = re.compile(rb"<(?:\w+:)?(?:PrimarySmtpAddress|SmtpAddress)>([^<]+)<")
# The default throttling policy's EWSMaxConcurrency on Exchange 2010 and later on-premises
# (Exchange Online: 27): https://learn.microsoft.com/en-us/exchange/client-developer/
# exchange-web-services/ews-throttling-in-exchange
EWS_MAX_CONCURRENCY = 10


class Clock:
    """The emulator's "now": real time unless a test pins or steers it."""

    def __init__(self) -> None:
        self._fixed: Any = None

    def set(self, value: Any) -> None:
        self._fixed = value

    def now(self) -> dt.datetime:
        value = self._fixed() if callable(self._fixed) else self._fixed
        value = value or dt.datetime.now(UTC)
        return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class Invitation:
    """A meeting message Exchange would have sent for a calendar write."""

    kind: str  # "request" | "update" | "cancellation" | "message"
    mailbox: str
    item_id: str
    subject: str
    recipients: list[str]
    setting: str  # the SendMeeting…/MessageDisposition value the write carried
    at: dt.datetime


@dataclass
class Context:
    """One request: who logged on, whose mailbox, the operation's name."""

    account: ServiceAccount
    box: Mailbox
    op: str
    impersonated: bool
    header: ET.Element = field(default_factory=lambda: ET.Element("header"))


class EwsCore(Emulator):
    name = "ews"

    def __init__(self) -> None:
        super().__init__()
        self.auth = Authenticator()
        self.mailboxes: dict[str, Mailbox] = {}
        self.clock = Clock()
        self.ids = Ids()
        self.sync_states = SyncStates()
        self.invitations: list[Invitation] = []
        self.op_counts: Counter[str] = Counter()
        # (operation, logged-on account, mailbox) of every SOAP call that got past logon
        self.soap_calls: list[tuple[str, str, str]] = []
        self._busy: list[tuple[int, int, str]] = []  # [remaining, back-off ms, operation]
        self._busy_lock = threading.Lock()
        #: Requests one impersonated mailbox may have in flight (None: unlimited, only counted).
        self.max_concurrency: int | None = EWS_MAX_CONCURRENCY
        # Calls refused with ErrorExceededConnectionCount, per mailbox, since the last clear.
        self.concurrency_refused: Counter[str] = Counter()

    # -- accounts and mailboxes ----------------------------------------------------------

    def add_service_account(
        self, username: str, password: str, *, can_impersonate: bool = True, smtp: str = ""
    ) -> ServiceAccount:
        return self.auth.add(ServiceAccount(username, password, smtp, can_impersonate))

    def add_mailbox(self, smtp: str, display_name: str = "", time_zone: str = "UTC") -> Mailbox:
        with self.lock:
            box = Mailbox(smtp=smtp, display_name=display_name or smtp, time_zone=time_zone)
            root = Folder(self.ids("folder"), self.ids.change_key(), "", "root", "", "root")
            box.folders[root.id] = root
            for dist, name, cls, parent in WELL_KNOWN:
                parent_folder = box.distinguished(parent)
                assert parent_folder is not None
                folder = Folder(
                    self.ids("folder"), self.ids.change_key(), parent_folder.id, name, cls, dist
                )
                box.folders[folder.id] = folder
            self.mailboxes[smtp.lower()] = box
            return box

    def mailbox(self, smtp: str) -> Mailbox:
        box = self.mailboxes.get(smtp.lower())
        if box is None:
            raise KeyError(smtp)
        return box

    def now(self) -> dt.datetime:
        return self.clock.now()

    def set_clock(self, now: Any) -> None:
        """Pin "now" (an aware datetime), steer it with a callable, or None for real time."""
        self.clock.set(now)

    def bump(self, box: Mailbox) -> int:
        box.seq += 1
        return box.seq

    # -- fault injection, counts, invitations (Python control API) -----------------------

    def server_busy_next(self, n: int = 1, back_off_ms: int = 1000, operation: str = "") -> None:
        """The next `n` calls (of `operation`, or any) answer ErrorServerBusy."""
        with self._busy_lock:
            self._busy.append([n, back_off_ms, operation])  # type: ignore[arg-type]

    def invalidate_sync_states(self, smtp: str | None = None) -> None:
        """Every SyncState issued so far answers ErrorInvalidSyncStateData from now on."""
        with self.lock:
            for box in [self.mailbox(smtp)] if smtp else self.mailboxes.values():
                box.sync_generation += 1

    def operation_counts(self, mailbox: str | None = None) -> dict[str, int]:
        """Calls per operation (all, or those made in one mailbox) since the last clear."""
        with self.lock:
            if mailbox is None:
                return dict(self.op_counts)
            return dict(Counter(op for op, _, box in self.soap_calls if box == mailbox.lower()))

    def invitations_sent(self, smtp: str | None = None) -> list[Invitation]:
        with self.lock:
            return [i for i in self.invitations if smtp is None or i.mailbox == smtp.lower()]

    def clear_faults(self) -> None:
        """The shared faults and the pending ErrorServerBusy answers."""
        super().clear_faults()
        with self._busy_lock:
            self._busy.clear()

    def clear_calls(self) -> None:
        with self.lock:
            super().clear_calls()
            self.op_counts.clear()
            self.soap_calls.clear()
            self.concurrency_refused.clear()

    def reset(self) -> None:
        super().reset()
        self.mailboxes.clear()
        self.invitations.clear()
        self.op_counts.clear()
        self.concurrency_refused.clear()
        self._busy.clear()
        self.auth = Authenticator()
        self.ids = Ids()
        self.max_concurrency = EWS_MAX_CONCURRENCY

    def concurrency_key(self, request: Request, principal: str | None) -> str | None:
        """In-flight calls are counted per mailbox: with impersonation Exchange charges the
        EWSMaxConcurrency budget to the impersonated mailbox (`peak_in_flight(smtp)`).
        Calls without the header are not counted (see FIDELITY.md)."""
        found = _IMPERSONATED.search(request.get_data())
        if found is not None:
            return found.group(1).decode(errors="replace").strip().lower()
        return None

    @staticmethod
    def normalize_key(key: str) -> str:
        return key.lower()

    def concurrency_limit(self, key: str) -> int | None:
        return self.max_concurrency

    def concurrency_partial_ok(self, request: Request) -> bool:
        """A call over the limit still reaches `http_ews`, which logs it on first (a 401
        stays a 401) and then refuses it: such a call holds no slot meanwhile."""
        return True

    def _over_budget(self, request: Request) -> EwsError | None:
        if not request.environ.get("sandbox.concurrency_short"):
            return None
        limit = self.max_concurrency
        key = self.concurrency_key(request, None) or ""
        with self.lock:
            self.concurrency_refused[key] += 1
        # The text and MessageXml a real server sends for this policy (Exchange Online
        # reports the same fields with its own limit, 27).
        return EwsError(
            "ErrorExceededConnectionCount",
            "You have exceeded the available concurrent connections for your account. "
            "Try again once your other requests have completed.",
            fault=True,
            values={
                "Policy": "MaxConcurrency",
                "MaxConcurrencyLimit": str(limit),
                "ErrorMessage": "This operation exceeds the throttling budget for policy "
                f"part 'MaxConcurrency', policy value '{limit}',  Budget type: 'Ews'.  "
                "Suggested backoff time 0 ms.",
            },
        )

    def _take_busy(self, op: str) -> int | None:
        with self._busy_lock:
            for entry in self._busy:
                if entry[0] > 0 and entry[2] in ("", op):
                    entry[0] -= 1
                    if entry[0] == 0:
                        self._busy.remove(entry)
                    return int(entry[1])
        return None

    # -- the endpoint --------------------------------------------------------------------

    @route("/EWS/Exchange.asmx", methods=("POST",), auth=False)
    def http_ews(self, request: Request, principal: str | None) -> Response:
        # Read the body first, even for a 401: an unread body makes the server drop the
        # connection, and NTLM's logon lives on the connection.
        payload = request.get_data()
        result = self.auth.authenticate(
            request.headers.get("Authorization", ""), request.environ.get("werkzeug.socket")
        )
        if result.account is None:
            headers = [("WWW-Authenticate", result.challenge)] if result.challenge else []
            if not result.challenge:
                headers = [("WWW-Authenticate", offer) for offer in self.auth.offered()]
            return Response(b"", status=401, headers=headers)
        account = result.account
        try:
            header, operation = parse_envelope(payload)
            op = local(operation.tag)
            self._check_version(header)
            self.op_counts[op] += 1
            over = self._over_budget(request)
            if over is not None:
                raise over  # before any fault or handler: the store is not touched
            busy = self._take_busy(op)
            if busy is not None:
                raise EwsError(
                    "ErrorServerBusy",
                    "The server cannot service this request right now. Try again later.",
                    fault=True,
                    values={"BackOffMilliseconds": str(busy)},
                )
            handler = getattr(self, f"op_{op}", None)
            if handler is None:
                raise EwsError(
                    "ErrorInvalidRequest", f"The operation {op} is not emulated.", fault=True
                )
            ctx = self._context(account, header, op)
            # The items one call carries: the latency model's inner requests (and the call
            # log's units), as a Graph $batch reports its requests.
            carried = _items_carried(operation)
            if carried:
                request.environ["sandbox.units"] = carried
            self.soap_calls.append((op, account.username, ctx.box.smtp.lower()))
            body = envelope(handler(ctx, operation))
            status = 200
        except EwsError as err:
            if not err.fault:
                raise
            body, status = fault(err), err.status
        return Response(body, status=status, content_type="text/xml; charset=utf-8")

    def _check_version(self, header: ET.Element) -> None:
        version = header.find(t("RequestServerVersion"))
        if version is not None and version.get("Version") not in ACCEPTED_VERSIONS:
            raise EwsError(
                "ErrorInvalidServerVersion", "The specified server version is invalid.", fault=True
            )

    def _context(self, account: ServiceAccount, header: ET.Element, op: str) -> Context:
        imp = header.find(t("ExchangeImpersonation"))
        if op == "ConvertId" and imp is None:
            box = self.mailboxes.get(account.smtp.lower()) or Mailbox(account.smtp, "")
            return Context(account, box, op, False, header)
        if imp is not None:
            sid = imp.find(t("ConnectingSID"))
            smtp = text_of(sid, t("PrimarySmtpAddress")) or text_of(sid, t("SmtpAddress"))
            smtp = smtp or text_of(sid, t("PrincipalName"))
            if not account.can_impersonate:
                raise EwsError(
                    "ErrorImpersonateUserDenied",
                    "The account does not have permission to impersonate the requested user.",
                    fault=True,
                )
            box = self.mailboxes.get(smtp.lower())
            if box is None:
                raise EwsError(
                    "ErrorNonExistentMailbox",
                    "The SMTP address has no mailbox associated with it.",
                    fault=True,
                    values={"SmtpAddress": smtp},
                )
            return Context(account, box, op, True, header)
        box = self.mailboxes.get(account.smtp.lower())
        if box is None:
            raise EwsError(
                "ErrorNonExistentMailbox",
                "The SMTP address has no mailbox associated with it.",
                fault=True,
                values={"SmtpAddress": account.smtp},
            )
        return Context(account, box, op, False, header)

    def record_invitation(
        self, ctx: Context, kind: str, item_id: str, subject: str, to: list[str], setting: str
    ) -> None:
        self.invitations.append(
            Invitation(kind, ctx.box.smtp.lower(), item_id, subject, to, setting, self.now())
        )

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        """`POST /_sandbox/seed {"service_accounts":[{"username","password","can_impersonate"}],
        "mailboxes":[{"smtp","display_name","time_zone","demo":true}]}`."""
        from .demo import seed_demo_mailbox

        for spec in data.get("service_accounts", []):
            self.add_service_account(
                spec["username"],
                spec["password"],
                can_impersonate=spec.get("can_impersonate", True),
            )
        out = []
        for spec in data.get("mailboxes", []):
            smtp = spec["smtp"]
            if smtp.lower() not in self.mailboxes:
                self.add_mailbox(smtp, spec.get("display_name", ""), spec.get("time_zone", "UTC"))
            if spec.get("demo"):
                seed_demo_mailbox(self, smtp)  # type: ignore[arg-type]
            out.append({"smtp": smtp})
        return {"mailboxes": out, "ews_url": f"{self.base_url}/EWS/Exchange.asmx"}

    def _control(self, request: Request) -> Response:
        """EWS's own controls besides the shared ones: the invitation record, ErrorServerBusy
        injection, SyncState invalidation and the EWSMaxConcurrency limit."""
        action = request.path[len("/_sandbox/") :].strip("/")
        body = request.get_json(silent=True) or {}
        if action == "invitations" and request.method == "GET":
            with self.lock:
                rows = [
                    {**vars(i), "at": i.at.isoformat()}
                    for i in self.invitations_sent(body.get("smtp"))
                ]
            return self.json_response({"invitations": rows})
        if action == "server_busy" and request.method == "POST":
            self.server_busy_next(
                int(body.get("n", 1)),
                int(body.get("back_off_ms", 1000)),
                str(body.get("operation", "")),
            )
            return self.json_response({"ok": True})
        if action == "max_concurrency" and request.method == "POST":
            limit = body.get("limit", EWS_MAX_CONCURRENCY)
            self.max_concurrency = None if limit is None else int(limit)
            return self.json_response({"ok": True, "limit": self.max_concurrency})
        if action == "sync_states" and request.method == "DELETE":
            self.invalidate_sync_states(body.get("smtp"))
            return self.json_response({"ok": True})
        if action == "operations" and request.method == "GET":
            return self.json_response({"operations": self.operation_counts(body.get("smtp"))})
        return super()._control(request)

    def error_body(self, err: HttpError) -> Any:
        return {"error": err.message}


ITEM_LISTS = ("Items", "ItemChanges", "ItemIds")  # CreateItem, UpdateItem, Get/DeleteItem


def _items_carried(operation: ET.Element) -> int:
    """Items of a batching operation (0 for any other: one request, one unit)."""
    for child in operation:
        if local(child.tag) in ITEM_LISTS:
            return len(child)
    return 0
