from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Connection
from tests.factories import ConnectionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_sets_the_side_from_the_provider():
    assert ConnectionFactory(provider="salesforce").side == "salesforce"
    assert ConnectionFactory(provider="office365").side == "mailbox"
    assert ConnectionFactory(provider="gmail").side == "mailbox"


def test_it_allows_one_connection_per_side(user):
    ConnectionFactory(user=user, provider="office365")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectionFactory(user=user, provider="gmail")
    ConnectionFactory(user=user, provider="salesforce")  # the other side is fine
    assert user.connections.count() == 2


def test_it_refuses_a_side_that_does_not_match_the_provider(user):
    conn = ConnectionFactory(user=user, provider="gmail")
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.filter(pk=conn.pk).update(side="salesforce")


def test_it_finds_each_side_for_a_user(user, other_user):
    sf = ConnectionFactory(user=user, provider="salesforce")
    mb = ConnectionFactory(user=user, provider="gmail")
    ConnectionFactory(user=other_user, provider="office365")
    assert Connection.objects.salesforce_for(user) == sf
    assert Connection.objects.mailbox_for(user) == mb
    assert Connection.objects.salesforce_for(other_user) is None


def test_it_stores_tokens_and_keeps_the_refresh_token_when_omitted():
    conn = ConnectionFactory(refresh_token="refresh-1")
    expires = timezone.now() + timedelta(hours=1)
    conn.store_tokens("access-2", expires_at=expires)
    fresh = Connection.objects.get(pk=conn.pk)
    assert (fresh.access_token, fresh.refresh_token) == ("access-2", "refresh-1")
    assert fresh.token_expires_at == expires
    conn.store_tokens("access-3", "refresh-3")
    fresh = Connection.objects.get(pk=conn.pk)
    assert (fresh.access_token, fresh.refresh_token) == ("access-3", "refresh-3")
    assert fresh.token_expires_at is None


def test_it_marks_needs_reconnect_and_active_again():
    conn = ConnectionFactory()
    conn.mark_needs_reconnect("invalid_grant: token revoked")
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.status == Connection.Status.NEEDS_RECONNECT
    assert fresh.last_error == "invalid_grant: token revoked"
    assert fresh.last_error_at is not None
    fresh.mark_active()
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.status == Connection.Status.ACTIVE
    assert (fresh.last_error, fresh.last_error_at) == ("", None)


def test_it_keeps_tokens_out_of_str_and_repr():
    conn = ConnectionFactory(access_token="AT-visible?", refresh_token="RT-visible?")
    for text in (str(conn), repr(conn)):
        assert "AT-visible?" not in text
        assert "RT-visible?" not in text
    assert "salesforce" in repr(conn)


def test_it_has_the_documented_choices():
    assert Connection.Provider.values == ["salesforce", "office365", "gmail", "exchange"]
    assert Connection.Side.values == ["salesforce", "mailbox"]
    assert Connection.Status.values == ["active", "needs_reconnect", "disconnected"]
    assert ConnectionFactory().extra == {}


def test_it_deletes_connections_with_their_user():
    conn = ConnectionFactory(user=UserFactory())
    conn.user.delete()
    assert not Connection.objects.filter(pk=conn.pk).exists()
