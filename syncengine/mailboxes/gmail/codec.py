"""Google JSON (People, Tasks, Calendar) <-> canonical records: one codec per item type.

The marker is a line in a contact's or task's notes / a private extended property on an
event; every feed carries it, so nothing is fetched to see it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from syncengine.mappers import google as gmap
from syncengine.mappers.occurrences import google_series_key
from syncengine.mappers.people import MailboxPeople, people_from_google, strip_salesforce_block
from syncengine.planner import ItemType

from ..base import CONTACTS, ContainerRef, ItemCodec, MailboxCodec
from ..when import EPOCH, parse_when
from .adapter import in_salesforce_group
from .people import max_contacts


class _GoogleItem:
    marker_in_feed = True
    removed_may_be_alive = False
    kept_unread: tuple[str, ...] = ()

    def __init__(self, time_zone: str) -> None:
        self.time_zone = time_zone

    def modified(self, item: Mapping[str, Any]) -> dt.datetime:
        return parse_when(item.get("updated"))

    def series_key(self, item: Mapping[str, Any]) -> str | None:
        return None

    def update_needs_current(self, fields: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
        return False


class GooglePerson(_GoogleItem):
    def __init__(self, time_zone: str, group: str) -> None:
        super().__init__(time_zone)
        self.group = group  # the "Salesforce Contacts" contact group's resource name

    @property
    def max_items(self) -> int:
        return max_contacts()  # Google's per-account contact limit (gmail.people)

    def fields(self, item: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
        return dict(gmap.contact_from_google(item))

    def marker(self, item: Mapping[str, Any]) -> str | None:
        return gmap.sf_id_from_person(item)

    def marked(self, item: Mapping[str, Any]) -> bool:
        return in_salesforce_group(item, self.group)

    def modified(self, item: Mapping[str, Any]) -> dt.datetime:
        sources = (item.get("metadata") or {}).get("sources") or [{}]
        return max((parse_when(s.get("updateTime")) for s in sources), default=EPOCH)

    def payload(
        self,
        fields: Mapping[str, Any],
        sf_id: str | None,
        existing: Mapping[str, Any] | None,
        *,
        create: bool,
    ) -> dict[str, Any]:
        person = gmap.contact_to_google(
            fields,
            sf_id=sf_id,
            group_resource_name=self.group if create else None,
            existing=existing,
        )
        if existing and existing.get("etag") and not create:
            person["etag"] = existing["etag"]
        return person

    def marker_payload(
        self, fields: Mapping[str, Any], sf_id: str, existing: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        return self.payload(fields, sf_id, existing, create=False)

    def update_needs_current(self, fields: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
        return True  # a People update replaces whole lists (and needs the etag anyway)


class GoogleTask(_GoogleItem):
    def fields(self, item: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
        fields: dict[str, Any] = dict(gmap.task_from_google(item, previous))
        # Relay's "In Salesforce:" block is not the task's: it never goes up (issue 9).
        fields["description"] = strip_salesforce_block(fields["description"])
        return fields

    def description_text(self, item: Mapping[str, Any]) -> str | None:
        """The notes without the marker line, Relay's block included (no description
        patch: the notes also hold the marker, so the block rides a whole update)."""
        return gmap.split_notes(item.get("notes"))[0]

    def marker(self, item: Mapping[str, Any]) -> str | None:
        return gmap.sf_id_from_google_task(item)

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
        return gmap.task_to_google(fields, sf_id=sf_id)

    def marker_payload(
        self, fields: Mapping[str, Any], sf_id: str, existing: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        return {"notes": gmap.join_notes(fields.get("description"), sf_id)}


class GoogleEvent(_GoogleItem):
    def fields(self, item: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
        fields: dict[str, Any] = dict(gmap.event_from_google(item, self.time_zone, previous))
        # Relay's "In Salesforce:" block is not the event's: it never goes up (issue 9).
        fields["description"] = strip_salesforce_block(fields["description"])
        return fields

    def description_payload(self, text: str | None) -> dict[str, Any]:
        return {"description": text or ""}

    def description_text(self, item: Mapping[str, Any]) -> str | None:
        return gmap.event_from_google(item, self.time_zone)["description"]

    def marker(self, item: Mapping[str, Any]) -> str | None:
        return gmap.sf_id_from_google_event(item)

    def marked(self, item: Mapping[str, Any]) -> bool:
        return gmap.is_marked_for_salesforce(item) or bool(gmap.sf_id_from_google_event(item))

    def series_key(self, item: Mapping[str, Any]) -> str | None:
        return google_series_key(item, self.time_zone)

    def people(self, item: Mapping[str, Any]) -> MailboxPeople:
        return people_from_google(item)

    def payload(
        self,
        fields: Mapping[str, Any],
        sf_id: str | None,
        existing: Mapping[str, Any] | None,
        *,
        create: bool,
    ) -> dict[str, Any]:
        private = ((existing or {}).get("extendedProperties") or {}).get("private")
        return gmap.event_to_google(fields, self.time_zone, sf_id=sf_id, existing_private=private)

    def marker_payload(
        self, fields: Mapping[str, Any], sf_id: str, existing: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        private = ((existing or {}).get("extendedProperties") or {}).get("private") or {}
        return {"extendedProperties": {"private": {**private, **gmap.google_private_marker(sf_id)}}}


def google_codec(
    time_zone: str, containers: Mapping[str, ContainerRef], instance_url: str = ""
) -> MailboxCodec:
    items: dict[ItemType, ItemCodec] = {
        ItemType.CONTACT: GooglePerson(time_zone, containers[CONTACTS].external_id),
        ItemType.TASK: GoogleTask(time_zone),
        ItemType.EVENT: GoogleEvent(time_zone),
    }
    return MailboxCodec(items)
