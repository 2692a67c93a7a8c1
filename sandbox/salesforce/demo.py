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


STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review"]


def seed_demo_org(emulator: SalesforceEmulator, now: datetime | None = None) -> dict[str, Any]:
    # The demo org has Shared Activities, so its meetings carry several people and a What.
    emulator.shared_activities = True
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
    opportunities = [
        emulator.create(
            "Opportunity",
            {
                "Name": f"{COMPANIES[i]} renewal",
                "AccountId": accounts[i],
                "StageName": STAGES[i % len(STAGES)],
                "CloseDate": (today + timedelta(days=30 + 7 * i)).isoformat(),
                "Amount": 5000.0 * (i + 1),
            },
            user_ids[i % len(user_ids)],
        )
        for i in range(10)
    ]
    events = []
    for i in range(40):
        day = today + timedelta(days=rnd.randint(-30, 90))
        owner = demo if i % 2 == 0 else rnd.choice(others)
        who = rnd.randrange(len(contacts))
        fields: dict[str, Any] = {
            "Subject": rnd.choice(["Meeting", "Lunch", "Review", "Kickoff"])
            + f" with {rnd.choice(COMPANIES)}",
            "WhoId": leads[i % len(leads)] if i % 10 == 5 else contacts[who],
            "Location": rnd.choice(["Zoom", "HQ", "Client office"]),
        }
        # Related to the Who's account, or to that account's open opportunity.
        account_index = who % len(accounts)
        if i % 10 != 5 and i % 4 != 3:
            fields["WhatId"] = (
                opportunities[account_index]
                if account_index < len(opportunities) and i % 2 == 0
                else accounts[account_index]
            )
        if i % 8 == 0:
            fields.update(IsAllDayEvent=True, ActivityDate=day.isoformat())
        else:
            start = datetime.combine(day, time(rnd.randint(8, 17), rnd.choice([0, 30])), UTC)
            fields.update(
                StartDateTime=start.isoformat(), DurationInMinutes=rnd.choice([30, 60, 90])
            )
        event_id = emulator.create("Event", fields, owner)
        events.append(event_id)
        if i % 10 != 5:
            # Colleagues of the Who at the same account: related, and some invited too.
            for k, other in enumerate(range(who + len(accounts), len(contacts), len(accounts))):
                if k >= i % 3:
                    break
                emulator.create(
                    "EventRelation",
                    {
                        "EventId": event_id,
                        "RelationId": contacts[other],
                        "IsParent": True,
                        "IsInvitee": k == 0,
                        "Status": "Accepted" if k == 0 else "New",
                    },
                    owner,
                )
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
            "Opportunity": len(opportunities),
        },
        "list_views": {v.developer_name: v.id for v in emulator.list_views.values()},
    }
