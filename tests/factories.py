"""factory_boy factories shared by the whole suite."""

import factory
from django.contrib.auth import get_user_model

from accounts.models import Connection
from syncsettings.models import SyncSettings

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    user = factory.SubFactory(UserFactory)
    provider = Connection.Provider.SALESFORCE
    external_account_id = factory.Sequence(lambda n: f"005{n:015d}")
    external_address = factory.LazyAttribute(lambda c: c.user.email)
    instance_url = "https://example.my.salesforce.com"
    access_token = factory.Sequence(lambda n: f"access-token-{n}-s3cr3t")
    refresh_token = factory.Sequence(lambda n: f"refresh-token-{n}-s3cr3t")


class SyncSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncSettings
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
