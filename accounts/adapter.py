"""allauth's account adapter with Relay's login rate limit key.

allauth counts failed logins per client address and per "key", the login (the email
address) alone: five wrong passwords from anywhere locked the account, the right password
included, so anyone could lock out a known user. Here the key is the (client address,
login) pair; the per-address limit (ACCOUNT_RATE_LIMITS["login_failed"]) still slows one
client that tries many accounts.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from config.client_ip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request) or super().get_client_ip(request)

    # allauth builds the login_failed key here (and clears it on a password reset through
    # the same method), so one override changes both consistently.
    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        login_key = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{client_ip(request) or '-'}:{login_key}"
