"""The Graph endpoints of each item type: one small class per type, so the adapter builds
every request without asking which type it has (contacts in a folder, To Do tasks in a
list, events in the calendar view window, messages of the mail feeds)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from syncengine.mappers.graph import SALESFORCE_CATEGORY, SF_ID_EXPAND

from ..base import CONTACTS, EMAILS, EVENTS, TASKS
from .feeds import DeltaFeed, graph_stamp, quote_id
from .http import GraphRequest

ContainerId = Callable[[str], str]  # role -> the container's Graph id (adapter.container_id)


class GraphItems:
    item_type = ""
    role = ""
    windowed = False  # the feed is a calendar view over a sliding window
    timezone_header = False  # Graph renders times in the user's zone when asked
    in_recreatable_container = True  # a 404 on its container means "deleted: find again"
    creatable = True  # Relay writes new items of this type

    def __init__(self, container_id: ContainerId) -> None:
        self.container_id = container_id

    def initial(self, window: tuple[dt.datetime, dt.datetime]) -> DeltaFeed:
        raise NotImplementedError

    def item_url(self, item_id: str) -> str:
        raise NotImplementedError

    def get_request(self, item_id: str, prefer_timezone: str) -> GraphRequest:
        expand = quote(SF_ID_EXPAND, safe="()'=")
        headers = {"Prefer": prefer_timezone} if self.timezone_header else {}
        return GraphRequest("GET", f"{self.item_url(item_id)}?$expand={expand}", None, headers)

    def create_body(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(payload)

    def create_request(self, body: dict[str, Any]) -> GraphRequest:
        raise NotImplementedError


def _with_category(payload: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(payload)
    cats = list(body.get("categories") or [])
    if not any(str(c).casefold() == SALESFORCE_CATEGORY.casefold() for c in cats):
        cats.append(SALESFORCE_CATEGORY)
    body["categories"] = cats
    return body


class Contacts(GraphItems):
    item_type, role = "contact", CONTACTS

    def _folder(self) -> str:
        return quote_id(self.container_id(CONTACTS))

    def initial(self, window: tuple[dt.datetime, dt.datetime]) -> DeltaFeed:
        url = f"/me/contactFolders/{self._folder()}/contacts/delta"
        return DeltaFeed(self.item_type, url, full=True)

    def item_url(self, item_id: str) -> str:
        return f"/me/contacts/{quote_id(item_id)}"

    def create_body(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return _with_category(payload)

    def create_request(self, body: dict[str, Any]) -> GraphRequest:
        return GraphRequest("POST", f"/me/contactFolders/{self._folder()}/contacts", body)


class TodoTasks(GraphItems):
    item_type, role = "task", TASKS

    def _list(self) -> str:
        return quote_id(self.container_id(TASKS))

    def initial(self, window: tuple[dt.datetime, dt.datetime]) -> DeltaFeed:
        url = f"/me/todo/lists/{self._list()}/tasks/delta?$expand=linkedResources"
        return DeltaFeed(self.item_type, url, full=True)

    def item_url(self, item_id: str) -> str:
        return f"/me/todo/lists/{self._list()}/tasks/{quote_id(item_id)}"

    def get_request(self, item_id: str, prefer_timezone: str) -> GraphRequest:
        return GraphRequest("GET", self.item_url(item_id) + "?$expand=linkedResources")

    def create_request(self, body: dict[str, Any]) -> GraphRequest:
        return GraphRequest("POST", f"/me/todo/lists/{self._list()}/tasks", body)


class CalendarEvents(GraphItems):
    item_type, role = "event", EVENTS
    windowed = True
    timezone_header = True
    in_recreatable_container = False  # the default calendar is never deleted

    def initial(self, window: tuple[dt.datetime, dt.datetime]) -> DeltaFeed:
        start, end = window
        span = f"startDateTime={graph_stamp(start)}&endDateTime={graph_stamp(end)}"
        return DeltaFeed(self.item_type, f"/me/calendarView/delta?{span}", True, start)

    def item_url(self, item_id: str) -> str:
        return f"/me/events/{quote_id(item_id)}"

    def create_body(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return _with_category(payload)

    def create_request(self, body: dict[str, Any]) -> GraphRequest:
        return GraphRequest("POST", "/me/events", body)


class Messages(GraphItems):
    item_type, role = "email", EMAILS
    creatable = False  # messages are read and logged, never written

    def initial(self, window: tuple[dt.datetime, dt.datetime]) -> DeltaFeed:
        folder = quote_id(self.container_id(EMAILS))
        return DeltaFeed(self.item_type, f"/me/mailFolders/{folder}/messages/delta", full=True)

    def item_url(self, item_id: str) -> str:
        return f"/me/messages/{quote_id(item_id)}"

    def get_request(self, item_id: str, prefer_timezone: str) -> GraphRequest:
        return GraphRequest("GET", self.item_url(item_id))
