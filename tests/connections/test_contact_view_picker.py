"""The Custom view picker on the Filters page, filled from Salesforce's list views."""

import pytest
from django.urls import reverse

from accounts.models import Connection
from syncsettings.models import SyncSettings

from .conftest import approve_consent

URL = "/settings/filters/"


@pytest.fixture
def connected(providers, user_client, user):
    sf = providers.salesforce_app
    sf_user = sf.add_user("vic@org.example", "Viewer", "Vic", "vic@org.example")
    start = user_client.post(reverse("oauth:start", args=["salesforce"]))
    answer = approve_consent(start.url, sf_user, providers.ca.ca_bundle)
    user_client.get(reverse("oauth:callback", args=["salesforce"]), answer)
    assert Connection.objects.get(user=user).status == Connection.Status.ACTIVE
    return sf


def test_it_lists_the_users_contact_views_and_saves_the_choice(connected, user_client, user):
    view_id = connected.add_list_view("West Coast", "West_Coast", where="MailingState = 'CA'")
    html = user_client.get(URL).content.decode()
    assert f'<option value="{view_id}"' in html and "West Coast" in html
    response = user_client.post(URL, {"contact_scope": "view", "contact_view_id": view_id})
    assert response.status_code == 302
    stored = SyncSettings.for_user(user)
    assert (stored.contact_view_id, stored.contact_view_name) == (view_id, "West Coast")


def test_it_says_so_when_the_chosen_view_was_deleted(connected, user_client, user):
    view_id = connected.add_list_view("Gone soon", "Gone_Soon", where="MailingState = 'CA'")
    user_client.post(URL, {"contact_scope": "view", "contact_view_id": view_id})
    connected.delete_list_view(view_id)
    response = user_client.get(URL)
    assert response.status_code == 200
    assert "no longer exists in Salesforce" in response.content.decode()


def test_it_shows_a_message_when_salesforce_fails(connected, user_client):
    connected.fail_next(3, status=503)
    response = user_client.get(URL)
    assert response.status_code == 200
    assert "Salesforce did not list your views just now" in response.content.decode()
