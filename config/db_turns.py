"""Threads of one sync session that share its database connection, taking turns.

A session writes item types whose mailbox APIs are separate budgets at once, one thread
("lane") each (syncengine.lanes), and sends a window of writes from a helper thread while
the links of the last one are written (syncengine.pipeline). They all use the session's
one connection — so its transaction, in a test too, holds every write — and never at the
same moment: a thread uses the database only while it holds the session's turn.

- A lane holds the turn while it runs and gives it up while it waits for the network
  (`off_turn`: the HTTP transports, a window in flight, another lane).
- A helper holds no turn; what it must write (a refreshed OAuth token, `Connection.save`)
  takes the turn, and the session's connection, for that moment (`on_turn`).
- Every query over the shared connection checks that its thread holds the turn, so a
  mistake fails loudly instead of interleaving two threads' statements.

Outside a session's lanes every function here does nothing, as it did before.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from django.db import connections


class FairLock:
    """A lock handed to its waiters in the order they asked (threading.Lock is not: the
    thread that releases it may take it back before a woken waiter runs, and a lane whose
    answer came first would wait behind another lane's many turns)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            handed = threading.Event()
            self._waiters.append(handed)
        handed.wait()  # the releaser handed the lock over: it stays held

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._held = False


class Turn:
    """One session's turn: its lock, the connections its threads share, a lane's failure."""

    lanes = 1

    def __init__(self) -> None:
        self.lock = FairLock()
        self.shared = list(connections.all(initialized_only=True))
        self.failure: BaseException | None = None


class _ThreadTurn(threading.local):
    turn: Turn | None = None
    holding = False


_mine = _ThreadTurn()


class OffTurn(RuntimeError):
    """The session's shared connection was used by a thread that does not hold the turn."""


def current() -> Turn | None:
    """The turn this thread takes part in (None: not a session's lane or helper)."""
    return _mine.turn


@contextmanager
def _shared_here(turn: Turn) -> Iterator[None]:
    """The session's connections as this thread's (the session's own thread has them)."""
    lent = [conn for conn in turn.shared if connections[conn.alias] is not conn]
    for conn in lent:
        connections[conn.alias] = conn
    try:
        yield
    finally:
        for conn in lent:
            del connections[conn.alias]  # never closed here: the session's thread owns it


@contextmanager
def sharing() -> Iterator[Turn]:
    """A new turn over the caller's connections, for the duration of a session's lanes."""
    turn = Turn()
    with ExitStack() as stack:
        for conn in turn.shared:
            conn.inc_thread_sharing()
            stack.callback(conn.dec_thread_sharing)
            stack.enter_context(conn.execute_wrapper(_only_on_turn(turn)))
        yield turn


def _only_on_turn(turn: Turn) -> Callable[..., Any]:
    def guard(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if _mine.turn is turn and not _mine.holding:
            raise OffTurn("a thread used the session's database connection off its turn")
        return execute(sql, params, many, context)

    return guard


@contextmanager
def lane(turn: Turn) -> Iterator[None]:
    """This thread, a lane of `turn`: it holds the turn inside (waits for it first)."""
    before = _mine.turn, _mine.holding  # a turn of an enclosing session, if any
    with _shared_here(turn):
        _mine.turn = turn
        turn.lock.acquire()
        _mine.holding = True
        try:
            yield
        finally:
            turn.lock.release()
            _mine.turn, _mine.holding = before


@contextmanager
def helper(turn: Turn | None) -> Iterator[None]:
    """This thread helps a lane of `turn` (sends its writes): no turn held, the database
    reached through `on_turn` (which lends it the session's connection for that moment:
    most helpers never need it). A no-op for None."""
    if turn is None:
        yield
        return
    before = _mine.turn, _mine.holding
    _mine.turn, _mine.holding = turn, False
    try:
        yield
    finally:
        _mine.turn, _mine.holding = before


@contextmanager
def off_turn() -> Iterator[None]:
    """Let the session's other threads use the database while this one waits for the
    network (never for the database). A no-op outside lanes, or when not holding it."""
    turn = _mine.turn
    if turn is None or not _mine.holding:
        yield
        return
    _mine.holding = False
    turn.lock.release()
    try:
        yield
    finally:
        turn.lock.acquire()
        _mine.holding = True


@contextmanager
def on_turn() -> Iterator[None]:
    """Hold the turn inside (a helper's database write). A no-op when held or outside."""
    turn = _mine.turn
    if turn is None or _mine.holding:
        yield
        return
    turn.lock.acquire()
    _mine.holding = True
    try:
        with _shared_here(turn):
            yield
    finally:
        _mine.holding = False
        turn.lock.release()


@contextmanager
def taking_turns() -> Iterator[Turn]:
    """This thread's database work as a sync session's, holding its turn: its lanes and
    helpers (syncengine.lanes, .pipeline, .mailboxes.at_once) share its connection."""
    with sharing() as turn, lane(turn):
        yield turn
