"""Connecting Office 365 and Gmail: consent pages, forged state, refresh, reconnect, revoke."""

import httplib2
import pytest
from django.urls import reverse
from googleapiclient.discovery import build

from accounts.models import Connection
from accounts.providers.errors import ReconnectRequired
from accounts.providers.google_client import authorized_http
from accounts.providers.o365_client import build_o365_account

from .conftest import approve_consent

MAILBOX = "mia@mailbox.example"


def connect(client, stack, provider):
    if provider == "office365":
        stack.graph_app.add_mailbox(MAILBOX, "Mia Mailbox")
    else:
        stack.google_app.add_account(MAILBOX, "Mia Mailbox")
    start = client.post(reverse("oauth:start", args=[provider]))
    assert start.status_code == 302
    return start, approve_consent(start.url, MAILBOX, stack.ca.ca_bundle)


def connected(client, stack, provider, user):
    _, answer = connect(client, stack, provider)
    client.get(reverse("oauth:callback", args=[provider]), answer)
    return Connection.objects.get(user=user, side=Connection.Side.MAILBOX)


def graph_me(connection):
    account = build_o365_account(connection)
    response = account.con.get(account.protocol.service_url + "me")
    return response.json()["userPrincipalName"]


def google_labels(connection):
    gmail = build(
        "gmail",
        "v1",
        http=authorized_http(connection),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": connection_api_base() + "/"},
    )
    return gmail.users().labels().list(userId="me").execute()["labels"]


def connection_api_base():
    from django.conf import settings

    return settings.GOOGLE_API_BASE_URL


@pytest.mark.parametrize("provider", ["office365", "gmail"])
def test_it_connects_through_the_consent_page(providers, user_client, user, provider):
    start, answer = connect(user_client, providers, provider)
    assert start.url.startswith(
        providers.graph.base_url if provider == "office365" else providers.google.base_url
    )
    done = user_client.get(reverse("oauth:callback", args=[provider]), answer, follow=True)
    connection = Connection.objects.get(user=user)
    assert connection.provider == provider
    assert connection.side == Connection.Side.MAILBOX
    assert connection.external_address == MAILBOX
    assert connection.refresh_token
    assert connection.token_expires_at is not None
    assert f"connected as {MAILBOX}" in done.content.decode()


@pytest.mark.parametrize("provider", ["office365", "gmail"])
def test_it_refuses_a_forged_state(providers, user_client, user, provider):
    _, answer = connect(user_client, providers, provider)
    answer["state"] = "attacker-chosen"
    done = user_client.get(reverse("oauth:callback", args=[provider]), answer, follow=True)
    assert not Connection.objects.filter(user=user).exists()
    assert "state did not match" in done.content.decode()


def test_it_refuses_a_second_mailbox_of_another_kind(providers, user_client, user):
    connected(user_client, providers, "office365", user)
    _, answer = connect(user_client, providers, "gmail")
    done = user_client.get(reverse("oauth:callback", args=["gmail"]), answer, follow=True)
    assert "Disconnect it first" in done.content.decode()
    assert Connection.objects.get(user=user).provider == "office365"


def test_it_refreshes_an_expired_graph_token_and_stores_the_rotated_pair(
    providers, user_client, user
):
    connection = connected(user_client, providers, "office365", user)
    assert graph_me(connection) == MAILBOX
    old_access, old_refresh = connection.access_token, connection.refresh_token
    providers.graph_app.expire_tokens(MAILBOX)
    connection.token_expires_at = connection.token_expires_at.replace(year=2000)
    connection.save()
    assert graph_me(connection) == MAILBOX
    connection.refresh_from_db()
    assert connection.access_token != old_access
    assert connection.refresh_token != old_refresh  # Microsoft rotates refresh tokens


def test_it_refreshes_an_expired_google_token_on_401(providers, user_client, user):
    connection = connected(user_client, providers, "gmail", user)
    old_access = connection.access_token
    providers.google_app.expire_tokens(MAILBOX)
    assert google_labels(connection)
    connection.refresh_from_db()
    assert connection.access_token != old_access


@pytest.mark.parametrize("provider", ["office365", "gmail"])
def test_it_asks_for_reconnection_when_the_refresh_token_is_refused(
    providers, user_client, user, provider
):
    connection = connected(user_client, providers, provider, user)
    app = providers.graph_app if provider == "office365" else providers.google_app
    app.revoke_refresh_tokens(MAILBOX)
    app.expire_tokens(MAILBOX)
    connection.token_expires_at = connection.token_expires_at.replace(year=2000)
    connection.save()
    with pytest.raises(ReconnectRequired):
        graph_me(connection) if provider == "office365" else google_labels(connection)
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert "Reconnect" in connection.last_error


def test_it_revokes_google_tokens_on_disconnect(providers, user_client, user):
    connection = connected(user_client, providers, "gmail", user)
    refresh = connection.refresh_token
    user_client.post(reverse("oauth:disconnect", args=[connection.pk]))
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DISCONNECTED
    assert not connection.refresh_token
    assert providers.google_app.tokens.refresh(refresh) is None
    assert isinstance(authorized_http(connection).http, httplib2.Http)
