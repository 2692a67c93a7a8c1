"""`manage.py sync_explain EMAIL QUERY`: why (not) synced, one JSON object a line per item.

The same service as the Items page (syncengine.ledger_query). With `--lookup TYPE` an item
Relay never saw is looked up in Salesforce (one read) and explained."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.providers.errors import ProviderError
from syncengine import ledger_query
from syncengine.planner import ItemType


class Command(BaseCommand):
    help = "Explain why items matching QUERY are (not) synced for the user EMAIL (JSON lines)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("query")
        parser.add_argument(
            "--lookup",
            choices=[str(t) for t in ledger_query.ITEM_TYPES],
            help="when nothing matches, look the item up in Salesforce (one API call)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No user with the email {options['email']}.")
        try:
            found = ledger_query.search(user, options["query"])
            if not found and options["lookup"]:
                item_type = ItemType(options["lookup"])
                found = ledger_query.lookup_in_salesforce(user, options["query"], item_type)
        except ledger_query.BadQuery as exc:
            raise CommandError(str(exc)) from None
        except ProviderError as exc:
            raise CommandError(f"Salesforce lookup failed: {exc}") from None
        for answer in found:
            self.stdout.write(json.dumps(answer.as_json(), ensure_ascii=False))
