"""API JSON ↔ the planner's records, for Salesforce and for each mailbox kind.

The mappers (syncengine.mappers) do the field work; this module adds what the planner
needs around the fields: owner, modification time, tombstones, the "marked" flag (in the
Salesforce folder / list / group, or carrying the category / private flag) and the
Salesforce-id marker each mailbox item carries. It also builds the write payloads, always
with the marker, so a crash between a write and its link is healed by the marker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .adapters.mailbox import CONTACTS, EVENTS, TASKS, ContainerRef
from .mappers import google as gmap
from .mappers import graph as xmap
from .mappers import salesforce as smap
from .mappers.occurrences import google_series_key, graph_series_key
from .mappers.timezones import parse_aware
from .planner import ItemType, MailboxRecord, SalesforceRecord

ROLE = {ItemType.CONTACT: CONTACTS, ItemType.TASK: TASKS, ItemType.EVENT: EVENTS}
SOBJECT = {ItemType.CONTACT: "Contact", ItemType.TASK: "Task", ItemType.EVENT: "Event"}
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _when(text: Any) -> dt.datetime:
    if not text:
        return EPOCH
    try:
        return parse_aware(str(text))
    except ValueError:
        return EPOCH


# --- Salesforce ----------------------------------------------------------------------------


def sf_fields(item_type: ItemType, row: Mapping[str, Any], previous: Mapping | None) -> dict:
    if item_type == ItemType.CONTACT:
        return dict(smap.contact_from_sf(row))
    if item_type == ItemType.TASK:
        return dict(smap.task_from_sf(row))
    return dict(smap.event_from_sf(row, previous))


def sf_record(
    item_type: ItemType,
    row: Mapping[str, Any],
    *,
    previous: Mapping[str, Any] | None = None,
    invitee_ids: frozenset[str] = frozenset(),
) -> SalesforceRecord:
    """A queryAll row (tombstones too) as the planner's record."""
    deleted = bool(row.get("IsDeleted"))
    modified = _when(row.get("LastModifiedDate") or row.get("SystemModstamp"))
    fields = {} if deleted else sf_fields(item_type, row, previous)
    return SalesforceRecord(
        sf_id=row["Id"],
        item_type=item_type,
        fields=fields,
        owner_id=str(row.get("OwnerId") or ""),
        modified_at=modified,
        deleted=deleted,
        invitee_ids=invitee_ids,
        merged_into=(row.get("MasterRecordId") or None) if deleted else None,
    )


def sf_payload(item_type: ItemType, fields: Mapping[str, Any]) -> dict[str, Any]:
    if item_type == ItemType.CONTACT:
        return smap.contact_to_sf(fields)
    if item_type == ItemType.TASK:
        return smap.task_to_sf(fields)
    return smap.event_to_sf(fields)


def sf_written(
    item_type: ItemType,
    sf_id: str,
    fields: Mapping[str, Any],
    *,
    owner_id: str,
    now: dt.datetime,
    invitee_ids: frozenset[str] = frozenset(),
) -> SalesforceRecord:
    """What Salesforce holds after writing `fields`: the payload mapped back (so a field
    Salesforce cannot hold, like a contact's company, is absent here as in the echo)."""
    row: dict[str, Any] = {"Id": sf_id, **sf_payload(item_type, fields), "Account": None}
    if item_type == ItemType.TASK and fields.get("completed_at"):
        row["CompletedDateTime"] = smap.format_sf_datetime(fields["completed_at"])
    mapped = sf_fields(item_type, row, fields)
    return SalesforceRecord(sf_id, item_type, mapped, owner_id, now, invitee_ids=invitee_ids)


# --- mailboxes -----------------------------------------------------------------------------


