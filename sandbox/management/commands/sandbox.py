"""`manage.py sandbox`: the three emulators in the foreground, seeded for the demo."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from sandbox.demo_users import DEMO_PASSWORD, SandboxAccount, connect_relay_user
from sandbox.ews.demo import seed_demo_mailbox as seed_ews_mailbox
from sandbox.ews.demo import seed_service_account
from sandbox.google.demo import seed_demo_account
from sandbox.graph.demo import seed_demo_mailbox
from sandbox.salesforce.demo import seed_demo_org
from sandbox.stack import SandboxStack, build_stack

# The demo's two people: one on Office 365, one on Gmail, each a Salesforce user too.
DEMO_PEOPLE = (("demo@relay.example", "office365"), ("pat.rep@relay.example", "gmail"))
EXCHANGE_DEMO_MAILBOX = "sam.exchange@relay.example"


class Command(BaseCommand):
    help = "Run the Salesforce, Graph and Google emulators on loopback ports (Ctrl-C stops)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--salesforce-port", type=int, default=8001)
        parser.add_argument("--graph-port", type=int, default=8002)
        parser.add_argument("--google-port", type=int, default=8003)
        parser.add_argument("--ews-port", type=int, default=8004)
        parser.add_argument("--state-dir", default=str(Path(settings.BASE_DIR) / "var" / "sandbox"))
        parser.add_argument(
            "--no-demo", action="store_true", help="start empty: no demo org, mailboxes or users"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        state_dir = Path(options["state_dir"])
        stack = build_stack(
            options["host"],
            (options["salesforce_port"], options["graph_port"], options["google_port"]),
            ca_dir=state_dir,
            ews_port=options["ews_port"],
        ).start()
        description = stack.describe()
        if not options["no_demo"]:
            description["demo_logins"] = seed_demo(stack)
            description["exchange"] = seed_exchange_demo(stack)
            description["demo_logins"].append(connect_exchange_demo(stack, description))
        # `sandbox_user`, `make run` and the benchmarks find the running sandbox here.
        (state_dir / "sandbox.json").write_text(json.dumps(description, indent=2))
        self.stdout.write(json.dumps(description))
        self.stdout.flush()
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stack.stop()


def seed_exchange_demo(stack: SandboxStack) -> dict[str, str]:
    """The Exchange Server side of the demo: a service account and one demo mailbox (a Relay
    user on it comes with the Exchange mailbox kind)."""
    info = seed_service_account(stack.ews_app)
    seed_ews_mailbox(stack.ews_app, EXCHANGE_DEMO_MAILBOX, "Sam Exchange")
    return {**info, "mailbox": EXCHANGE_DEMO_MAILBOX}


def connect_exchange_demo(stack: SandboxStack, description: dict[str, Any]) -> dict[str, str]:
    """The third demo login: Sam, on Exchange Server (the organisation's EWS settings)."""
    from sandbox.exchange_users import configure_sandbox_exchange, connect_exchange_user

    sf = stack.salesforce_app
    sf_id = sf.add_user(EXCHANGE_DEMO_MAILBOX, "Exchange", "Sam")
    config = configure_sandbox_exchange(description["ews"], str(stack.ca.ca_bundle))
    connect_exchange_user(
        EXCHANGE_DEMO_MAILBOX,
        sf_id,
        sf.issue_token(sf_id),
        stack.salesforce.base_url,
        sf.org_id,
        config,
    )
    return {"email": EXCHANGE_DEMO_MAILBOX, "password": DEMO_PASSWORD, "mailbox": "exchange"}


def seed_demo(stack: SandboxStack) -> list[dict[str, str]]:
    """Fill the emulators and connect the two demo Relay users to them."""
    org = seed_demo_org(stack.salesforce_app)
    urls = {
        "salesforce": stack.salesforce.base_url,
        "graph": stack.graph.base_url,
        "google": stack.google.base_url,
    }
    logins = []
    for email, mailbox in DEMO_PEOPLE:
        sf_user_id = org["users"][email] if email in org["users"] else org["demo_user_id"]
        sf_access, sf_refresh = stack.salesforce_app.issue_token(sf_user_id)
        if mailbox == "office365":
            stack.graph_app.add_mailbox(email, email.split("@")[0].title(), "Europe/Berlin")
            seed_demo_mailbox(stack.graph_app, email)
            mb_access, mb_refresh = stack.graph_app.issue_token(email)
        else:
            seed_demo_account(stack.google_app, email)
            mb_access, mb_refresh = stack.google_app.issue_token(email)
        account = SandboxAccount(
            email, mailbox, sf_user_id, sf_access, sf_refresh, mb_access, mb_refresh
        )
        connect_relay_user(account, urls, org["org_id"])
        logins.append({"email": email, "password": DEMO_PASSWORD, "mailbox": mailbox})
    return logins
