"""The demo org: a few salespeople, their contacts, leads, tasks, events and list views.

Deterministic for a given `now` (random.Random with a fixed seed), so screenshots and
tests see the same org every time.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import SalesforceEmulator

FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kara",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Xena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Anders",
    "Brooks",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zimmer",
]
TITLES = [
    "Director of Sales",
    "VP Engineering",
    "Procurement Manager",
    "CFO",
    "Office Manager",
    "Marketing Director",
    "IT Director",
    "Account Manager",
    "CEO",
    "Buyer",
]
STATES = ["CA", "CA", "OR", "WA", "NY", "TX", "IL", "MA", "CO", "FL"]
COMPANIES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
    "Pied Piper",
    "Aperture",
    "Massive Dynamic",
    "Oscorp",
    "Gringotts",
    "Monsters Inc",
    "Dunder Mifflin",
    "Prestige",
]
STATUSES = ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"]


def seed_demo_org(emulator: SalesforceEmulator, now: datetime | None = None) -> dict[str, Any]:
    rnd = random.Random(20240501)
    now = (now or emulator.clock()).astimezone(UTC)
    today = now.date()
    users = [
        ("demo@relay.example", "Dana", "Demo", "Account Executive"),
        ("sam.lead@relay.example", "Sam", "Lead", "Sales Manager"),
        ("pat.rep@relay.example", "Pat", "Rep", "Account Executive"),
        ("ops@relay.example", "Olli", "Ops", "Sales Operations"),
    ]
    user_ids = [
        emulator.add_user(u, last, first, u, Title=title) for u, first, last, title in users
    ]
    demo, *others = user_ids
    accounts = []
    for i, company in enumerate(COMPANIES):
        accounts.append(
            emulator.create(
                "Account",
                {
                    "Name": f"{company} {'Inc' if i % 2 else 'LLC'}",
                    "BillingState": STATES[i % len(STATES)],
                    "Industry": rnd.choice(["Technology", "Manufacturing", "Retail", "Finance"]),
                    "Phone": f"+1 555 01{i:02d}",
                },
                user_ids[i % len(user_ids)],
            )
        )
    contacts = []
    for i in range(300):
        owner = demo if i % 3 == 0 else user_ids[i % len(user_ids)]
        first, last = rnd.choice(FIRST), LAST[i % len(LAST)]
        acct = accounts[i % len(accounts)]
        contacts.append(
            emulator.create(
                "Contact",
                {
                    "FirstName": first,
                    "LastName": f"{last}{'' if i < len(LAST) else i}",
                    "Email": f"{first.lower()}.{last.lower()}{i}@example.com",
                    "Phone": f"+1 555 {1000 + i}",
                    "Title": rnd.choice(TITLES),
                    "AccountId": acct,
                    "MailingState": rnd.choice(STATES),
                    "MailingCity": "Springfield",
                    "Level__c": rnd.choice(["Primary", "Secondary", "Tertiary"]),
                },
                owner,
            )
        )
    leads = []
    for i in range(30):
        leads.append(
            emulator.create(
                "Lead",
                {
                    "FirstName": rnd.choice(FIRST),
                    "LastName": rnd.choice(LAST),
                    "Company": f"{rnd.choice(COMPANIES)} Labs",
                    "Email": f"lead{i}@prospect.example",
                    "Status": rnd.choice(["Open - Not Contacted", "Working - Contacted"]),
                },
                user_ids[i % len(user_ids)],
            )
        )
    emulator.add_list_view("My Key Contacts", "MyKeyContacts", "mine", "Level__c = 'Primary'")
    emulator.add_list_view(
        "West Coast", "WestCoast", "everything", "MailingState IN ('CA', 'OR', 'WA')"
    )
    tasks = []
    for i in range(40):
        due = today + timedelta(days=rnd.randint(-30, 90))
        status = STATUSES[2] if due < today and rnd.random() < 0.6 else rnd.choice(STATUSES)
        tasks.append(
            emulator.create(
                "Task",
                {
                    "Subject": rnd.choice(
                        ["Call", "Send proposal to", "Follow up with", "Demo for"]
                    )
                    + f" {rnd.choice(FIRST)}",
                    "ActivityDate": due.isoformat(),
                    "Status": status,
                    "Priority": rnd.choice(["High", "Normal", "Low"]),
                    "WhoId": rnd.choice(contacts),
                },
                demo if i % 2 == 0 else rnd.choice(others),
            )
        )
    events = []
    for i in range(40):
        day = today + timedelta(days=rnd.randint(-30, 90))
        owner = demo if i % 2 == 0 else rnd.choice(others)
        fields: dict[str, Any] = {
            "Subject": rnd.choice(["Meeting", "Lunch", "Review", "Kickoff"])
            + f" with {rnd.choice(COMPANIES)}",
            "WhoId": rnd.choice(contacts),
            "Location": rnd.choice(["Zoom", "HQ", "Client office"]),
        }
        if i % 8 == 0:
            fields.update(IsAllDayEvent=True, ActivityDate=day.isoformat())
        else:
            start = datetime.combine(day, time(rnd.randint(8, 17), rnd.choice([0, 30])), UTC)
            fields.update(
                StartDateTime=start.isoformat(), DurationInMinutes=rnd.choice([30, 60, 90])
            )
        event_id = emulator.create("Event", fields, owner)
        events.append(event_id)
        if owner != demo and i % 3 == 1:  # the demo user is invited to others' meetings
            emulator.create("EventRelation", {"EventId": event_id, "RelationId": demo}, owner)
    return {
        "org_id": emulator.org_id,
        "users": {u[0]: uid for u, uid in zip(users, user_ids, strict=True)},
        "demo_user_id": demo,
        "demo_username": users[0][0],
        "counts": {
            "Account": len(accounts),
            "Contact": len(contacts),
            "Lead": len(leads),
            "Task": len(tasks),
            "Event": len(events),
        },
        "list_views": {v.developer_name: v.id for v in emulator.list_views.values()},
    }
