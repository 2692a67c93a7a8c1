"""A deterministic demo mailbox for the Google emulator (demo runs, manual testing).

What is seeded, and what is deliberately left for the sync engine to create:
- Contacts: 12 in "My Contacts". The "Salesforce Contacts" group is ABSENT: the engine
  creates it on its first session (SPEC §2); nothing is put in it beforehand.
- Calendar (primary): timed meetings, a weekly recurring series (Mon/Wed 09:30 in the
  account's zone, 10 instances), two all-day events. Three events carry the Salesforce
  marker `extendedProperties.private["relaySalesforce"] == "1"` (SALESFORCE_MARKER),
  i.e. "the user marked this event for Salesforce" (up-sync candidates).
- Tasks: the default list "My Tasks" and a list "Errands" with open, completed and
  dated tasks. The "Salesforce Tasks" list is ABSENT (created by the engine).
- Gmail: the label "Salesforce Emails" EXISTS and is on 3 messages (one with a PDF
  attachment, one with an HTML part); 5 more messages in INBOX/SENT.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .app import GoogleEmulator

SALESFORCE_MARKER = "relaySalesforce"  # extendedProperties.private key; value "1"

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Radia",
    "Ken",
    "Margaret",
    "Tim",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Backus",
    "Perlman",
    "Thompson",
    "Hamilton",
    "Berners-Lee",
]
COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay Industries"]


def seed_demo_account(
    emulator: GoogleEmulator, email: str, now: datetime | None = None
) -> dict[str, Any]:
    """Create `email` (if needed) and fill it; returns ids the demo may want to show."""
    rng = random.Random(f"relay-demo:{email}")
    if email.lower() not in emulator.accounts:
        emulator.add_account(email, "Demo User", "Europe/Berlin")
    acct = emulator.account(email)
    tz = ZoneInfo(acct.time_zone)
    now = (now or emulator.now()).astimezone(tz)
    monday = (now - timedelta(days=now.weekday())).date()
    domain = email.split("@")[1]

    contacts = []
    for i, (first, last) in enumerate(zip(FIRST, LAST, strict=True)):
        company = rng.choice(COMPANIES)
        slug = company.lower().split()[0]
        person: dict[str, Any] = {
            "names": [{"givenName": first, "familyName": last}],
            "emailAddresses": [
                {"value": f"{first.lower()}.{last.lower()}@{slug}.example", "type": "work"}
            ],
            "phoneNumbers": [{"value": f"+49 30 {rng.randint(1000000, 9999999)}", "type": "work"}],
            "organizations": [{"name": company, "title": rng.choice(["CTO", "Buyer", "Engineer"])}],
        }
        if i % 4 == 0:
            person["addresses"] = [
                {
                    "streetAddress": f"{rng.randint(1, 99)} Main St",
                    "city": "Berlin",
                    "postalCode": "10115",
                    "type": "work",
                }
            ]
        if i % 5 == 0:
            person["biographies"] = [
                {"value": f"Met at conference #{i}", "contentType": "TEXT_PLAIN"}
            ]
        contacts.append(emulator.create_contact(email, person)["resourceName"])

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(monday + timedelta(days=day), time(hour, minute), tz)

    def timed(day: int, hour: int, minutes: int) -> dict[str, Any]:
        start = at(day, hour)
        return {
            "start": {"dateTime": start.isoformat(), "timeZone": acct.time_zone},
            "end": {
                "dateTime": (start + timedelta(minutes=minutes)).isoformat(),
                "timeZone": acct.time_zone,
            },
        }

    marked = {"private": {SALESFORCE_MARKER: "1"}}
    guest = "ada.lovelace@acme.example"
    events = [
        {
            "summary": "Pipeline review",
            "location": "Room 4",
            **timed(1, 10, 60),
            "extendedProperties": marked,
            "attendees": [{"email": guest}, {"email": email, "responseStatus": "accepted"}],
        },
        {"summary": "Lunch with Globex", **timed(2, 12, 90), "extendedProperties": marked},
        {"summary": "Dentist", **timed(3, 8, 30)},
        {
            "summary": "Quarterly planning",
            "description": "Bring numbers",
            **timed(8, 14, 120),
            "extendedProperties": marked,
        },
        {
            "summary": "Team stand-up",
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"],
            "start": {"dateTime": at(0, 9, 30).isoformat(), "timeZone": acct.time_zone},
            "end": {"dateTime": at(0, 9, 45).isoformat(), "timeZone": acct.time_zone},
        },
        {
            "summary": "Trade fair",
            "start": {"date": (monday + timedelta(days=9)).isoformat()},
            "end": {"date": (monday + timedelta(days=11)).isoformat()},
        },
        {
            "summary": "Public holiday",
            "start": {"date": (monday + timedelta(days=4)).isoformat()},
            "end": {"date": (monday + timedelta(days=5)).isoformat()},
        },
    ]
    event_ids = [emulator.create_event(email, e)["id"] for e in events]

    default_list = emulator.tasklist_id(email, "My Tasks") or ""
    errands = emulator.create_tasklist(email, "Errands")
    emulator.create_task(
        email,
        default_list,
        {"title": "Send proposal to Initech", "due": f"{monday + timedelta(days=3)}T00:00:00Z"},
    )
    emulator.create_task(email, default_list, {"title": "Call Grace about renewal", "notes": "Q3"})
    done = emulator.create_task(email, default_list, {"title": "Expense report"})
    emulator.update_task(email, default_list, done["id"], {"status": "completed"})
    emulator.create_task(email, errands, {"title": "Buy printer paper"})

    label = emulator.label_id(email, "Salesforce Emails") or emulator.create_label(
        email, "Salesforce Emails"
    )
    mail = [
        dict(
            sender="Ada Lovelace <ada.lovelace@acme.example>",
            to=[email],
            subject="Order 1042",
            text="Please find the signed order attached.",
            attachments=[("order-1042.pdf", "application/pdf", b"%PDF-1.4 demo order\n")],
            label_ids=["INBOX", label],
        ),
        dict(
            sender=f"Demo User <{email}>",
            to=["grace.hopper@globex.example"],
            subject="Re: renewal",
            text="Thanks Grace, see you Tuesday.",
            html="<p>Thanks Grace, see you <b>Tuesday</b>.</p>",
            label_ids=["SENT", label],
        ),
        dict(
            sender="Alan Turing <alan.turing@initech.example>",
            to=[email],
            cc=[f"team@{domain}"],
            subject="Pricing question",
            text="What does the enterprise tier cost?",
            label_ids=["INBOX", "UNREAD", label],
        ),
        dict(
            sender="Newsletter <news@shop.example>",
            to=[email],
            subject="Weekly deals",
            text="Deals!",
            label_ids=["INBOX", "CATEGORY_PROMOTIONS"],
        ),
        dict(
            sender="Radia Perlman <radia.perlman@hooli.example>",
            to=[email],
            subject="Intro call",
            text="Can we talk next week?",
            label_ids=["INBOX", "UNREAD"],
        ),
        dict(
            sender=f"Demo User <{email}>",
            to=["ken.thompson@umbrella.example"],
            subject="Follow-up",
            text="As discussed.",
            label_ids=["SENT"],
        ),
        dict(
            sender="Colleague <colleague@" + domain + ">",
            to=[email],
            subject="Lunch?",
            text="Usual place?",
            label_ids=["INBOX"],
        ),
        dict(
            sender="Billing <billing@vandelay.example>",
            to=[email],
            subject="Invoice 77",
            text="Invoice attached.",
            attachments=[("invoice-77.txt", "text/plain", b"Total: 10 EUR")],
            label_ids=["INBOX"],
        ),
    ]
    message_ids = []
    for i, m in enumerate(mail):
        when = now - timedelta(hours=6 * (len(mail) - i) + rng.randint(0, 5))
        message_ids.append(emulator.add_message(email, date=when, **m))
    return {
        "contacts": contacts,
        "events": event_ids,
        "tasklists": [default_list, errands],
        "label": label,
        "messages": message_ids,
    }
