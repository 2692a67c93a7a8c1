"""Connecting a user's Exchange Server mailbox: by SMTP address, through impersonation.

The organisation's server settings (ExchangeServerConfig, staff-only) hold the service
account; a user gives only their address. `connect_exchange_mailbox` verifies it (logon,
the ApplicationImpersonation right, the address resolves: one GetFolder through
impersonation) and stores the connection; every failure is a typed provider error whose
message is meant for the page. No user password is ever asked for or stored.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from .exchange_models import ExchangeServerConfig
from .models import Connection
from .providers.errors import ProviderError
from .providers.exchange import ExchangeServer, check_service_account, verify_mailbox


class ExchangeNotConfigured(ProviderError):
    problem = "not_configured"


def server_for(connection: Connection) -> ExchangeServer:
    """The server settings a mailbox connection was made against (or the active ones)."""
    config_id = (connection.extra or {}).get("exchange_server")
    config = (
        ExchangeServerConfig.objects.filter(pk=config_id).first() if config_id else None
    ) or ExchangeServerConfig.active()
    if config is None:
        raise ExchangeNotConfigured(
            "No Exchange server is configured: ask your administrator to add it in admin."
        )
    return config.server()


def _valid_address(address: str) -> str:
    address = (address or "").strip()
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or " " in address or len(address) > 254:
        raise ProviderError("Enter your mailbox's email address, e.g. ann@corp.example.")
    return address


def connect_exchange_mailbox(user: Any, smtp_address: str) -> Connection:
    """Verify the address through impersonation and store the user's mailbox connection."""
    address = _valid_address(smtp_address)
    config = ExchangeServerConfig.active()
    if config is None:
        raise ExchangeNotConfigured(
            "No Exchange server is configured: ask your administrator to add it in admin."
        )
    try:
        server = config.server()
    except ValueError as exc:
        raise ExchangeNotConfigured(f"The Exchange server settings are incomplete: {exc}") from exc
    resolved = verify_mailbox(server, address) or address
    with transaction.atomic():
        connection, _ = Connection.objects.update_or_create(
            user=user,
            side=Connection.Side.MAILBOX,
            defaults={
                "provider": Connection.Provider.EXCHANGE,
                "external_account_id": resolved,
                "external_address": resolved,
                "instance_url": config.ews_url,
                "status": Connection.Status.ACTIVE,
                "last_error": "",
                "last_error_at": None,
                "extra": {"exchange_server": config.pk},
            },
        )
    return connection


def check_exchange_server(config: ExchangeServerConfig) -> str:
    """The admin's "Test connection": logon over TLS; the result is kept on the row."""
    try:
        version = check_service_account(config.server())
        result = f"OK: {version}"
    except (ProviderError, ValueError) as exc:
        result = f"Failed: {exc}"
    config.last_checked_at = timezone.now()
    config.last_check_result = result
    config.save(update_fields=["last_checked_at", "last_check_result"])
    return result
