"""Calendar API v3: the primary calendar, events with recurrence, sync tokens."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import route

from .errors import HttpError, bad_request, bool_param, conflict, int_param, invalid, not_found
from .meetings import MeetingsMixin, send_updates
from .recurrence import Span, instance_suffix, occurrences, span_of, zone
from .service import Service
from .store import Account, SyncState, choose, paginate, parse_time, rfc3339

BASE32HEX = "0123456789abcdefghijklmnopqrstuv"
ID_RE = re.compile(r"^[0-9a-v]{5,1024}$")
INSTANCE_RE = re.compile(r"^(?P<series>[0-9a-v]+)_(?P<stamp>\d{8}(T\d{6}Z)?)$")
# Parameters Google refuses next to a syncToken (documented list).
SYNC_RESTRICTED = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
DAY = timedelta(days=1)
# What a listed cancelled event still carries. "Cancelled exceptions are only guaranteed to
# have values for the id, recurringEventId and originalStartTime fields populated ...
# Deleted events are only guaranteed to have the id field populated."
# (https://developers.google.com/calendar/api/v3/reference/events, `status`)
CANCELLED_INSTANCE_FIELDS = (
    "kind",
    "etag",
    "id",
    "status",
    "recurringEventId",
    "originalStartTime",
)
DELETED_FIELDS = ("kind", "etag", "id", "status")
SERVER_FIELDS = {"kind", "etag", "htmlLink", "created", "updated", "iCalUID", "creator"}


def _gone() -> HttpError:
    return HttpError(
        410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
    )


def _window_param(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    dt = parse_time(value, name)
    if not re.search(r"(Z|[+-]\d\d:?\d\d)$", value, re.IGNORECASE):
        raise bad_request(f"Bad Request: {name} must carry a time zone offset.")
    return dt


class CalendarApi(MeetingsMixin, Service):
    # -- model ---------------------------------------------------------------------------

    def _calendar(self, principal: str, calendar_id: str) -> Account:
        acct = self.account(principal)
        if calendar_id not in ("primary", acct.email):
            raise not_found("Not Found")
        return acct

    def _stamp(self, acct: Account, event: dict[str, Any]) -> None:
        event["_seq"] = acct.bump()
        event["etag"] = f'"{3_400_000_000_000_000 + event["_seq"] * 1000}"'
        event["updated"] = rfc3339(self.now())

    def event_insert(self, acct: Account, body: dict[str, Any]) -> dict[str, Any]:
        event = {k: copy.deepcopy(v) for k, v in body.items() if k not in SERVER_FIELDS}
        eid = event.get("id") or choose(BASE32HEX, 26)
        if not ID_RE.match(eid):
            raise invalid("Invalid resource id value.")
        if eid in acct.events:
            raise conflict("The requested identifier already exists.")
        self._validate(acct, event)
        now = rfc3339(self.now())
        me = {"email": acct.email, "self": True}
        event.update(id=eid, kind="calendar#event", created=now, creator=me, sequence=0)
        event.setdefault("status", "confirmed")
        event.setdefault("organizer", dict(me))
        event.setdefault("iCalUID", f"{eid}@google.com")
        event.setdefault("reminders", {"useDefault": True})
        event.setdefault("eventType", "default")
        event["htmlLink"] = f"{self.base_url}/calendar/event?eid={eid}"  # type: ignore[attr-defined]
        self._mark_attendees(acct, event)
        self._stamp(acct, event)
        acct.events[eid] = event
        return event

    def _validate(self, acct: Account, event: dict[str, Any]) -> Span:
        span = span_of(event, acct.time_zone)
        if event.get("recurrence"):
            if not span.all_day and not (event.get("start") or {}).get("timeZone"):
                raise bad_request("Missing time zone definition for start time.", "required")
            occurrences(
                span, event["recurrence"], zone(acct.time_zone), (None, None), self.now(), 1
            )
        return span

    def _mark_attendees(self, acct: Account, event: dict[str, Any]) -> None:
        organizer = (event.get("organizer") or {}).get("email", "").lower()
        for a in event.get("attendees") or []:
            a.setdefault("responseStatus", "needsAction")
            if a.get("email", "").lower() == acct.email:
                a["self"] = True
            if a.get("email", "").lower() == organizer:
                a["organizer"] = True

    def event_change(
        self, acct: Account, eid: str, changes: dict[str, Any], replace: bool = False
    ) -> dict[str, Any]:
        event = self._event_or_instance(acct, eid, materialize=True)
        before = (event.get("start"), event.get("end"), event.get("recurrence"))
        changes = {k: v for k, v in changes.items() if k not in SERVER_FIELDS | {"id"}}
        if replace:
            keep = {
                k: event[k] for k in SERVER_FIELDS | {"id", "organizer", "sequence"} if k in event
            }
            keep.update(
                {k: event[k] for k in ("recurringEventId", "originalStartTime") if k in event}
            )
            merged = {**keep, **copy.deepcopy(changes), "_seq": event["_seq"]}
        else:
            merged = _merge(copy.deepcopy(event), changes)
        merged.setdefault("status", "confirmed")
        if merged["status"] != "cancelled":
            self._validate(acct, merged)
        if (merged.get("start"), merged.get("end"), merged.get("recurrence")) != before:
            merged["sequence"] = int(event.get("sequence", 0)) + 1
        self._mark_attendees(acct, merged)
        self._stamp(acct, merged)
        acct.events[merged["id"]] = merged
        return merged

    def event_delete(self, acct: Account, eid: str) -> None:
        event = self._event_or_instance(acct, eid, materialize=True)
        if event.get("status") == "cancelled":
            raise HttpError(410, "deleted", "Resource has been deleted")
        event["status"] = "cancelled"
        self._stamp(acct, event)
        if event.get("recurrence"):
            for other in acct.events.values():
                if other.get("recurringEventId") == eid and other["status"] != "cancelled":
                    other["status"] = "cancelled"
                    self._stamp(acct, other)

    def _event_or_instance(self, acct: Account, eid: str, materialize: bool = False) -> dict:
        if eid in acct.events:
            return acct.events[eid]
        m = INSTANCE_RE.match(eid)
        master = acct.events.get(m.group("series")) if m else None
        if not m or not master or not master.get("recurrence"):
            raise not_found("Not Found")
        stamp = m.group("stamp")
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ" if "T" in stamp else "%Y%m%d")
        when = when.replace(tzinfo=UTC)
        for inst in self._instances(acct, master, (when - DAY, when + DAY)):
            if inst["id"] == eid:
                if materialize:  # an exception: the instance becomes its own stored event
                    inst["_seq"] = master["_seq"]
                    acct.events[eid] = inst
                return inst
        raise not_found("Not Found")

    def _instances(
        self, acct: Account, master: dict[str, Any], window: tuple[Any, Any], limit: int = 2500
    ) -> list[dict[str, Any]]:
        """Rendered instances of a series (exceptions not applied)."""
        span = span_of(master, acct.time_zone)
        out = []
        for occ in occurrences(
            span, master["recurrence"], zone(acct.time_zone), window, self.now(), limit
        ):
            inst = {k: copy.deepcopy(v) for k, v in master.items() if k != "recurrence"}
            inst["start"], inst["end"] = occ.render()
            inst["id"] = f"{master['id']}_{instance_suffix(occ.start)}"
            inst["recurringEventId"] = master["id"]
            inst["originalStartTime"] = copy.deepcopy(inst["start"])
            out.append(inst)
        return out

    def _bounds(self, acct: Account, event: dict[str, Any]) -> tuple[datetime, datetime]:
        return span_of(event, acct.time_zone).utc_bounds(zone(acct.time_zone))

    def render_event(self, event: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in event.items() if not k.startswith("_")}

    def render_listed(self, acct: Account, event: dict[str, Any]) -> dict[str, Any]:
        """An event as a listing shows it: a cancelled one keeps only the few fields Google
        guarantees, so a client cannot lean on summary, start or extendedProperties."""
        if event.get("status") != "cancelled":
            return self.render_event(event)
        keep = DELETED_FIELDS
        if event.get("recurringEventId") and self._live_master(acct, event):
            keep = CANCELLED_INSTANCE_FIELDS
        return {k: copy.deepcopy(event[k]) for k in keep if k in event}

    @staticmethod
    def _live_master(acct: Account, event: dict[str, Any]) -> bool:
        master = acct.events.get(str(event.get("recurringEventId")))
        return bool(master) and master.get("status") != "cancelled"  # type: ignore[union-attr]

    # -- routes --------------------------------------------------------------------------

    @route("/calendar/v3/users/me/calendarList")
    def calendar_list(self, request: Request, principal: str) -> dict[str, Any]:
        acct = self.account(principal)
        return {
            "kind": "calendar#calendarList",
            "etag": '"1"',
            "items": [
                {
                    **self._calendar_resource(acct),
                    "kind": "calendar#calendarListEntry",
                    "accessRole": "owner",
                    "primary": True,
                    "selected": True,
                }
            ],
        }

    @route("/calendar/v3/calendars/<cid>")
    def calendar_get(self, request: Request, principal: str, cid: str) -> dict[str, Any]:
        return self._calendar_resource(self._calendar(principal, cid))

    def _calendar_resource(self, acct: Account) -> dict[str, Any]:
        return {
            "kind": "calendar#calendar",
            "etag": '"1"',
            "id": acct.email,
            "summary": acct.email,
            "timeZone": acct.time_zone,
        }

    @route("/calendar/v3/calendars/<cid>/events")
    def events_list(self, request: Request, principal: str, cid: str) -> dict[str, Any]:
        acct = self._calendar(principal, cid)
        args = request.args
        size = min(int_param(args.get("maxResults"), "maxResults", 250), 2500)
        if size < 1:
            raise invalid("Invalid value for maxResults.")
        sync = args.get("syncToken")
        fingerprint = tuple(
            (k, tuple(args.getlist(k)))
            for k in sorted(args)
            if k not in ("pageToken", "maxResults")
        )
        if args.get("pageToken"):
            page, nxt, extra = paginate(
                self.cursors,
                [],
                size,
                args["pageToken"],
                email=acct.email,
                kind="calendar",
                fingerprint=fingerprint,
            )
        else:
            items = self._list_items(acct, args, sync)
            page, nxt, extra = paginate(
                self.cursors,
                items,
                size,
                None,
                email=acct.email,
                kind="calendar",
                fingerprint=fingerprint,
                extra={"seq": acct.seq},
            )
        out: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"{acct.seq}"',
            "summary": acct.email,
            "updated": rfc3339(self.now()),
            "timeZone": acct.time_zone,
            "accessRole": "owner",
            "defaultReminders": [],
            "items": page,
        }
        if nxt:
            out["nextPageToken"] = nxt
        else:
            out["nextSyncToken"] = self.cursors.issue_sync(
                SyncState(acct.email, "calendar", extra["seq"], (), self.now())
            )
        return out

    def _list_items(self, acct: Account, args: Any, sync: str | None) -> list[dict[str, Any]]:
        since = None
        if sync:
            used = [k for k in SYNC_RESTRICTED if args.get(k)]
            if used:
                raise bad_request(
                    "Sync token cannot be used with other request restrictions: " + ", ".join(used),
                    "syncTokenWithRequestRestrictions",
                )
            state = self.cursors.sync.get(sync)
            if state is None or state.expired or state.email != acct.email:
                raise _gone()
            since = state.seq
        single = bool_param(args.get("singleEvents"))
        order = args.get("orderBy")
        if order == "startTime" and not single:
            raise bad_request("The requested ordering is not available for the particular query.")
        if order not in (None, "startTime", "updated"):
            raise invalid(f"Invalid value for orderBy: {order}")
        updated_min = _window_param(args.get("updatedMin"), "updatedMin")
        # Deletions always come with a sync token or an updatedMin (documented).
        show_deleted = bool_param(args.get("showDeleted")) or since is not None or bool(updated_min)
        lo = _window_param(args.get("timeMin"), "timeMin")
        hi = _window_param(args.get("timeMax"), "timeMax")
        if lo and hi and hi <= lo:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        candidates = [
            e
            for e in acct.events.values()
            if (since is None or e["_seq"] > since)
            and (
                show_deleted
                or e.get("status") != "cancelled"
                # "Cancelled instances of recurring events (but not the underlying recurring
                # event) will still be included if showDeleted and singleEvents are both
                # False." (events.list reference)
                or (not single and e.get("recurringEventId") and self._live_master(acct, e))
            )
            and (updated_min is None or parse_time(e["updated"]) >= updated_min)
            and _matches(e, args)
        ]
        items: list[dict[str, Any]] = []
        for e in candidates:
            if single and e.get("recurrence") and e.get("status") != "cancelled":
                taken = {x for x in acct.events if x.startswith(e["id"] + "_")}
                window = (lo, hi) if since is None else (None, None)
                for inst in self._instances(acct, e, window):
                    if inst["id"] not in taken:
                        items.append(inst)
            elif since is not None or self._overlaps(acct, e, lo, hi):
                items.append(e)
        if order == "startTime":
            items.sort(key=lambda e: (self._bounds(acct, e)[0], e["id"]))
        else:
            items.sort(key=lambda e: (e["_seq"], e["id"]))
        return [self.render_listed(acct, e) for e in items]

    def _overlaps(
        self, acct: Account, e: dict[str, Any], lo: datetime | None, hi: datetime | None
    ) -> bool:
        if lo is None and hi is None:
            return True
        if e.get("recurrence") and e.get("status") != "cancelled":
            return bool(self._instances(acct, e, (lo, hi), 1))
        start, end = self._bounds(acct, e)
        return (lo is None or end > lo or (start >= lo and end == start)) and (
            hi is None or start < hi
        )

    @route("/calendar/v3/calendars/<cid>/events", ("POST",))
    def events_insert(self, request: Request, principal: str, cid: str) -> dict[str, Any]:
        acct = self._calendar(principal, cid)
        send_updates(request)  # refuse a bad value before writing anything
        event = self.event_insert(acct, self.body(request))
        self.notify(acct, request, event, None)
        return self.render_event(event)

    @route("/calendar/v3/calendars/<cid>/events/<eid>")
    def events_get(self, request: Request, principal: str, cid: str, eid: str) -> dict[str, Any]:
        acct = self._calendar(principal, cid)
        return self.render_event(self._event_or_instance(acct, eid))

    @route("/calendar/v3/calendars/<cid>/events/<eid>", ("PATCH", "PUT"))
    def events_patch(self, request: Request, principal: str, cid: str, eid: str) -> dict[str, Any]:
        acct = self._calendar(principal, cid)
        body = self.body(request)
        send_updates(request)
        before = copy.deepcopy(self._event_or_instance(acct, eid).get("attendees") or [])
        event = self.event_change(acct, eid, body, request.method == "PUT")
        self.notify(acct, request, event, before)
        return self.render_event(event)

    @route("/calendar/v3/calendars/<cid>/events/<eid>", ("DELETE",))
    def events_delete(self, request: Request, principal: str, cid: str, eid: str) -> Response:
        acct = self._calendar(principal, cid)
        send_updates(request)
        self.event_delete(acct, eid)
        event = acct.events.get(eid) or {"id": eid}
        self.notify(acct, request, event, event.get("attendees") or [], deleted=True)
        return Response(status=204)

    @route("/calendar/v3/calendars/<cid>/events/<eid>/instances")
    def events_instances(
        self, request: Request, principal: str, cid: str, eid: str
    ) -> dict[str, Any]:
        acct = self._calendar(principal, cid)
        master = acct.events.get(eid)
        if master is None or not master.get("recurrence"):
            raise not_found("Not Found")
        args = request.args
        lo = _window_param(args.get("timeMin"), "timeMin")
        hi = _window_param(args.get("timeMax"), "timeMax")
        show_deleted = bool_param(args.get("showDeleted"))
        items = []
        for inst in self._instances(acct, master, (lo, hi)):
            inst = acct.events.get(inst["id"], inst)
            if show_deleted or inst.get("status") != "cancelled":
                items.append(self.render_listed(acct, inst))
        size = min(int_param(args.get("maxResults"), "maxResults", 250), 2500)
        fingerprint = (eid, args.get("timeMin"), args.get("timeMax"), show_deleted)
        page, nxt, _ = paginate(
            self.cursors,
            items,
            size,
            args.get("pageToken"),
            email=acct.email,
            kind="instances",
            fingerprint=fingerprint,
        )
        out: dict[str, Any] = {"kind": "calendar#events", "timeZone": acct.time_zone, "items": page}
        if nxt:
            out["nextPageToken"] = nxt
        return out


def _matches(event: dict[str, Any], args: Any) -> bool:
    if args.get("iCalUID") and event.get("iCalUID") != args["iCalUID"]:
        return False
    props = event.get("extendedProperties") or {}
    for scope, param in (
        ("private", "privateExtendedProperty"),
        ("shared", "sharedExtendedProperty"),
    ):
        for constraint in args.getlist(param):
            key, _, value = constraint.partition("=")
            if (props.get(scope) or {}).get(key) != value:
                return False
    if args.get("q"):
        text = " ".join(
            [event.get(k) or "" for k in ("summary", "description", "location")]
            + [a.get("email", "") for a in event.get("attendees") or []]
        ).lower()
        if not all(word in text for word in args["q"].lower().split()):
            return False
    return True


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Google patch semantics: objects merge, arrays and scalars replace, null clears."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif (
            isinstance(value, dict)
            and isinstance(target.get(key), dict)
            and key
            not in (
                "start",
                "end",
            )
        ):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target
