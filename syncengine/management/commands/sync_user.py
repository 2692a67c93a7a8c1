"""`manage.py sync_user EMAIL`: run one session inline and print its record as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from syncengine import services
from syncengine.models import SyncSession


class Command(BaseCommand):
    help = "Run one sync session for a user now, in this process, and print it as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No Relay user with the email {options['email']}.")
        session = services.run_claimed_session(user.pk, SyncSession.Trigger.SUPPORT)
        if session is None:
            raise CommandError("Another session is running for this user; try again later.")
        self.stdout.write(json.dumps(session_record(session), indent=2))


def session_record(session: SyncSession) -> dict[str, Any]:
    return {
        "id": session.pk,
        "user": session.user.email,
        "trigger": session.trigger,
        "status": session.status,
        "started_at": session.started_at.isoformat(),
        "finished_at": session.finished_at.isoformat() if session.finished_at else None,
        "counters": session.counters,
        "api_calls": {
            "salesforce": session.api_calls_salesforce,
            "mailbox": session.api_calls_mailbox,
        },
        "error": session.error,
        "log": [
            {"kind": e.kind, "item_type": e.item_type, "message": e.message}
            for e in session.log.all()[:100]
        ],
    }
