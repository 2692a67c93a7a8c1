"""`GraphEmulator`: Microsoft Graph v1.0 (Outlook mail, contacts, calendar, To Do) + OAuth v2.

    app = GraphEmulator()
    app.add_mailbox("ann@contoso.example", "Ann Smith", time_zone="W. Europe Standard Time")
    with EmulatorServer(app, SandboxCA()) as srv:
        access, refresh = app.issue_token("ann@contoso.example")
        ...  # point a Graph client at f"{srv.base_url}/v1.0/"

The principal of every token is the mailbox's user principal name; `/v1.0/me/...` is that
mailbox. The Python methods (create_contact, update_event, move_contact, …) change a mailbox
as the user would in Outlook: they bypass the call log but update changeKey,
lastModifiedDateTime and delta state exactly as API writes do.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request

from sandbox.common import route

from .batch import BatchMixin
from .calendar import CalendarMixin
from .categories import CategoriesMixin
from .contacts import ContactsMixin
from .mail import MailMixin
from .oauth import OAuthMixin
from .todo import TodoMixin


class GraphEmulator(
    OAuthMixin, BatchMixin, ContactsMixin, CalendarMixin, CategoriesMixin, TodoMixin, MailMixin
):
    """All of the emulated Graph surface; see the mixins for each area."""

    @route("/v1.0/me")
    def http_me(self, request: Request, principal: str) -> Any:
        box = self.mailbox(principal)
        given, _, surname = box.display_name.partition(" ")
        return {
            "@odata.context": f"{self.base_url}/v1.0/$metadata#users/$entity",
            "id": box.user_id,
            "userPrincipalName": box.upn,
            "mail": box.upn,
            "displayName": box.display_name,
            "givenName": given or None,
            "surname": surname or None,
            "businessPhones": [],
            "jobTitle": None,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": "en-US",
        }

    @route("/v1.0/me/mailboxSettings")
    def http_mailbox_settings(self, request: Request, principal: str) -> Any:
        box = self.mailbox(principal)
        return {
            "@odata.context": f"{self.base_url}/v1.0/$metadata#users('{box.upn}')/mailboxSettings",
            "timeZone": box.time_zone,
            "dateFormat": "yyyy-MM-dd",
            "timeFormat": "HH:mm",
            "language": {"locale": "en-US", "displayName": "English (United States)"},
        }

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        """`POST /_sandbox/seed {"mailboxes":[{"upn","display_name","time_zone","demo":true}]}`."""
        from .demo import seed_demo_mailbox

        out = []
        for spec in data.get("mailboxes", []):
            self.add_mailbox(
                spec["upn"], spec.get("display_name", spec["upn"]), spec.get("time_zone", "UTC")
            )
            if spec.get("demo"):
                seed_demo_mailbox(self, spec["upn"])
            access, refresh = self.issue_token(spec["upn"])
            out.append({"upn": spec["upn"], "access_token": access, "refresh_token": refresh})
        return {"mailboxes": out}
