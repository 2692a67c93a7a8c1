"""What the Gmail kind's resources and adapter share: page sizes, windows, the contact
group test and small request helpers (below all of them: no cycles)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from googleapiclient.http import HttpRequest

from syncengine.mappers.google import SF_ID_KEY

from ..base import ContainerRef, WriteResult
from .client import GoogleServices, PartResult

PEOPLE_PAGE = 1000
EVENTS_PAGE = 2500
TASKS_PAGE = 100
PEOPLE_WRITE_CHUNK = 200
PEOPLE_DELETE_CHUNK = 500
PEOPLE_GET_CHUNK = 200
WINDOW_PAST = timedelta(days=14)
WINDOW_FUTURE = timedelta(days=60)
WINDOW_SLACK = timedelta(days=1)
TASKS_OVERLAP = timedelta(minutes=2)


class GoogleTransport(Protocol):
    """What the item types' resources (people, items, mail) use of GmailAdapter, which
    imports them: the services, the counted calls, the containers."""

    services: GoogleServices
    time_zone: str
    clock: Callable[[], datetime]
    api_calls: int
    quota_units: int

    def execute(
        self, request: HttpRequest, expired: Callable[[Any], bool] | None = None
    ) -> Any: ...

    def batch(
        self, api: str, factories: Sequence[Callable[[], HttpRequest]]
    ) -> list[PartResult]: ...

    def container_id(self, role: str, containers: Mapping[str, ContainerRef] | None) -> str: ...


def in_salesforce_group(person: Mapping[str, Any], group_resource_name: str) -> bool:
    """Whether a People person is a member of the contact group (by resource name)."""
    gid = group_resource_name.removeprefix("contactGroups/")
    for m in person.get("memberships") or ():
        ref = m.get("contactGroupMembership") or {}
        if ref.get("contactGroupResourceName") == group_resource_name:
            return True
        if ref.get("contactGroupId") == gid:
            return True
    return False


def carries_marker(person: Mapping[str, Any]) -> bool:
    return any(e.get("key") == SF_ID_KEY for e in person.get("clientData") or ())


def rfc3339(instant: datetime) -> str:
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bind(method: Callable[..., HttpRequest], **kwargs: Any) -> Callable[[], HttpRequest]:
    return lambda: method(**kwargs)


def is_gone(exc: Any) -> bool:
    return hasattr(exc, "resp") and exc.resp.status == 410


def write_result(part: PartResult, item_id: str = "") -> WriteResult:
    if part.failure is not None:
        f = part.failure
        return WriteResult(ok=False, id=item_id, status=f.status, error=f.message)
    body = part.body or {}
    return WriteResult(
        ok=True,
        id=body.get("id", item_id),
        version=body.get("etag", ""),
        item=body,
        status=200,
    )
