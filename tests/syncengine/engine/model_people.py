"""The engine model's people (SPEC §2b): a fixed table the model creates once per run, the
user's attendee edits on a mailbox meeting, and the checks on what reached Salesforce.

The table is indexed by the model's own keys (0 … len-1), never by live state, so an
attendee rule draws a fixed-range integer and replays exactly. Its records are never edited
by other rules, so "which Contact an attendee address matches" stays what it was made as.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import model_mailbox as ews
from .conftest import EMAIL

# The kinds whose codec maps a meeting's attendees to Salesforce relations (SPEC §2b):
# for these the model asserts the relations. Every registered kind does today.
RELATED_KINDS = ("exchange", "gmail", "office365")
# Kinds whose Relay writes to a meeting the user organizes with attendees would mail those
# attendees. For these the model would make no Salesforce edit or deletion of an event whose
# mailbox copy has attendees. Empty: the executor spares such meetings on Graph (docs/
# decisions.md "Meetings you organize"), so the model edits them and the invitation check
# proves it.
KINDS_THAT_MAIL_ON_SALESFORCE_EDITS: tuple[str, ...] = ()
BLOCKED_DOMAIN = "blocked.example"


@dataclass(frozen=True)
class Person:
    address: str
    record: str  # "contact" | "lead" | "none": what Salesforce holds for the address
    relatable: bool  # the matcher may relate it (not the user's domain, blocked or free mail)
    last_name: str = ""


PEOPLE = (
    Person("ada@customer.example", "contact", True, "PLovelace"),
    Person("grace@customer.example", "contact", True, "PHopper"),
    Person("pat@prospect.example", "lead", True, "PProspect"),
    Person("bob@acme.example", "contact", False, "PColleague"),  # the user's own domain
    Person(f"x@{BLOCKED_DOMAIN}", "contact", False, "PBlocked"),
    Person("someone@gmail.com", "contact", False, "PFreemail"),
)


def create_people(w: Any) -> dict[int, str]:
    """The table's Salesforce records (Contacts owned by the colleague, so they reach the
    mailbox only under the "all" scope; a Lead), by table key; the blocklist."""
    ids: dict[int, str] = {}
    account = w.sfapp.create("Account", {"Name": "Customer Ltd"}, w.me)
    for key, person in enumerate(PEOPLE):
        if person.record == "contact":
            ids[key] = w.sf_contact(
                person.last_name, person.address, w.other, FirstName="P", AccountId=account
            )
        else:
            ids[key] = w.sfapp.create(
                "Lead",
                {"LastName": person.last_name, "Company": "P Inc", "Email": person.address},
                w.me,
            )
    w.settings(blocklist=BLOCKED_DOMAIN)
    return ids


# -- the mailbox meeting's attendees, per kind ------------------------------------------


def attendees_of(kind: str, raw: Any) -> list[str]:
    if kind == "exchange":
        return ews.attendees(raw)
    if kind == "office365":
        return [
            str((a.get("emailAddress") or {}).get("address") or "").lower()
            for a in raw.get("attendees") or ()
        ]
    return [
        str(a.get("email") or "").lower()
        for a in raw.get("attendees") or ()
        if not a.get("organizer")
    ]


def set_attendees(w: Any, event_id: str, addresses: list[str]) -> None:
    """The user edits the meeting's guest list in their own client (never recorded as a
    message Relay sent)."""
    if w.kind == "exchange":
        ews.set_attendees(w, event_id, addresses)
    elif w.kind == "office365":
        guests = [
            {"emailAddress": {"address": a, "name": a}, "type": "required"} for a in addresses
        ]
        w.mbapp.update_event(EMAIL, event_id, {"attendees": guests})
    else:
        w.mbapp.update_event(EMAIL, event_id, {"attendees": [{"email": a} for a in addresses]})


def reply(w: Any, event_id: str, address: str, accepted: bool) -> bool:
    """An attendee's reply reaching the organizer's copy; False where the model has no way
    to make one (the EWS emulator's Python API has none)."""
    if w.kind == "exchange":
        return False
    w.mbapp.respond_to_event(EMAIL, event_id, address, "accepted" if accepted else "declined")
    return True


def invitations(w: Any) -> list[Any]:
    """Every invitation, update or cancellation the mailbox's API writes would have sent."""
    if w.kind == "exchange":
        return list(w.mbapp.invitations_sent(EMAIL))
    return list(w.mbapp.sent_invitations(EMAIL))


def meeting_uid(kind: str, raw: Any) -> str:
    if kind == "exchange":
        return str(raw.uid or "")
    return str(raw.get("iCalUId" if kind == "office365" else "iCalUID") or "")


# -- what Salesforce holds -------------------------------------------------------------


def related(w: Any, event_id: str) -> set[str]:
    """The event's WhoId and the people related to it as parents (EventRelation IsParent)."""
    row = w.sfapp.query(f"SELECT WhoId FROM Event WHERE Id = '{event_id}'", w.me)
    out = {row[0]["WhoId"]} if row and row[0].get("WhoId") else set()
    rows = w.sfapp.query(
        f"SELECT RelationId, IsParent FROM EventRelation WHERE EventId = '{event_id}'", w.me
    )
    return out | {r["RelationId"] for r in rows if r.get("IsParent")}


def check_relations(
    w: Any, ids: dict[int, str], event_id: str, guests: list[str], touched: bool
) -> None:
    """SPEC §2b for one linked meeting: nobody unrelatable is ever related; and unless
    someone in Salesforce related or unrelated people of this event (`touched`: a person's
    choice there, which Relay keeps), every matched Contact attendee is related (or, with
    no Contact, the Lead) and a removed attendee's relation is gone."""
    have = related(w, event_id)
    never = {ids[k] for k, p in enumerate(PEOPLE) if not p.relatable}
    assert not (never & have), ("unrelatable person related", event_id, never & have)
    keys = {k for k, p in enumerate(PEOPLE) if p.address in guests}
    contacts = {ids[k] for k in keys if PEOPLE[k].relatable and PEOPLE[k].record == "contact"}
    leads = {ids[k] for k in keys if PEOPLE[k].relatable and PEOPLE[k].record == "lead"}
    if not touched:
        assert contacts <= have, ("attendee Contact not related", event_id, contacts - have)
        if not contacts and leads:
            assert leads & have, ("attendee Lead not related", event_id)
        gone = {ids[k] for k, p in enumerate(PEOPLE) if p.record == "contact"} - contacts
        assert not (gone & have), ("removed attendee still related", event_id, gone & have)
