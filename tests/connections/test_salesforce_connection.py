"""Connecting Salesforce: the OAuth pages, refresh on an expired session, reconnect, revoke."""

import pytest
from django.urls import reverse

from accounts.models import Connection
from accounts.providers.errors import ReconnectRequired
from accounts.providers.salesforce import SalesforceClient

from .conftest import approve_consent


@pytest.fixture
def sf_user(providers):
    return providers.salesforce_app.add_user("ann@org.example", "Ant", "Ann", "ann@org.example")


def connect(client, providers, sf_user, login_host="production"):
    start = client.post(reverse("oauth:start", args=["salesforce"]), {"login_host": login_host})
    assert start.status_code == 302
    answer = approve_consent(start.url, sf_user, providers.ca.ca_bundle)
    return start, answer


def test_it_connects_through_the_consent_page(providers, user_client, user, sf_user):
    start, answer = connect(user_client, providers, sf_user)
    assert start.url.startswith(f"{providers.salesforce.base_url}/services/oauth2/authorize?")
    done = user_client.get(reverse("oauth:callback", args=["salesforce"]), answer, follow=True)
    connection = Connection.objects.get(user=user)
    assert connection.provider == "salesforce"
    assert connection.status == Connection.Status.ACTIVE
    assert connection.external_account_id == sf_user
    assert connection.external_address == "ann@org.example"
    assert connection.extra["org_id"] == providers.salesforce_app.org_id
    assert connection.instance_url == providers.salesforce.base_url
    assert "Salesforce connected as ann@org.example" in done.content.decode()
    # The stored token works for API calls.
    result = SalesforceClient(connection).call(lambda sf: sf.query("SELECT Id FROM User"))
    assert result["totalSize"] >= 1


def test_it_refuses_a_forged_state(providers, user_client, user, sf_user):
    _, answer = connect(user_client, providers, sf_user)
    answer["state"] = "forged-" + answer["state"][:10]
    done = user_client.get(reverse("oauth:callback", args=["salesforce"]), answer, follow=True)
    assert not Connection.objects.filter(user=user).exists()
    assert "state did not match" in done.content.decode()


def test_it_refuses_a_callback_nobody_started(providers, user_client, user):
    done = user_client.get(
        reverse("oauth:callback", args=["salesforce"]), {"code": "x", "state": "y"}, follow=True
    )
    assert done.status_code == 200
    assert not Connection.objects.filter(user=user).exists()


def test_it_refreshes_an_expired_session_once_and_stores_the_new_token(
    providers, user_client, user, sf_user
):
    _, answer = connect(user_client, providers, sf_user)
    user_client.get(reverse("oauth:callback", args=["salesforce"]), answer)
    connection = Connection.objects.get(user=user)
    old_token = connection.access_token
    providers.salesforce_app.expire_tokens(sf_user)
    client = SalesforceClient(connection)
    assert client.call(lambda sf: sf.query("SELECT Id FROM User"))["totalSize"] >= 1
    connection.refresh_from_db()
    assert connection.access_token != old_token
    assert connection.status == Connection.Status.ACTIVE


def test_it_asks_for_reconnection_when_the_refresh_token_is_refused(
    providers, user_client, user, sf_user
):
    _, answer = connect(user_client, providers, sf_user)
    user_client.get(reverse("oauth:callback", args=["salesforce"]), answer)
    connection = Connection.objects.get(user=user)
    providers.salesforce_app.tokens.revoke_refresh_tokens(sf_user)
    providers.salesforce_app.expire_tokens(sf_user)
    with pytest.raises(ReconnectRequired):
        SalesforceClient(connection).call(lambda sf: sf.query("SELECT Id FROM User"))
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert "Reconnect Salesforce" in connection.last_error


def test_it_disconnects_revoking_and_forgetting_the_tokens(providers, user_client, user, sf_user):
    _, answer = connect(user_client, providers, sf_user)
    user_client.get(reverse("oauth:callback", args=["salesforce"]), answer)
    connection = Connection.objects.get(user=user)
    refresh = connection.refresh_token
    user_client.post(reverse("oauth:disconnect", args=[connection.pk]))
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DISCONNECTED
    assert connection.access_token == "" and connection.refresh_token == ""
    assert providers.salesforce_app.tokens.refresh(refresh) is None


def test_it_lets_nobody_disconnect_another_users_connection(
    providers, client, user, other_user, sf_user
):
    client.force_login(user)
    _, answer = connect(client, providers, sf_user)
    client.get(reverse("oauth:callback", args=["salesforce"]), answer)
    connection = Connection.objects.get(user=user)
    client.force_login(other_user)
    assert client.post(reverse("oauth:disconnect", args=[connection.pk])).status_code == 404
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE


def test_it_offers_connect_buttons_then_disconnect_on_the_dashboard(
    providers, user_client, user, sf_user
):
    page = user_client.get(reverse("dashboard")).content.decode()
    assert reverse("oauth:start", args=["salesforce"]) in page
    assert reverse("oauth:start", args=["office365"]) in page
    assert reverse("oauth:start", args=["gmail"]) in page
    _, answer = connect(user_client, providers, sf_user)
    user_client.get(reverse("oauth:callback", args=["salesforce"]), answer)
    connection = Connection.objects.get(user=user)
    page = user_client.get(reverse("dashboard")).content.decode()
    assert reverse("oauth:disconnect", args=[connection.pk]) in page
    assert reverse("oauth:start", args=["salesforce"]) not in page
    assert connection.access_token not in page and connection.refresh_token not in page
