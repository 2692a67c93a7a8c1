"""In-memory accounts, the clock, and the opaque page/sync tokens the APIs hand out.

Every change to an account bumps `Account.seq`; records remember the seq of their last
change, so "changed since token T" is `record.seq > T.seq`. Deletions stay behind as
tombstones for the same reason (People `metadata.deleted`, Calendar `cancelled`,
Tasks `deleted`).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import HttpError, invalid


def rfc3339(dt: datetime) -> str:
    """Google's timestamp form: UTC with milliseconds and a Z."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(value: str, name: str = "time") -> datetime:
    """An RFC 3339 timestamp (offset required by Google; we default naive ones to UTC)."""
    try:
        dt = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise invalid(f"Bad Request: invalid {name} {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


# Where ids and tokens come from: unpredictable by default, as Google's; `seed_ids(n)`
# makes them a function of the seed, so a property test's failing run replays with the
# same ids (tests/syncengine/engine/test_model.py).
_ids: random.Random = random.SystemRandom()


def seed_ids(seed: int | str | None) -> None:
    """Deterministic ids and tokens from now on (None: back to unpredictable ones)."""
    global _ids
    _ids = random.SystemRandom() if seed is None else random.Random(f"google-ids:{seed}")


def new_id(nbytes: int = 12) -> str:
    return _ids.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()


def new_token(nbytes: int) -> str:
    """A URL-safe opaque token (sync and page tokens)."""
    raw = _ids.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def choose(alphabet: str, length: int) -> str:
    return "".join(_ids.choice(alphabet) for _ in range(length))


@dataclass
class Account:
    email: str
    display_name: str
    time_zone: str
    numeric_id: str
    seq: int = 0
    # People: resourceName -> record {"person", "etag", "seq", "deleted", "updated"}
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Calendar (the primary calendar only): event id -> stored event (API shape)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Invitations/updates/cancellations Calendar would have emailed (common.meetings)
    sent_updates: list[Any] = field(default_factory=list)
    # Tasks: list id -> list record; list id -> task id -> task
    tasklists: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # Gmail
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    history_id: int = 1000
    history_floor: int = 0  # startHistoryId below this -> 404 (expire_history)

    def bump(self) -> int:
        self.seq += 1
        return self.seq


@dataclass
class SyncState:
    email: str
    kind: str  # "people" | "calendar"
    seq: int
    fingerprint: tuple[Any, ...]
    issued_at: datetime
    expired: bool = False


@dataclass
class PageState:
    email: str
    kind: str
    fingerprint: tuple[Any, ...]
    items: list[Any]
    extra: dict[str, Any]


class Tokens:
    """Server-side page and sync tokens: opaque strings mapped to snapshots.

    A page token holds the rest of the result computed on the first page, so paging is
    consistent even when the data changes mid-walk (changes made meanwhile surface in
    the next incremental sync, as with Google).
    """

    def __init__(self) -> None:
        self.sync: dict[str, SyncState] = {}
        self.pages: dict[str, PageState] = {}

    def issue_sync(self, state: SyncState) -> str:
        token = state.kind[:1].upper() + new_token(18)
        self.sync[token] = state
        return token

    def issue_page(self, state: PageState) -> str:
        token = new_token(15)
        self.pages[token] = state
        return token

    def page(self, token: str, email: str, kind: str, fingerprint: tuple[Any, ...]) -> PageState:
        state = self.pages.get(token)
        if state is None or state.email != email or state.kind != kind:
            raise invalid("Invalid page token.")
        if state.fingerprint != fingerprint:
            raise HttpError(
                400,
                "invalidArgument",
                "Parameters provided with a page token must match the call that provided "
                "the page token.",
            )
        return state

    def expire(self, email: str | None = None, kind: str | None = None) -> int:
        n = 0
        for state in self.sync.values():
            if email in (None, state.email) and kind in (None, state.kind) and not state.expired:
                state.expired = True
                n += 1
        return n


def paginate(
    tokens: Tokens,
    items: list[Any],
    size: int,
    page_token: str | None,
    *,
    email: str,
    kind: str,
    fingerprint: tuple[Any, ...],
    extra: dict[str, Any] | None = None,
) -> tuple[list[Any], str | None, dict[str, Any]]:
    """One page of `items` (or of the snapshot behind `page_token`), the next token, extra."""
    if page_token:
        state = tokens.page(page_token, email, kind, fingerprint)
        items, extra = state.items, state.extra
    extra = extra or {}
    page, rest = items[:size], items[size:]
    nxt = None
    if rest:
        nxt = tokens.issue_page(PageState(email, kind, fingerprint, rest, extra))
    return page, nxt, extra


class Clock:
    """Injectable "now": real time by default, or a fixed/advanced instant for tests."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None
        self._source: Callable[[], datetime] | None = None

    def set(self, when: datetime | Callable[[], datetime] | None) -> None:
        self._fixed = when if isinstance(when, datetime) else None
        self._source = None if isinstance(when, datetime) or when is None else when

    def advance(self, **delta: float) -> None:
        self._fixed = self.now() + timedelta(**delta)
        self._source = None

    def now(self) -> datetime:
        if self._fixed is not None:
            return self._fixed
        if self._source is not None:
            return self._source()
        return datetime.now(UTC)
