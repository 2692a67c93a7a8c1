"""exchangelib items <-> canonical records: one small codec per item type.

The adapter hands the engine `{"id", "changeKey", "ews": <exchangelib item>, ...}` dicts
(the engine only reads "id"; the codecs read the item). The marker is an extended property
that GetItem returns with the item (`marker_in_feed`: the feed's items are always GetItem
results). Occurrences and exceptions of a series are keyed by the series' UID and their
original start (RecurrenceId), which does not move when the user reschedules one.
Events also give their people (attendees, organizer, UID: `mappers.exchange.people_from_ews`)
and read and write their description alone for the "In Salesforce:" block, which is
stripped before anything goes up (issue 9).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from syncengine.mappers import exchange as xmap
from syncengine.mappers.occurrences import series_key
from syncengine.mappers.people import MailboxPeople, strip_salesforce_block
from syncengine.planner import ItemType

from ..base import ItemCodec, MailboxCodec

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _plain(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return dt.datetime(*value.utctimetuple()[:6], tzinfo=dt.UTC)
    return None


class _EwsItem:
    marker_in_feed = True
    removed_may_be_alive = False
    kept_unread: tuple[str, ...] = ()
    to_ews: Any = None

    def __init__(self, time_zone: str) -> None:
        self.time_zone = time_zone

    def marker(self, item: Mapping[str, Any]) -> str | None:
        return xmap.sf_id_of(item["ews"])

    def marked(self, item: Mapping[str, Any]) -> bool:
        return True  # the feed is the Salesforce folder itself

    def modified(self, item: Mapping[str, Any]) -> dt.datetime:
        return _plain(getattr(item["ews"], "last_modified_time", None)) or EPOCH

    def series_key(self, item: Mapping[str, Any]) -> str | None:
        return None

    def marker_payload(
        self, fields: Mapping[str, Any], sf_id: str, existing: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        return {"marker": sf_id, "existing": (existing or {}).get("ews")}

    def update_needs_current(self, fields: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
        # An update is built over the current item (its other addresses, phones and
        # categories kept); an item this session did not read is read first.
        return True

    def payload(
        self,
        fields: Mapping[str, Any],
        sf_id: str | None,
        existing: Mapping[str, Any] | None,
        *,
        create: bool,
    ) -> dict[str, Any]:
        return {"fields": dict(fields), "marker": sf_id, "existing": (existing or {}).get("ews")}


class EwsContact(_EwsItem):
    def fields(self, item: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
        return dict(xmap.contact_from_ews(item["ews"]))


class EwsTask(_EwsItem):
    def fields(self, item: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
        fields: dict[str, Any] = dict(xmap.task_from_ews(item["ews"]))
        # Relay's "In Salesforce:" block is not the task's: it never goes up (issue 9).
        fields["description"] = strip_salesforce_block(fields["description"])
        return fields

    def description_text(self, item: Mapping[str, Any]) -> str | None:
        """The body, Relay's block included (it rides a whole update of the task)."""
        return xmap.task_from_ews(item["ews"])["description"]


class EwsEvent(_EwsItem):
    # An event reported removed may have left the window only: the engine confirms by id.
    removed_may_be_alive = True

    def fields(self, item: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
        fields: dict[str, Any] = dict(xmap.event_from_ews(item["ews"]))
        # Relay's "In Salesforce:" block is not the event's: it never goes up (issue 9).
        fields["description"] = strip_salesforce_block(fields["description"])
        return fields

    def people(self, item: Mapping[str, Any]) -> MailboxPeople:
        return xmap.people_from_ews(item["ews"])

    def description_payload(self, text: str | None) -> dict[str, Any]:
        # The adapter writes only the body (UpdateItem, SendToNone like every write).
        return {"description": text}

    def description_text(self, item: Mapping[str, Any]) -> str | None:
        return xmap.event_description(item["ews"])

    def marked(self, item: Mapping[str, Any]) -> bool:
        return xmap.has_salesforce_category(item["ews"])

    def series_key(self, item: Mapping[str, Any]) -> str | None:
        ews = item["ews"]
        if str(getattr(ews, "type", "") or "") not in ("Occurrence", "Exception"):
            return None
        original = getattr(ews, "recurrence_id", None) or getattr(ews, "original_start", None)
        uid = getattr(ews, "uid", None)
        if not uid or original is None:
            return None
        when = _plain(original)
        if ews.is_all_day and when is not None:
            return series_key(uid, when.date())
        return series_key(uid, when or original)


def exchange_codec(time_zone: str) -> MailboxCodec:
    items: dict[ItemType, ItemCodec] = {
        ItemType.CONTACT: EwsContact(time_zone),
        ItemType.TASK: EwsTask(time_zone),
        ItemType.EVENT: EwsEvent(time_zone),
    }
    return MailboxCodec(items)
