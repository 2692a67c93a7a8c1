"""One HTTPS Salesforce emulator per module, reset per test, reached through simple-salesforce."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
from simple_salesforce import Salesforce

from sandbox.common import EmulatorServer, SandboxCA
from sandbox.salesforce import SalesforceEmulator
from syncengine.salesforce.adapter import SalesforceAdapter

NOW = datetime(2024, 5, 15, 12, 0, 0, tzinfo=UTC)


@dataclass
class Org:
    server: EmulatorServer
    emu: SalesforceEmulator
    user_id: str
    token: str

    def sf(self) -> Salesforce:
        session = requests.Session()
        session.verify = self.server.ca_bundle
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override session.verify
        return Salesforce(
            instance_url=self.server.base_url,
            session_id=self.token,
            version="59.0",
            session=session,
        )

    def adapter(self) -> SalesforceAdapter:
        sf = self.sf()
        # The adapter's clock follows the org's, as real time moves both.
        return SalesforceAdapter(
            lambda fn: fn(sf), self.user_id, "59.0", clock=lambda: self.emu.clock()
        )


@pytest.fixture(scope="session")
def sandbox_ca(tmp_path_factory):
    return SandboxCA(tmp_path_factory.mktemp("adapter-ca"))


@pytest.fixture(scope="module")
def sf_server(sandbox_ca):
    with EmulatorServer(SalesforceEmulator(), sandbox_ca) as server:
        yield server


@pytest.fixture
def org(sf_server) -> Org:
    emu: SalesforceEmulator = sf_server.app
    emu.reset()
    emu.set_clock(NOW)
    user_id = emu.add_user("alice@acme.example", "Adams", "Alice")
    token, _ = emu.issue_token(user_id)
    return Org(sf_server, emu, user_id, token)
