"""“Why (not) synced?” as a service: search a user's linked items and ledger, explain each
(syncengine.explain), and — for an item Relay never saw — one user-initiated Salesforce
lookup. The Items page, the admin's support desk and ``sync_explain`` all call this.

Query count is constant in the number of matches: one query for the links, one for the
ledger's matching items, one for their latest entries, one for the settings and one for
the Salesforce connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import Connection, User
from syncsettings.models import SyncSettings

from .explain import ACTED_ON, Verdict, explain
from .ledger import display_name
from .link_store import link_state
from .models import ItemLedgerEntry, SyncLink
from .planner import ContactScope, ItemType, SyncRules
from .planner.rules import Reason

MAX_QUERY = 200  # characters; longer input is refused with a message
MAX_RESULTS = 50
ITEM_TYPES = (ItemType.CONTACT, ItemType.TASK, ItemType.EVENT)


class BadQuery(ValueError):
    """The search text is empty or too long."""


@dataclass(frozen=True)
class ItemAnswer:
    type: str
    salesforce_id: str
    mailbox_id: str
    name: str
    state: str
    reason_code: str
    reason: str
    last_action: str
    last_session_id: int | None
    last_synced_at: str | None  # ISO 8601, UTC

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def clean_query(query: str) -> str:
    text = (query or "").strip()
    if not text:
        raise BadQuery("Type a name, an email address or a subject to search for.")
    if len(text) > MAX_QUERY:
        raise BadQuery(f"Search text is limited to {MAX_QUERY} characters.")
    if any(ord(c) < 32 for c in text):
        raise BadQuery("Search text must be a single line.")
    return text


def rules_for_user(user: User, linked_contact_ids: Iterable[str] = ()) -> SyncRules:
    """The user's rules as the last session applied them. Without an API call the view's
    membership is unknown: a linked contact counts as a member (a session removes those that
    leave), and what the session saw of the others is in the ledger."""
    s = SyncSettings.for_user(user)
    sf = Connection.objects.salesforce_for(user)
    scope = ContactScope(s.contact_scope)
    return SyncRules(
        user_sf_id=sf.external_account_id if sf else "",
        down_enabled={
            ItemType.CONTACT: s.contacts_down_enabled,
            ItemType.TASK: s.tasks_down_enabled,
            ItemType.EVENT: s.events_down_enabled,
        },
        contact_scope=scope,
        view_member_ids=frozenset(linked_contact_ids) if scope == ContactScope.VIEW else None,
        auto_remove={ItemType.CONTACT: s.auto_remove_contacts, ItemType.TASK: s.auto_remove_tasks},
        time_zone=s.time_zone or "UTC",
        view_name=s.contact_view_name,
    )


def _iso(when: dt.datetime | None) -> str | None:
    return when.astimezone(dt.UTC).isoformat() if when else None


def search(user: User, query: str, *, limit: int = MAX_RESULTS) -> list[ItemAnswer]:
    """Every linked item or ledger item of `user` whose name, email, subject or id matches."""
    text = clean_query(query)
    id_match = Q(sf_id=text) | Q(mailbox_id=text)
    links = list(
        SyncLink.objects.filter(user=user, item_type__in=ITEM_TYPES)
        .filter(id_match | Q(snapshot__icontains=text))
        .order_by("item_type", "sf_id")[:limit]
    )
    ledger_keys = list(
        ItemLedgerEntry.objects.filter(user=user)
        .filter(id_match | Q(name__icontains=text))
        .values_list("item_type", "sf_id", "mailbox_id")
        .order_by("-created_at")
        .distinct()[: limit * 4]
    )
    return answers(user, links, ledger_keys, limit)


def session_items(session: Any, **filters: str) -> list[ItemLedgerEntry]:
    """A session's ledger rows, optionally by item_type / direction / action."""
    rows = ItemLedgerEntry.objects.filter(session=session)
    for name in ("item_type", "direction", "action"):
        value = filters.get(name)
        if value is not None and value != "":
            rows = rows.filter(**{name: value})
    return list(rows.order_by("item_type", "action", "name", "id"))


