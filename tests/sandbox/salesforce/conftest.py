"""One HTTPS Salesforce emulator per test module, reset before every test."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
from simple_salesforce import Salesforce

from sandbox.common import EmulatorServer
from sandbox.salesforce import SalesforceEmulator

NOW = datetime(2024, 5, 15, 12, 0, 0, tzinfo=UTC)


@dataclass
class Org:
    server: EmulatorServer
    emu: SalesforceEmulator
    user_id: str
    token: str
    refresh: str

    def session(self) -> requests.Session:
        s = requests.Session()
        s.verify = self.server.ca_bundle
        # REQUESTS_CA_BUNDLE in the environment would override session.verify otherwise.
        s.trust_env = False
        return s

    def sf(self, token: str | None = None) -> Salesforce:
        return Salesforce(
            instance_url=self.server.base_url,
            session_id=token or self.token,
            version="59.0",
            session=self.session(),
        )

    def url(self, path: str) -> str:
        return self.server.base_url + path


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
    token, refresh = emu.issue_token(user_id)
    return Org(sf_server, emu, user_id, token, refresh)
