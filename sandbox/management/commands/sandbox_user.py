"""`manage.py sandbox_user EMAIL --mailbox office365|gmail`: a user in a running sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.demo_users import DEMO_PASSWORD, connect_relay_user, provision_over_http


class Command(BaseCommand):
    help = "Create a Salesforce user and a mailbox in the running sandbox, and a Relay user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--mailbox", choices=("office365", "gmail"), required=True)
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--sandbox-json",
            default=str(Path(settings.BASE_DIR) / "var" / "sandbox" / "sandbox.json"),
            help="the description `manage.py sandbox` wrote when it started",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["sandbox_json"])
        if not path.exists():
            raise CommandError(
                f"No running sandbox described at {path}: start `manage.py sandbox`."
            )
        described = json.loads(path.read_text())
        urls = {k: described[k] for k in ("salesforce", "graph", "google")}
        try:
            account, org_id = provision_over_http(
                options["email"], options["mailbox"], urls, described["ca_bundle"], options["name"]
            )
        except OSError as exc:  # requests' errors are OSErrors: the sandbox is not running
            raise CommandError(f"The sandbox did not answer ({exc}). Is it running?") from exc
        connect_relay_user(account, urls, org_id)
        self.stdout.write(
            json.dumps(
                {"email": account.email, "password": DEMO_PASSWORD, "mailbox": account.mailbox}
            )
        )
