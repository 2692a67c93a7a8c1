from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db
from django.test import override_settings

from accounts import crypto
from accounts.models import Connection
from tests.factories import ConnectionFactory

TOKEN = "ya29.very-secret-access-token"


def raw_tokens(pk: int) -> tuple[str, str]:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM accounts_connection WHERE id = %s", [pk]
        )
        return cursor.fetchone()


@pytest.mark.django_db
def test_it_round_trips_through_the_database():
    conn = ConnectionFactory(access_token=TOKEN, refresh_token="1//refresh")
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.access_token == TOKEN
    assert fresh.refresh_token == "1//refresh"


@pytest.mark.django_db
def test_it_never_stores_the_plaintext():
    conn = ConnectionFactory(access_token=TOKEN, refresh_token="1//refresh")
    raw_access, raw_refresh = raw_tokens(conn.pk)
    assert TOKEN not in raw_access
    assert "refresh" not in raw_refresh
    assert crypto.decrypt(raw_access) == TOKEN


@pytest.mark.django_db
def test_it_keeps_empty_values_empty():
    conn = ConnectionFactory(access_token="", refresh_token="")
    assert raw_tokens(conn.pk) == ("", "")
    assert Connection.objects.get(pk=conn.pk).access_token == ""


@pytest.mark.django_db
def test_it_rotates_to_a_new_key(settings):
    old_key = settings.RELAY_ENCRYPTION_KEYS[0]
    conn = ConnectionFactory(access_token=TOKEN)
    before, _ = raw_tokens(conn.pk)
    new_key = Fernet.generate_key().decode()

    with override_settings(RELAY_ENCRYPTION_KEYS=[new_key, old_key]):
        # Still readable while both keys are configured, before rotation.
        assert Connection.objects.get(pk=conn.pk).access_token == TOKEN
        call_command("rotate_encryption_keys", stdout=StringIO())
        after, _ = raw_tokens(conn.pk)
    assert after != before
    assert Fernet(new_key.encode()).decrypt(after.encode()).decode() == TOKEN

    with override_settings(RELAY_ENCRYPTION_KEYS=[new_key]):
        # The old key can now be dropped.
        assert Connection.objects.get(pk=conn.pk).access_token == TOKEN


@pytest.mark.django_db
def test_it_rotates_without_touching_updated_at(settings):
    conn = ConnectionFactory(access_token=TOKEN)
    updated_at = Connection.objects.get(pk=conn.pk).updated_at
    keys = [Fernet.generate_key().decode(), *settings.RELAY_ENCRYPTION_KEYS]
    with override_settings(RELAY_ENCRYPTION_KEYS=keys):
        assert crypto.rotate_all() == 1
    assert Connection.objects.values_list("updated_at", flat=True).get() == updated_at


@pytest.mark.django_db
def test_it_refuses_to_read_without_the_key():
    conn = ConnectionFactory(access_token=TOKEN)
    with (
        override_settings(RELAY_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]),
        pytest.raises(crypto.DecryptionError) as excinfo,
    ):
        Connection.objects.get(pk=conn.pk)
    assert TOKEN not in str(excinfo.value)


def test_it_rotates_a_single_token(settings):
    old_key = settings.RELAY_ENCRYPTION_KEYS[0]
    token = crypto.encrypt("hello")
    new_key = Fernet.generate_key().decode()
    with override_settings(RELAY_ENCRYPTION_KEYS=[new_key, old_key]):
        rotated = crypto.rotate(token)
    assert Fernet(new_key.encode()).decrypt(rotated.encode()) == b"hello"


def test_it_reports_malformed_keys():
    assert crypto.key_problems([Fernet.generate_key().decode(), "not-a-key"]) == [
        "key #2 is not a Fernet key (32 url-safe base64 bytes)"
    ]


def test_it_makes_a_local_key_file_once(tmp_path):
    from config.keys import local_encryption_keys

    path = tmp_path / ".local-encryption-keys"
    first = local_encryption_keys(path)
    assert len(first) == 1
    Fernet(first[0])
    assert local_encryption_keys(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