def answers(
    user: User,
    links: list[SyncLink],
    ledger_keys: Iterable[tuple[str, str, str]],
    limit: int = MAX_RESULTS,
) -> list[ItemAnswer]:
    """One answer per item: its link (if any) and its latest ledger entry, explained."""
    by_sf = {(r.item_type, r.sf_id): r for r in links}
    by_mb = {(r.item_type, r.mailbox_id): r for r in links}
    keys: list[tuple[str, str, str]] = [(r.item_type, r.sf_id, r.mailbox_id) for r in links]
    # One item, however its rows name it (a create knows one id, later rows both).
    seen = {(t, i) for t, s, m in keys for i in (s, m) if i}
    for item_type, sf_id, mailbox_id in ledger_keys:  # newest first
        link = by_sf.get((item_type, sf_id)) if sf_id else None
        link = link or (by_mb.get((item_type, mailbox_id)) if mailbox_id else None)
        key = (item_type, link.sf_id, link.mailbox_id) if link else (item_type, sf_id, mailbox_id)
        idents = {(item_type, i) for i in key[1:] if i}
        if not idents & seen:
            keys.append(key)
        seen |= idents
    keys = keys[:limit]
    latest = _latest_entries(user, keys)
    rules = rules_for_user(user, (r.sf_id for r in links if r.item_type == ItemType.CONTACT))
    now = timezone.now()
    out = []
    for item_type, sf_id, mailbox_id in keys:
        link = by_sf.get((item_type, sf_id)) if sf_id else by_mb.get((item_type, mailbox_id))
        entry = latest.get((item_type, sf_id)) or latest.get((item_type, mailbox_id))
        out.append(_answer(item_type, link, entry, rules, now))
    return out


def _latest_entries(
    user: User, keys: list[tuple[str, str, str]]
) -> dict[tuple[str, str], ItemLedgerEntry]:
    sf_ids = {k[1] for k in keys if k[1]}
    mailbox_ids = {k[2] for k in keys if k[2]}
    if not sf_ids and not mailbox_ids:
        return {}
    rows = ItemLedgerEntry.objects.filter(user=user).filter(
        Q(sf_id__in=sf_ids) | Q(mailbox_id__in=mailbox_ids)
    )
    latest: dict[tuple[str, str], ItemLedgerEntry] = {}
    for row in rows.order_by("-created_at", "-id").only(
        "item_type", "sf_id", "mailbox_id", "name", "action", "reason_code", "reason",
        "session_id", "created_at",
    ):  # fmt: skip
        for ident in (row.sf_id, row.mailbox_id):
            if ident:
                latest.setdefault((row.item_type, ident), row)
    return latest


def _answer(
    item_type: str,
    link: SyncLink | None,
    entry: ItemLedgerEntry | None,
    rules: SyncRules,
    now: dt.datetime,
) -> ItemAnswer:
    verdict: Verdict | None = None
    if link is not None:
        verdict = explain(ItemType(item_type), rules=rules, now=now, link=link_state(link))
    recorded = entry is not None and Reason(entry.reason_code) not in ACTED_ON
    newer = entry is not None and (
        link is None or link.last_synced_at is None or entry.created_at >= link.last_synced_at
    )
    held = verdict is not None and verdict.code == Reason.HELD_FOR_CONFIRMATION
    if entry is not None and (verdict is None or (recorded and newer and not held)):
        # The session's own verdict, with the rules and records it saw then.
        code, reason = entry.reason_code, entry.reason
        state = Verdict(Reason(code), reason).state
        if link is None and Reason(code) == Reason.SYNCED:
            state, reason = "gone", f"{reason} Not linked any more."
    else:
        assert verdict is not None
        code, reason, state = str(verdict.code), verdict.sentence, verdict.state
    name = (link.display_name if link else "") or (entry.name if entry else "")
    return ItemAnswer(
        type=str(item_type),
        salesforce_id=(link.sf_id if link else entry.sf_id if entry else ""),
        mailbox_id=(link.mailbox_id if link else entry.mailbox_id if entry else ""),
        name=name,
        state=state,
        reason_code=code,
        reason=reason,
        last_action=entry.action if entry else "",
        last_session_id=entry.session_id if entry else None,
        last_synced_at=_iso(link.last_synced_at if link else None),
    )


