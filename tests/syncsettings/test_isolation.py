"""User A can never read or change user B's settings or connections by guessing URLs/ids."""

import pytest
from django.urls import reverse

from accounts.models import Connection
from syncsettings.models import SyncSettings
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim_settings(other_user):
    settings = SyncSettings.for_user(other_user)
    settings.blocklist = "secret-partner.example"
    settings.save()
    return settings


def test_it_has_no_url_that_takes_another_users_settings_id(user_client, victim_settings):
    for url in (
        f"/settings/filters/{victim_settings.pk}/",
        f"/settings/detailed/{victim_settings.pk}/",
        f"/settings/{victim_settings.pk}/",
        f"/settings/filters/?user={victim_settings.user_id}",
    ):
        response = user_client.get(url)
        assert response.status_code in (200, 404)
        assert "secret-partner.example" not in response.content.decode()


def test_it_ignores_smuggled_user_and_id_fields(user_client, user, victim_settings):
    user_client.post(
        reverse("syncsettings:detailed"),
        {
            "user": victim_settings.user_id,
            "id": victim_settings.pk,
            "blocklist": "attacker.example",
            "time_zone": "UTC",
        },
    )
    victim_settings.refresh_from_db()
    assert victim_settings.blocklist == "secret-partner.example"
    assert SyncSettings.for_user(user).blocklist == "attacker.example"


def test_it_never_shows_or_changes_another_users_connection(user_client, other_user):
    conn = ConnectionFactory(user=other_user, provider="salesforce")
    for url in (f"/connections/{conn.pk}/", f"/admin/accounts/connection/{conn.pk}/change/"):
        response = user_client.post(url, {"status": "disconnected"})
        assert response.status_code in (302, 404)
    conn.refresh_from_db()
    assert conn.status == Connection.Status.ACTIVE
