"""`make run`'s third demo login: Sam on Exchange Server, connected through the
organisation's EWS settings (the sandbox's service account), syncs as any user."""

from __future__ import annotations

from accounts.models import Connection
from sandbox.management.commands.sandbox import (
    EXCHANGE_DEMO_MAILBOX,
    connect_exchange_demo,
    seed_demo,
    seed_exchange_demo,
)
from sandbox.stack import build_stack
from syncengine.models import SyncSession
from syncengine.session import run_session


def test_it_connects_sam_to_exchange_and_a_session_runs(db, settings, tmp_path):
    stack = build_stack(ca_dir=tmp_path).start()
    try:
        for name, value in stack.settings().items():
            setattr(settings, name, value)
        description = stack.describe()
        description["demo_logins"] = seed_demo(stack)
        description["exchange"] = seed_exchange_demo(stack)
        login = connect_exchange_demo(stack, description)
        assert login == {
            "email": EXCHANGE_DEMO_MAILBOX,
            "password": "relay-demo",
            "mailbox": "exchange",
        }
        mailbox = Connection.objects.get(
            external_address=EXCHANGE_DEMO_MAILBOX, side=Connection.Side.MAILBOX
        )
        assert mailbox.provider == "exchange" and not mailbox.access_token
        session = run_session(mailbox.user, SyncSession.Trigger.MANUAL)
        assert session.status == SyncSession.Status.SUCCEEDED, session.error
        assert stack.ews_app.invitations_sent(EXCHANGE_DEMO_MAILBOX) == []
    finally:
        stack.stop()
