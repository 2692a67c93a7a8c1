"""Relay users connected to sandbox accounts: the demo's two logins and `sandbox_user`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from django.db import transaction
from django.utils import timezone

from accounts.demo import ensure_login_user
from accounts.models import Connection

DEMO_PASSWORD = "relay-demo"  # a local demo login, not a credential of any real service


@dataclass(frozen=True)
class SandboxAccount:
    """What the emulators granted for one person: ids and tokens on both sides."""

    email: str
    mailbox: str  # "office365" | "gmail"
    sf_user_id: str
    sf_access: str
    sf_refresh: str
    mailbox_access: str
    mailbox_refresh: str


@transaction.atomic
def connect_relay_user(account: SandboxAccount, urls: dict[str, str], org_id: str) -> Any:
    """Create or update the Relay user and both of its connections, tokens encrypted."""
    user, _ = ensure_login_user(account.email, DEMO_PASSWORD)
    sf, _ = Connection.objects.update_or_create(
        user=user,
        side=Connection.Side.SALESFORCE,
        defaults={
            "provider": Connection.Provider.SALESFORCE,
            "external_account_id": account.sf_user_id,
            "external_address": account.email,
            "instance_url": urls["salesforce"],
            "status": Connection.Status.ACTIVE,
            "extra": {"org_id": org_id, "username": account.email, "login_host": "production"},
        },
    )
    sf.store_tokens(account.sf_access, account.sf_refresh)
    mailbox, _ = Connection.objects.update_or_create(
        user=user,
        side=Connection.Side.MAILBOX,
        defaults={
            "provider": account.mailbox,
            "external_account_id": account.email,
            "external_address": account.email,
            "instance_url": urls["graph" if account.mailbox == "office365" else "google"],
            "status": Connection.Status.ACTIVE,
        },
    )
    mailbox.store_tokens(
        account.mailbox_access, account.mailbox_refresh, timezone.now() + timedelta(hours=1)
    )
    return user


def provision_over_http(
    email: str, mailbox: str, urls: dict[str, str], ca_bundle: str, name: str = ""
) -> tuple[SandboxAccount, str]:
    """Create the Salesforce user and the mailbox in a running sandbox via `/_sandbox/`."""
    session = requests.Session()
    session.verify, session.trust_env = ca_bundle, False
    first, _, last = (name or email.split("@")[0]).partition(" ")
    sf = session.post(
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
    sf.raise_for_status()
    sf_body = sf.json()
    sf_user = sf_body["users"][0]
    if mailbox == "office365":
        answer = session.post(
            f"{urls['graph']}/_sandbox/seed",
            json={"mailboxes": [{"upn": email, "display_name": name or email, "demo": True}]},
            timeout=30,
        )
        answer.raise_for_status()
        tokens = answer.json()["mailboxes"][0]
    else:
        answer = session.post(
            f"{urls['google']}/_sandbox/seed",
            json={"accounts": [{"email": email, "display_name": name or email, "demo": True}]},
            timeout=30,
        )
        answer.raise_for_status()
        tokens = answer.json()["accounts"][0]
    account = SandboxAccount(
        email=email,
        mailbox=mailbox,
        sf_user_id=sf_user["id"],
        sf_access=sf_user["access_token"],
        sf_refresh=sf_user["refresh_token"],
        mailbox_access=tokens["access_token"],
        mailbox_refresh=tokens["refresh_token"],
    )
    return account, sf_body["org_id"]
