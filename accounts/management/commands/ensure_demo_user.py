from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.demo import ensure_login_user

# A fixed password for the local demo only: it guards a throw-away SQLite database on
# 127.0.0.1 and is no secret of any real service.
DEMO_EMAIL = "demo@relay.test"
DEMO_PASSWORD = "relay-demo-password"


class Command(BaseCommand):
    help = "Create or reset the local demo user and print how to sign in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, **options: Any) -> None:
        _, created = ensure_login_user(DEMO_EMAIL, DEMO_PASSWORD, username="demo")
        self.stdout.write(
            f"{'Created' if created else 'Updated'} the demo user.\n"
            f"  Open      {options['url']}\n"
            f"  Email     {DEMO_EMAIL}\n"
            f"  Password  {DEMO_PASSWORD}"
        )
