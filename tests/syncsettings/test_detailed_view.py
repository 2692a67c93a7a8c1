import pytest
from django.urls import reverse

from syncsettings.models import SyncSettings

pytestmark = pytest.mark.django_db
URL = reverse("syncsettings:detailed")


def test_it_requires_login(client):
    assert client.get(URL).status_code == 302


def test_it_shows_the_current_settings(user_client):
    html = user_client.get(URL).content.decode()
    assert 'name="auto_remove_contacts"' in html
    # the searchable time-zone picker: a text input over a datalist of the zone names
    assert 'list="time-zones" value="UTC"' in html
    assert '<option value="Europe/Paris">' in html
    assert 'name="blocklist"' in html


def test_it_saves_and_confirms(user_client, user):
    response = user_client.post(
        URL,
        {"auto_remove_contacts": "on", "blocklist": "rival.com", "time_zone": "Asia/Tokyo"},
        follow=True,
    )
    assert "Detailed settings saved" in response.content.decode()
    settings = SyncSettings.for_user(user)
    assert (settings.auto_remove_contacts, settings.auto_remove_tasks) == (True, False)
    assert settings.blocked_entries() == ["rival.com"]
    assert settings.time_zone == "Asia/Tokyo"


def test_it_shows_blocklist_errors_and_saves_nothing(user_client, user):
    response = user_client.post(URL, {"blocklist": "a b c", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 400
    assert "Line 1: “a b c” is neither an email address nor a domain" in response.content.decode()
    assert SyncSettings.for_user(user).time_zone == "UTC"
