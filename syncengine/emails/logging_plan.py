"""What to do with each mailbox message on the Salesforce side (SPEC §6). Pure.

`plan(...)` turns EmailRecords plus what Salesforce told us (who matches which address,
which Message-IDs are already logged) into actions; `salesforce.email` carries
them out. Decisions, pinned in tests/syncengine/emails/test_logging_plan.py:

- Key: the Message-ID, compared by `message_key` (angle brackets and surrounding spaces
  dropped, case kept: RFC 5322 ids are case-sensitive on the left). A message without one
  is skipped, never logged (it could not be logged "once"). Two copies of one message in a
  batch are planned once; the copy in the Salesforce folder wins.
- Who may link: every participant (sender, To, Cc, Bcc) except the user's own addresses
  and the blocked ones (which include the user's own domain: internal mail).
- Contacts preferred over Leads, for the whole message: if any linkable participant
  matches a Contact, only Contacts are linked and no Lead is; otherwise every matching
  Lead is. An address matching two Contacts links both. At most MAX_LINKS (50, the
  Shared Activities limit) people; sender first, then To, Cc, Bcc.
- Account (RelatedToId / WhatId): the Account of the first linked Contact, in that same
  order, that has one; none for Leads.
- Task form (no Enhanced Email): WhoId is the first linked person, the same order.
- No match, message in the Salesforce folder: Retry until 30 days after it was first
  seen, GiveUp at exactly 30 days (now - first_seen >= 30 days). With
  `create_leads_for_unknown`, an incoming message whose sender is linkable but unknown
  gets CreateLead(sender) and is logged against that Lead in the same run; the option
  covers senders only, so outgoing mail to unknown people is retried as usual.
- No match, auto-saved message (not in the folder): Skip, not retried and no Lead
  created: auto-save logs mail that matches; retrying or creating Leads for every
  newsletter in the mailbox is not what the user asked for.
- Every participant blocked or internal: Skip ("nothing to link"), whether auto-saved or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, NamedTuple

from .blocklist import Blocklist, normalize_address
from .records import Address, EmailRecord

RETRY_FOR = timedelta(days=30)
MAX_LINKS = 50

PersonType = Literal["Contact", "Lead"]
Role = Literal["from", "to", "cc", "bcc"]
Form = Literal["email_message", "task"]


class Match(NamedTuple):
    """One Salesforce record whose Email is the address: (id, type, account_id)."""

    id: str
    type: PersonType
    account_id: str | None = None


Matches = Mapping[str, Sequence[tuple[str, str, str | None]]]


def message_key(message_id: str) -> str:
    """The comparable form of an Internet Message-ID (`<a@b>` and `a@b` are one key)."""
    return message_id.strip().strip("<>").strip()


def address_key(address: str) -> str:
    return address.strip().lower()


@dataclass(frozen=True)
class Link:
    id: str  # Contact or Lead id; "" for the Lead CreateLead is making for `address`
    type: PersonType
    role: Role
    address: str


@dataclass(frozen=True)
class LogEmail:
    record: EmailRecord
    links: tuple[Link, ...]
    what_id: str | None
    form: Form
    activity_date: date
    new_lead: str | None = None  # address key of the CreateLead this log waits for

    @property
    def who_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(link.id for link in self.links if link.id))

    def ids(self, role: Role) -> list[str]:
        return list(dict.fromkeys(x.id for x in self.links if x.role == role and x.id))

    @property
    def key(self) -> str:
        return message_key(self.record.message_id)


@dataclass(frozen=True)
class CreateLead:
    address: str  # as written in the message
    name: str
    company: str

    @property
    def key(self) -> str:
        return address_key(self.address)

    @property
    def last_name(self) -> str:
        parts = self.name.split()
        return parts[-1] if parts else self.address.partition("@")[0] or self.address

    @property
    def first_name(self) -> str:
        parts = self.name.split()
        return " ".join(parts[:-1]) if len(parts) > 1 else ""


@dataclass(frozen=True)
class Retry:
    record: EmailRecord
    reason: str
    until: datetime


@dataclass(frozen=True)
class GiveUp:
    record: EmailRecord
    reason: str


@dataclass(frozen=True)
class Skip:
    record: EmailRecord
    reason: str


Action = LogEmail | CreateLead | Retry | GiveUp | Skip

_ROLES: tuple[tuple[Role, str], ...] = (("to", "to"), ("cc", "cc"), ("bcc", "bcc"))


def _by_role(record: EmailRecord) -> list[tuple[Role, Address]]:
    people: list[tuple[Role, Address]] = [("from", record.sender)] if record.sender else []
    for role, attr in _ROLES:
        people.extend((role, a) for a in getattr(record, attr))
    return people


def _choose_copies(records: Iterable[EmailRecord]) -> tuple[list[EmailRecord], list[Skip]]:
    chosen: dict[str, EmailRecord] = {}
    skips: list[Skip] = []
    keyless: list[EmailRecord] = []
    for r in records:
        key = message_key(r.message_id)
        if not key:
            keyless.append(r)
            continue
        first = chosen.get(key)
        if first is None:
            chosen[key] = r
        elif r.in_salesforce_folder and not first.in_salesforce_folder:
            chosen[key] = r
            skips.append(Skip(first, "another copy of this message is logged instead"))
        else:
            skips.append(Skip(r, "another copy of this message is logged instead"))
    skips.extend(
        Skip(r, "the message has no Message-ID, so it cannot be logged once") for r in keyless
    )
    return list(chosen.values()), skips


def plan(
    records: Iterable[EmailRecord],
    *,
    user_addresses: Iterable[str],
    blocklist: Blocklist,
    logged: Iterable[str],
    matches: Matches,
    now: datetime,
    first_seen: Mapping[str, datetime],
    create_leads_for_unknown: bool = False,
    enhanced_email: bool = True,
) -> list[Action]:
    """Actions in record order; a CreateLead comes right before the LogEmail needing it.

    `logged` and `first_seen` are keyed by Message-ID (any bracket form); `matches` by
    address key (lower-cased address)."""
    own = {a for a in map(normalize_address, user_addresses) if a}
    done = {message_key(m) for m in logged}
    seen = {message_key(k): v for k, v in first_seen.items()}
    form: Form = "email_message" if enhanced_email else "task"
    chosen, actions_skipped = _choose_copies(records)
    actions: list[Action] = list(actions_skipped)
    leads_planned: set[str] = set()
    for record in chosen:
        key = message_key(record.message_id)
        if key in done:
            actions.append(Skip(record, "already logged"))
            continue
        linkable = [
            (role, a)
            for role, a in _by_role(record)
            if normalize_address(a.address) not in own and not blocklist.is_blocked(a.address)
        ]
        if not linkable:
            actions.append(Skip(record, "every participant is blocked or internal"))
            continue
        links, what_id = _links(linkable, matches)
        when = _utc_date(record.sent_at or seen.get(key) or now)
        if links:
            actions.append(LogEmail(record, links, what_id, form, when))
            continue
        if not record.in_salesforce_folder:
            actions.append(Skip(record, "auto-save: no participant matches a Contact or Lead"))
            continue
        sender = record.sender
        if (
            create_leads_for_unknown
            and record.incoming
            and sender is not None
            and any(role == "from" for role, _ in linkable)
        ):
            lead_key = address_key(sender.address)
            if lead_key not in leads_planned:
                leads_planned.add(lead_key)
                company = sender.domain or "[not provided]"
                actions.append(CreateLead(sender.address, sender.name.strip(), company))
            link = Link("", "Lead", "from", sender.address)
            actions.append(LogEmail(record, (link,), None, form, when, new_lead=lead_key))
            continue
        first = seen.get(key, now)
        until = first + RETRY_FOR
        if now >= until:
            actions.append(GiveUp(record, "no matching Contact or Lead within 30 days"))
        else:
            actions.append(Retry(record, "no matching Contact or Lead yet", until))
    return actions


def _utc_date(when: datetime) -> date:
    """The ActivityDate: the UTC day (the Task-form lookup computes the same)."""
    return (when.astimezone(UTC) if when.tzinfo else when).date()


def _links(
    linkable: Sequence[tuple[Role, Address]], matches: Matches
) -> tuple[tuple[Link, ...], str | None]:
    found: list[tuple[Role, Address, Match]] = []
    for role, a in linkable:
        for m in sorted(matches.get(address_key(a.address), ()), key=lambda m: m[0]):
            found.append((role, a, Match(*m)))  # type: ignore[arg-type]
    contacts = [f for f in found if f[2].type == "Contact"]
    chosen = contacts or [f for f in found if f[2].type == "Lead"]
    links: dict[str, Link] = {}
    what_id = None
    for role, a, m in chosen:
        if m.id in links:
            continue
        if len(links) >= MAX_LINKS:
            break
        links[m.id] = Link(m.id, m.type, role, a.address)
        if what_id is None and m.type == "Contact" and m.account_id:
            what_id = m.account_id
    return tuple(links.values()), what_id
