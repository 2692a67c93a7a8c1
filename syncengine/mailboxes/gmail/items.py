"""Google Calendar events and Google Tasks: one batch part per item for every write and
fetch (`GmailAdapter.batch`), sync token / updatedMin feeds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from googleapiclient.http import HttpRequest

from syncengine.mappers.occurrences import SEPARATOR, google_series_key
from syncengine.mappers.timezones import UnknownTimeZoneError

from ..base import TASKS, ContainerRef, MailboxChanges, WriteResult
from .client import provider_error
from .common import (
    EVENTS_PAGE,
    TASKS_OVERLAP,
    TASKS_PAGE,
    WINDOW_FUTURE,
    WINDOW_PAST,
    WINDOW_SLACK,
    GoogleTransport,
    bind,
    is_gone,
    rfc3339,
    write_result,
)

Factory = Callable[[], HttpRequest]


def cancelled_ids(event: Mapping[str, Any], time_zone: str = "UTC") -> list[str]:
    """The mailbox ids a cancelled listing row removes. A cancelled occurrence carries
    little more than `id`, `recurringEventId` and `originalStartTime` (its summary, start
    and marker are gone), so it is matched by its id and by the instance id its series key
    names (`<series>_<original start>`), never by a start time."""
    ids = [str(event["id"])]
    try:
        key = google_series_key(event, time_zone)
    except (KeyError, ValueError, UnknownTimeZoneError):
        key = None  # a malformed originalStartTime: the id alone still matches
    if key:
        series, _, stamp = key.rpartition(SEPARATOR)
        instance = f"{series}_{stamp}"
        if instance not in ids:
            ids.append(instance)
    return ids


class _BatchedItems:
    """An item type whose every get / insert / patch / delete is one part of a batch."""

    api = ""  # the batch endpoint's API name
    gone_statuses: tuple[str, ...] = ()  # a body with this status is a deleted item

    def __init__(self, adapter: GoogleTransport) -> None:
        self.adapter = adapter

    def collection(self) -> Any:
        """The API's collection (`events()`, `tasks()`). Asking for it again is cheap: the
        session's services bind each collection once (gmail/client.py `_sub_resource`)."""
        raise NotImplementedError

    def get(self, item_id: str) -> Factory:
        raise NotImplementedError

    def insert(self, body: dict[str, Any], containers: Mapping[str, ContainerRef]) -> Factory:
        raise NotImplementedError

    def patch(self, item_id: str, body: dict[str, Any]) -> Factory:
        raise NotImplementedError

    def remove(self, item_id: str) -> Factory:
        raise NotImplementedError

    def fetch(self, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        out: dict[str, dict[str, Any] | None] = {}
        parts = self.adapter.batch(self.api, [self.get(i) for i in ids])
        for item_id, part in zip(ids, parts, strict=True):
            if part.failure is None:
                body = part.body or {}
                dead = body.get("status") in self.gone_statuses or body.get("deleted")
                out[item_id] = None if dead else body
            elif part.failure.status in (404, 410):
                out[item_id] = None
            else:
                raise provider_error(part.failure)
        return out

    def create(
        self, payloads: Sequence[dict[str, Any]], containers: Mapping[str, ContainerRef]
    ) -> list[WriteResult]:
        factories = [self.insert(p, containers) for p in payloads]
        return [write_result(part) for part in self.adapter.batch(self.api, factories)]

    def update(self, changes: Sequence[tuple[str, dict[str, Any]]]) -> list[WriteResult]:
        results = self.adapter.batch(self.api, [self.patch(i, p) for i, p in changes])
        return [write_result(part, i) for (i, _), part in zip(changes, results, strict=True)]

    def delete(self, ids: Sequence[str]) -> list[WriteResult]:
        out = []
        parts = self.adapter.batch(self.api, [self.remove(i) for i in ids])
        for item_id, part in zip(ids, parts, strict=True):
            gone = part.failure is not None and part.failure.status in (404, 410)
            if part.failure is None or gone:
                status = part.failure.status if part.failure else 204
                out.append(WriteResult(ok=True, id=item_id, status=status))
            else:
                out.append(write_result(part, item_id))
        return out


NO_EMAILS = "none"  # Calendar's sendUpdates value that sends no invitation, update or cancellation


class CalendarEvents(_BatchedItems):
    """Events of the primary calendar within the sync window."""

    api = "calendar"
    gone_statuses = ("cancelled",)

    def collection(self) -> Any:
        return self.adapter.services.calendar.events()

    def get(self, item_id: str) -> Factory:
        return bind(self.collection().get, calendarId="primary", eventId=item_id)

    # Every write says sendUpdates="none": Relay never emails an attendee (SPEC §2b). The
    # API's default is not a promise ("some emails might still be sent"), only "none" is.
    def insert(self, body: dict[str, Any], containers: Mapping[str, ContainerRef]) -> Factory:
        events = self.collection()
        return bind(events.insert, calendarId="primary", body=body, sendUpdates=NO_EMAILS)

    def patch(self, item_id: str, body: dict[str, Any]) -> Factory:
        events = self.collection()
        return bind(
            events.patch, calendarId="primary", eventId=item_id, body=body, sendUpdates=NO_EMAILS
        )

    def remove(self, item_id: str) -> Factory:
        events = self.collection()
        return bind(events.delete, calendarId="primary", eventId=item_id, sendUpdates=NO_EMAILS)

    def read(
        self, cursor: str | None, containers: Mapping[str, ContainerRef] | None
    ) -> MailboxChanges:
        events = self.collection()
        params: dict[str, Any] = {
            "calendarId": "primary",
            "singleEvents": True,
            "maxResults": EVENTS_PAGE,
        }
        if cursor:
            params["syncToken"] = cursor
        else:
            now = self.adapter.clock()
            params["timeMin"] = rfc3339(now - WINDOW_PAST - WINDOW_SLACK)
            params["timeMax"] = rfc3339(now + WINDOW_FUTURE + WINDOW_SLACK)
        changes = MailboxChanges(full=not cursor)
        token = None
        while True:
            page = self.adapter.execute(events.list(**params, pageToken=token), expired=is_gone)
            for event in page.get("items") or ():
                if event.get("status") == "cancelled":
                    # A full read has nothing to remove: a cancelled occurrence was never
                    # an item (nothing is created for it); a linked one the full read
                    # did not return is confirmed by id by the engine.
                    if cursor:
                        changes.removed_ids += cancelled_ids(event, self.adapter.time_zone)
                else:
                    changes.items.append(event)
            token = page.get("nextPageToken")
            if not token:
                changes.cursor = page.get("nextSyncToken") or ""
                return changes


class GoogleTasks(_BatchedItems):
    """The tasks of the "Salesforce Tasks" list."""

    api = "tasks"

    def _list(self, containers: Mapping[str, ContainerRef] | None = None) -> str:
        return self.adapter.container_id(TASKS, containers)

    def collection(self) -> Any:
        return self.adapter.services.tasks.tasks()

    def get(self, item_id: str) -> Factory:
        return bind(self.collection().get, tasklist=self._list(), task=item_id)

    def insert(self, body: dict[str, Any], containers: Mapping[str, ContainerRef]) -> Factory:
        return bind(self.collection().insert, tasklist=self._list(containers), body=body)

    def patch(self, item_id: str, body: dict[str, Any]) -> Factory:
        return bind(self.collection().patch, tasklist=self._list(), task=item_id, body=body)

    def remove(self, item_id: str) -> Factory:
        return bind(self.collection().delete, tasklist=self._list(), task=item_id)

    def read(
        self, cursor: str | None, containers: Mapping[str, ContainerRef] | None
    ) -> MailboxChanges:
        tasklist = self._list(containers)
        started = self.adapter.clock()
        tasks = self.collection()
        params: dict[str, Any] = {
            "tasklist": tasklist,
            "showHidden": True,  # completed in the Tasks UI = hidden
            "maxResults": TASKS_PAGE,
        }
        if cursor:
            params.update(updatedMin=cursor, showDeleted=True)
        changes = MailboxChanges(full=not cursor)
        token = None
        while True:
            page = self.adapter.execute(tasks.list(**params, pageToken=token))
            for task in page.get("items") or ():
                if task.get("deleted"):
                    changes.removed_ids.append(task["id"])
                else:
                    changes.items.append(task)
            token = page.get("nextPageToken")
            if not token:
                changes.cursor = rfc3339(started - TASKS_OVERLAP)
                return changes
