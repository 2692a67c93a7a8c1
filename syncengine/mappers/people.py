"""Who an activity is about, in the canonical shape (SPEC §2b, issue 9).

Two records, kept apart from the event/task fields on purpose (docs/decisions.md,
"Relations are not event fields"):

- ``MailboxPeople``: what a mailbox event says about its people: the iCalendar UID, the
  organizer and the attendees (address, name, role, response). Mapped from Graph and
  Google JSON here.
- ``SalesforcePeople``: what Salesforce says: Who and What (ids and display names) and
  the invitees. Mapped from Event/Task rows and their EventRelation rows here.

The event fields' content hash does not cover them, so an attendee's reply is never an
"event changed" (no update ping-pong); ``people_hash`` is the separate hash a link keeps
for its relations.

The "In Salesforce:" block is Relay's text in the mailbox copy's body. It is produced by
``salesforce_block``, recognised and removed by ``strip_salesforce_block`` before a
description goes up, so it never reaches the Salesforce Description.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

Role = Literal["required", "optional"]
Response = Literal["none", "accepted", "declined", "tentative"]

_GRAPH_RESPONSES: dict[str, Response] = {
    "accepted": "accepted",
    "declined": "declined",
    "tentativelyaccepted": "tentative",
}
_GOOGLE_RESPONSES: dict[str, Response] = {
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentative",
}


@dataclass(frozen=True)
class Attendee:
    address: str  # lower-cased, stripped
    name: str = ""
    role: Role = "required"
    response: Response = "none"


@dataclass(frozen=True)
class MailboxPeople:
    ical_uid: str | None
    organizer: str | None  # lower-cased address
    attendees: tuple[Attendee, ...] = ()
    is_organizer: bool = True  # the mailbox owner organizes the meeting

    def addresses(self) -> list[str]:
        """Organizer first, then attendees in order; each once."""
        seen = [self.organizer] if self.organizer else []
        seen += [a.address for a in self.attendees]
        return list(dict.fromkeys(a for a in seen if a))


def _address(text: Any) -> str:
    return str(text or "").strip().lower()


def people_from_graph(item: Mapping[str, Any]) -> MailboxPeople:
    """Attendees (resources such as rooms left out: they are not people), organizer, UID."""
    attendees = []
    for a in item.get("attendees") or ():
        email = a.get("emailAddress") or {}
        address = _address(email.get("address"))
        kind = str(a.get("type") or "required").lower()
        if not address or kind == "resource":
            continue
        response = str((a.get("status") or {}).get("response") or "none").lower()
        attendees.append(
            Attendee(
                address,
                str(email.get("name") or "").strip(),
                "optional" if kind == "optional" else "required",
                _GRAPH_RESPONSES.get(response, "none"),
            )
        )
    organizer = _address(((item.get("organizer") or {}).get("emailAddress") or {}).get("address"))
    return MailboxPeople(
        item.get("iCalUId") or None,
        organizer or None,
        tuple(attendees),
        item.get("isOrganizer", True) is not False,
    )


def people_from_google(item: Mapping[str, Any]) -> MailboxPeople:
    """Attendees (resources left out), organizer, UID. Google lists the organizer among
    the attendees (``organizer: true``) when it is one; it is kept as the organizer only."""
    attendees = []
    organizer = _address((item.get("organizer") or {}).get("email"))
    for a in item.get("attendees") or ():
        address = _address(a.get("email"))
        if not address or a.get("resource") or address == organizer:
            continue
        attendees.append(
            Attendee(
                address,
                str(a.get("displayName") or "").strip(),
                "optional" if a.get("optional") else "required",
                _GOOGLE_RESPONSES.get(str(a.get("responseStatus") or ""), "none"),
            )
        )
    is_organizer = bool((item.get("organizer") or {}).get("self", True))
    return MailboxPeople(
        item.get("iCalUID") or None, organizer or None, tuple(attendees), is_organizer
    )


def people_hash(people: MailboxPeople) -> str:
    """Hash of what up-sync of relations reads: addresses, roles and responses, so a reply
    re-plans relations without touching the event's own fields."""
    data = json.dumps(asdict(people), sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


# --- Salesforce side ------------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    id: str
    name: str
    account: str = ""  # a Contact's account name, shown in brackets


@dataclass(frozen=True)
class SalesforcePeople:
    who: tuple[Named, ...] = ()  # the WhoId first, then the other related people
    what: Named | None = None
    invitees: tuple[Named, ...] = ()  # invited people who are not among `who`


def salesforce_people(
    activity: Mapping[str, Any],
    relations: Iterable[Mapping[str, Any]],
    names: Mapping[str, Named],
) -> SalesforcePeople:
    """From an Event/Task row (WhoId, WhatId) and its EventRelation/TaskRelation rows
    (RelationId, IsParent, IsWhat, IsInvitee); ``names`` by record id. Users among the
    invitees are the user's colleagues and are shown like other invitees."""
    who_id, what_id = activity.get("WhoId"), activity.get("WhatId")
    rows = [r for r in relations if not r.get("IsDeleted")]
    who_ids = [who_id] if who_id else []
    who_ids += [
        r["RelationId"]
        for r in rows
        if r.get("IsParent") and not r.get("IsWhat") and r.get("RelationId") != who_id
    ]
    invited = [
        r["RelationId"] for r in rows if r.get("IsInvitee") and r.get("RelationId") not in who_ids
    ]

    def named(ids: Sequence[str]) -> tuple[Named, ...]:
        return tuple(names[i] for i in dict.fromkeys(ids) if i in names)

    return SalesforcePeople(named(who_ids), names.get(what_id) if what_id else None, named(invited))


# --- the "In Salesforce:" block ------------------------------------------------------------

BLOCK_START = "— In Salesforce: "
_BLOCK = re.compile(r"(?:\n\n)?" + re.escape(BLOCK_START) + r"[^\n]*\Z")


def salesforce_block(people: SalesforcePeople) -> str:
    """One line, e.g. "— In Salesforce: With: Ada Lovelace (Acme), Tim Lead · Related to:
    Big Deal"; "" when Salesforce relates the activity to nobody and nothing."""
    parts = []
    people_shown = [f"{p.name} ({p.account})" if p.account else p.name for p in people.who]
    people_shown += [p.name for p in people.invitees]
    if people_shown:
        parts.append("With: " + ", ".join(people_shown))
    if people.what:
        parts.append("Related to: " + people.what.name)
    return BLOCK_START + " · ".join(parts) if parts else ""


def strip_salesforce_block(description: str | None) -> str | None:
    """The description without Relay's block (only a block at the very end is Relay's)."""
    if not description:
        return description
    stripped = _BLOCK.sub("", description.replace("\r\n", "\n")).rstrip()
    return stripped or None


def with_salesforce_block(description: str | None, people: SalesforcePeople) -> str | None:
    """The mailbox copy's body: the Salesforce description, then the block, replacing any
    block already there (so rewriting it for renamed people never stacks blocks)."""
    text = strip_salesforce_block(description) or ""
    block = salesforce_block(people)
    if not block:
        return text or None
    return f"{text}\n\n{block}" if text else block
