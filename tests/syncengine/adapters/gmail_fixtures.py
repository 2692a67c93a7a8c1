"""A Google emulator over HTTPS and a GmailAdapter on it, through google-api-python-client.

Import the fixtures explicitly: `from .gmail_fixtures import google_server, mailbox`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from google.oauth2.credentials import Credentials

from sandbox.common import EmulatorServer
from sandbox.google import GoogleEmulator
from syncengine.mailboxes.base import ContainerRef
from syncengine.mailboxes.gmail.adapter import GmailAdapter, build_google_services

ALICE = "alice@example.com"
ZONE = "America/Los_Angeles"
NOW = datetime(2024, 5, 15, 19, 0, 0, tzinfo=UTC)  # 12:00 in Los Angeles


@dataclass
class MovableClock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Mailbox:
    server: EmulatorServer
    emu: GoogleEmulator
    clock: MovableClock
    adapter: GmailAdapter
    credentials: Credentials
    sleeps: list[float] = field(default_factory=list)

    def calls(self, contains: str = "") -> list[str]:
        """The emulator's log as "METHOD path" lines (token refreshes included)."""
        return [f"{c.method} {c.path}" for c in self.emu.calls if contains in c.path]

    def containers(self) -> dict[str, ContainerRef]:
        return self.adapter.ensure_containers({})


@pytest.fixture(scope="module")
def google_server(sandbox_ca):
    with EmulatorServer(GoogleEmulator(), sandbox_ca) as server:
        yield server


@pytest.fixture
def mailbox(google_server) -> Mailbox:
    emu: GoogleEmulator = google_server.app
    emu.reset()
    emu.reverse_batch_responses = False
    clock = MovableClock()
    emu.set_clock(clock)  # the emulator follows the adapter's clock
    emu.add_account(ALICE, "Alice Example", ZONE)
    access, refresh = emu.issue_token(ALICE)
    creds = Credentials(
        access,
        refresh_token=refresh,
        token_uri=f"{google_server.base_url}/token",
        client_id="relay-client",
        client_secret="relay-secret",
    )
    services = build_google_services(creds, google_server.base_url, google_server.ca_bundle)
    sleeps: list[float] = []
    adapter = GmailAdapter(services, ZONE, clock=clock, sleep=sleeps.append)
    return Mailbox(google_server, emu, clock, adapter, creds, sleeps)
