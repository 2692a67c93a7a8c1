"""Connecting an Exchange Server mailbox: staff's server settings (with the "Test
connection" action) and a user's connect-by-address flow on the dashboard, against the
EWS emulator over TLS (exchangelib unchanged). Good account, wrong password, missing
impersonation right, unknown address, untrusted certificate, unreachable server."""

from __future__ import annotations

import pytest

from accounts.exchange_connect import check_exchange_server, connect_exchange_mailbox
from accounts.models import Connection, ExchangeServerConfig
from accounts.providers.errors import ProviderError, ReconnectRequired
from sandbox.common import SandboxCA
from sandbox.ews import EwsEmulator
from sandbox.ews.server import KeepAliveServer

ANN = "ann@corp.example"
SERVICE, PLAIN = "CORP\\svc-relay", "CORP\\svc-noimp"
PASSWORD = "Sandbox-only-1"  # a throw-away account of the emulator, not a secret


@pytest.fixture(scope="module")
def ews(tmp_path_factory):
    app = EwsEmulator()
    app.add_service_account(SERVICE, PASSWORD, can_impersonate=True)
    app.add_service_account(PLAIN, PASSWORD, can_impersonate=False)
    app.add_mailbox(ANN, "Ann Smith")
    with KeepAliveServer(app, SandboxCA(tmp_path_factory.mktemp("ews-ca"))) as server:
        yield server


def configure(ews, *, username=SERVICE, password=PASSWORD, ca=True, url=None, auth="NTLM"):
    return ExchangeServerConfig.objects.create(
        ews_url=url or f"{ews.base_url}/EWS/Exchange.asmx",
        username=username,
        password=password,
        auth_type=auth,
        ca_bundle=ews.ca_bundle if ca else "",
        timeout_seconds=5,
    )


def test_it_connects_a_mailbox_by_address_through_impersonation(db, ews, django_user_model):
    user = django_user_model.objects.create_user("ann", ANN, "pw-not-used-here")
    config = configure(ews)
    connection = connect_exchange_mailbox(user, " ann@corp.example ")
    assert connection.provider == Connection.Provider.EXCHANGE
    assert connection.side == Connection.Side.MAILBOX
    assert connection.external_address == ANN
    assert connection.extra == {"exchange_server": config.pk}
    assert not connection.access_token and not connection.refresh_token  # no user secret
    assert check_exchange_server(config).startswith("OK: ")


@pytest.mark.parametrize(
    ("settings_", "address", "problem", "words"),
    [
        ({"password": "wrong"}, ANN, ReconnectRequired, "user name or password"),
        ({"username": PLAIN}, ANN, ReconnectRequired, "ApplicationImpersonation"),
        ({}, "nobody@corp.example", ReconnectRequired, "no mailbox with this email address"),
        ({"url": "https://127.0.0.1:9/EWS/Exchange.asmx"}, ANN, ProviderError, "could not reach"),
    ],
)
def test_it_refuses_with_a_clear_message(
    db, ews, django_user_model, settings_, address, problem, words
):
    user = django_user_model.objects.create_user("ann", ANN, "pw-not-used-here")
    configure(ews, **settings_)
    with pytest.raises(problem) as refused:
        connect_exchange_mailbox(user, address)
    assert words in str(refused.value)
    assert PASSWORD not in str(refused.value) and "wrong" not in str(refused.value)
    assert not Connection.objects.filter(user=user).exists()


def test_it_refuses_an_untrusted_certificate(db, django_user_model, tmp_path):
    """A server whose CA is not in the bundle (its own emulator: exchangelib keeps
    verified connections pooled per server)."""
    app = EwsEmulator()
    app.add_service_account(SERVICE, PASSWORD, can_impersonate=True)
    app.add_mailbox(ANN)
    user = django_user_model.objects.create_user("ann", ANN, "pw-not-used-here")
    with KeepAliveServer(app, SandboxCA(tmp_path)) as server:
        config = configure(server, ca=False)
        with pytest.raises(ProviderError) as refused:
            connect_exchange_mailbox(user, ANN)
        assert "TLS certificate" in str(refused.value)
        assert check_exchange_server(config).startswith("Failed: Relay does not trust")
    assert not Connection.objects.filter(user=user).exists()


def test_the_dashboard_form_shows_the_outcome_and_never_asks_a_password(
    db, ews, client, django_user_model
):
    user = django_user_model.objects.create_user("ann", ANN, "pw-1-login")
    client.force_login(user)
    page = client.get("/").content.decode()
    assert 'name="smtp_address"' in page and 'type="password"' not in page
    configure(ews, username=PLAIN)
    refused = client.post("/connect-exchange/", {"smtp_address": ANN}, follow=True)
    assert "ApplicationImpersonation" in refused.content.decode()
    ExchangeServerConfig.objects.update(username=SERVICE)
    done = client.post("/connect-exchange/", {"smtp_address": ANN}, follow=True)
    assert f"Exchange Server connected as {ANN}" in done.content.decode()
    connection = Connection.objects.mailbox_for(user)
    assert connection.provider == "exchange"
    client.post(f"/connections/{connection.pk}/disconnect/")
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DISCONNECTED


def test_the_admin_never_shows_the_password_and_tests_the_connection(db, ews, admin_client):
    config = configure(ews)
    html = admin_client.get(f"/admin/accounts/exchangeserverconfig/{config.pk}/change/").content
    assert PASSWORD.encode() not in html
    assert PASSWORD not in repr(config) and PASSWORD not in str(config)
    response = admin_client.post(
        "/admin/accounts/exchangeserverconfig/",
        {"action": "test_connection", "_selected_action": [config.pk]},
        follow=True,
    )
    assert "OK: Microsoft Exchange Server 2016" in response.content.decode()
    config.refresh_from_db()
    assert config.password == PASSWORD  # kept encrypted, unchanged by the action
