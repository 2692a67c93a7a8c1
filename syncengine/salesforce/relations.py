"""The Salesforce calls behind an activity's people (SPEC §2b, issue 9). I/O only: the
decisions are ``syncengine.relations`` (up) and ``syncengine.mappers.people`` (down).

Calls for one session's batch of n events, whatever n (never a call per event):

- ``shared_activities``: 1 describe of EventWhoRelation (404: off), only when there is
  something to relate, and at most once a day per org (``OrgSettingCache``: the answer is
  kept on the org's Salesforce connections, an org cannot turn the feature off);
- ``relate``: 1 composite people lookup (email logging's ``find_people``, ⌈addresses/100⌉)
  + ⌈n/200⌉ Event query + ⌈n/200⌉ EventRelation query + at most one sObject Collections
  call each for Event WhoId updates, relation creates, updates and deletes (⌈k/200⌉) —
  and one delete and one update more when a meeting swaps its Contacts for a Lead (or
  back), whose removals go before the WhoId;
- ``people_of``: ⌈n/200⌉ EventRelation query + one name query per record type involved;
  ``task_people_of`` the same over TaskRelation, which it reads only with Shared
  Activities.

An idle session relates nothing and so makes none of these calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accounts.models import Connection
from syncengine.emails.blocklist import Blocklist
from syncengine.mappers.people import MailboxPeople, Named, SalesforcePeople, salesforce_people
from syncengine.relations import (
    Current,
    RelationPlan,
    RelationRow,
    plan_relations,
    wanted_relations,
)

from .adapter import SalesforceAdapter, chunks, soql
from .email import SalesforceEmailAdapter
from .types import check_id

IN_CHUNK = 200
SHARED_ACTIVITIES_PROBE = "EventWhoRelation"  # exists only with Shared Activities
RELATION_FIELDS = ["Id", "EventId", "RelationId", "IsParent", "IsInvitee", "IsWhat", "Status"]
TASK_RELATION_FIELDS = ["Id", "TaskId", "RelationId", "IsWhat"]
# Record types a Who, What or invitee can be, by id prefix, and how to name them.
NAME_QUERIES = {
    "003": ("Contact", ["Id", "Name", "Account.Name"]),
    "00Q": ("Lead", ["Id", "Name"]),
    "005": ("User", ["Id", "Name"]),
    "001": ("Account", ["Id", "Name"]),
    "006": ("Opportunity", ["Id", "Name"]),
}


@dataclass(frozen=True)
class Meeting:
    """One linked mailbox event to relate: its Salesforce Event and what Relay made."""

    event_id: str
    people: MailboxPeople
    made: frozenset[str] = frozenset()


@dataclass
class RelateResult:
    plans: dict[str, RelationPlan] = field(default_factory=dict)  # by event id
    errors: dict[str, list[str]] = field(default_factory=dict)  # by event id


def _ids_in(ids: Sequence[str]) -> str:
    return ", ".join(f"'{check_id(i)}'" for i in ids)


SHARED_ACTIVITIES_TTL = dt.timedelta(hours=24)
CACHE_KEY = "shared_activities"  # in Connection.extra: {"on": bool, "at": ISO time}


class OrgSettingCache:
    """The org's Shared Activities answer, kept on its Salesforce connections for a day.

    Any Relay user's connection of the same org (``extra["org_id"]``) holding a fresh
    answer serves every other user of that org, so an org is described about once a day,
    not once per user session. The feature is permanent once enabled, so a stale "off"
    is the only thing the TTL guards against."""

    def __init__(
        self, connection: Any, now: dt.datetime, ttl: dt.timedelta = SHARED_ACTIVITIES_TTL
    ) -> None:
        self.connection, self.now, self.ttl = connection, now, ttl

    def _fresh(self, extra: Mapping[str, Any] | None) -> tuple[dt.datetime, bool] | None:
        kept = (extra or {}).get(CACHE_KEY)
        if not isinstance(kept, Mapping) or not isinstance(kept.get("on"), bool):
            return None
        try:
            at = dt.datetime.fromisoformat(str(kept.get("at")))
        except ValueError:
            return None
        if at.tzinfo is None or not (self.now - self.ttl <= at <= self.now + self.ttl):
            return None
        return at, kept["on"]

    def get(self) -> bool | None:
        mine = self._fresh(self.connection.extra)
        if mine is not None:
            return mine[1]
        org_id = (self.connection.extra or {}).get("org_id")
        if not org_id:
            return None
        others = Connection.objects.filter(
            side=Connection.Side.SALESFORCE, extra__org_id=org_id
        ).exclude(pk=self.connection.pk)
        found = [f for f in (self._fresh(e) for e in others.values_list("extra", flat=True)) if f]
        return max(found)[1] if found else None

    def put(self, on: bool) -> None:
        extra = {**(self.connection.extra or {}), CACHE_KEY: {"on": on, "at": self.now.isoformat()}}
        self.connection.extra = extra
        # Only this JSON field: a concurrent token refresh of the same row keeps its tokens.
        Connection.objects.filter(pk=self.connection.pk).update(extra=extra)


class SalesforceRelations:
    def __init__(
        self,
        sf: SalesforceAdapter,
        *,
        shared_activities: bool | None = None,
        cache: OrgSettingCache | None = None,
    ) -> None:
        """``shared_activities``: the org setting when the caller knows it (saves a call);
        ``cache``: where the org's answer is kept between sessions."""
        self.sf = sf
        self._shared = shared_activities
        self._cache = cache

    def shared_activities(self) -> bool:
        if self._shared is None and self._cache is not None:
            self._shared = self._cache.get()
        if self._shared is None:
            self._shared = self.sf.has_sobject(SHARED_ACTIVITIES_PROBE)
            if self._cache is not None:
                self._cache.put(self._shared)
        return self._shared

    # -- reads ---------------------------------------------------------------------------

    def _relation_rows(self, event_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in event_ids}
        for chunk in chunks(list(event_ids), IN_CHUNK):
            query = soql(RELATION_FIELDS, "EventRelation", [f"EventId IN ({_ids_in(chunk)})"])
            for row in self.sf.query(query):
                out.setdefault(row["EventId"], []).append(row)
        return out

    def _events(self, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for chunk in chunks(list(event_ids), IN_CHUNK):
            query = soql(["Id", "WhoId", "WhatId"], "Event", [f"Id IN ({_ids_in(chunk)})"])
            out.update((row["Id"], row) for row in self.sf.query(query))
        return out

    def current(self, event_ids: Sequence[str]) -> dict[str, Current]:
        """WhoId and person rows (What rows left out) of each live event."""
        events = self._events(event_ids)
        rows = self._relation_rows(list(events))
        out = {}
        for event_id, event in events.items():
            people = {
                r["RelationId"]: RelationRow(
                    r["Id"],
                    r["RelationId"],
                    bool(r.get("IsParent")),
                    bool(r.get("IsInvitee")),
                    r.get("Status") or "New",
                )
                for r in rows.get(event_id, [])
                if not r.get("IsWhat")
            }
            out[event_id] = Current(event.get("WhoId"), people)
        return out

    def names(self, ids: Iterable[str]) -> dict[str, Named]:
        """Display names (a Contact with its Account's name) for record ids, by type."""
        by_prefix: dict[str, list[str]] = {}
        for i in dict.fromkeys(ids):
            if i and i[:3] in NAME_QUERIES:
                by_prefix.setdefault(i[:3], []).append(i)
        out: dict[str, Named] = {}
        for prefix, wanted in sorted(by_prefix.items()):
            sobject, fields = NAME_QUERIES[prefix]
            for chunk in chunks(wanted, IN_CHUNK):
                query = soql(fields, sobject, [f"Id IN ({_ids_in(chunk)})"])
                for row in self.sf.query(query):
                    account = (row.get("Account") or {}).get("Name") or ""  # Contacts only
                    out[row["Id"]] = Named(row["Id"], row.get("Name") or "", account)
        return out

    def people_of(
        self, activities: Sequence[Mapping[str, str | None]]
    ) -> dict[str, SalesforcePeople]:
        """Who, What and invitees with names for Event rows (Id, WhoId, WhatId)."""
        ids = [a_id for a in activities if (a_id := a.get("Id"))]
        if not ids:
            return {}
        rows = self._relation_rows(ids)
        wanted = [a.get("WhoId") or "" for a in activities] + [
            a.get("WhatId") or "" for a in activities
        ]
        wanted += [r["RelationId"] for rs in rows.values() for r in rs]
        names = self.names(wanted)
        return {
            a_id: salesforce_people(a, rows.get(a_id, []), names)
            for a in activities
            if (a_id := a.get("Id"))
        }

    def task_people_of(
        self, activities: Sequence[Mapping[str, str | None]]
    ) -> dict[str, SalesforcePeople]:
        """Who and What with names for Task rows (Id, WhoId, WhatId) and, with Shared
        Activities, the task's other TaskRelation people (TaskRelation exists only then)."""
        ids = [str(a["Id"]) for a in activities if a.get("Id")]
        if not ids:
            return {}
        rows: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if self.shared_activities():
            for chunk in chunks(ids, IN_CHUNK):
                query = soql(
                    TASK_RELATION_FIELDS, "TaskRelation", [f"TaskId IN ({_ids_in(chunk)})"]
                )
                for row in self.sf.query(query):
                    # TaskRelation has no IsParent / IsInvitee: every non-What row is a Who.
                    rows.setdefault(row["TaskId"], []).append(
                        {**row, "IsParent": not row.get("IsWhat"), "IsInvitee": False}
                    )
        wanted = [str(a.get(k) or "") for a in activities for k in ("WhoId", "WhatId")]
        wanted += [r["RelationId"] for rs in rows.values() for r in rs]
        names = self.names(wanted)
        return {
            str(a["Id"]): salesforce_people(a, rows.get(str(a["Id"]), []), names)
            for a in activities
            if a.get("Id")
        }

    # -- up-sync ---------------------------------------------------------------------------

    def relate(
        self,
        meetings: Sequence[Meeting],
        *,
        user_addresses: Sequence[str],
        blocklist: Blocklist,
    ) -> RelateResult:
        """Plan and write the relations of a batch of linked meetings (see module doc)."""
        result = RelateResult()
        if not meetings:
            return result
        shared = self.shared_activities()
        addresses = {a for m in meetings for a in m.people.addresses()}
        finder = SalesforceEmailAdapter(self.sf.call, self.sf.user_id, base=self.sf)
        matches = finder.find_people(addresses)
        current = self.current([m.event_id for m in meetings])
        for m in meetings:
            if m.event_id not in current:
                continue  # deleted in Salesforce meanwhile: the sync decides about it
            wanted = wanted_relations(
                m.people, user_addresses=user_addresses, blocklist=blocklist, matches=matches
            )
            result.plans[m.event_id] = plan_relations(
                m.event_id, wanted, current[m.event_id], m.made, shared_activities=shared
            )
        self._write(list(result.plans.values()), result)
        return result

    def _write(self, plans: list[RelationPlan], result: RelateResult) -> None:
        # The WhoId first: it makes its own IsParent row, which the creates must not repeat,
        # and replaces the old Who (a removal first would let Salesforce promote someone the
        # WhoId then replaces). But a new Who of the other kind (a Lead for Contacts, or the
        # other way round) is refused while those Relay removes are still related, so such
        # plans remove first (soak office365 172).
        first = [p for p in plans if p.unrelate_first]
        later = [p for p in plans if not p.unrelate_first]
        self._unrelate(first, result)
        steps = [
            ("Event", "update", [(p, p.event_update) for p in plans if p.event_update]),
            ("EventRelation", "create", [(p, r) for p in plans for r in p.create]),
            (
                "EventRelation",
                "update",
                [(p, r) for p in plans for r in p.update if p in later or not _unparents(r)],
            ),
        ]
        for sobject, verb, items in steps:
            self._records(sobject, verb, items, result)
        self._delete([(p, row_id) for p in later for row_id in p.delete], result)

    def _unrelate(self, plans: list[RelationPlan], result: RelateResult) -> None:
        self._delete([(p, row_id) for p in plans for row_id in p.delete], result)
        unparent = [(p, r) for p in plans for r in p.update if _unparents(r)]
        self._records("EventRelation", "update", unparent, result)

    def _records(
        self,
        sobject: str,
        verb: str,
        items: list[tuple[RelationPlan, dict[str, Any]]],
        result: RelateResult,
    ) -> None:
        if not items:
            return
        records = [r for _, r in items]
        write = self.sf.create if verb == "create" else self.sf.update
        for (p, _), res in zip(items, write(sobject, records), strict=True):
            if not res.ok:
                result.errors.setdefault(p.event_id, []).append(f"{res.error_code}: {res.message}")

    def _delete(self, deletes: list[tuple[RelationPlan, str]], result: RelateResult) -> None:
        if not deletes:
            return
        results = self.sf.delete([row_id for _, row_id in deletes])
        for (p, _), res in zip(deletes, results, strict=True):
            if not res.ok and not res.gone:
                result.errors.setdefault(p.event_id, []).append(f"{res.error_code}: {res.message}")


def _unparents(record: Mapping[str, Any]) -> bool:
    return record.get("IsParent") is False
