"""Fixtures for the Office 365 adapter tests: the Graph emulator over TLS, reached through O365.

Not a conftest.py (the Salesforce tests own that one): test modules import these fixtures
explicitly (`from .conftest_office365 import *`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from sandbox.common import EmulatorServer, SandboxCA
from sandbox.graph import GraphEmulator
from sandbox.graph.o365_client import EmulatorTokenBackend, make_account
from syncengine.mailboxes.office365.adapter import Office365Adapter

__all__ = ["ANN", "NOW", "Mailbox", "graph_server", "mailbox", "o365_ca"]

ANN = "ann@contoso.example"
NOW = datetime(2024, 5, 15, 12, 0, 0, tzinfo=UTC)


@dataclass
class Mailbox:
    server: EmulatorServer
    emu: GraphEmulator
    adapter: Office365Adapter
    backend: EmulatorTokenBackend
    sleeps: list[float] = field(default_factory=list)

    def batch_calls(self) -> int:
        return sum(1 for c in self.emu.calls if c.path.endswith("/$batch"))


@pytest.fixture(scope="session")
def o365_ca(tmp_path_factory):
    return SandboxCA(tmp_path_factory.mktemp("o365-adapter-ca"))


@pytest.fixture(scope="module")
def graph_server(o365_ca):
    with EmulatorServer(GraphEmulator(), o365_ca) as server:
        yield server


@pytest.fixture
def mailbox(graph_server) -> Mailbox:
    emu: GraphEmulator = graph_server.app
    emu.reset()
    emu.set_clock(NOW)
    emu.add_mailbox(ANN, "Ann Smith", time_zone="W. Europe Standard Time")
    access, refresh = emu.issue_token(ANN)
    account, backend = make_account(
        graph_server.base_url, graph_server.ca_bundle, ANN, access, refresh
    )
    sleeps: list[float] = []
    adapter = Office365Adapter(
        account, "Europe/Berlin", clock=emu.now, sleep=sleeps.append, page_size=200
    )
    yield Mailbox(graph_server, emu, adapter, backend, sleeps)
    emu.clear_faults()
