"""`manage.py sandbox_user EMAIL --mailbox office365|gmail|exchange`: a user in a running
sandbox."""

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
        parser.add_argument("--mailbox", choices=("office365", "gmail", "exchange"), required=True)
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
        if options["mailbox"] == "exchange":
            self.stdout.write(json.dumps(self._exchange(described, options)))
            return
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

    def _exchange(self, described: dict[str, Any], options: dict[str, Any]) -> dict[str, str]:
        from sandbox.exchange_users import (
            configure_sandbox_exchange,
            connect_exchange_user,
            provision_exchange_over_http,
        )

        if "ews" not in described:
            raise CommandError("The running sandbox has no EWS emulator.")
        urls = {"salesforce": described["salesforce"], "ews": described["ews"]}
        try:
            sf_id, tokens, org_id = provision_exchange_over_http(
                options["email"], urls, described["ca_bundle"], options["name"]
            )
        except OSError as exc:
            raise CommandError(f"The sandbox did not answer ({exc}). Is it running?") from exc
        config = configure_sandbox_exchange(described["ews"], described["ca_bundle"])
        connect_exchange_user(
            options["email"], sf_id, tokens, described["salesforce"], org_id, config
        )
        return {"email": options["email"], "password": DEMO_PASSWORD, "mailbox": "exchange"}