# --- the one Salesforce lookup for an item never seen --------------------------------------

LOOKUP_FIELDS = {
    ItemType.CONTACT: ("Contact", ("Email", "LastName", "FirstName")),
    ItemType.TASK: ("Task", ("Subject",)),
    ItemType.EVENT: ("Event", ("Subject",)),
}
LOOKUP_LIMIT = 10


def _like(text: str) -> str:
    """A SOQL LIKE literal matching `text` anywhere: quotes, backslashes and the
    wildcards % and _ escaped (clean_query already refused control characters)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("%", "\\%").replace("_", "\\_")
    return f"'%{escaped}%'"


def lookup_in_salesforce(user: User, query: str, item_type: ItemType) -> list[ItemAnswer]:
    """A user-initiated read of Salesforce for records matching `query` that Relay never
    saw, each explained with the user's rules: one API call (events owned by others: one
    more for the user's invitations). Raises ProviderError subclasses like any read."""
    from django.conf import settings

    from accounts.providers.salesforce import SalesforceClient

    from .records_io import sf_record
    from .salesforce.adapter import SalesforceAdapter

    text = clean_query(query)
    conn = Connection.objects.salesforce_for(user)
    if conn is None or not conn.is_active:
        raise BadQuery("Connect Salesforce first: the lookup reads your Salesforce org.")
    sobject, names = LOOKUP_FIELDS[item_type]
    adapter = SalesforceAdapter(
        SalesforceClient(conn).call, conn.external_account_id, settings.SALESFORCE_API_VERSION
    )
    pattern = _like(text)
    where = " OR ".join(f"{name} LIKE {pattern}" for name in names)
    rows = adapter.read_where(sobject, [f"({where})"])[:LOOKUP_LIMIT]
    invited: set[str] = set()
    me = conn.external_account_id
    others = [r["Id"] for r in rows if item_type == ItemType.EVENT and r.get("OwnerId") != me]
    if others:
        id_list = ", ".join(f"'{i}'" for i in others)
        relations = adapter.read_where(
            "EventRelation", [f"RelationId = '{me}'", f"EventId IN ({id_list})"]
        )
        invited = {r["EventId"] for r in relations}
    links = {
        r.sf_id: r
        for r in SyncLink.objects.filter(
            user=user, item_type=item_type, sf_id__in=[r["Id"] for r in rows]
        )
    }
    rules = rules_for_user(user)
    if rules.contact_scope == ContactScope.VIEW and item_type == ItemType.CONTACT:
        members = adapter.contact_view_member_ids(SyncSettings.for_user(user).contact_view_id)
        rules = replace(rules, view_member_ids=members)
    now = timezone.now()
    out = []
    for row in rows:
        record = sf_record(
            item_type, row, invitee_ids=frozenset({me}) if row["Id"] in invited else frozenset()
        )
        link = links.get(record.sf_id)
        verdict = explain(
            item_type,
            rules=rules,
            now=now,
            link=link_state(link) if link else None,
            salesforce=record,
        )
        out.append(
            ItemAnswer(
                type=str(item_type),
                salesforce_id=record.sf_id,
                mailbox_id=link.mailbox_id if link else "",
                name=display_name(item_type, record.fields),
                state=verdict.state,
                reason_code=str(verdict.code),
                reason=verdict.sentence,
                last_action="",
                last_session_id=None,
                last_synced_at=_iso(link.last_synced_at if link else None),
            )
        )
    return out
