"""What every API mixin of the Google emulator shares: accounts, clock, cursors, JSON in."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request

from .errors import HttpError, bad_request, not_found
from .store import Account, Clock, Tokens


class Service:
    """State and helpers the API mixins use; `GoogleEmulator` initialises it."""

    accounts: dict[str, Account]
    clock: Clock
    cursors: Tokens
    lock: threading.RLock

    def now(self) -> datetime:
        return self.clock.now()

    def account(self, email: str) -> Account:
        acct = self.accounts.get(email.lower())
        if acct is None:
            raise not_found(f"No such account: {email}")
        return acct

    @staticmethod
    def body(request: Request) -> dict[str, Any]:
        raw = request.get_data(as_text=True)
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise bad_request("Invalid JSON payload received.", "parseError") from None
        if not isinstance(data, dict):
            raise bad_request("Invalid JSON payload received. Expected an object.", "parseError")
        return data

    @staticmethod
    def user(user_id: str, principal: str) -> None:
        """Gmail/Tasks `userId`: only "me" (or the caller's own address) is allowed."""
        if user_id not in ("me", "@me") and user_id.lower() != principal.lower():
            raise HttpError(403, "forbidden", "Delegation denied for " + principal)
