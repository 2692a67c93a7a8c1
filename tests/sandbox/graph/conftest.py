import pytest

from sandbox.common import EmulatorServer
from sandbox.graph import GraphEmulator
from sandbox.graph.o365_client import make_account

ANN = "ann@contoso.example"


@pytest.fixture
def graph(sandbox_ca):
    """A fresh Graph emulator with one mailbox, served over TLS."""
    app = GraphEmulator()
    app.add_mailbox(ANN, "Ann Smith", time_zone="W. Europe Standard Time")
    with EmulatorServer(app, sandbox_ca) as srv:
        yield srv


@pytest.fixture
def account(graph):
    """(O365 Account, token backend) for Ann; raw calls go through account.con."""
    access, refresh = graph.app.issue_token(ANN)
    return make_account(graph.base_url, graph.ca_bundle, ANN, access, refresh)


@pytest.fixture
def api(account):
    """GET/POST helpers on Ann's connection, returning parsed JSON."""
    acct, _ = account
    base = acct.protocol.service_url  # https://127.0.0.1:port/v1.0/

    class Api:
        url = base
        con = acct.con

        def get(self, path, headers=None, **params):
            full = path if path.startswith("https://") else base + path
            return acct.con.get(full, params=params or None, headers=headers or {}).json()

        def post(self, path, data, headers=None):
            return acct.con.post(base + path, data=data, headers=headers or {}).json()

        def rounds(self, path, headers=None, **params):
            """One full delta round: follow nextLinks; return (rows, deltaLink)."""
            page = self.get(path, headers=headers, **params)
            rows = list(page["value"])
            while "@odata.nextLink" in page:
                page = self.get(page["@odata.nextLink"], headers=headers)
                rows += page["value"]
            return rows, page["@odata.deltaLink"]

    return Api()
