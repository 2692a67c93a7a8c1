"""The Issues page's content (SPEC §7): what is wrong now, item by item and per connection.

Per-item problems come from two places. A link whose write failed carries `error_count`
and `last_error`; the executor resets both on its next successful write, so such an issue
disappears when the item syncs. An item that has no link yet (a create refused by the
other side) only has its SyncLogEntry(item_error) rows: its issue lasts while sessions
keep reporting it, and disappears once a link for it exists without errors, or once a
session ran through the items after the last report without reporting it again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import Connection, User

from .models import ITEM_TYPE_LABELS, SyncLink, SyncLogEntry, SyncSession

# Log entries older than this do not make an issue (SPEC §6 retries emails for 30 days).
WINDOW = dt.timedelta(days=30)
MAX_ITEMS = 200
RAN_THROUGH = (
    SyncSession.Status.SUCCEEDED,
    SyncSession.Status.PARTIAL,
    SyncSession.Status.NEEDS_CONFIRMATION,
)
SIDE_LABELS = {"salesforce": "Salesforce", "mailbox": "Mailbox"}


@dataclass
class ItemIssue:
    item_type: str
    name: str
    sf_id: str
    mailbox_id: str
    side: str
    message: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    tries: int

    @property
    def item_type_label(self) -> str:
        return ITEM_TYPE_LABELS.get(self.item_type) or self.item_type or "Item"

    @property
    def side_label(self) -> str:
        return SIDE_LABELS.get(self.side, self.side or "—")


@dataclass
class Issues:
    items: list[ItemIssue]
    connections: list[Connection]
    held_count: int
    # Problems the last session that ran through reported (a deleted contact view…):
    # they last exactly as long as sessions keep reporting them.
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.items or self.connections or self.held_count or self.problems)


def item_name(snapshot: dict[str, Any] | None, payload: dict[str, Any] | None = None) -> str:
    for source in (snapshot or {}, payload or {}):
        name = (
            " ".join(str(source[k]) for k in ("first_name", "last_name") if source.get(k))
            or source.get("subject")
            or source.get("title")
            or source.get("name")
        )
        if name:
            return str(name)
    return ""


def _key(item_type: str, sf_id: str, mailbox_id: str) -> tuple[str, str, str]:
    return (item_type, "sf", sf_id) if sf_id else (item_type, "mb", mailbox_id)


def item_issues(user: User, now: dt.datetime | None = None) -> list[ItemIssue]:
    now = now or timezone.now()
    entries = list(
        SyncLogEntry.objects.filter(
            user=user, kind=SyncLogEntry.Kind.ITEM_ERROR, created_at__gte=now - WINDOW
        )
        .exclude(sf_id="", mailbox_id="")
        .order_by("created_at")
    )
    issues: list[ItemIssue] = []
    used: set[int] = set()

    for link in SyncLink.objects.filter(user=user, error_count__gt=0).order_by("-updated_at")[
        :MAX_ITEMS
    ]:
        about = [
            e
            for e in entries
            if e.item_type == link.item_type
            and (
                (e.sf_id and e.sf_id == link.sf_id)
                or (e.mailbox_id and e.mailbox_id == link.mailbox_id)
            )
        ]
        used.update(e.pk for e in about)
        # This episode: the reports since the item last synced.
        mine = [
            e for e in about if link.last_synced_at is None or e.created_at >= link.last_synced_at
        ]
        latest = mine[-1] if mine else None
        issues.append(
            ItemIssue(
                item_type=link.item_type,
                name=item_name(link.snapshot),
                sf_id=link.sf_id,
                mailbox_id=link.mailbox_id,
                side=latest.side if latest else "",
                message=link.last_error or (latest.message if latest else ""),
                first_seen=mine[0].created_at if mine else link.updated_at,
                last_seen=latest.created_at if latest else link.updated_at,
                tries=link.error_count,
            )
        )

    issues += _unlinked_issues(user, [e for e in entries if e.pk not in used])
    issues.sort(key=lambda i: i.last_seen, reverse=True)
    return issues[:MAX_ITEMS]


def _unlinked_issues(user: User, entries: list[SyncLogEntry]) -> list[ItemIssue]:
    groups: dict[tuple[str, str, str], list[SyncLogEntry]] = {}
    for entry in entries:
        groups.setdefault(_key(entry.item_type, entry.sf_id, entry.mailbox_id), []).append(entry)
    if not groups:
        return []
    runs = SyncSession.objects.filter(user=user, status__in=RAN_THROUGH)
    last_run = runs.order_by("-started_at").first()
    out = []
    for (item_type, _, _), group in groups.items():
        first, latest = group[0], group[-1]
        if (
            last_run
            and latest.session_id != last_run.pk
            and latest.created_at < last_run.started_at
        ):
            continue  # a later session ran the items and did not report this one again
        healed = SyncLink.objects.filter(user=user, item_type=item_type, error_count=0).filter(
            Q(sf_id=latest.sf_id) if latest.sf_id else Q(mailbox_id=latest.mailbox_id)
        )
        link = healed.first()
        if link and link.last_synced_at and link.last_synced_at >= latest.created_at:
            continue
        out.append(
            ItemIssue(
                item_type=item_type,
                name=item_name(link.snapshot if link else None, latest.payload),
                sf_id=latest.sf_id,
                mailbox_id=latest.mailbox_id,
                side=latest.side,
                message=str((latest.payload or {}).get("message") or latest.message),
                first_seen=first.created_at,
                last_seen=latest.created_at,
                tries=len(group),
            )
        )
    return out


def left_out_problem(item_type: str, left_out: int, capacity: int) -> str:
    """The Issues entry for records a mailbox's limit keeps out (syncengine.session)."""
    label = ITEM_TYPE_LABELS.get(str(item_type), str(item_type)).lower()
    one = left_out == 1
    return (
        f"{left_out:,} Salesforce {label}{'' if one else 's'} in your sync scope"
        f" {'was' if one else 'were'} not added to your mailbox:"
        f" it can hold about {capacity:,} {label}s. Choose a narrower contact scope"
        " (My contacts or a list view) to sync the rest; everything else keeps syncing."
    )


def connection_issues(user: User) -> list[Connection]:
    return list(
        Connection.objects.filter(user=user)
        .exclude(status=Connection.Status.ACTIVE)
        .order_by("side")
    )


def session_problems(user: User) -> list[str]:
    """The problems the user's last session that ran through reported."""
    last = (
        SyncSession.objects.filter(user=user, status__in=RAN_THROUGH)
        .order_by("-started_at", "-pk")
        .first()
    )
    if last is None:
        return []
    entries = SyncLogEntry.objects.filter(session=last, kind=SyncLogEntry.Kind.PROBLEM)
    return list(dict.fromkeys(entries.order_by("pk").values_list("message", flat=True)))


def issues_for(user: User) -> Issues:
    return Issues(
        items=item_issues(user),
        connections=connection_issues(user),
        held_count=SyncLink.objects.filter(user=user, state=SyncLink.State.HELD_DELETION).count(),
        problems=session_problems(user),
    )
