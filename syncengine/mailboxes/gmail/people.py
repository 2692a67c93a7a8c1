"""Google People: the "Salesforce Contacts" contact group as the contacts feed.

Reads are a connections list with a sync token; writes are the batch{Create,Update,Delete}
Contacts calls, all-or-nothing per call, so a refused chunk is halved until the refused
people stand alone.

A Google account holds at most 25,000 contacts (https://support.google.com/contacts/answer/7208207)
and the API's answer past it is not documented, so Relay stops before it by counting: the
codec's `max_items` (`max_contacts()`) is what the planner may fill, 1 % below the limit so
the user can still add a few contacts of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings

from accounts.providers.errors import ProviderError, ReconnectRequired, TemporaryProviderError
from syncengine.mappers.google import PERSON_FIELDS, UPDATE_PERSON_FIELDS

from ..base import CONTACTS, ContainerRef, MailboxChanges, WriteResult
from .client import failure_of
from .common import (
    PEOPLE_DELETE_CHUNK,
    PEOPLE_GET_CHUNK,
    PEOPLE_PAGE,
    PEOPLE_WRITE_CHUNK,
    GoogleTransport,
    carries_marker,
    chunks,
    in_salesforce_group,
)

ACCOUNT_CONTACT_LIMIT = 25_000


def max_contacts() -> int:
    """How many contacts Relay lets the account hold (`GOOGLE_CONTACT_LIMIT` overrides
    Google's limit, for the sandbox's knob `max_contacts_per_account`)."""
    limit = int(getattr(settings, "GOOGLE_CONTACT_LIMIT", ACCOUNT_CONTACT_LIMIT))
    return limit - limit // 100


class People:
    """The contacts of one Gmail mailbox."""

    def __init__(self, adapter: GoogleTransport) -> None:
        self.adapter = adapter

    def read(
        self, cursor: str | None, containers: Mapping[str, ContainerRef] | None
    ) -> MailboxChanges:
        return self._read(cursor, self.adapter.container_id(CONTACTS, containers))

    def create(
        self, payloads: Sequence[dict[str, Any]], containers: Mapping[str, ContainerRef]
    ) -> list[WriteResult]:
        group = self.adapter.container_id(CONTACTS, containers)
        people = [_with_membership(p, group) for p in payloads]
        return self._people_write(people, PEOPLE_WRITE_CHUNK, self._create_people)

    def update(self, changes: Sequence[tuple[str, dict[str, Any]]]) -> list[WriteResult]:
        return self._update_people(changes)

    def delete(self, ids: Sequence[str]) -> list[WriteResult]:
        return self._people_write(list(ids), PEOPLE_DELETE_CHUNK, self._delete_people)

    def fetch(self, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        return self._fetch_people(ids)

    def _read(self, cursor: str | None, group: str) -> MailboxChanges:
        connections = self.adapter.services.people.people().connections()
        params: dict[str, Any] = {
            "resourceName": "people/me",
            "personFields": PERSON_FIELDS,
            "pageSize": PEOPLE_PAGE,
            "requestSyncToken": True,
        }
        if cursor:
            params["syncToken"] = cursor
        changes = MailboxChanges(full=not cursor)
        token = None
        while True:
            page = self.adapter.execute(
                connections.list(**params, pageToken=token), expired=_people_token_refused
            )
            for person in page.get("connections") or ():
                name = person["resourceName"]
                if (person.get("metadata") or {}).get("deleted"):
                    if cursor:
                        changes.removed_ids.append(name)
                elif in_salesforce_group(person, group) or carries_marker(person):
                    changes.items.append(_lean(person))
                elif cursor:
                    changes.removed_ids.append(name)
            token = page.get("nextPageToken")
            if not token:
                changes.cursor = page.get("nextSyncToken") or ""
                return changes

    def _fetch_people(self, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        out: dict[str, dict[str, Any] | None] = {}
        for chunk in chunks(ids, PEOPLE_GET_CHUNK):
            reply = self.adapter.execute(
                self.adapter.services.people.people().getBatchGet(
                    resourceNames=list(chunk), personFields=PERSON_FIELDS
                )
            )
            for response in reply.get("responses") or ():
                person = response.get("person")
                alive = person and not (person.get("metadata") or {}).get("deleted")
                out[response.get("requestedResourceName", "")] = person if alive else None
        return {i: out.get(i) for i in ids}

    def _people_write(
        self,
        items: list[Any],
        size: int,
        send: Callable[[list[Any]], list[WriteResult]],
    ) -> list[WriteResult]:
        """Chunks of `size`; a refused chunk is halved until the refused items stand
        alone (People batch calls are all-or-nothing)."""
        results: list[WriteResult] = []
        for n, chunk in enumerate(chunks(items, size)):
            try:
                _halving(list(chunk), send, results)
            except ProviderError as err:
                if n == 0 and not results:
                    raise
                status = err.status or 0
                done = len(results)
                results.extend(
                    WriteResult(ok=False, status=status, error=str(err))
                    for _ in range(len(items) - done)
                )
                break
        return results

    def _create_people(self, people: list[dict[str, Any]]) -> list[WriteResult]:
        body = {"contacts": [{"contactPerson": p} for p in people], "readMask": PERSON_FIELDS}
        reply = self.adapter.execute(
            self.adapter.services.people.people().batchCreateContacts(body=body)
        )
        return [_person_result(r) for r in reply.get("createdPeople") or ()]

    def _update_people(self, changes: Sequence[tuple[str, dict[str, Any]]]) -> list[WriteResult]:
        missing = [name for name, person in changes if not _etag_of(person)]
        current = self._fetch_people(missing) if missing else {}
        pairs: list[tuple[str, dict[str, Any]]] = []
        early: dict[int, WriteResult] = {}
        for n, (name, person) in enumerate(changes):
            person = {k: v for k, v in person.items() if k != "resourceName"}
            if not _etag_of(person):
                found = current.get(name)
                if found is None:
                    early[n] = WriteResult(ok=False, id=name, status=404, error="Contact not found")
                    continue
                person["etag"] = found["etag"]
            pairs.append((name, person))
        done = iter(self._people_write(pairs, PEOPLE_WRITE_CHUNK, self._send_people_update))
        results = []
        for n, (name, _) in enumerate(changes):
            result = early.get(n) or next(done)
            if not result.id:
                result = WriteResult(False, name, status=result.status, error=result.error)
            results.append(result)
        return results

    def _send_people_update(self, pairs: list[tuple[str, dict[str, Any]]]) -> list[WriteResult]:
        body = {
            "contacts": dict(pairs),
            "updateMask": UPDATE_PERSON_FIELDS,
            "readMask": PERSON_FIELDS,
        }
        reply = self.adapter.execute(
            self.adapter.services.people.people().batchUpdateContacts(body=body)
        )
        updated = reply.get("updateResult") or {}
        out = []
        for name, _ in pairs:
            response = updated.get(name)
            if response is None:
                out.append(WriteResult(False, name, status=0, error="Google returned no result"))
            else:
                out.append(_person_result(response, name))
        return out

    def _delete_people(self, names: list[str]) -> list[WriteResult]:
        try:
            self.adapter.execute(
                self.adapter.services.people.people().batchDeleteContacts(
                    body={"resourceNames": names}
                )
            )
        except ProviderError as err:
            if (err.status or 0) == 404 and len(names) == 1:
                return [WriteResult(ok=True, id=names[0], status=404)]  # already gone
            raise
        return [WriteResult(ok=True, id=n, status=200) for n in names]


def _lean(person: dict[str, Any]) -> dict[str, Any]:
    """The person of a feed page without its fields' own `metadata` (primary, source):
    nothing reads it (an update fetches the current person first), and it is most of a
    person's memory, which a big book's feed holds for a whole session."""
    return {
        key: [
            {k: v for k, v in item.items() if k != "metadata"} if isinstance(item, dict) else item
            for item in value
        ]
        if isinstance(value, list)
        else value
        for key, value in person.items()
    }


def _halving(
    chunk: list[Any], send: Callable[[list[Any]], list[WriteResult]], results: list[WriteResult]
) -> None:
    """Send `chunk`; refused, halve it until the refused items stand alone. (A function of
    its own, not a recursive closure: that would be a reference cycle holding every
    answer, the created people included, until the garbage collector's next full pass.)"""
    try:
        results.extend(send(chunk))
    except ProviderError as err:
        refused = not isinstance(err, (TemporaryProviderError, ReconnectRequired))
        if not refused or err.status is None:
            raise
        if len(chunk) == 1:
            results.append(WriteResult(ok=False, status=(err.status or 0), error=str(err)))
            return
        half = len(chunk) // 2
        _halving(chunk[:half], send, results)
        _halving(chunk[half:], send, results)


def _people_token_refused(exc: Any) -> bool:
    """Expired (400 FAILED_PRECONDITION / EXPIRED_SYNC_TOKEN), refused because the request
    changed since the token was issued (400), or the older 410."""
    if not hasattr(exc, "resp"):
        return False
    failure = failure_of(exc)
    if failure.status == 410:
        return True
    return failure.status == 400 and (
        "EXPIRED_SYNC_TOKEN" in failure.reasons or "sync token" in failure.message.lower()
    )


def _etag_of(person: Mapping[str, Any]) -> str | None:
    if person.get("etag"):
        return str(person["etag"])
    for source in (person.get("metadata") or {}).get("sources") or ():
        if source.get("type", "CONTACT") == "CONTACT" and source.get("etag"):
            return str(source["etag"])
    return None


def _with_membership(person: dict[str, Any], group: str) -> dict[str, Any]:
    if in_salesforce_group(person, group):
        return person
    membership = {"contactGroupMembership": {"contactGroupResourceName": group}}
    return {**person, "memberships": [*(person.get("memberships") or []), membership]}


def _person_result(response: Mapping[str, Any], name: str = "") -> WriteResult:
    status = int(response.get("httpStatusCode") or 200)
    person = response.get("person")
    if status >= 300 or not person:
        message = (response.get("status") or {}).get("message") or f"HTTP {status}"
        return WriteResult(ok=False, id=name, status=status, error=message)
    return WriteResult(
        ok=True,
        id=person["resourceName"],
        version=person.get("etag", ""),
        item=person,
        status=status,
    )
