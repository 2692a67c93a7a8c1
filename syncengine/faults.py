"""Fault points: the boundaries of a write where a worker can die, named so tests can kill a
session exactly there (a time limit, an out-of-memory kill or a deploy restart would).

The executor calls `fault_point(name, item_type, index)` at each boundary; nothing happens
unless a test installed a hook with `injected(hook)`, which may raise to end the session:

- BEFORE_WRITE: the intents are durable, nothing sent yet;
- AFTER_WRITE: the provider applied the batch, no link written;
- AFTER_LINK: the link of item `index` is written (index 0 of a batch of several is the
  mid-batch crash: some links written, the rest not);
- AFTER_MARKER: the Salesforce ids are stored on the mailbox items.

A hook is process-wide and meant for tests only; production never installs one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

BEFORE_WRITE = "before_write"
AFTER_WRITE = "after_write"
AFTER_LINK = "after_link"
AFTER_MARKER = "after_marker"
BOUNDARIES = (BEFORE_WRITE, AFTER_WRITE, AFTER_LINK, AFTER_MARKER)

# (boundary, item type, write: "create_salesforce" / "create_mailbox", index in the batch)
Hook = Callable[[str, str, str, int], None]
_hook: Hook | None = None


class InjectedCrash(Exception):
    """What a test's hook raises: the worker died at a fault point."""


def fault_point(boundary: str, item_type: str, write: str, index: int = 0) -> None:
    if _hook is not None:
        _hook(boundary, item_type, write, index)


@contextmanager
def injected(hook: Hook) -> Iterator[None]:
    global _hook
    previous, _hook = _hook, hook
    try:
        yield
    finally:
        _hook = previous


def crash_at(
    boundary: str, item_type: str | None = None, write: str | None = None, index: int = 0
) -> Hook:
    """A hook that raises InjectedCrash once, at the first matching point."""
    fired = False

    def hook(at: str, kind: str, what: str, i: int) -> None:
        nonlocal fired
        if fired or at != boundary or i != index:
            return
        if (item_type is None or kind == item_type) and (write is None or what == write):
            fired = True
            raise InjectedCrash(f"worker killed at {at} of {what} {kind} #{i}")

    return hook
