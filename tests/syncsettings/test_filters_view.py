import pytest
from django.urls import reverse

from syncsettings import services
from syncsettings.models import SyncSettings
from syncsettings.services import ContactViewChoices

pytestmark = pytest.mark.django_db
URL = reverse("syncsettings:filters")


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_shows_the_three_blocks_with_their_switches(user_client):
    response = user_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("contacts_down_enabled", "tasks_down_enabled", "events_down_enabled"):
        assert f'name="{name}"' in html
    assert "Customize" in html
    assert "Only my contacts" in html


def test_it_saves_and_confirms(user_client, user):
    response = user_client.post(
        URL,
        {"contacts_down_enabled": "on", "events_down_enabled": "on", "contact_scope": "all"},
        follow=True,
    )
    assert response.redirect_chain == [(URL, 302)]
    assert "Filters saved" in response.content.decode()
    settings = SyncSettings.for_user(user)
    assert not settings.tasks_down_enabled
    assert settings.contact_scope == "all"


def test_it_shows_the_missing_view_error_next_to_the_field(user_client, user):
    response = user_client.post(URL, {"tasks_down_enabled": "on", "contact_scope": "view"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose a view, or pick another set of contacts." in html
    assert "nothing was saved" in html
    assert SyncSettings.for_user(user).contact_scope == "mine"


def test_it_shows_the_view_list_error_as_a_message(user_client, monkeypatch):
    monkeypatch.setattr(
        services,
        "contact_view_choices",
        lambda user: ContactViewChoices(views=[], error="Salesforce did not answer."),
    )
    response = user_client.get(URL)
    assert response.status_code == 200
    assert "Salesforce did not answer." in response.content.decode()


def test_it_offers_the_views_from_salesforce(user_client, user, monkeypatch):
    monkeypatch.setattr(
        services,
        "contact_view_choices",
        lambda user: ContactViewChoices(views=[("00BX", "Hot leads' contacts")]),
    )
    assert "Hot leads&#x27; contacts" in user_client.get(URL).content.decode()
    user_client.post(URL, {"contact_scope": "view", "contact_view_id": "00BX"})
    settings = SyncSettings.for_user(user)
    assert (settings.contact_view_id, settings.contact_view_name) == ("00BX", "Hot leads' contacts")


def test_it_keeps_the_stored_view_while_salesforce_is_not_connected(user_client, user):
    settings = SyncSettings.for_user(user)
    settings.contact_scope, settings.contact_view_id, settings.contact_view_name = (
        "view",
        "00BS",
        "Stored view",
    )
    settings.save()
    assert services.contact_view_choices(user) == ContactViewChoices(
        views=[("00BS", "Stored view")],
        error="Connect Salesforce to choose one of your Contact list views.",
    )
    html = user_client.get(URL).content.decode()
    assert '<option value="00BS" selected>Stored view</option>' in html
