"""The Google emulator: People, Calendar v3, Tasks v1, Gmail v1, batch and OAuth on one host.

Paths are the ones google-api-python-client builds with `client_options={"api_endpoint":
base + "/"}` (Calendar: `base + "/calendar/v3/"`). The Python methods below act "as the
user would in Google's own apps": they bypass the call log but bump etags, `updated`,
history ids and sync state exactly like API writes.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request

from sandbox.common import Emulator, HttpError

from .batch import BatchApi, api_of_request
from .calendar import CalendarApi
from .errors import google_error_body, unauthenticated
from .gmail import GmailApi
from .oauth import OAuthApi
from .people import PERSON_FIELDS, PeopleApi
from .store import Account, Clock, Tokens, seed_ids
from .tasks import TasksApi

_numeric = itertools.count(104_857_600_000_000_000_001)
_FIELDS = sorted(PERSON_FIELDS)


class GoogleEmulator(OAuthApi, PeopleApi, CalendarApi, TasksApi, GmailApi, BatchApi, Emulator):
    name = "google"
    #: Gmail's per-user concurrent request limit. Google documents that it exists ("The
    #: Gmail API enforces a per-user concurrent request limit ... shared by all Gmail API
    #: clients accessing a given user", https://developers.google.com/workspace/gmail/api/
    #: guides/handle-errors) but publishes no number, so it is off (None) unless a test or
    #: benchmark sets one. People, Calendar and Tasks document no concurrency limit at all.
    gmail_max_in_flight: int | None = None

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.clock = Clock()
        self.cursors = Tokens()
        self.scopes_by_code: dict[str, str] = {}
        super().__init__()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Google accepts a GET sent as POST with `X-HTTP-Method-Override: GET` and the
        query in a form body; google-api-python-client does that when a URI is over 2,048
        characters (a people:batchGet of many contacts, say)."""
        override = environ.get("HTTP_X_HTTP_METHOD_OVERRIDE", "").upper()
        if environ.get("REQUEST_METHOD") == "POST" and override == "GET":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length).decode("ascii") if length else ""
            environ = {
                **environ,
                "REQUEST_METHOD": "GET",
                "QUERY_STRING": "&".join(q for q in (environ.get("QUERY_STRING", ""), body) if q),
                "CONTENT_LENGTH": "0",
                "wsgi.input": io.BytesIO(b""),
            }
            environ.pop("CONTENT_TYPE", None)
        return super().__call__(environ, start_response)

    # -- Emulator hooks ------------------------------------------------------------------

    def error_body(self, err: HttpError) -> Any:
        return google_error_body(err)

    def unauthorized(self) -> HttpError:
        return unauthenticated()

    def concurrency_key(self, request: Request, principal: str | None) -> str | None:
        """In flight per user and API ("alice@example.com|gmail"): limits are per API."""
        if principal is None:
            return None
        return f"{principal.lower()}|{api_of_request(request.path) or 'other'}"

    def overall_key(self, request: Request, principal: str | None) -> str | None:
        """The user across its APIs (`peak_in_flight(email)`): counted, not limited."""
        return principal.lower() if principal else None

    def concurrency_limit(self, key: str) -> int | None:
        return self.gmail_max_in_flight if key.endswith("|gmail") else None

    def concurrency_refusal(self, key: str) -> HttpError:
        return HttpError(429, "rateLimitExceeded", "Too many concurrent requests for user.")

    def peak_in_flight_for(self, email: str, api: str) -> int:
        """The most requests `email` had in flight at once on one API (people, calendar,
        tasks, gmail)."""
        return self.in_flight.peak(f"{email.lower()}|{api}")

    def reset(self) -> None:
        self.accounts.clear()
        self.cursors = Tokens()
        self.scopes_by_code.clear()
        self.clock = Clock()
        super().reset()

    def seed_ids(self, seed: int | str | None) -> None:
        """Ids, etags and tokens made from `seed` from now on (None: unpredictable again,
        the default), so a property test replays a failing run with the same ids."""
        seed_ids(seed)

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        """`POST /_sandbox/seed {"accounts":[{"email","display_name","time_zone","demo"}]}`."""
        from .demo import seed_demo_account

        out = []
        for spec in data.get("accounts", []):
            self.add_account(
                spec["email"], spec.get("display_name", ""), spec.get("time_zone", "UTC")
            )
            if spec.get("demo"):
                seed_demo_account(self, spec["email"])
            access, refresh = self.issue_token(spec["email"])
            out.append({"email": spec["email"], "access_token": access, "refresh_token": refresh})
        return {"accounts": out}

    # -- accounts, tokens, clock ---------------------------------------------------------

    def add_account(self, email: str, display_name: str = "", time_zone: str = "UTC") -> Account:
        with self.lock:
            email = email.lower()
            acct = Account(
                email, display_name or email.split("@")[0], time_zone, str(next(_numeric))
            )
            self.accounts[email] = acct
            self._ensure_groups(acct)
            self._labels(acct)
            self._list(acct, "@default")
            return acct

    def issue_token(self, email: str) -> tuple[str, str]:
        """A fresh (access, refresh) pair, as if the user had consented."""
        access, refresh = self.tokens.issue(self.account(email).email)
        assert refresh is not None
        return access, refresh

    def set_clock(self, when: datetime | Callable[[], datetime] | None) -> None:
        """Fix "now" (a datetime), follow a callable, or return to real time (None)."""
        with self.lock:
            self.clock.set(when)

    def advance_clock(self, **delta: float) -> None:
        with self.lock:
            self.clock.advance(**delta)

    def expire_sync_tokens(self, account: str | None = None, kind: str | None = None) -> int:
        """Invalidate People ("people") and/or Calendar ("calendar") sync tokens."""
        with self.lock:
            return self.cursors.expire(account.lower() if account else None, kind)

    def expire_history(self, account: str | None = None) -> None:
        """Make every startHistoryId issued so far too old (history.list → 404)."""
        with self.lock:
            for acct in self.accounts.values():
                if account in (None, acct.email):
                    acct.history_id += 1
                    acct.history_floor = acct.history_id

    def revoke_refresh_tokens(self, email: str | None = None) -> int:
        return self.tokens.revoke_refresh_tokens(email.lower() if email else None)

    # -- People, as the user -------------------------------------------------------------

    def create_contact(self, email: str, person: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            rec = self.people_create(self.account(email), person)
            return self.render_person(rec, _FIELDS)

    def update_contact(self, email: str, resource_name: str, changes: dict[str, Any]) -> dict:
        """Replace the given top-level fields (like updateContact, without the etag check)."""
        with self.lock:
            rec = self.people_update(self.account(email), resource_name, changes, list(changes))
            return self.render_person(rec, _FIELDS)

    def delete_contact(self, email: str, resource_name: str) -> None:
        with self.lock:
            self.people_delete(self.account(email), resource_name)

    def get_contact(self, email: str, resource_name: str) -> dict[str, Any] | None:
        with self.lock:
            rec = self.account(email).contacts.get(resource_name)
            return None if rec is None else self.render_person(rec, _FIELDS)

    def contacts(self, email: str) -> list[dict[str, Any]]:
        with self.lock:
            recs = self.account(email).contacts.values()
            return [self.render_person(r, _FIELDS) for r in recs if not r["deleted"]]

    def create_group(self, email: str, name: str) -> str:
        with self.lock:
            return "contactGroups/" + self.group_create(self.account(email), name)["id"]

    def group_resource(self, email: str, name: str) -> str | None:
        with self.lock:
            acct = self.account(email)
            for g in acct.groups.values():
                if not g["deleted"] and g["formattedName"] == name:
                    return f"contactGroups/{g['id']}"
            return None

    def modify_group(
        self,
        email: str,
        group: str,
        add: list[str] = (),
        remove: list[str] = (),  # type: ignore[assignment]
    ) -> dict[str, Any]:
        with self.lock:
            gid = group.removeprefix("contactGroups/")
            return self.group_modify(self.account(email), gid, list(add), list(remove))

    # -- Calendar, as the user -----------------------------------------------------------

    def create_event(self, email: str, event: dict[str, Any]) -> dict[str, Any]:
        """As the user in Google Calendar. `organizer` ({"email": someone else}) makes it an
        invitee's copy of another person's meeting; `iCalUID` gives it a known meeting UID
        (the same meeting in two calendars). Emails the user's own edits send are not
        recorded: `sent_invitations` is about API writes."""
        with self.lock:
            acct = self.account(email)
            stored = self.event_insert(acct, {k: v for k, v in event.items() if k != "iCalUID"})
            if event.get("iCalUID"):
                stored["iCalUID"] = event["iCalUID"]
            if (stored.get("organizer") or {}).get("email", "").lower() != acct.email:
                stored["organizer"].pop("self", None)
            return self.render_event(stored)

    def respond_to_event(
        self, email: str, event_id: str, attendee: str, response: str
    ) -> dict[str, Any]:
        """An attendee's reply (accepted, declined, tentative, needsAction) reaching this
        calendar's copy: a new version of the event, as in Google Calendar."""
        if response not in ("needsAction", "declined", "tentative", "accepted"):
            raise ValueError(f"unknown responseStatus {response!r}")
        with self.lock:
            acct = self.account(email)
            event = acct.events.get(event_id)
            if event is None:
                raise KeyError(event_id)
            guests = [dict(a) for a in event.get("attendees") or []]
            for guest in guests:
                if guest.get("email", "").lower() == attendee.lower():
                    guest["responseStatus"] = response
                    break
            else:
                raise KeyError(f"{attendee} is not an attendee")
            return self.render_event(self.event_change(acct, event_id, {"attendees": guests}))

    def sent_invitations(self, email: str) -> list[dict[str, Any]]:
        """Every invitation, update and cancellation Google Calendar would have emailed for
        the account's API writes (anything not sent with sendUpdates=none), oldest first."""
        with self.lock:
            return [m.as_dict() for m in self.account(email).sent_updates]

    def update_event(self, email: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Patch semantics; an instance id (`<series>_<stamp>`) makes an exception."""
        with self.lock:
            return self.render_event(self.event_change(self.account(email), event_id, changes))

    def delete_event(self, email: str, event_id: str) -> None:
        with self.lock:
            self.event_delete(self.account(email), event_id)

    def events(self, email: str, include_cancelled: bool = False) -> list[dict[str, Any]]:
        with self.lock:
            return [
                self.render_event(e)
                for e in self.account(email).events.values()
                if include_cancelled or e.get("status") != "cancelled"
            ]

    # -- Tasks, as the user --------------------------------------------------------------

    def create_tasklist(self, email: str, title: str) -> str:
        with self.lock:
            return self.tasklist_create(self.account(email), title)["id"]

    def tasklist_id(self, email: str, title: str) -> str | None:
        with self.lock:
            acct = self.account(email)
            return next((i for i, t in acct.tasklists.items() if t["title"] == title), None)

    def create_task(self, email: str, list_id: str, task: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return self.render_task(self.task_insert(self.account(email), list_id, task))

    def update_task(
        self,
        email: str,
        list_id: str,
        task_id: str,
        changes: dict[str, Any],
        *,
        via_ui: bool = False,
    ) -> dict[str, Any]:
        """`via_ui=True` completes like Google's apps do: the task is also hidden."""
        with self.lock:
            acct = self.account(email)
            task = self.task_update(acct, list_id, task_id, changes)
            if via_ui and task["status"] == "completed":
                task["hidden"] = True
            return self.render_task(task)

    def delete_task(self, email: str, list_id: str, task_id: str) -> None:
        with self.lock:
            self.task_delete(self.account(email), list_id, task_id)

    def tasks_of(self, email: str, list_id: str) -> list[dict[str, Any]]:
        with self.lock:
            acct = self.account(email)
            return [self.render_task(t) for t in acct.tasks[self._list(acct, list_id)].values()]

    # -- Gmail, as the user --------------------------------------------------------------

    def create_label(self, email: str, name: str) -> str:
        with self.lock:
            return self.label_create(self.account(email), name)["id"]

    def label_id(self, email: str, name: str) -> str | None:
        with self.lock:
            labels = self._labels(self.account(email)).values()
            return next((lab["id"] for lab in labels if lab["name"] == name), None)

    def add_message(self, email: str, **fields: Any) -> str:
        """Deliver (or file) a message. See `GmailApi.message_add` for the keywords."""
        with self.lock:
            return self.message_add(self.account(email), **fields)["id"]

    def modify_message(
        self,
        email: str,
        message_id: str,
        add: list[str] = (),
        remove: list[str] = (),  # type: ignore[assignment]
    ) -> None:
        with self.lock:
            self.message_modify(self.account(email), message_id, list(add), list(remove))

    def delete_message(self, email: str, message_id: str) -> None:
        with self.lock:
            self.message_delete(self.account(email), message_id)

    def history_id(self, email: str) -> int:
        return self.account(email).history_id
