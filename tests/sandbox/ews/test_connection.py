"""Logon, impersonation, TLS and throttling through exchangelib and Relay's provider module."""

import threading

import pytest
from exchangelib.errors import ErrorImpersonateUserDenied, ErrorNonExistentMailbox

from accounts.providers.exchange import (
    ExchangeAuthFailed,
    ExchangeCertificateError,
    ExchangeImpersonationDenied,
    ExchangeServer,
    ExchangeServerBusy,
    ExchangeUnknownMailbox,
    ExchangeUnreachable,
    check_service_account,
    open_mailbox,
    translate,
    translated,
    verify_mailbox,
)
from sandbox.ews import EwsEmulator
from sandbox.ews.server import KeepAliveServer

from .conftest import ANN, PLAIN_USER, SERVICE_PASSWORD, SERVICE_USER, server_settings


@pytest.mark.parametrize("auth", ["NTLM", "Basic"])
def test_it_verifies_a_mailbox_through_impersonation_with_either_auth(ews, auth):
    assert verify_mailbox(server_settings(ews, auth=auth), ANN) == ANN
    assert ews.app.auth.logons[auth] >= 1
    other = {"NTLM": "Basic", "Basic": "NTLM"}[auth]
    assert ews.app.auth.logons[other] == 0


def test_it_keeps_an_ntlm_logon_for_the_connection(ews):
    account = open_mailbox(server_settings(ews), ANN)
    _ = account.root, account.calendar, account.contacts, account.tasks
    assert ews.app.operation_counts()["GetFolder"] >= 4
    assert ews.app.auth.logons["NTLM"] == 1  # one handshake, then the connection is logged on


def test_it_reports_the_server_version_on_test_connection(ews):
    assert check_service_account(server_settings(ews)) == "Microsoft Exchange Server 2016"


@pytest.mark.parametrize("auth", ["NTLM", "Basic"])
def test_it_refuses_a_wrong_password(ews, auth):
    settings = server_settings(ews, password="not-the-password", auth=auth)
    with pytest.raises(ExchangeAuthFailed, match="user name or password"):
        check_service_account(settings)
    with pytest.raises(ExchangeAuthFailed):
        verify_mailbox(settings, ANN)
    assert ews.app.auth.logons[auth] == 0


def test_it_denies_impersonation_without_the_role(ews):
    with pytest.raises(ErrorImpersonateUserDenied):
        _ = open_mailbox(server_settings(ews, user=PLAIN_USER), ANN).root
    with pytest.raises(ExchangeImpersonationDenied, match="ApplicationImpersonation"):
        verify_mailbox(server_settings(ews, user=PLAIN_USER), ANN)


def test_it_refuses_an_unknown_smtp_address(ews):
    with pytest.raises(ErrorNonExistentMailbox):
        _ = open_mailbox(server_settings(ews), "nobody@corp.example").root
    with pytest.raises(ExchangeUnknownMailbox, match="no mailbox"):
        verify_mailbox(server_settings(ews), "nobody@corp.example")


def test_it_refuses_a_server_whose_certificate_is_not_trusted(ews):
    with pytest.raises(ExchangeCertificateError, match="CA bundle"):
        verify_mailbox(server_settings(ews, ca=False), ANN)
    assert ews.app.auth.logons["NTLM"] == 0


def test_it_reports_an_unreachable_server(ews, sandbox_ca):
    port = ews.port
    ews.stop()
    settings = ExchangeServer(
        ews_url=f"https://127.0.0.1:{port}/EWS/Exchange.asmx",
        username="CORP\\svc-relay",
        password="x",
        ca_bundle=str(sandbox_ca.ca_bundle),
        timeout=2,
    )
    with pytest.raises(ExchangeUnreachable, match="could not reach"):
        check_service_account(settings)


def test_it_answers_server_busy_with_the_back_off_it_asks_for(account, ews):
    _ = account.root
    ews.app.server_busy_next(1, back_off_ms=1500, operation="GetFolder")
    with pytest.raises(ExchangeServerBusy) as caught, translated():
        _ = account.calendar
    assert caught.value.retry_after == 1.5
    assert "1.5 seconds" in str(caught.value)
    assert account.calendar.name == "Calendar"  # the next call is served


def test_it_maps_errors_it_does_not_know_to_a_plain_provider_error():
    err = translate(ValueError("odd"))
    assert type(err).__name__ == "ProviderError"
    assert "odd" in str(err)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ews_url": "http://mail/EWS/Exchange.asmx"}, "https"),
        ({"auth_type": "Kerberos"}, "NTLM or Basic"),
        ({"password": ""}, "password"),
        ({"timeout": 0}, "positive"),
    ],
)
def test_it_refuses_bad_server_settings(kwargs, message):
    values = {
        "ews_url": "https://mail.corp.example/EWS/Exchange.asmx",
        "username": "CORP\\svc",
        "password": "pw",
    } | kwargs
    with pytest.raises(ValueError, match=message):
        ExchangeServer(**values)


def test_it_never_shows_the_password_in_repr():
    server = ExchangeServer("https://mail.corp.example/EWS/Exchange.asmx", "CORP\\svc", "hunter2")
    assert "hunter2" not in repr(server)


class _CountedTogether(EwsEmulator):
    """Counts every impersonated call under one key: the peak is the worker's, not a box's."""

    def concurrency_key(self, request, principal):
        return "all" if super().concurrency_key(request, principal) else None


def test_a_workers_sessions_on_threads_do_not_take_turns_on_one_connection(sandbox_ca):
    """exchangelib keeps one session (one connection) per server unless told more: a
    worker's threads, each on its own mailbox, would then wait for each other."""
    app = _CountedTogether()
    app.add_service_account(SERVICE_USER, SERVICE_PASSWORD, can_impersonate=True)
    boxes = [f"user{n}@corp.example" for n in range(4)]
    for box in boxes:
        app.add_mailbox(box, box)
    with KeepAliveServer(app, sandbox_ca) as srv:
        server = server_settings(srv)
        accounts = [open_mailbox(server, box) for box in boxes]
        for account in accounts:
            _ = account.contacts  # logged on, version and folders known
        app.set_latency(base=0.3)
        threads = [
            threading.Thread(target=lambda a=a: list(a.contacts.sync_items())) for a in accounts
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert app.peak_in_flight("all") > 1
