"""Up-sync of an event's people to Salesforce relations (SPEC §2b). Pure: no I/O.

``wanted_relations`` decides whom a mailbox meeting is about, with email logging's own
matcher (``emails.logging_plan.plan``: the user's addresses, internal and blocked domains
never linked, Contacts preferred over Leads, at most 50) — the meeting is handed to it as
the message its invitation is: organizer as sender, required attendees To, optional Cc.
Salesforce relates up to 50 Contacts or one Lead, never both, so only the first Lead is
kept.

``plan_relations`` turns that into writes against what Salesforce holds now, remembering
which people Relay related (``made``, kept on the link): only those are ever removed, so a
relation a salesperson added in Salesforce survives a mailbox that lacks it.

- Shared Activities on: every wanted person is an EventRelation with IsParent; the WhoId
  (set through the Event, which makes its IsParent row itself) is the first wanted one when
  the event has none or Relay chose the current one. A person already in a row (invited)
  has that row flagged (IsParent), never a second row (DUPLICATE_VALUE). A person Relay
  related who leaves the meeting loses their row, even as the WhoId with nobody wanted in
  their place (Salesforce then promotes another Who, or clears the WhoId).
- Shared Activities off: only the WhoId, on the same terms.
- Responses: an invitee row's Status follows the attendee's reply (accepted → Accepted,
  declined → Declined); "tentative" has no Status in Salesforce and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from syncengine.emails.blocklist import Blocklist
from syncengine.emails.logging_plan import LogEmail, Matches, address_key, plan
from syncengine.emails.records import Address, EmailRecord
from syncengine.mappers.people import MailboxPeople, Response

STATUS_OF: dict[Response, str] = {"accepted": "Accepted", "declined": "Declined"}
_ANY_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # the matcher's retry clock is unused here


@dataclass(frozen=True)
class Wanted:
    people: tuple[str, ...] = ()  # Contact ids (≤ 50) or one Lead id, meeting order
    responses: Mapping[str, Response] = field(default_factory=dict)  # by person id


def wanted_relations(
    people: MailboxPeople,
    *,
    user_addresses: Iterable[str],
    blocklist: Blocklist,
    matches: Matches,
) -> Wanted:
    """Whom the meeting is about; ``matches`` as ``SalesforceEmailAdapter.find_people``."""
    by_role: dict[str, list[Address]] = {"required": [], "optional": []}
    for a in people.attendees:
        by_role[a.role].append(Address(a.address, a.name))
    invitation = EmailRecord(
        mailbox_id="",
        message_id=people.ical_uid or "meeting",
        subject="",
        sender=Address(people.organizer) if people.organizer else None,
        to=tuple(by_role["required"]),
        cc=tuple(by_role["optional"]),
        in_salesforce_folder=True,
    )
    actions = plan(
        [invitation],
        user_addresses=user_addresses,
        blocklist=blocklist,
        logged=(),
        matches=matches,
        now=_ANY_TIME,
        first_seen={},
    )
    links = next((a.links for a in actions if isinstance(a, LogEmail)), ())
    ids = list(dict.fromkeys(link.id for link in links if link.id))
    if links and links[0].type == "Lead":
        ids = ids[:1]
    reply = {a.address: a.response for a in people.attendees}
    responses = {
        link.id: reply[address_key(link.address)]
        for link in links
        if link.id in ids and address_key(link.address) in reply
    }
    return Wanted(tuple(ids), responses)


LEAD_PREFIX = "00Q"  # the key prefix of Lead ids


@dataclass(frozen=True)
class RelationRow:
    id: str
    relation_id: str
    is_parent: bool = False
    is_invitee: bool = False
    status: str = "New"


@dataclass(frozen=True)
class Current:
    """What Salesforce holds for one event: its WhoId and its person rows (not the What)."""

    who_id: str | None = None
    rows: Mapping[str, RelationRow] = field(default_factory=dict)  # by RelationId


@dataclass
class RelationPlan:
    event_id: str
    event_update: dict[str, Any] | None = None  # {"Id", "WhoId"} on the Event
    create: list[dict[str, Any]] = field(default_factory=list)  # EventRelation records
    update: list[dict[str, Any]] = field(default_factory=list)  # EventRelation {"Id", ...}
    delete: list[str] = field(default_factory=list)  # EventRelation row ids
    made: frozenset[str] = frozenset()  # the people Relay related, to keep on the link
    # The new WhoId is a Lead where a Contact is the Who, or the other way round: Salesforce
    # refuses it while the people Relay removes are still related (50 Contacts or one Lead,
    # never both), so the removals are written first. Otherwise the WhoId goes first: set
    # after a removal, it would replace the Who Salesforce promoted in its place.
    unrelate_first: bool = False

    @property
    def empty(self) -> bool:
        return not (self.event_update or self.create or self.update or self.delete)


def plan_relations(
    event_id: str,
    wanted: Wanted,
    current: Current,
    made_before: Iterable[str],
    *,
    shared_activities: bool,
) -> RelationPlan:
    mine = set(made_before)
    want = list(wanted.people)
    out = RelationPlan(event_id)
    related = set(current.rows) if shared_activities else set()
    parents = {p for p, r in current.rows.items() if r.is_parent}
    if current.who_id:
        parents.add(current.who_id)
        related.add(current.who_id)
    # Salesforce relates up to 50 Contacts or one Lead, never both (API-NOTES §I): someone
    # of the other kind than the people related in Salesforce is left out, rather than
    # sent and refused again in every session.
    salesforce_made = {p for p in parents if p not in mine}
    if shared_activities and salesforce_made:
        if any(p.startswith(LEAD_PREFIX) for p in salesforce_made):
            want = [p for p in want if p in parents]
        else:
            want = [p for p in want if not p.startswith(LEAD_PREFIX)]
    removed = [p for p in mine if p not in want]

    who = current.who_id
    if not who or (who in mine and who not in want):
        new_who = want[0] if want else None
        if new_who != who and (new_who or not shared_activities):
            out.event_update = {"Id": event_id, "WhoId": new_who}
            out.unrelate_first = bool(
                new_who and who and new_who.startswith(LEAD_PREFIX) != who.startswith(LEAD_PREFIX)
            )
            who = new_who
    if shared_activities:
        for person in want:
            row = current.rows.get(person)
            if person == who or (row and row.is_parent):
                continue
            if row:  # invited already: one row per person, so flag it
                out.update.append({"Id": row.id, "IsParent": True})
            else:
                out.create.append(
                    {
                        "EventId": event_id,
                        "RelationId": person,
                        "IsParent": True,
                        "IsInvitee": False,
                    }
                )
        # A removed person still the WhoId (nobody wanted in their place) loses their row
        # too: Salesforce then promotes another Who, or clears the WhoId when none is left.
        for person in removed:
            row = current.rows.get(person)
            if row is None:
                continue
            if row.is_invitee:
                out.update.append({"Id": row.id, "IsParent": False})
            else:
                out.delete.append(row.id)
        for person, response in wanted.responses.items():
            row = current.rows.get(person)
            status = STATUS_OF.get(response)
            if row and row.is_invitee and status and row.status != status:
                out.update.append({"Id": row.id, "Status": status})
    added_by_relay = {p for p in want if p not in parents}
    out.made = frozenset((mine & set(want)) | added_by_relay)
    if not shared_activities:  # only the WhoId is Relay's to keep
        out.made = frozenset(p for p in out.made if p == who)
    return out
