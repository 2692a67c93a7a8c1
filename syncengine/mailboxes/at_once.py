"""Independent provider calls in flight together, on a few threads.

A session's reads of different feeds (EWS folders, Google's separate APIs) do not depend
on each other; sent one after another, an idle session waits for the sum of their
latencies, sent together for about the slowest. Every job is waited for before a failure
goes on (the first in input order raises, as the jobs one after another would), so nothing
sent is left in flight unanswered. Each thread runs in a copy of the caller's context, so
context-bound bookkeeping (request counters, injected faults) sees its work.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from config import db_turns


def at_once(
    jobs: Sequence[Callable[[], Any]],
    limit: int,
    name: str = "relay-io",
    pool: ThreadPoolExecutor | None = None,
) -> list[Any]:
    """Run `jobs`, up to `limit` at a time; their results in the order of `jobs`.

    `pool`: long-lived threads to run them on (at most `limit` jobs are given), for a
    client that keeps its open connections per thread: fresh threads would open new TLS
    connections every session. Its jobs must not wait for work on the same pool."""
    if len(jobs) <= 1 or limit <= 1:
        return [job() for job in jobs]
    if pool is not None:
        if len(jobs) > limit:
            raise ValueError(f"{len(jobs)} jobs for a shared pool of at most {limit} at once")
        return _run(pool, jobs)
    with ThreadPoolExecutor(max_workers=min(limit, len(jobs)), thread_name_prefix=name) as own:
        return _run(own, jobs)


def _helping(turn: db_turns.Turn | None, job: Callable[[], Any]) -> Any:
    with db_turns.helper(turn):  # a token refreshed here is stored on the session's turn
        return job()


def _run(pool: ThreadPoolExecutor, jobs: Sequence[Callable[[], Any]]) -> list[Any]:
    turn = db_turns.current()
    futures = [pool.submit(contextvars.copy_context().run, _helping, turn, job) for job in jobs]
    with db_turns.off_turn():  # the jobs are network calls: other lanes may go on meanwhile
        wait(futures)
    return [future.result() for future in futures]


@functools.cache
def shared_pool(name: str, workers: int) -> ThreadPoolExecutor:
    """The process's long-lived pool `name` (made on first use, so after a worker fork)."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
