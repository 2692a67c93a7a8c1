"""A deterministic demo mailbox: what a salesperson's Outlook looks like before Relay runs.

The "Salesforce Contacts" contact folder is deliberately ABSENT: creating it is the sync
engine's first job. The "Salesforce" master category exists, and a few events carry it.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import GraphEmulator

PEOPLE = [
    ("Maria", "Garcia", "Northwind Traders", "Purchasing Manager"),
    ("Wei", "Chen", "Fabrikam", "CTO"),
    ("Olivia", "Brown", "Tailspin Toys", "Buyer"),
    ("Lukas", "Schmidt", "Contoso GmbH", "Head of Sales"),
    ("Aisha", "Khan", "Litware", "Operations Lead"),
    ("Tom", "Walker", "Adventure Works", "Account Executive"),
    ("Sofia", "Rossi", "Wingtip Toys", "CFO"),
]


def seed_demo_mailbox(
    emulator: GraphEmulator, upn: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Fill `upn`'s mailbox; the same `upn` and `now` always give the same content.

    The emulator's clock is pinned to `now` while seeding so created/modified stamps are
    reproducible too; it is restored afterwards.
    """
    now = (now or emulator.now()).astimezone(dt.UTC)
    saved = emulator.clock.setting
    emulator.set_clock(now)
    try:
        return _seed(emulator, upn, now)
    finally:
        emulator.set_clock(saved)