class MailboxCodec:
    """One mailbox kind's JSON: records out of reads, payloads for writes."""

    def __init__(
        self,
        kind: str,
        time_zone: str,
        containers: Mapping[str, ContainerRef],
        instance_url: str = "",
    ) -> None:
        self.kind = kind
        self.time_zone = time_zone
        self.containers = containers
        self.instance_url = instance_url

    @property
    def google(self) -> bool:
        return self.kind == "gmail"

    # -- reads ----------------------------------------------------------------------------

    def fields(self, item_type: ItemType, item: Mapping[str, Any], previous: Mapping | None):
        tz = self.time_zone
        if self.google:
            if item_type == ItemType.CONTACT:
                return dict(gmap.contact_from_google(item))
            if item_type == ItemType.TASK:
                return dict(gmap.task_from_google(item, previous))
            return dict(gmap.event_from_google(item, tz, previous))
        if item_type == ItemType.CONTACT:
            return dict(xmap.contact_from_graph(item))
        if item_type == ItemType.TASK:
            return dict(xmap.task_from_graph(item, tz))
        return dict(xmap.event_from_graph(item, tz))

    def marker(self, item_type: ItemType, item: Mapping[str, Any]) -> str | None:
        if self.google:
            if item_type == ItemType.CONTACT:
                return gmap.sf_id_from_person(item)
            if item_type == ItemType.TASK:
                return gmap.sf_id_from_google_task(item)
            return gmap.sf_id_from_google_event(item)
        if item_type == ItemType.TASK:
            return xmap.sf_id_from_todo(item)
        return xmap.sf_id_from_graph(item)

    def marked(self, item_type: ItemType, item: Mapping[str, Any]) -> bool:
        if item_type == ItemType.TASK:
            return True  # the feed is the Salesforce list itself
        if self.google:
            if item_type == ItemType.CONTACT:
                group = self.containers[CONTACTS].external_id
                return gmap_in_group(item, group)
            return gmap.is_marked_for_salesforce(item) or bool(gmap.sf_id_from_google_event(item))
        if item_type == ItemType.CONTACT:
            return True  # the feed is the Salesforce Contacts folder
        return xmap.has_salesforce_category(item)

    def modified(self, item_type: ItemType, item: Mapping[str, Any]) -> dt.datetime:
        if not self.google:
            return _when(item.get("lastModifiedDateTime"))
        if item_type == ItemType.CONTACT:
            sources = (item.get("metadata") or {}).get("sources") or [{}]
            return max((_when(s.get("updateTime")) for s in sources), default=EPOCH)
        return _when(item.get("updated"))

    def record(
        self, item_type: ItemType, item: Mapping[str, Any], previous: Mapping | None = None
    ) -> MailboxRecord:
        marked = self.marked(item_type, item)
        series = None
        if item_type == ItemType.EVENT:
            series = google_series_key(item, self.time_zone) if self.google else None
            series = series if self.google else graph_series_key(item)
        return MailboxRecord(
            mailbox_id=self.item_id(item),
            item_type=item_type,
            fields=self.fields(item_type, item, previous),
            modified_at=self.modified(item_type, item),
            marked=marked,
            sf_id_marker=self.marker(item_type, item),
            series_key=series,
        )

    def item_id(self, item: Mapping[str, Any]) -> str:
        return str(item.get("resourceName") or item.get("id"))

    @staticmethod
    def tombstone(item_type: ItemType, mailbox_id: str, now: dt.datetime) -> MailboxRecord:
        return MailboxRecord(mailbox_id, item_type, {}, now, deleted=True)

    def needs_fetch_for_marker(self, item_type: ItemType) -> bool:
        """Graph leaves the extended property out of the contacts and events delta."""
        return not self.google and item_type != ItemType.TASK

    # -- writes ---------------------------------------------------------------------------

    def payload(
        self,
        item_type: ItemType,
        fields: Mapping[str, Any],
        sf_id: str | None,
        existing: Mapping[str, Any] | None = None,
        *,
        create: bool = False,
    ) -> dict[str, Any]:
        tz = self.time_zone
        if self.google:
            if item_type == ItemType.CONTACT:
                group = self.containers[CONTACTS].external_id
                person = gmap.contact_to_google(
                    fields,
                    sf_id=sf_id,
                    group_resource_name=group if create else None,
                    existing=existing,
                )
                if existing and existing.get("etag") and not create:
                    person["etag"] = existing["etag"]
                return person
            if item_type == ItemType.TASK:
                return gmap.task_to_google(fields, sf_id=sf_id)
            private = ((existing or {}).get("extendedProperties") or {}).get("private")
            return gmap.event_to_google(fields, tz, sf_id=sf_id, existing_private=private)
        if item_type == ItemType.CONTACT:
            return xmap.contact_to_graph(fields, sf_id=sf_id, existing=existing)
        if item_type == ItemType.TASK:
            if create and sf_id:
                return xmap.task_to_graph(fields, tz, sf_id=sf_id, instance_url=self.instance_url)
            return xmap.task_to_graph(fields, tz)
        categories = (existing or {}).get("categories")
        return xmap.event_to_graph(fields, tz, sf_id=sf_id, categories=categories)

    def marker_payload(
        self,
        item_type: ItemType,
        fields: Mapping[str, Any],
        sf_id: str,
        existing: Mapping[str, Any] | None,
    ) -> dict[str, Any] | None:
        """A write that only stores the Salesforce id on an item (None: not possible —
        To Do linkedResources cannot be patched; matching heals those instead)."""
        if self.google:
            if item_type == ItemType.TASK:
                return {"notes": gmap.join_notes(fields.get("description"), sf_id)}
            if item_type == ItemType.EVENT:
                private = ((existing or {}).get("extendedProperties") or {}).get("private") or {}
                return {
                    "extendedProperties": {
                        "private": {**private, **gmap.google_private_marker(sf_id)}
                    }
                }
            return self.payload(item_type, fields, sf_id, existing)
        if item_type == ItemType.TASK:
            return None
        return {"singleValueExtendedProperties": [xmap.graph_marker(sf_id)]}


def gmap_in_group(person: Mapping[str, Any], group: str) -> bool:
    from .adapters.gmail import in_salesforce_group

    return in_salesforce_group(person, group)
