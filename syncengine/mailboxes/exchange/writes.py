"""Batched CreateItem / UpdateItem / DeleteItem that answer one result per item.

exchangelib's services raise on most per-item ResponseMessage errors (e.g.
ErrorIrresolvableConflict on item 7 of 100), which would drop the results of the items
the server already applied. These subclasses return every per-item error as an exception
instance in its place instead, so each item gets its own WriteResult; request-level
faults (ErrorServerBusy, logon, transport) still raise for the whole call.

`in_chunks` sends the CreateItem (UpdateItem) chunks of one window (call) at once, each on its own
thread over the same Account: exchangelib's Protocol keeps a pool of sessions for threads
(one connection each, `max_connections`; a thread waits for a free one) and each service
call builds its own request — its docs: "Changing this setting [SESSION_POOLSIZE] only makes
sense if you are using threads to run multiple concurrent workers in this process"
(https://ecederstrand.github.io/exchangelib/exchangelib/protocol.html).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from exchangelib import errors as ews_errors
from exchangelib.fields import FieldPath
from exchangelib.items import ALL_OCCURRENCES, HARD_DELETE, ID_ONLY, SAVE_ONLY, SEND_TO_NONE
from exchangelib.services import CreateItem, DeleteItem, GetItem, UpdateItem

from ..at_once import at_once

PER_ITEM = (ews_errors.ResponseMessageError, ews_errors.EWSWarning)


class _PerItemGet(GetItem):  # type: ignore[misc]  # exchangelib has no type hints
    ERRORS_TO_CATCH_IN_RESPONSE = PER_ITEM


# GetItem answers these for an id whose item is gone (a deleted occurrence of a series).
GONE = (
    ews_errors.ErrorItemNotFound,
    ews_errors.ErrorInvalidIdMalformed,
    ews_errors.ErrorCalendarOccurrenceIsDeletedFromRecurrence,
    ews_errors.ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange,
)


def get_items_by_id(account: Any, ids: Sequence[str], folder: Any, chunk: int) -> list[Any]:
    """GetItem with every property of the folder's item types (extended ones included,
    so the marker comes along), one answer per id: the item or its per-item error."""
    fields = {FieldPath(field=f) for f in folder.allowed_item_fields(version=account.version)}
    service = _PerItemGet(account=account, chunk_size=chunk)
    return _checked(
        list(service.call(items=[(i, None) for i in ids], additional_fields=fields, shape=ID_ONLY))
    )


class _PerItemCreate(CreateItem):  # type: ignore[misc]  # exchangelib has no type hints
    ERRORS_TO_CATCH_IN_RESPONSE = PER_ITEM


class _PerItemUpdate(UpdateItem):  # type: ignore[misc]  # exchangelib has no type hints
    ERRORS_TO_CATCH_IN_RESPONSE = PER_ITEM


class _PerItemDelete(DeleteItem):  # type: ignore[misc]  # exchangelib has no type hints
    ERRORS_TO_CATCH_IN_RESPONSE = PER_ITEM


def _checked(answers: list[Any]) -> list[Any]:
    busy = next((a for a in answers if isinstance(a, ews_errors.ErrorServerBusy)), None)
    if busy is not None:
        raise busy  # the server asked to back off: the session retries later
    return answers


def create_items(account: Any, folder: Any, items: Sequence[Any], chunk: int) -> list[Any]:
    """CreateItem, calendar items with SendToNone and messages SaveOnly (never sent)."""
    service = _PerItemCreate(account=account, chunk_size=chunk)
    return _checked(
        list(
            service.call(
                items=list(items),
                folder=folder,
                message_disposition=SAVE_ONLY,
                send_meeting_invitations=SEND_TO_NONE,
            )
        )
    )


def in_chunks(
    send: Callable[[Sequence[Any]], list[Any]],
    items: Sequence[Any],
    chunk: int,
    concurrency: int,
) -> list[Any]:
    """`send` (one EWS call) over `items` in chunks of `chunk`, up to `concurrency`
    of them in flight at once (syncengine.mailboxes.at_once); the answers in the order of
    `items`. A refused call (ErrorServerBusy, transport) raises only once every call was
    answered: what the others wrote has its write intents, so the next session links it
    by its marker."""
    parts = [items[start : start + chunk] for start in range(0, len(items), chunk)]
    jobs = [functools.partial(send, part) for part in parts]
    return [a for answers in at_once(jobs, concurrency, "relay-ews") for a in answers]


def update_items(
    account: Any, pairs: Sequence[tuple[Any, Sequence[str]]], chunk: int, resolution: str
) -> list[Any]:
    service = _PerItemUpdate(account=account, chunk_size=chunk)
    return _checked(
        list(
            service.call(
                items=list(pairs),
                conflict_resolution=resolution,
                message_disposition=SAVE_ONLY,
                send_meeting_invitations_or_cancellations=SEND_TO_NONE,
                suppress_read_receipts=True,
            )
        )
    )


def delete_items(account: Any, ids: Sequence[str], chunk: int) -> list[Any]:
    service = _PerItemDelete(account=account, chunk_size=chunk)
    return _checked(
        list(
            service.call(
                items=[(i, None) for i in ids],
                delete_type=HARD_DELETE,
                send_meeting_cancellations=SEND_TO_NONE,
                affected_task_occurrences=ALL_OCCURRENCES,
                suppress_read_receipts=True,
            )
        )
    )
