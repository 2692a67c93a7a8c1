"""Relay users on the sandbox's Exchange Server (EWS emulator): the demo's third login and
`sandbox_user --mailbox exchange`.

Exchange connections carry no user token: the organisation's server settings
(ExchangeServerConfig: the emulator's EWS URL, its demo service account with the
ApplicationImpersonation role, NTLM, the sandbox CA) open every mailbox by address.
"""

from __future__ import annotations

from typing import Any

import requests
from django.db import transaction

from accounts.demo import ensure_login_user
from accounts.models import Connection, ExchangeServerConfig
from sandbox.ews.demo import DEMO_SERVICE_ACCOUNT

from .demo_users import DEMO_PASSWORD

CONFIG_NAME = "Exchange Server (sandbox)"


def configure_sandbox_exchange(ews_url: str, ca_bundle: str) -> ExchangeServerConfig:
    """The organisation's Exchange settings pointing at the emulator (what staff enter)."""
    config, _ = ExchangeServerConfig.objects.update_or_create(
        name=CONFIG_NAME,
        defaults={
            "ews_url": ews_url,
            "username": DEMO_SERVICE_ACCOUNT["username"],
            "password": DEMO_SERVICE_ACCOUNT["password"],
            "auth_type": ExchangeServerConfig.AuthType.NTLM,
            "ca_bundle": ca_bundle,
            "is_active": True,
        },
    )
    return config


@transaction.atomic
def connect_exchange_user(
    email: str,
    sf_user_id: str,
    sf_tokens: tuple[str, str],
    salesforce_url: str,
    org_id: str,
    config: ExchangeServerConfig,
) -> Any:
    """A Relay user with a Salesforce connection and an Exchange mailbox connection."""
    user, _ = ensure_login_user(email, DEMO_PASSWORD)
    sf, _ = Connection.objects.update_or_create(
        user=user,
        side=Connection.Side.SALESFORCE,
        defaults={
            "provider": Connection.Provider.SALESFORCE,
            "external_account_id": sf_user_id,
            "external_address": email,
            "instance_url": salesforce_url,
            "status": Connection.Status.ACTIVE,
            "extra": {"org_id": org_id, "username": email, "login_host": "production"},
        },
    )
    sf.store_tokens(*sf_tokens)
    Connection.objects.update_or_create(
        user=user,
        side=Connection.Side.MAILBOX,
        defaults={
            "provider": Connection.Provider.EXCHANGE,
            "external_account_id": email,
            "external_address": email,
            "instance_url": config.ews_url,
            "status": Connection.Status.ACTIVE,
            "extra": {"exchange_server": config.pk},
        },
    )
    return user


def provision_exchange_over_http(
    email: str, urls: dict[str, str], ca_bundle: str, name: str = ""
) -> tuple[str, tuple[str, str], str]:
    """A Salesforce user and an EWS mailbox (with the demo service account) in a running
    sandbox; returns (Salesforce user id, its tokens, org id)."""
    session = requests.Session()
    session.verify, session.trust_env = ca_bundle, False
    first, _, last = (name or email.split("@")[0]).partition(" ")
    answer = session.post(
        f"{urls['salesforce']}/_sandbox/seed",
        json={
            "users": [
                {
                    "Username": email,
                    "Email": email,
                    "FirstName": first if last else "",
                    "LastName": last or first,
                }
            ]
        },
        timeout=30,
    )
    answer.raise_for_status()
    body = answer.json()
    ews_base = urls["ews"].rsplit("/EWS/", 1)[0]
    seeded = session.post(
        f"{ews_base}/_sandbox/seed",
        json={
            "service_accounts": [{**DEMO_SERVICE_ACCOUNT, "can_impersonate": True}],
            "mailboxes": [{"smtp": email, "display_name": name or email, "demo": True}],
        },
        timeout=30,
    )
    seeded.raise_for_status()
    user = body["users"][0]
    return user["id"], (user["access_token"], user["refresh_token"]), body["org_id"]