def _seed(emulator: GraphEmulator, upn: str, now: dt.datetime) -> dict[str, Any]:
    rng = random.Random(f"relay-demo:{upn.lower()}")
    monday = (now - dt.timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    domain = upn.split("@")[-1]
    out: dict[str, Any] = {}

    emulator.create_category(upn, "Salesforce", "preset7")
    emulator.create_category(upn, "Customer", "preset4")

    out["contacts"] = [
        emulator.create_contact(
            upn,
            {
                "givenName": given,
                "surname": surname,
                "emailAddresses": [
                    {
                        "address": f"{given}.{surname}@{company.split()[0]}.example".lower(),
                        "name": f"{given} {surname}",
                    }
                ],
                "businessPhones": [f"+1 555 01{rng.randint(10, 99)}"],
                "companyName": company,
                "jobTitle": title,
                "categories": ["Customer"] if rng.random() < 0.5 else [],
            },
        )
        for given, surname, company, title in PEOPLE[:6]
    ]

    def at(day: int, hour: int) -> dict[str, str]:
        when = monday + dt.timedelta(days=day, hours=hour)
        return {"dateTime": when.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}

    def all_day(day: int) -> tuple[dict[str, str], dict[str, str]]:
        first = (monday + dt.timedelta(days=day)).strftime("%Y-%m-%dT00:00:00")
        after = (monday + dt.timedelta(days=day + 1)).strftime("%Y-%m-%dT00:00:00")
        zone = "W. Europe Standard Time"
        return {"dateTime": first, "timeZone": zone}, {"dateTime": after, "timeZone": zone}

    events = []
    for i, (subject, salesforce) in enumerate(
        [
            ("Pipeline review", True),
            ("Dentist", False),
            ("Demo for Fabrikam", True),
            ("1:1 with manager", False),
        ]
    ):
        day, hour = rng.randint(0, 9), rng.choice([9, 11, 14, 16])
        events.append(
            emulator.create_event(
                upn,
                {
                    "subject": subject,
                    "start": at(day, hour),
                    "end": at(day, hour + 1),
                    "categories": ["Salesforce"] if salesforce else [],
                    "location": {"displayName": f"Room {i + 1}"},
                    "attendees": [
                        {
                            "emailAddress": {
                                "address": c["emailAddresses"][0]["address"],
                                "name": c["displayName"],
                            },
                            "type": "required",
                        }
                        for c in out["contacts"][i : i + 1]
                    ],
                },
            )
        )
    start_date = monday.date().isoformat()
    events.append(
        emulator.create_event(
            upn,
            {
                "subject": "Weekly sales stand-up",
                "start": at(0, 8),
                "end": {
                    "dateTime": (monday + dt.timedelta(hours=8, minutes=30)).strftime(
                        "%Y-%m-%dT%H:%M:%S"
                    ),
                    "timeZone": "UTC",
                },
                "categories": ["Salesforce"],
                "recurrence": {
                    "pattern": {
                        "type": "weekly",
                        "interval": 1,
                        "daysOfWeek": ["monday", "wednesday"],
                        "firstDayOfWeek": "sunday",
                    },
                    "range": {
                        "type": "numbered",
                        "startDate": start_date,
                        "numberOfOccurrences": 10,
                    },
                },
            },
        )
    )
    for day, subject in ((4, "Trade fair"), (11, "Company holiday")):
        start, end = all_day(day)
        events.append(
            emulator.create_event(
                upn,
                {
                    "subject": subject,
                    "isAllDay": True,
                    "start": start,
                    "end": end,
                    "showAs": "free",
                },
            )
        )
    out["events"] = events

    default_list = emulator.default_todo_list(upn)["id"]
    follow_ups = emulator.create_todo_list(upn, "Customer follow-ups")["id"]
    out["todo_lists"] = [default_list, follow_ups]
    out["tasks"] = [
        emulator.create_task(
            upn, default_list, {"title": "Prepare quarterly forecast", "importance": "high"}
        ),
        emulator.create_task(upn, default_list, {"title": "Book travel", "status": "completed"}),
        emulator.create_task(
            upn,
            follow_ups,
            {
                "title": "Send Northwind the price list",
                "dueDateTime": {
                    "dateTime": (monday + dt.timedelta(days=3)).strftime(
                        "%Y-%m-%dT00:00:00.0000000"
                    ),
                    "timeZone": "UTC",
                },
            },
        ),
        emulator.create_task(
            upn, follow_ups, {"title": "Call Wei about the renewal", "status": "inProgress"}
        ),
    ]

    def person(c: dict[str, Any]) -> dict[str, Any]:
        return {
            "emailAddress": {"address": c["emailAddresses"][0]["address"], "name": c["displayName"]}
        }

    me = {"emailAddress": {"address": upn, "name": upn.split("@")[0].title()}}
    messages = []
    for n in range(4):
        sender = out["contacts"][rng.randrange(len(out["contacts"]))]
        received = (now - dt.timedelta(hours=3 * n + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        messages.append(
            emulator.create_message(
                upn,
                "inbox",
                {
                    "subject": f"Re: proposal v{n + 1}",
                    "from": person(sender),
                    "toRecipients": [me],
                    "body": {"contentType": "html", "content": f"<p>Thanks, looks good ({n}).</p>"},
                    "receivedDateTime": received,
                    "isRead": n > 1,
                },
            )
        )
    for n in range(3):
        to = out["contacts"][n]
        messages.append(
            emulator.create_message(
                upn,
                "sentitems",
                {
                    "subject": f"Meeting notes {n + 1}",
                    "from": me,
                    "toRecipients": [person(to)],
                    "body": {"contentType": "text", "content": "Notes attached below."},
                },
            )
        )
    folder = emulator.create_mail_folder(upn, "Salesforce Emails")
    for n in range(3):
        to = out["contacts"][n + 2]
        fields: dict[str, Any] = {
            "subject": f"Quote Q-{1000 + n}",
            "from": me,
            "toRecipients": [person(to)],
            "ccRecipients": [{"emailAddress": {"address": f"sales@{domain}", "name": "Sales"}}],
            "body": {"contentType": "text", "content": f"Please find quote Q-{1000 + n}."},
        }
        if n == 0:
            fields["attachments"] = [
                {
                    "name": "quote.pdf",
                    "contentType": "application/pdf",
                    "content": b"%PDF-1.4 sandbox quote\n",
                }
            ]
        messages.append(emulator.create_message(upn, folder["id"], fields))
    out["messages"] = messages
    out["salesforce_emails_folder"] = folder["id"]
    return out
