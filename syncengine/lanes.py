"""A session's item types written at once where the mailbox's service has separate budgets.

Gmail's contacts, tasks and events go to three APIs (People, Tasks, Calendar), each
taking one user's calls one after another: written type after type, a first sync waits
for the sum of the three; written at once, for about the busiest API. Office 365 and
Exchange spend one budget per mailbox (Graph's 4 requests in flight, EWSMaxConcurrency),
so their types stay in one lane, run on the session's thread as before
(`MailboxAdapter.write_lane` says which budget a type's writes spend).

Each lane is a thread, but they take turns (config.db_turns): a lane runs only while it
holds the session's turn, and gives it up only while it waits for the network or for
another lane (`wait_for`). So the database is used by one lane at a time, over the
session's own connection, the session's bookkeeping needs no locks, and what a lane does
between two waits is as atomic as when the types ran one after another.

A lane that fails stops the others at their next check (`check`, with every lease
check), after their windows in flight are answered and linked, as a crash would leave
them: write intents heal the rest. The first failure is raised on the session's thread.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence

from config import db_turns


class LaneStopped(Exception):
    """Another lane of the session failed: this one stops at its next check."""


def in_lanes() -> bool:
    """Whether this thread is one of several lanes taking turns."""
    turn = db_turns.current()
    return turn is not None and turn.lanes > 1


def wait_for(done: threading.Event) -> None:
    """Wait, off turn, until `done` is set (another lane's step); then stop if a lane failed."""
    if not done.is_set():
        with db_turns.off_turn():
            done.wait()
    check()


def check() -> None:
    """Raise LaneStopped when another lane of this session failed."""
    turn = db_turns.current()
    if turn is not None and turn.failure is not None:
        raise LaneStopped


def run_lanes(lanes: Sequence[Callable[[], None]]) -> None:
    """Run the lanes taking turns, each on a thread of its own (one lane: on the caller's
    thread); return when all have stopped, raising the first failure. The caller's turn
    (a session's, `db_turns.taking_turns`) is theirs meanwhile; without one, a new one."""
    turn = db_turns.current()
    if turn is None:
        with db_turns.taking_turns():
            run_lanes(lanes)
        return
    if len(lanes) == 1:
        lanes[0]()
        return
    context = contextvars.copy_context()  # the session's log fields, for every lane

    def run(lane: Callable[[], None]) -> None:
        with db_turns.lane(turn):
            try:
                lane()
            except BaseException as exc:  # handed to the session's thread below
                if turn.failure is None and not isinstance(exc, LaneStopped):
                    turn.failure = exc

    threads = [
        threading.Thread(
            target=context.copy().run, args=(run, lane), name=f"relay-lane-{i}", daemon=True
        )
        for i, lane in enumerate(lanes)
    ]
    turn.lanes = len(lanes)
    try:
        with db_turns.off_turn():  # the lanes' now
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        turn.lanes = 1
    failure, turn.failure = turn.failure, None
    if failure is not None:
        raise failure
