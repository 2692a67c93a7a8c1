"""sObject Collections writes of many records: several calls at once, locks waited out.

A first sync that brings a mailbox's contacts or activities up writes thousands of
records, 200 a call (`composite/sobjects`); sent one after another, the session waits for
every call's latency in a row. Salesforce caps only requests running 20 seconds or longer
(25 per org; short ones are not limited), so a few 200-record calls go at once
(SALESFORCE_WRITE_CONCURRENCY, 3 by default: a customer's triggers can make a call slow,
and other users' sessions share the org's cap).

What goes wrong when writes overlap is record locking: a child's insert or update locks
its parent (a Contact its Account, a Task or Event what it relates to), and a transaction
that cannot have a lock within about 10 seconds fails that record with
UNABLE_TO_LOCK_ROW. So records are sent grouped by parent — records of one parent in the
same call, as Salesforce advises for parallel loads — and a record refused for a lock is
written once more after the round, alone on the wire; still refused, it is logged as the
item's error, and the session has its type read and written again a minute later
(`Executor.locked`, syncengine.session): nothing is lost.

The first call of a session's writes goes alone when nothing has proven the session's
token yet, so an expired one is refreshed once, not by every call at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from syncengine.mailboxes.at_once import at_once
from syncengine.pipeline import windows

from .types import WriteResult

LOCKED = "UNABLE_TO_LOCK_ROW"
PARENT_FIELDS = ("AccountId", "WhatId", "WhoId")  # what a child's write locks (cheat sheet)

Send = Callable[[Sequence[Any]], list[WriteResult]]


def parent_of(record: Any) -> str:
    """The record a write of `record` locks besides itself ("" for an id or no parent)."""
    if not isinstance(record, Mapping):
        return ""
    return next((str(record[f]) for f in PARENT_FIELDS if record.get(f)), "")


def write_at_once(
    send: Send, records: Sequence[Any], *, chunk: int, limit: int, proven: bool
) -> list[WriteResult]:
    """`send` each chunk of `records` (up to `limit` calls in flight; the first alone unless
    `proven`), records of one parent in one call; one result per record, in order."""
    order = sorted(range(len(records)), key=lambda i: parent_of(records[i]))  # stable
    answers: dict[int, WriteResult] = {}

    def job(group: Sequence[int]) -> Callable[[], None]:
        def run() -> None:
            answers.update(zip(group, send([records[i] for i in group]), strict=True))

        return run

    jobs = [job(group) for group in windows(order, chunk)]
    if jobs and not proven:
        jobs.pop(0)()
    at_once(jobs, limit, "relay-sf-write")  # a new call as soon as one is answered
    locked = [i for i in order if answers[i].error_code == LOCKED]
    for again in windows(locked, chunk):  # once more, one call at a time
        job(again)()
    return [answers[i] for i in range(len(records))]
