"""Microsoft Graph JSON <-> canonical records: one small codec per item type.

The marker is a single-value extended property on contacts and events (Graph leaves it
out of their delta, so unlinked marked items are fetched to see it) and a linked
resource on To Do tasks (which cannot be patched later: matching heals those instead).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from syncengine.mappers import graph as xmap
from syncengine.mappers.occurrences import graph_series_key
from syncengine.mappers.people import MailboxPeople, people_from_graph, strip_salesforce_block
from syncengine.planner import ItemType

from ..base import ContainerRef, ItemCodec, MailboxCodec
from ..when import parse_when


class _GraphItem:
    marker_in_feed = False
    removed_may_be_alive = False
    kept_unread: tuple[str, ...] = ()

    def __init__(self, time_zone: str, instance_url: str) -> None:
        self.time_zone = time_zone
        self.instance_url = instance_url

    def marker(self, item: Mapping[str, Any]) -> str | None:
        return xmap.sf_id_from_graph(item)

    def modified(self, item: Mapping[str, Any]) -> dt.datetime:
        return parse_when(item.get("lastModifiedDateTime"))

    def series_key(self, item: Mapping[str, Any]) -> str | None:
        return None

    def marker_payload(
        self, fields: Mapping[str, Any], sf_id: str, existing: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        return {"singleValueExtendedProperties": [xmap.graph_marker(sf_id)]}

    def update_needs_current(self, fields: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
        return False


class GraphContact(_GraphItem):
    # Graph PATCH leaves a property it is not sent as it is: an unread contact is patched
    # without these, so the user's other addresses and phones survive.
    kept_unread: tuple[str, ...] = ("emailAddresses", "businessPhones")

    def fields(self, item: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
        return dict(xmap.contact_from_graph(item))

    def marked(self, item: Mapping[str, Any]) -> bool:
        return True  # the feed is the Salesforce Contacts folder

    def payload(
        self,
        fields: Mapping[str, Any],
        sf_id: str | None,
        existing: Mapping[str, Any] | None,
        *,
        create: bool,
    ) -> dict[str, Any]:
        return xmap.contact_to_graph(fields, sf_id=sf_id, existing=existing)

    def update_needs_current(self, fields: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
        """Only when the first address or phone changes (else those collections are left
        out of the PATCH)."""
        return any((fields.get(k) or None) != (before.get(k) or None) for k in ("email", "phone"))


class TodoTask(_GraphItem):
    marker_in_feed = True

    def fields(self, item: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
        fields: dict[str, Any] = dict(xmap.task_from_graph(item, self.time_zone))
        # Relay's "In Salesforce:" block is not the task's: it never goes up (issue 9).
        fields["description"] = strip_salesforce_block(fields["description"])
        return fields

    def description_payload(self, text: str | None) -> dict[str, Any]:
        return {"body": xmap.text_body(text)}

    def description_text(self, item: Mapping[str, Any]) -> str | None:
        return xmap.task_from_graph(item, self.time_zone)["description"]

    def marker(self, item: Mapping[str, Any]) -> str | None:
        return xmap.sf_id_from_todo(item)

    def marked(self, item: Mapping[str, Any]) -> bool:
        return True  # the feed is the Salesforce list itself

    def payload(
        self,
        fields: Mapping[str, Any],
        sf_id: str | None,
        existing: Mapping[str, Any] | None,
        *,
        create: bool,
    ) -> dict[str, Any]:
        if create and sf_id:
            return xmap.task_to_graph(
                fields, self.time_zone, sf_id=sf_id, instance_url=self.instance_url
            )
        return xmap.task_to_graph(fields, self.time_zone)

    def marker_payload(
        self, fields: Mapping[str, Any], sf_id: str, existing: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        return None  # To Do linkedResources cannot be patched


class GraphEvent(_GraphItem):
    # Graph says "@removed" for an event that left the calendar window, too.
    removed_may_be_alive = True
    kept_unread: tuple[str, ...] = ("categories",)

    def fields(self, item: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
        fields: dict[str, Any] = dict(xmap.event_from_graph(item, self.time_zone))
        # Relay's "In Salesforce:" block is not the event's: it never goes up (issue 9).
        fields["description"] = strip_salesforce_block(fields["description"])
        return fields

    def description_payload(self, text: str | None) -> dict[str, Any]:
        return {"body": xmap.text_body(text)}

    def description_text(self, item: Mapping[str, Any]) -> str | None:
        return xmap.event_from_graph(item, self.time_zone)["description"]

    def marked(self, item: Mapping[str, Any]) -> bool:
        return xmap.has_salesforce_category(item)

    def people(self, item: Mapping[str, Any]) -> MailboxPeople:
        return people_from_graph(item)

    def series_key(self, item: Mapping[str, Any]) -> str | None:
        return graph_series_key(item)

    def payload(
        self,
        fields: Mapping[str, Any],
        sf_id: str | None,
        existing: Mapping[str, Any] | None,
        *,
        create: bool,
    ) -> dict[str, Any]:
        categories = (existing or {}).get("categories")
        return xmap.event_to_graph(fields, self.time_zone, sf_id=sf_id, categories=categories)

    def notified_by_write(self, item: Mapping[str, Any]) -> int:
        """Graph mails every attendee on any PATCH or DELETE of a meeting the user
        organizes and has no way to suppress it (API-NOTES §J): that many people."""
        if not xmap.is_organized_meeting(item):
            return 0
        return sum(1 for a in item.get("attendees") or () if a.get("type") != "resource") or 1

    def marker_payload(
        self, fields: Mapping[str, Any], sf_id: str, existing: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        # Such a meeting keeps no marker (the PATCH would mail its attendees); its link does.
        if existing is not None and self.notified_by_write(existing):
            return None
        return super().marker_payload(fields, sf_id, existing)


def graph_codec(
    time_zone: str, containers: Mapping[str, ContainerRef], instance_url: str = ""
) -> MailboxCodec:
    items: dict[ItemType, ItemCodec] = {
        ItemType.CONTACT: GraphContact(time_zone, instance_url),
        ItemType.TASK: TodoTask(time_zone, instance_url),
        ItemType.EVENT: GraphEvent(time_zone, instance_url),
    }
    return MailboxCodec(items)
