import pytest

from accounts.providers.exchange import ExchangeServer, open_mailbox
from sandbox.ews import EwsEmulator
from sandbox.ews.server import KeepAliveServer

ANN = "ann@corp.example"
SERVICE_USER = "CORP\\svc-relay"
SERVICE_PASSWORD = "Sandbox-only-1"  # a throw-away account of the emulator, not a secret
PLAIN_USER = "CORP\\svc-noimp"


@pytest.fixture
def ews(sandbox_ca):
    """A fresh EWS emulator over TLS: a service account with ApplicationImpersonation, one
    without it, and Ann's mailbox (Berlin time)."""
    app = EwsEmulator()
    app.add_service_account(SERVICE_USER, SERVICE_PASSWORD, can_impersonate=True)
    app.add_service_account(PLAIN_USER, SERVICE_PASSWORD, can_impersonate=False)
    app.add_mailbox(ANN, "Ann Smith", time_zone="W. Europe Standard Time")
    with KeepAliveServer(app, sandbox_ca) as srv:
        yield srv


def server_settings(ews, *, user=SERVICE_USER, password=SERVICE_PASSWORD, auth="NTLM", ca=True):
    return ExchangeServer(
        ews_url=f"{ews.base_url}/EWS/Exchange.asmx",
        username=user,
        password=password,
        auth_type=auth,
        ca_bundle=ews.ca_bundle if ca else None,
        timeout=10,
    )


@pytest.fixture
def account(ews):
    """Ann's mailbox through impersonation by the service account (NTLM)."""
    return open_mailbox(server_settings(ews), ANN)
