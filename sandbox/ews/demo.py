"""A deterministic demo Exchange mailbox and the service account that impersonates it.

Like the Office 365 demo, the "Salesforce Contacts" and "Salesforce Tasks" folders are
ABSENT (creating them is the engine's first job); the "Salesforce Emails" mail folder exists
with one message the user filed there. The calendar has a meeting with attendees and their
responses, a weekly series with one moved and one deleted occurrence, and an all-day event.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from . import builders
from .soap import el, t

if TYPE_CHECKING:
    from .app import EwsEmulator

# The sandbox's own throw-away service account (loopback only, like the demo password).
DEMO_SERVICE_ACCOUNT = {"username": "RELAY\\svc-relay", "password": "sandbox-service-account"}
PEOPLE = [
    ("Maria", "Garcia", "Northwind Traders"),
    ("Wei", "Chen", "Fabrikam"),
    ("Olivia", "Brown", "Tailspin Toys"),
    ("Lukas", "Schmidt", "Contoso GmbH"),
]


def _mime(sender: str, to: str, subject: str, body: str, when: dt.datetime, n: int, pdf=False):
    boundary = "relay-demo-boundary"
    head = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        f"Message-ID: <demo-{n}@relay.example>\r\nMIME-Version: 1.0\r\n"
    )
    if not pdf:
        return (head + f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
    return (
        head + f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        f"--{boundary}\r\nContent-Type: application/pdf\r\n"
        'Content-Disposition: attachment; filename="quote.pdf"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOf\r\n--{boundary}--\r\n"
    ).encode()


def seed_demo_mailbox(
    app: EwsEmulator, smtp: str, display_name: str = "", now: dt.datetime | None = None
) -> dict[str, Any]:
    """Create `smtp`'s mailbox (if missing) and fill it; the same `now` gives the same content."""
    now = (now or app.now()).astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    if smtp.lower() not in app.mailboxes:
        app.add_mailbox(smtp, display_name or smtp.split("@")[0].title(), "W. Europe Standard Time")
    domain = smtp.split("@")[-1]
    for given, surname, company in PEOPLE:
        address = f"{given.lower()}.{surname.lower()}@{company.split()[0].lower()}.example"
        app.create_item(smtp, builders.contact(given, surname, address, company=company))
    app.create_item(
        smtp, builders.task("Prepare the Northwind proposal", (now + dt.timedelta(days=3)).date())
    )
    app.create_item(
        smtp, builders.task("Renew the Fabrikam contract", (now + dt.timedelta(days=10)).date())
    )
    monday = (now + dt.timedelta(days=7 - now.weekday())).replace(hour=8)
    meeting = builders.event(
        "Pricing review with Northwind",
        monday + dt.timedelta(days=1, hours=2),
        monday + dt.timedelta(days=1, hours=3),
        time_zone="W. Europe Standard Time",
        location="Teams",
        categories=["Salesforce"],
        attendees=[
            ("maria.garcia@northwind.example", "Accept"),
            ("wei.chen@fabrikam.example", "Tentative"),
        ],
    )
    app.create_item(smtp, meeting)
    series = app.create_item(
        smtp,
        builders.event(
            "Weekly pipeline call",
            monday,
            monday + dt.timedelta(minutes=30),
            time_zone="W. Europe Standard Time",
            weekly_on=["Monday"],
            occurrences=8,
            categories=["Salesforce"],
        ),
    )
    app.modify_occurrence(
        smtp,
        series.id,
        3,
        start=monday + dt.timedelta(weeks=2, days=1),
        end=monday + dt.timedelta(weeks=2, days=1, minutes=30),
        subject="Weekly pipeline call (moved to Tuesday)",
    )
    app.delete_occurrence_as_user(smtp, series.id, 5)
    fair = (monday + dt.timedelta(days=3)).date()
    app.create_item(
        smtp,
        builders.event(
            "Trade fair",
            dt.datetime.combine(fair, dt.time(), tzinfo=dt.UTC),
            dt.datetime.combine(fair + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC),
            all_day=True,
        ),
    )
    emails = app.create_folder(smtp, "Salesforce Emails", "IPF.Note")
    inbox = app.mailbox(smtp).distinguished("inbox")
    assert inbox is not None
    messages = [
        ("maria.garcia@northwind.example", "Quote request", "Could you send the quote?", True),
        ("wei.chen@fabrikam.example", "Contract renewal", "Let us talk about the renewal.", False),
        ("newsletter@shop.example", "Weekly deals", "Nothing for Salesforce here.", False),
    ]
    for n, (sender, subject, body, pdf) in enumerate(messages, start=1):
        when = now - dt.timedelta(days=n)
        app.create_item(
            smtp,
            el(t("Message")),
            emails.id if n == 1 else inbox.id,
            mime=_mime(sender, smtp, subject, body, when, n, pdf),
        )
    return {"smtp": smtp, "domain": domain, "series_id": series.id}


def seed_service_account(app: EwsEmulator) -> dict[str, str]:
    app.add_service_account(
        DEMO_SERVICE_ACCOUNT["username"], DEMO_SERVICE_ACCOUNT["password"], can_impersonate=True
    )
    return {
        "ews_url": f"{app.base_url}/EWS/Exchange.asmx",
        "username": DEMO_SERVICE_ACCOUNT["username"],
        "auth_type": "NTLM",
    }
