from typing import Any

from django.core.management.base import BaseCommand

from accounts import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored token with the first key in RELAY_ENCRYPTION_KEYS. "
        "Run after putting a new key first; remove the old keys only afterwards."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = crypto.rotate_all()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} row(s) with the first key."))
