"""Send the next window of a write while the results of the last one are applied.

A first sync writes thousands of items; each window's links (SQL and hashing) used to wait
for the whole type's calls, and the calls for them. `pipelined` overlaps the two: window
k+1 is prepared (its write intents made durable) while window k is in flight, and sent
from a worker thread as soon as window k is answered; then window k's results are applied
on the caller's thread — the links are still written right after their own write, and
only the caller's thread touches the database (but for a token refreshed during a send,
stored on the session's turn: config.db_turns). At most one window is in flight (the
adapter decides how many calls one window is; Graph sends several at once within it).

If applying raises (a crash, a lost lease), the window in flight is waited for before the
error goes on: what it wrote has its intents, so the next session links it (no duplicate).

Among a session's lanes (syncengine.lanes) a window is always sent from the worker thread
and the lane gives up its turn while it waits: the next window goes out as soon as this
one is answered, before the lane has its turn back to link it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connections

from config import db_turns

from .lanes import in_lanes

Chunk = TypeVar("Chunk")
Prepared = TypeVar("Prepared")
Results = TypeVar("Results")


def windows(items: Sequence[Chunk], size: int) -> list[Sequence[Chunk]]:
    """`items` in windows of `size` (all in one when `size` is 0 or more than there are)."""
    if size <= 0 or size >= len(items):
        return [items] if items else []
    return [items[start : start + size] for start in range(0, len(items), size)]


def _in_worker(
    send: Callable[[Chunk, Prepared], Results],
    chunk: Chunk,
    prepared: Prepared,
    turn: db_turns.Turn | None,
) -> Results:
    try:
        # Within a session's turn, what the send must write (a refreshed token) goes
        # through the session's connection on its turn (config.db_turns).
        with db_turns.helper(turn):
            return send(chunk, prepared)
    finally:
        # Outside one, a token refresh during the send opened this thread's own connection.
        connections.close_all()


def pipelined(
    chunks: Sequence[Chunk],
    prepare: Callable[[Chunk], Prepared],
    send: Callable[[Chunk, Prepared], Results],
    apply: Callable[[Chunk, Prepared, Results], None],
) -> None:
    """For each chunk in order: `prepare` (caller's thread), `send` (a worker thread once
    there is more than one chunk), `apply` (caller's thread) — chunk k+1 prepared while
    chunk k is in flight, and sent before chunk k is applied. `send` must not touch the
    database."""
    if not chunks:
        return
    if len(chunks) == 1 and not in_lanes():
        for chunk in chunks:
            prepared = prepare(chunk)
            apply(chunk, prepared, send(chunk, prepared))
        return
    turn = db_turns.current()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-write")
    try:
        prepared = prepare(chunks[0])
        future = pool.submit(_in_worker, send, chunks[0], prepared, turn)
        for k, chunk in enumerate(chunks):
            current = prepared
            # The next window is prepared while this one is in flight, and sent as soon
            # as this one is answered: the service waits for neither.
            if k + 1 < len(chunks):
                prepared = prepare(chunks[k + 1])
            with db_turns.off_turn():
                results = future.result()
                if k + 1 < len(chunks):
                    future = pool.submit(_in_worker, send, chunks[k + 1], prepared, turn)
            apply(chunk, current, results)
    finally:
        # What is in flight is answered before an error goes on; off turn, since a send
        # may need the turn for a token refresh.
        with db_turns.off_turn():
            pool.shutdown(wait=True)
