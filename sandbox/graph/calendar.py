"""The primary calendar: events, recurring series, calendarView and calendarView/delta.

Singles and series masters are stored; occurrences are computed from a master's recurrence
when a view asks for them. An occurrence id is `<master id>_<original start, UTC digits>`,
so it survives restarts of the expansion. Editing an occurrence stores an exception on the
master; deleting one records a cancellation.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.common import HttpError, route

from . import attendees as att
from . import recurrence as rec
from .core import GraphCore
from .delta import run_delta
from .odata import arg, listing, prefer, set_ext, single
from .store import Item, Mailbox, get_or_404, invalid, merge, not_found, pop_ci, render
from .timezones import UTC, fmt_instant, fmt_local, parse_instant, parse_local, resolve

EVENT_FIELDS = {
    "subject",
    "body",
    "start",
    "end",
    "isAllDay",
    "location",
    "locations",
    "attendees",
    "categories",
    "showAs",
    "importance",
    "sensitivity",
    "recurrence",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "responseRequested",
    "allowNewTimeProposals",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "hideAttendees",
    "transactionId",
    "originalStartTimeZone",
    "originalEndTimeZone",
}
_STAMP = "%Y%m%d%H%M%S"


class CalendarMixin(GraphCore):
    def _init_mailbox(self, box: Mailbox) -> None:
        super()._init_mailbox(box)
        box.calendar = {
            "id": self.ids("calendar"),
            "name": "Calendar",
            "color": "auto",
            "isDefaultCalendar": True,
            "canEdit": True,
            "owner": {"name": box.display_name, "address": box.upn},
        }

    # -- model ---------------------------------------------------------------------------

    def _validate_times(self, event: Item) -> None:
        if not isinstance(event.get("body"), dict):
            event["body"] = {"contentType": "html", "content": ""}
        event["categories"] = event.get("categories") or []
        for key in ("start", "end"):
            value = event.get(key)
            if not isinstance(value, dict) or not value.get("dateTime"):
                raise invalid(f"The event needs '{key}' with a dateTime.", "ErrorInvalidRequest")
            resolve(value.get("timeZone"))
        start, end = self._interval(event)
        if end < start:
            raise invalid("The end time must not be before the start time.", "ErrorInvalidRequest")
        if event.get("isAllDay"):
            for key in ("start", "end"):
                if parse_local(event[key]["dateTime"]).time() != dt.time(0):
                    raise invalid(
                        "Your request can't be completed. If you're trying to create an all-day "
                        "event, the start and end times must be set to midnight.",
                        "ErrorInvalidRequest",
                    )
            if end - start < dt.timedelta(days=1):
                raise invalid("An all-day event must last at least one day.", "ErrorInvalidRequest")
        if event.get("recurrence"):
            rec.validate(event["recurrence"])

    @staticmethod
    def _interval(event: Item) -> tuple[dt.datetime, dt.datetime]:
        """The event's absolute [start, end) in UTC (all-day: midnights in its own zone)."""
        out = []
        for key in ("start", "end"):
            local = parse_local(event[key]["dateTime"])
            out.append(local.replace(tzinfo=resolve(event[key].get("timeZone"))).astimezone(UTC))
        return out[0], out[1]

    def _new_event(self, box: Mailbox, body: dict[str, Any], *, via_api: bool = True) -> Item:
        body = dict(body)
        ext = pop_ci(body, "singleValueExtendedProperties")
        # Only the Python API (a user in Outlook) may make an invitee's copy of someone
        # else's meeting, or give the same meeting (iCalUId) to a second mailbox.
        organizer = None if via_api else pop_ci(body, "organizer")
        ical_uid = None if via_api else pop_ci(body, "iCalUId")
        pop_ci(body, "attachments")  # file attachments on events are not emulated
        event: Item = {
            "subject": "",
            "body": {"contentType": "html", "content": ""},
            "isAllDay": False,
            "location": {"displayName": ""},
            "attendees": [],
            "categories": [],
            "showAs": "busy",
            "importance": "normal",
            "sensitivity": "normal",
            "isReminderOn": True,
            "reminderMinutesBeforeStart": 15,
            "recurrence": None,
            "isCancelled": False,
            "isOrganizer": True,
            "seriesMasterId": None,
            "organizer": {"emailAddress": {"name": box.display_name, "address": box.upn}},
            "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
        }
        merge(event, body, EVENT_FIELDS)
        self._validate_times(event)
        event["attendees"] = att.normalize(event.get("attendees"), None)
        if organizer and att.address_of(organizer) not in ("", box.upn.lower()):
            event.update(
                organizer=organizer,
                isOrganizer=False,
                responseStatus={"response": "notResponded", "time": att.NEVER},
            )
        event["id"] = self.ids("event")
        event["iCalUId"] = ical_uid or (
            "040000008200E00074C5B7101A82E00800000000"
            + hashlib.sha1(event["id"].encode(), usedforsecurity=False).hexdigest().upper()
        )
        event["type"] = "seriesMaster" if event.get("recurrence") else "singleInstance"
        event["originalStartTimeZone"] = event["start"].get("timeZone") or "UTC"
        event["originalEndTimeZone"] = event["end"].get("timeZone") or "UTC"
        event["_exceptions"], event["_cancelled"] = {}, set()
        if ext is not None:
            set_ext(event, ext)
        box.events[event["id"]] = self.touch(box, event)
        if via_api:
            self._send_messages(box, event, None, event["attendees"])
        return event

    def _send_messages(
        self,
        box: Mailbox,
        event: Item,
        before: list[dict[str, Any]] | None,
        after: list[dict[str, Any]] | None,
        deleted: bool = False,
    ) -> None:
        """Record what Exchange sends for an API write to an event the owner organizes."""
        if not event.get("isOrganizer", True):
            return
        me = box.upn.lower()
        old = None if before is None else [att.address_of(a) for a in before]
        old = None if old is None else [a for a in old if a != me]
        new = [a for a in (att.address_of(x) for x in after or []) if a != me]
        for kind, recipients in att.messages_for(old, new, deleted=deleted):
            box.sent_messages.append(
                att.MeetingMessage(
                    box.upn.lower(),
                    kind,
                    event["id"],
                    event.get("iCalUId", ""),
                    event.get("subject", ""),
                    tuple(recipients),
                    self.stamp(),
                )
            )

    def _split_id(self, box: Mailbox, event_id: str) -> tuple[Item, str | None]:
        """(stored event, occurrence key or None) for a single, master or occurrence id."""
        if event_id in box.events:
            return box.events[event_id], None
        master_id, _, key = event_id.rpartition("_")
        master = box.events.get(master_id)
        if master is None or master["type"] != "seriesMaster" or len(key) != 14:
            raise not_found()
        if key in master["_cancelled"] or not self._is_occurrence(master, key):
            raise not_found()
        return master, key

    def _is_occurrence(self, master: Item, key: str) -> bool:
        """Whether `key` (original start, UTC digits) is one of the series' dates."""
        zone = resolve(master["start"].get("timeZone"))
        start_local = parse_local(master["start"]["dateTime"])
        when = dt.datetime.strptime(key, _STAMP).replace(tzinfo=UTC)
        for day in rec.dates(master["recurrence"], when.astimezone(zone).date()):
            local = dt.datetime.combine(day, start_local.time()).replace(tzinfo=zone)
            if local.astimezone(UTC) == when:
                return True
        return False

    def _instance_for_key(self, master: Item, key: str) -> Item:
        if key in master["_exceptions"]:
            return master["_exceptions"][key]
        s, e = self._interval(master)
        when = dt.datetime.strptime(key, _STAMP).replace(tzinfo=UTC)
        return self._occurrence(master, key, when, e - s)

    def _occurrences(
        self, master: Item, lo: dt.datetime, hi: dt.datetime
    ) -> list[tuple[str, Item]]:
        """(key, instance) for each occurrence or exception of a series overlapping [lo, hi)."""
        zone = resolve(master["start"].get("timeZone"))
        start_local = parse_local(master["start"]["dateTime"])
        s_utc, e_utc = self._interval(master)
        duration = e_utc - s_utc
        until = (hi.astimezone(zone) + dt.timedelta(days=2)).date()
        out = []
        for day in rec.dates(master["recurrence"], until):
            local = dt.datetime.combine(day, start_local.time())
            o_start = local.replace(tzinfo=zone).astimezone(UTC)
            key = o_start.strftime(_STAMP)
            if key in master["_cancelled"]:
                continue
            inst = master["_exceptions"].get(key) or self._occurrence(
                master, key, o_start, duration
            )
            i_start, i_end = self._interval(inst)
            if i_start < hi and (i_end > lo or (i_end == i_start and i_start >= lo)):
                out.append((key, inst))
        return out

    def _occurrence(
        self, master: Item, key: str, start: dt.datetime, duration: dt.timedelta
    ) -> Item:
        zone_name = master["start"].get("timeZone") or "UTC"
        zone = resolve(zone_name)
        inst = {
            k: copy.deepcopy(v) for k, v in master.items() if k not in ("_exceptions", "_cancelled")
        }
        inst.update(
            id=f"{master['id']}_{key}",
            type="occurrence",
            seriesMasterId=master["id"],
            recurrence=None,
            originalStart=fmt_instant(start),
            start={"dateTime": fmt_local(start.astimezone(zone)), "timeZone": zone_name},
            end={"dateTime": fmt_local((start + duration).astimezone(zone)), "timeZone": zone_name},
        )
        return inst

    def _instances(self, box: Mailbox, lo: dt.datetime, hi: dt.datetime) -> list[Item]:
        """What calendarView shows: singles, occurrences and exceptions overlapping [lo, hi)."""
        out: list[Item] = []
        for event in box.events.values():
            if event["type"] == "seriesMaster":
                out += [inst for _, inst in self._occurrences(event, lo, hi)]
            else:
                s, e = self._interval(event)
                if s < hi and (e > lo or (e == s and s >= lo)):
                    out.append(event)
        return sorted(out, key=lambda i: (self._interval(i)[0], i["id"]))

    def _render_event(self, request: Request | None, event: Item) -> Item:
        """Public form, with start/end in the `Prefer: outlook.timezone` zone (UTC if absent)."""
        zone_name = (prefer(request).get("outlook.timezone") if request else None) or "UTC"
        zone = resolve(zone_name)
        out = render(event)
        if request is not None:
            out = single(request, event)
        for key in ("start", "end"):
            if key not in out:
                continue
            local = parse_local(event[key]["dateTime"])
            if not event.get("isAllDay"):
                local = local.replace(tzinfo=resolve(event[key].get("timeZone"))).astimezone(zone)
            # All-day events are floating dates: midnight in whatever zone is asked for.
            out[key] = {"dateTime": fmt_local(local), "timeZone": zone_name}
        return out

    def _update_event(
        self, box: Mailbox, event_id: str, body: dict[str, Any], *, via_api: bool = True
    ) -> Item:
        event, key = self._split_id(box, event_id)
        body = dict(body)
        ext = pop_ci(body, "singleValueExtendedProperties")
        if key is not None:
            target = copy.deepcopy(self._instance_for_key(event, key))
            target["type"] = "exception"
        else:
            target = copy.deepcopy(event)
        before = copy.deepcopy(target.get("attendees") or [])
        merge(target, body, EVENT_FIELDS)
        self._validate_times(target)
        if ext is not None:
            set_ext(target, ext)
        target["attendees"] = att.normalize(target.get("attendees"), before)
        if key is not None:
            event["_exceptions"][key] = self.touch(box, target)
        else:
            target["type"] = "seriesMaster" if target.get("recurrence") else "singleInstance"
            box.events[event_id] = self.touch(box, target)
        if via_api:
            self._send_messages(box, target, before, target["attendees"])
        return target

    def _delete_event(self, box: Mailbox, event_id: str, *, via_api: bool = True) -> None:
        event, key = self._split_id(box, event_id)
        if via_api:
            shown = self._instance_for_key(event, key) if key is not None else event
            self._send_messages(box, shown, shown.get("attendees") or [], None, deleted=True)
        box.seq += 1
        if key is None:
            del box.events[event_id]
            box.event_tombstones[event_id] = box.seq
        else:
            event["_cancelled"].add(key)
            event["_exceptions"].pop(key, None)

    # -- Python API ----------------------------------------------------------------------

    def create_event(self, upn: str, fields: dict[str, Any]) -> Item:
        """Add an event (a series if `recurrence` is given) as if made in Outlook.

        Beyond the API's fields, `organizer` ({"emailAddress": {...}} of someone else) makes
        it an invitee's copy of another person's meeting, and `iCalUId` gives it a known
        meeting UID (the same meeting in two mailboxes). Meeting messages a user sends from
        Outlook are not recorded: `sent_invitations` is about API writes."""
        with self.lock:
            box = self.mailbox(upn)
            return self._render_event(None, self._new_event(box, fields, via_api=False))

    def update_event(self, upn: str, event_id: str, fields: dict[str, Any]) -> Item:
        """Edit an event, a series master, or one occurrence (which becomes an exception)."""
        with self.lock:
            box = self.mailbox(upn)
            return self._render_event(
                None, self._update_event(box, event_id, fields, via_api=False)
            )

    def delete_event(self, upn: str, event_id: str) -> None:
        """Delete an event or series; for an occurrence id, cancel just that occurrence."""
        with self.lock:
            self._delete_event(self.mailbox(upn), event_id, via_api=False)

    def respond_to_event(self, upn: str, event_id: str, attendee: str, response: str) -> Item:
        """An attendee's reply reaching the organizer's copy (accepted, declined,
        tentativelyAccepted, …): it changes the event as a new version, as Exchange does."""
        with self.lock:
            box = self.mailbox(upn)
            event, key = self._split_id(box, event_id)
            target = event if key is None else self._instance_for_key(event, key)
            att.set_response(target["attendees"], attendee, response, self.stamp())
            if key is not None:
                target["type"] = "exception"
                event["_exceptions"][key] = self.touch(box, target)
            else:
                self.touch(box, target)
            return self._render_event(None, target)

    def sent_invitations(self, upn: str) -> list[dict[str, Any]]:
        """Every meeting request, update and cancellation Graph would have sent for the
        mailbox's API writes, oldest first."""
        with self.lock:
            return [m.as_dict() for m in self.mailbox(upn).sent_messages]

    def calendar_view(self, upn: str, start: dt.datetime, end: dt.datetime) -> list[Item]:
        with self.lock:
            return [
                self._render_event(None, i) for i in self._instances(self.mailbox(upn), start, end)
            ]

    # -- HTTP ------------------------------------------------------------------------------

    @route("/v1.0/me/calendar")
    @route("/v1.0/me/calendars/<calendar_id>")
    def http_calendar(
        self, request: Request, principal: str, calendar_id: str | None = None
    ) -> Any:
        box = self.mailbox(principal)
        if calendar_id not in (None, box.calendar["id"]):
            raise not_found()
        return dict(box.calendar)

    @route("/v1.0/me/calendars")
    def http_calendars(self, request: Request, principal: str) -> Any:
        return {"value": [dict(self.mailbox(principal).calendar)]}

    @route("/v1.0/me/events", methods=("GET", "POST"))
    @route("/v1.0/me/calendar/events", methods=("GET", "POST"))
    @route("/v1.0/me/calendars/<calendar_id>/events", methods=("GET", "POST"))
    def http_events(self, request: Request, principal: str, calendar_id: str | None = None) -> Any:
        box = self.mailbox(principal)
        if calendar_id not in (None, box.calendar["id"]):
            raise not_found()
        if request.method == "POST":
            event = self._new_event(box, request.get_json(force=True) or {})
            return self.json_response(self._render_event(request, event), 201)
        page = listing(request, self.base_url, list(box.events.values()))
        page["value"] = [self._render_event(request, box.events[v["id"]]) for v in page["value"]]
        return page

    @route("/v1.0/me/events/<event_id>", methods=("GET", "PATCH", "DELETE"))
    @route("/v1.0/me/calendar/events/<event_id>", methods=("GET", "PATCH", "DELETE"))
    def http_event(self, request: Request, principal: str, event_id: str) -> Any:
        box = self.mailbox(principal)
        if request.method == "DELETE":
            self._delete_event(box, event_id)
            return Response(status=204)
        if request.method == "PATCH":
            return self._render_event(
                request, self._update_event(box, event_id, request.get_json(force=True) or {})
            )
        event, key = self._split_id(box, event_id)
        if key is not None:
            event = self._instance_for_key(event, key)
        return self._render_event(request, event)

    def _window(self, request: Request) -> tuple[dt.datetime, dt.datetime]:
        start, end = arg(request, "startDateTime"), arg(request, "endDateTime")
        if not start or not end:
            raise HttpError(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters "
                "StartDateTime and EndDateTime.",
            )
        return parse_instant(start), parse_instant(end)

    @route("/v1.0/me/calendarView")
    @route("/v1.0/me/calendar/calendarView")
    @route("/v1.0/me/calendars/<calendar_id>/calendarView")
    @route("/v1.0/me/events/<event_id>/instances")
    def http_calendar_view(
        self,
        request: Request,
        principal: str,
        calendar_id: str | None = None,
        event_id: str | None = None,
    ) -> Any:
        box = self.mailbox(principal)
        lo, hi = self._window(request)
        if event_id is not None:
            master = get_or_404(box.events, event_id)
            rows = [i for _, i in self._occurrences(master, lo, hi)] if master["recurrence"] else []
        else:
            rows = self._instances(box, lo, hi)
        page = listing(request, self.base_url, rows)
        by_id = {r["id"]: r for r in rows}
        page["value"] = [self._render_event(request, by_id[v["id"]]) for v in page["value"]]
        return page

    @route("/v1.0/me/calendarView/delta")
    @route("/v1.0/me/calendar/calendarView/delta")
    def http_calendar_view_delta(self, request: Request, principal: str) -> Any:
        box = self.mailbox(principal)
        for name in ("$select", "$expand", "$filter", "$orderby", "$search"):
            if arg(request, name) is not None:
                raise HttpError(
                    400,
                    "ErrorInvalidUrlQuery",
                    f"The following parameters are not supported with change tracking over the "
                    f"'CalendarView' resource: '{name}'.",
                )
        params: dict[str, Any] = {}
        if not (arg(request, "$skiptoken") or arg(request, "$deltatoken")):
            lo, hi = self._window(request)
            params = {"select": None, "lo": lo.isoformat(), "hi": hi.isoformat()}

        def compute(p: dict[str, Any], since: int) -> tuple[dict[str, tuple[str, Item]], list[str]]:
            lo, hi = dt.datetime.fromisoformat(p["lo"]), dt.datetime.fromisoformat(p["hi"])
            current = {
                i["id"]: (i["changeKey"], self._render_event(request, i))
                for i in self._instances(box, lo, hi)
            }
            # Events changed or deleted outside the window still surface, as @removed.
            outside = [e for e, ev in box.events.items() if ev["_seq"] > since and e not in current]
            outside += [e for e, seq in box.event_tombstones.items() if seq > since]
            if since == 0:
                outside = []
            return current, outside

        return run_delta(
            base_url=self.base_url,
            request=request,
            mailbox=box,
            kind="events",
            scope="",
            params=params,
            compute=compute,
            reason=lambda i: "deleted",
        )
