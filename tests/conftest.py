import pytest

from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def user(db):
    return UserFactory(username="alice")


@pytest.fixture
def other_user(db):
    return UserFactory(username="bob")


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client
