"""The engine's state machine (the vdirsyncer model, DESIGN.md), replay-safe: every step
draws two fixed-range integers, and items are picked by the model's own keys — never from
live emulator state — so a seed replays exactly (the emulators' ids are deterministic per
seed: Salesforce, Graph and EWS count, Google is seeded with `seed_ids`). It runs over every
registered mailbox kind. Rules act on both sides: Salesforce and the Graph / Google mailboxes
through the emulators' Python APIs, the Exchange mailbox through exchangelib and the EWS
emulator (model_mailbox.py): contacts, tasks, timed and all-day events, a weekly series with
an exception, edits of every matching field, deletions, a meeting's guests (model_people.py:
a Contact, a second Contact, a Lead, a colleague, a blocked and a free-mail address; added,
removed, replies) and people related to a Salesforce event, scope and switch changes, clock
moves across the event window's edges, provider faults (armed when the next session
starts), crashes at every write boundary (syncengine.faults) and lost responses.

After every step `invariants` asserts: no duplicate (the model's label; events: label and
start) on either side, links one-to-one, and no invitation, update or cancellation recorded
by the mailbox's emulator. After every clean session (no fault pending) `check` asserts:
- a second session writes nothing;
- links join live items;
- every marked mailbox contact and task is linked (up-sync always runs);
- nothing was deleted but by the rules (the model tracks the labels it deleted);
- linked pairs agree on their matching fields;
- one Salesforce Event per meeting (iCalendar UID and occurrence);
- for the kinds that relate attendees (model_people.RELATED_KINDS): every attendee Contact
  is related to the Salesforce event (else the Lead), nobody unrelatable is, a removed
  attendee's relation is gone.

Used by test_model.py (Hypothesis, derandomized, a bounded budget in CI) and by
soak_model.py (`make soak`: a seeded random driver, many steps, JSON figures).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from accounts.models import User
from sandbox.salesforce.values import ValidationError
from syncengine.faults import BOUNDARIES, InjectedCrash, injected
from syncengine.mappers import exchange as emap
from syncengine.mappers import google as gmap
from syncengine.mappers import graph as xmap
from syncengine.models import SyncLink, SyncSession

from . import model_mailbox as ews
from . import model_people as people
from .conftest import EMAIL, KINDS, make_world

# Every registered mailbox kind: the user's side of Graph and Google through their
# emulators' Python APIs, of Exchange through exchangelib and the EWS emulator
# (model_mailbox.py). A kind registered without its moves here fails, never skips.
MODEL_KINDS = tuple(KINDS)

Status = SyncSession.Status
WRITES = ("created", "updated", "deleted", "restored", "conflicts", "errors")
VIP = "VIP"
ARG = 1 << 16  # every rule draws a in [0, ARG) and b in [0, 8)
SPAN = 8
KINDS_OF_ITEM = ("contact", "task", "event")


@dataclass
class Item:
    """One thing the model made: its label (first word of a subject, a contact's last
    name) finds it on either side whatever else is edited."""

    key: int
    item_type: str
    label: str
    series: bool = False
    mailbox_series_id: str = ""


def _graph_when(value: dt.datetime) -> dict[str, str]:
    return {"dateTime": value.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def _google_when(value: dt.datetime) -> dict[str, str]:
    return {"dateTime": value.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _sf_stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _first_word(text: Any) -> str:
    return str(text or "").split(" ")[0]


class Model:
    """The world and the model's bookkeeping; each rule is a method taking (a, b)."""

    RULES = (
        "sf_create",
        "sf_edit",
        "sf_delete",
        "mailbox_create",
        "mailbox_edit",
        "mailbox_delete",
        "mailbox_attendees",
        "sf_invitees",
        "change_setting",
        "move_clock",
        "inject_fault",
        "sync",
        "sync",  # sessions come often
    )

    def __init__(self, kind: str, sandbox: Any, seed: int = 0) -> None:
        User.objects.filter(email=EMAIL).delete()  # a fresh Relay user
        sandbox.google_app.seed_ids(seed)
        self.w = make_world(kind, sandbox, SimpleNamespace())
        self.kind = kind
        self.items: dict[int, Item] = {}
        self.deleted: set[str] = set()
        self.in_salesforce: set[str] = set()  # labels seen in Salesforce by a check
        self.view = self.w.sfapp.add_list_view("VIPs", "VIPs", "everything", f"Title = '{VIP}'")
        self.people = people.create_people(self.w)  # table key -> Salesforce id
        self.sf_related: set[str] = set()  # event labels the model related people to in SF
        self.armed: list[Callable[[], None]] = []  # faults set on the emulators at a session
        self.sf_pending: set[str] = set()  # labels edited in Salesforce since a clean session
        self.scope = "mine"
        self.down = {"contact": True, "task": True, "event": True}
        self.fault = False
        self.hook: Callable[..., None] | None = None
        self.sf_budget_used: int | None = None
        self.steps = 0
        self.session()

    # -- the model's own keys ---------------------------------------------------------------

    def new_item(self, item_type: str, series: bool = False) -> Item:
        key = len(self.items) + 1
        prefix = {"contact": "C", "task": "T", "event": "E"}[item_type]
        item = Item(key, item_type, f"{prefix}{key}", series)
        self.items[key] = item
        return item

    @staticmethod
    def _type_of(label: str) -> str:
        return {"C": "contact", "T": "task", "E": "event", "P": "contact"}[label[:1]]

    def pick(self, a: int, item_type: str | None = None) -> Item | None:
        keys = sorted(k for k, i in self.items.items() if item_type in (None, i.item_type))
        return self.items[keys[a % len(keys)]] if keys else None

    # -- reading both sides (to act on a picked key, and to check) -----------------------

    def sf_rows(self, item_type: str) -> list[dict[str, Any]]:
        soql = {
            "contact": "SELECT Id, FirstName, LastName, Email, Title, OwnerId FROM Contact",
            "task": "SELECT Id, Subject, Description, ActivityDate, Status, Priority, OwnerId"
            " FROM Task",
            "event": "SELECT Id, Subject, StartDateTime, EndDateTime, IsAllDayEvent,"
            " ActivityDate, OwnerId, IsChild FROM Event",
        }[item_type]
        # An invited colleague's child event is Salesforce's copy for them, not the user's.
        return [r for r in self.w.sfapp.query(soql, self.w.me) if not r.get("IsChild")]

    def sf_label(self, item_type: str, row: dict[str, Any]) -> str:
        return (
            str(row.get("LastName") or "")
            if item_type == "contact"
            else _first_word(row.get("Subject"))
        )

    def sf_of(self, item: Item) -> list[dict[str, Any]]:
        rows = [
            r
            for r in self.sf_rows(item.item_type)
            if self.sf_label(item.item_type, r) == item.label
        ]
        return sorted(rows, key=lambda r: r["Id"])

    def mailbox_items(self, item_type: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(id, canonical fields, raw) of the items in the Salesforce folder / list / group,
        events marked for Salesforce."""
        w, out = self.w, []
        if item_type == "event" and w.kind == "exchange":
            return [(e.id, dict(emap.event_from_ews(e)), e) for e in ews.events(w)]
        if item_type == "event":
            for e in w.events():
                raw = e["raw"]
                if raw.get("recurrence"):
                    continue  # a Google series master: its occurrences are the events

                fields = (
                    xmap.event_from_graph(raw, "UTC")
                    if w.kind == "office365"
                    else gmap.event_from_google(raw, "UTC", None)
                )
                out.append((e["id"], dict(fields), raw))
            return out
        for item in w.contacts() if item_type == "contact" else w.tasks():
            raw = item["raw"]
            record: Mapping[str, Any]
            if w.kind == "exchange":
                record = (
                    emap.contact_from_ews(raw)
                    if item_type == "contact"
                    else emap.task_from_ews(raw)
                )
            elif item_type == "contact":
                record = (
                    xmap.contact_from_graph(raw)
                    if w.kind == "office365"
                    else gmap.contact_from_google(raw)
                )
            else:
                record = (
                    xmap.task_from_graph(raw, "UTC")
                    if w.kind == "office365"
                    else gmap.task_from_google(raw, None)
                )
            out.append((item["id"], dict(record), raw))
        return out

    @staticmethod
    def mailbox_label(item_type: str, fields: dict[str, Any]) -> str:
        if item_type == "contact":
            return str(fields.get("last_name") or "")
        return _first_word(fields.get("subject"))

    def mailbox_of(self, item: Item) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        found = [
            m
            for m in self.mailbox_items(item.item_type)
            if self.mailbox_label(item.item_type, m[1]) == item.label
        ]
        return sorted(found, key=lambda m: m[0])

    # -- Salesforce, as a person ----------------------------------------------------------

    def sf_create(self, a: int, b: int) -> None:
        now = self.w.clock()
        variant = b % SPAN
        if variant < 3:
            item = self.new_item("contact")
            owner = self.w.other if variant == 1 else None
            more = {"Title": VIP} if variant == 2 else {}
            self.w.sf_contact(item.label, f"{item.label.lower()}@example.com", owner, **more)
        elif variant < 5:
            item = self.new_item("task")
            due = (now + dt.timedelta(days=a % 30)).date() if variant == 4 else None
            self.w.sf_task(f"{item.label} new", due)
        elif variant < 7:
            item = self.new_item("event")
            start = now.replace(minute=0, second=0, microsecond=0)
            start += dt.timedelta(days=a % 90 - 20, hours=a % 5)  # both sides of the window
            self.w.sf_event(f"{item.label} meeting", start)
        else:
            item = self.new_item("event")
            day = (now + dt.timedelta(days=a % 70 - 10)).date()
            self.w.sfapp.create(
                "Event",
                {
                    "Subject": f"{item.label} all day",
                    "IsAllDayEvent": True,
                    "ActivityDate": day.isoformat(),
                    "DurationInMinutes": 1440,
                },
                self.w.me,
            )

    def sf_edit(self, a: int, b: int) -> None:
        item = self.pick(a)
        rows = self.sf_of(item) if item else []
        if not rows or item is None or self._mails_its_attendees(item):
            return
        row = rows[(a >> 8) % len(rows)]
        sf, me = self.w.sfapp, self.w.me
        if item.item_type == "contact":
            field = b % 4
            if field == 0:
                change = {"Email": f"{item.label.lower()}.{a % 97}@example.com"}
            elif field == 1:
                change = {"FirstName": f"F{a % 97}"}
            elif field == 2:
                change = {"Title": None if row.get("Title") == VIP else VIP}
            else:
                change = {"OwnerId": self.w.other if row["OwnerId"] == me else me}
        elif item.item_type == "task":
            if b % 2 == 0:
                change = {"Subject": f"{item.label} v{a % 97}"}
            else:
                due = (self.w.clock() + dt.timedelta(days=a % 40)).date().isoformat()
                change = {"ActivityDate": due}
        else:
            if b % 2 == 0 or row.get("IsAllDayEvent"):
                change = {"Subject": f"{item.label} v{a % 97}"}
            else:
                start = self.w.clock().replace(minute=0, second=0, microsecond=0)
                start += dt.timedelta(days=a % 90 - 20)
                change = {
                    "StartDateTime": _sf_stamp(start),
                    "EndDateTime": _sf_stamp(start + dt.timedelta(hours=1)),
                }
        sf.update(row["Id"], change, me)
        self.sf_pending.add(item.label)

    def sf_delete(self, a: int, b: int) -> None:
        item = self.pick(a)
        rows = self.sf_of(item) if item else []
        if item is None or not rows or item.series or self._mails_its_attendees(item):
            return
        for row in rows:
            self.w.sfapp.delete(row["Id"], self.w.me)
        self.deleted.add(item.label)
        self.sf_pending.add(item.label)

    # -- the mailbox, as the user ---------------------------------------------------------

    def mailbox_create(self, a: int, b: int) -> None:
        if not self.w.user_has_containers():
            return
        w, app, graph = self.w, self.w.mbapp, self.kind == "office365"
        exchange = self.kind == "exchange"
        now = w.clock()
        variant = b % 5
        if variant == 0:
            item = self.new_item("contact")
            w.add_contact(item.label, f"{item.label.lower()}@example.com")
        elif variant == 1:
            item = self.new_item("task")
            due = (now + dt.timedelta(days=a % 30)).date()
            if exchange:
                ews.create_task(w, f"{item.label} typed", due)
                return
            fields = (
                {
                    "title": f"{item.label} typed",
                    "dueDateTime": _graph_when(dt.datetime.combine(due, dt.time())),
                }
                if graph
                else {"title": f"{item.label} typed", "due": f"{due}T00:00:00.000Z"}
            )
            app.create_task(EMAIL, w.container("tasks"), fields)
        elif variant == 2:
            item = self.new_item("event")
            start = now.replace(minute=0, second=0, microsecond=0)
            start += dt.timedelta(days=a % 50 - 10, hours=a % 7)
            # Half of them are meetings: guests from the people table, one bit of `a` each.
            meeting = bool(a & (1 << 15))
            guests = [p.address for k, p in enumerate(people.PEOPLE) if meeting and a >> 8 + k & 1]
            end = start + dt.timedelta(hours=1)
            self._mailbox_event(f"{item.label} typed", start, end, guests)
        elif variant == 3:
            item = self.new_item("event")
            day = (now + dt.timedelta(days=a % 40)).date()
            if exchange:
                midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
                ews.create_event(
                    w, f"{item.label} day", midnight, midnight + dt.timedelta(days=1), all_day=True
                )
            elif graph:
                midnight = dt.datetime.combine(day, dt.time())
                app.create_event(
                    EMAIL,
                    {
                        "subject": f"{item.label} day",
                        "isAllDay": True,
                        "start": _graph_when(midnight),
                        "end": _graph_when(midnight + dt.timedelta(days=1)),
                        "categories": ["Salesforce"],
                    },
                )
            else:
                app.create_event(
                    EMAIL,
                    {
                        "summary": f"{item.label} day",
                        "start": {"date": day.isoformat()},
                        "end": {"date": (day + dt.timedelta(days=1)).isoformat()},
                        "extendedProperties": {"private": {"relaySalesforce": "1"}},
                    },
                )
        else:
            item = self.new_item("event", series=True)
            first = (now + dt.timedelta(days=1 + a % 10)).date()
            item.mailbox_series_id = self._series(f"{item.label} weekly", first, 3)

    def _mailbox_event(
        self, subject: str, start: dt.datetime, end: dt.datetime, guests: list[str]
    ) -> None:
        """A timed event the user makes; with guests, a meeting they organize."""
        if self.kind == "exchange":
            ews.create_event(self.w, subject, start, end, guests=guests)
        elif self.kind == "office365":
            self.w.mbapp.create_event(
                EMAIL,
                {
                    "subject": subject,
                    "start": _graph_when(start),
                    "end": _graph_when(end),
                    "categories": ["Salesforce"],
                    "attendees": [
                        {"emailAddress": {"address": g, "name": g}, "type": "required"}
                        for g in guests
                    ],
                },
            )
        else:
            self.w.mbapp.create_event(
                EMAIL,
                {
                    "summary": subject,
                    "start": _google_when(start),
                    "end": _google_when(end),
                    "attendees": [{"email": g} for g in guests],
                    "extendedProperties": {"private": {"relaySalesforce": "1"}},
                },
            )

    def _series(self, subject: str, first: dt.date, count: int) -> str:
        start = dt.datetime.combine(first, dt.time(9), tzinfo=dt.UTC)
        end = start + dt.timedelta(minutes=30)
        if self.kind == "exchange":
            return ews.create_event(self.w, subject, start, end, weekly_occurrences=count)
        if self.kind == "office365":
            return self.w.mbapp.create_event(
                EMAIL,
                {
                    "subject": subject,
                    "start": _graph_when(start),
                    "end": _graph_when(end),
                    "categories": ["Salesforce"],
                    "recurrence": {
                        "pattern": {
                            "type": "weekly",
                            "interval": 1,
                            "daysOfWeek": [first.strftime("%A").lower()],
                        },
                        "range": {
                            "type": "numbered",
                            "startDate": first.isoformat(),
                            "numberOfOccurrences": count,
                        },
                    },
                },
            )["id"]
        return self.w.mbapp.create_event(
            EMAIL,
            {
                "summary": subject,
                # Google refuses a recurring event without the zone its rule repeats in.
                "start": {**_google_when(start), "timeZone": "UTC"},
                "end": {**_google_when(end), "timeZone": "UTC"},
                "recurrence": [f"RRULE:FREQ=WEEKLY;COUNT={count}"],
                "extendedProperties": {"private": {"relaySalesforce": "1"}},
            },
        )["id"]

    def mailbox_edit(self, a: int, b: int) -> None:
        item = self.pick(a)
        if item is None:
            return
        if item.series:
            self._series_exception(item, a)
            return
        found = self.mailbox_of(item)
        if not found:
            return
        item_id, fields, _ = found[(a >> 8) % len(found)]
        w, app, graph = self.w, self.w.mbapp, self.kind == "office365"
        if self.kind == "exchange":
            self._exchange_edit(item, item_id, fields, a, b)
        elif item.item_type == "contact":
            if b % 2 == 0:
                address = f"{item.label.lower()}.m{a % 97}@example.com"
                change = (
                    {"emailAddresses": [{"address": address, "name": item.label}]}
                    if graph
                    else {"emailAddresses": [{"value": address}]}
                )
                app.update_contact(EMAIL, item_id, change)
            else:
                w.edit_contact(item_id, item.label)  # a rewrite of the name: no change
        elif item.item_type == "task":
            lid = w.container("tasks")
            if b % 2 == 0:
                app.update_task(EMAIL, lid, item_id, {"title": f"{item.label} m{a % 97}"})
            else:
                due = (w.clock() + dt.timedelta(days=a % 40)).date()
                change = (
                    {"dueDateTime": _graph_when(dt.datetime.combine(due, dt.time()))}
                    if graph
                    else {"due": f"{due}T00:00:00.000Z"}
                )
                app.update_task(EMAIL, lid, item_id, change)
        else:
            if b % 2 == 0 or fields.get("all_day"):
                key = "subject" if graph else "summary"
                app.update_event(EMAIL, item_id, {key: f"{item.label} m{a % 97}"})
            else:
                start = w.clock().replace(minute=0, second=0, microsecond=0)
                start += dt.timedelta(days=a % 50 - 10, hours=1)
                when = _graph_when if graph else _google_when
                app.update_event(
                    EMAIL,
                    item_id,
                    {"start": when(start), "end": when(start + dt.timedelta(hours=1))},
                )

    def _exchange_edit(
        self, item: Item, item_id: str, fields: dict[str, Any], a: int, b: int
    ) -> None:
        w = self.w
        if item.item_type == "contact":
            if b % 2 == 0:
                ews.set_contact_email(w, item_id, f"{item.label.lower()}.m{a % 97}@example.com")
            else:
                w.edit_contact(item_id, item.label)  # a rewrite of the name: no change
        elif item.item_type == "task":
            if b % 2 == 0:
                ews.edit_task(w, item_id, subject=f"{item.label} m{a % 97}")
            else:
                ews.edit_task(w, item_id, due=(w.clock() + dt.timedelta(days=a % 40)).date())
        elif b % 2 == 0 or fields.get("all_day"):
            ews.edit_event(w, item_id, subject=f"{item.label} m{a % 97}")
        else:
            start = w.clock().replace(minute=0, second=0, microsecond=0)
            start += dt.timedelta(days=a % 50 - 10, hours=1)
            ews.edit_event(w, item_id, start=start, end=start + dt.timedelta(hours=1))

    def _series_exception(self, item: Item, a: int) -> None:
        """Rename one occurrence of the weekly series: an exception."""
        subject = f"{item.label} moved {a % 97}"
        if self.kind == "exchange":
            if item.mailbox_series_id in self.w.mbapp.mailbox(EMAIL).items:
                ews.rename_occurrence(self.w, item.mailbox_series_id, 1 + a % 3, subject)
            return
        if self.kind == "office365":
            lo = self.w.clock() - dt.timedelta(days=400)
            hi = self.w.clock() + dt.timedelta(days=400)
            occurrences = sorted(
                (
                    e
                    for e in self.w.mbapp.calendar_view(EMAIL, lo, hi)
                    if e.get("seriesMasterId") == item.mailbox_series_id
                ),
                key=lambda e: e["start"]["dateTime"],
            )
            if occurrences:
                target = occurrences[a % len(occurrences)]
                self.w.mbapp.update_event(EMAIL, target["id"], {"subject": subject})
            return
        events = {e["id"]: e for e in self.w.mbapp.events(EMAIL)}
        master = events.get(item.mailbox_series_id)
        if master is None:
            return
        first = dt.datetime.fromisoformat(master["start"]["dateTime"].replace("Z", "+00:00"))
        stamp = first + dt.timedelta(weeks=a % 3)
        instance = f"{item.mailbox_series_id}_{stamp.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
        self.w.mbapp.update_event(EMAIL, instance, {"summary": subject})

    def mailbox_delete(self, a: int, b: int) -> None:
        item = self.pick(a)
        found = self.mailbox_of(item) if item else []
        if item is None or item.series or not found:
            return
        w = self.w
        for item_id, _, _ in found:
            if item.item_type == "contact":
                w.delete_contact(item_id)
            elif self.kind == "exchange":
                ews.delete_item(w, item_id)
            elif item.item_type == "task":
                w.mbapp.delete_task(EMAIL, w.container("tasks"), item_id)
            else:
                w.mbapp.delete_event(EMAIL, item_id)
        self.deleted.add(item.label)

    # -- the people of a meeting (SPEC §2b) ------------------------------------------------

    def mailbox_attendees(self, a: int, b: int) -> None:
        """The user adds or removes a guest of a meeting (a person of the model's table:
        b picks it), clears the guest list, or a guest's reply arrives."""
        item = self.pick(a, "event")
        found = self.mailbox_of(item) if item is not None and not item.series else []
        if not found:
            return
        if item.label in self.sf_pending and self._mails_guests():
            return  # the Salesforce edit would go down to a meeting with guests: the gap
        item_id, _, raw = found[(a >> 8) % len(found)]
        guests = people.attendees_of(self.kind, raw)
        choice = b % SPAN
        if choice < len(people.PEOPLE):
            address = people.PEOPLE[choice].address
            kept = [g for g in guests if g != address]
            guests = kept if address in guests else [*guests, address]
            people.set_attendees(self.w, item_id, guests)
        elif choice == len(people.PEOPLE) and guests:
            people.reply(self.w, item_id, guests[(a >> 4) % len(guests)], bool(a % 2))
        elif guests:
            people.set_attendees(self.w, item_id, [])

    def sf_invitees(self, a: int, b: int) -> None:
        """Someone relates a person of the table (or the colleague, as an invitee) to a
        Salesforce event, or removes that relation again."""
        item = self.pick(a, "event")
        rows = self.sf_of(item) if item is not None else []
        if item is None or not rows or self._mails_its_attendees(item):
            return
        event_id = rows[(a >> 8) % len(rows)]["Id"]
        sf, me = self.w.sfapp, self.w.me
        relation = (self.people[0], self.people[1], self.people[2], self.w.other)[b % 4]
        existing = sf.query(
            f"SELECT Id FROM EventRelation WHERE EventId = '{event_id}'"
            f" AND RelationId = '{relation}'",
            me,
        )
        self.sf_related.add(item.label)
        self.sf_pending.add(item.label)
        for row in existing:
            sf.delete(row["Id"], me)
        if existing:
            return
        is_user = relation == self.w.other
        fields = {"EventId": event_id, "RelationId": relation, "IsInvitee": is_user or b >= 4}
        if not is_user:
            fields["IsParent"] = True
        with suppress(ValidationError):  # Salesforce refused it (one Lead per event, …)
            sf.create("EventRelation", fields, me)

    def _mails_its_attendees(self, item: Item) -> bool:
        """A Salesforce edit of this event would reach a mailbox meeting with guests on a
        kind whose writes to it mail them (model_people, the known gap)."""
        if not self._mails_guests():
            return False
        return any(people.attendees_of(self.kind, raw) for _, _, raw in self.mailbox_of(item))

    def _mails_guests(self) -> bool:
        return self.kind in people.KINDS_THAT_MAIL_ON_SALESFORCE_EDITS

    # -- settings, clock, faults ------------------------------------------------------------

    def change_setting(self, a: int, b: int) -> None:
        on = bool(a % 2)
        choice = b % 6
        if choice < 2:
            self.scope = ("mine", "all", "view")[a % 3]
            view = self.view if self.scope == "view" else ""
            self.w.settings(contact_scope=self.scope, contact_view_id=view)
        elif choice < 5:
            item_type = KINDS_OF_ITEM[choice - 2]
            self.down[item_type] = on
            self.w.settings(**{f"{item_type}s_down_enabled": on})
        else:
            self.w.settings(auto_remove_contacts=on, auto_remove_tasks=on)

    def move_clock(self, a: int, b: int) -> None:
        # Small steps, a day, and jumps past the window's edges (14 days back, 60 ahead).
        hours = (1, 7, 24, 24 * 15, 24 * 30, 24 * 61, 3, 48)[b % SPAN]
        self.w.clock.advance(hours=hours)

    def inject_fault(self, a: int, b: int) -> None:
        """Arm a fault for the next session: set on the emulators when it starts, so the
        user's own calls meanwhile (exchangelib's, for the Exchange kind) never meet it."""
        w, fault = self.w, b % SPAN
        exchange = self.kind == "exchange"
        if fault == 0:
            self.armed.append(lambda: w.sfapp.fail_next(1 + a % 3, 503))
        elif fault == 1:
            self.armed.append(lambda: w.mbapp.fail_next(1 + a % 3, 503))
        elif fault == 2:
            self.armed.append(self._exhaust_salesforce_budget)
        elif fault == 3 and exchange:  # Exchange's throttle: ErrorServerBusy with a back-off
            self.armed.append(lambda: w.mbapp.server_busy_next(1, back_off_ms=30_000))
        elif fault == 3:
            self.armed.append(lambda: w.mbapp.throttle_next(1, retry_after=30))
        elif fault in (4, 5):
            boundary = BOUNDARIES[a % len(BOUNDARIES)]
            write = ("create_salesforce", "create_mailbox")[fault - 4]
            self.hook = _crash_hook(boundary, write, (a >> 4) % 2)
        elif fault == 6:
            self.armed.append(
                lambda: w.sfapp.lose_response_next(1, match="composite/sobjects", method="POST")
            )
        else:
            if exchange:
                w.mbapp.invalidate_sync_states(EMAIL)
            elif self.kind == "office365":
                w.mbapp.expire_delta_tokens(EMAIL)
            else:
                w.mbapp.expire_sync_tokens(EMAIL)
            return  # an expired cursor is no fault: the session must still be clean
        self.fault = True

    def _exhaust_salesforce_budget(self) -> None:
        if self.sf_budget_used is None:
            self.sf_budget_used = self.w.sfapp.budget_used
        self.w.sfapp.exhaust_budget()  # Salesforce's refusal is 403, never 429

    # -- sessions -----------------------------------------------------------------------------

    def sync(self, a: int = 0, b: int = 0) -> None:
        self.session()

    def session(self) -> None:
        faulted, hook = self.fault, self.hook
        try:
            for arm in self.armed:
                arm()
            if hook is not None:
                with injected(hook):
                    session = self.w.sync()
            else:
                session = self.w.sync()
        finally:
            self.clear_faults()
        if faulted:
            assert session.status in (
                Status.RETRY_LATER,
                Status.FAILED,
                Status.SUCCEEDED,
                Status.PARTIAL,
            ), session.status
            return
        assert session.status == Status.SUCCEEDED, (session.status, session.error, _log(session))
        self.sf_pending.clear()  # every Salesforce edit so far went down (or lost a conflict)
        again = self.w.sync()
        assert again.status == Status.SUCCEEDED, (again.status, again.error)
        writes = {
            (t, d, k): n
            for t, per_type in again.counters.items()
            for d, per_dir in per_type.items()
            for k, n in per_dir.items()
            if k in WRITES and n
        }
        assert not writes and not again.changed, (
            "the second session wrote",
            writes,
            _log(again),
        )
        self.check()

    def clear_faults(self) -> None:
        self.w.sfapp.clear_faults()
        self.w.mbapp.clear_faults()
        if self.sf_budget_used is not None:
            self.w.sfapp.set_budget(used=self.sf_budget_used)
            self.sf_budget_used = None
        self.fault, self.hook, self.armed = False, None, []

    def close(self) -> None:
        """End of a run: no fault left, the Google emulator's ids unpredictable again."""
        self.clear_faults()
        self.w.stack.google_app.seed_ids(None)

    def step(self, rule: str, a: int, b: int) -> None:
        self.steps += 1
        getattr(self, rule)(a, b)
        self.invariants()

    # -- checks ---------------------------------------------------------------------------------

    def sf_key(self, item_type: str, row: dict[str, Any]) -> tuple[str, ...]:
        label = self.sf_label(item_type, row)
        if item_type != "event":
            return (label,)
        start = row.get("ActivityDate") if row.get("IsAllDayEvent") else row.get("StartDateTime")
        return (label, str(start)[:16])

    def mailbox_key(self, item_type: str, fields: dict[str, Any]) -> tuple[str, ...]:
        label = self.mailbox_label(item_type, fields)
        if item_type != "event":
            return (label,)
        if fields.get("all_day"):
            return (label, str(fields.get("start_date")))
        start = fields.get("start")
        return (label, start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M") if start else "")

    def invariants(self) -> None:
        for item_type in KINDS_OF_ITEM:
            keys = [self.mailbox_key(item_type, f) for _, f, _ in self.mailbox_items(item_type)]
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            assert not dupes, (item_type, "duplicate in the mailbox", dupes)
            keys = [self.sf_key(item_type, r) for r in self.sf_rows(item_type)]
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            assert not dupes, (item_type, "duplicate in Salesforce", dupes)
            rows = list(SyncLink.objects.filter(user=self.w.user, item_type=item_type))
            assert len({r.sf_id for r in rows}) == len(rows)
            assert len({r.mailbox_id for r in rows}) == len(rows)
        sent = people.invitations(self.w)
        assert not sent, ("an invitation, update or cancellation was sent", sent[:3])

    def check_meetings(self) -> None:
        """One Salesforce Event per meeting (iCalendar UID and occurrence), and where the
        kind relates attendees, the relations SPEC §2b asks for."""
        events = {m[0]: m for m in self.mailbox_items("event")}
        links = SyncLink.objects.filter(user=self.w.user, item_type="event", state="linked")
        per_meeting: dict[tuple[str, ...], str] = {}
        for link in links:
            if link.mailbox_id not in events:
                continue
            _, fields, raw = events[link.mailbox_id]
            uid = people.meeting_uid(self.kind, raw)
            meeting = (uid, *self.mailbox_key("event", fields)[1:])
            if uid:
                first = per_meeting.setdefault(meeting, link.sf_id)
                assert first == link.sf_id, ("two Salesforce events for one meeting", meeting)
            if self.kind in people.RELATED_KINDS:
                label = self.mailbox_label("event", fields)
                people.check_relations(
                    self.w,
                    self.people,
                    link.sf_id,
                    people.attendees_of(self.kind, raw),
                    touched=label in self.sf_related,
                )

    def check(self) -> None:
        self.check_meetings()
        for item_type in KINDS_OF_ITEM:
            links = {
                r.sf_id: r for r in SyncLink.objects.filter(user=self.w.user, item_type=item_type)
            }
            sf = {r["Id"]: r for r in self.sf_rows(item_type)}
            mailbox = {m[0]: m[1] for m in self.mailbox_items(item_type)}
            for sf_id, link in links.items():
                assert sf_id in sf, (item_type, "link to a deleted record", sf_id)
                if link.state == "linked" and item_type != "event":
                    assert link.mailbox_id in mailbox, (item_type, "link to a gone item", sf_id)
            if item_type != "event":
                by_mailbox = {r.mailbox_id for r in links.values()}
                unlinked = [f for i, f in mailbox.items() if i not in by_mailbox]
                assert not unlinked, (item_type, "not sent up", unlinked)
            # What reached Salesforce once stays there unless a rule deleted it (a mailbox
            # event first seen outside the window never goes up: not a loss).
            labels = {self.sf_label(item_type, r) for r in sf.values()}
            lost = self.in_salesforce - self.deleted - labels
            lost = {label for label in lost if self._type_of(label) == item_type}
            assert not lost, (item_type, "deleted without a rule", sorted(lost))
            self.in_salesforce |= labels
            if not self.down[item_type]:
                continue  # Salesforce's changes wait on the links; nothing else goes down
            for sf_id, link in links.items():
                if link.state != "linked" or link.mailbox_id not in mailbox:
                    continue
                theirs = self.sf_label(item_type, sf[sf_id])
                ours = self.mailbox_label(item_type, mailbox[link.mailbox_id])
                assert theirs == ours, (item_type, "pair disagrees", theirs, ours)
                if item_type == "contact":
                    email = str(sf[sf_id].get("Email") or "").lower()
                    assert email == str(mailbox[link.mailbox_id].get("email") or "").lower()


def _log(session: SyncSession) -> list[str]:
    """What the session logged about its items (the first few), for a failure message."""
    return [f"{e.item_type} {e.kind}: {e.message}"[:300] for e in session.log.all()[:5]]


def _crash_hook(boundary: str, write: str, index: int) -> Callable[[str, str, str, int], None]:
    fired = False

    def hook(at: str, item_type: str, what: str, i: int) -> None:
        nonlocal fired
        if not fired and at == boundary and what == write and i == index:
            fired = True
            raise InjectedCrash(f"worker killed at {at} of {what} {item_type} #{i}")

    return hook
